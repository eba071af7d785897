// The pages of the portal's OpenID4VP verifier: what the service asks for, the request (QR code for a
// wallet on another device, a link for one on this device), the wallet's direct_post endpoint, and
// the outcome. The request page reloads itself (HTTP Refresh, no script: the pages' CSP allows none
// inline) until the wallet has answered.

import type { FastifyReply, FastifyRequest } from 'fastify';
import QRCode from 'qrcode';
import { escapeHtml, t, type Demo, type JsonStore } from '../shared/index.js';
import { SERVICES, type PortalState } from './municipal.js';
import {
  PresentationRefused,
  isVerifyingService,
  refusalWords,
  type PresentationRequest,
  type Verifier,
  type VerifyingService,
} from './verifier.js';

/** The page polls this often (seconds) while the wallet has not answered. */
const REFRESH_SECONDS = 1;

const RESULT: Record<VerifyingService, [string, string]> = {
  library: [
    '図書館の利用登録ができます (県内在住の18歳以上)。',
    'You can register at the library (Fukui resident, 18 or over).',
  ],
  taxi: ['住民割引の運賃で予約できます。', 'You can book at the resident fare.'],
};

export function registerVerifierPages(demo: Demo, verifier: Verifier, store: JsonStore<PortalState>): void {
  const { app } = demo;
  const tx = (req: FastifyRequest) => t(demo.lang(req));
  demo.machinePath('/openid4vp/');
  const serviceName = (req: FastifyRequest, id: VerifyingService) => {
    const s = SERVICES.find((x) => x.id === id)!;
    return tx(req)(s.ja, s.en);
  };
  const noSuchService = (req: FastifyRequest, reply: FastifyReply) =>
    demo.problem(
      req,
      reply,
      404,
      ['サービスが見つかりません', 'No such service'],
      ['一覧から選んでください。', 'Choose one from the list.'],
    );
  const startForm = (req: FastifyRequest, service: VerifyingService, label: string) =>
    `<form method="post" action="/verify/${service}" data-testid="start-presentation-form">${demo.csrf(req)}<button type="submit" data-testid="start-presentation">${label}</button></form>`;

  app.get<{ Params: { service: string } }>('/verify/:service', async (req, reply) => {
    const { service } = req.params;
    if (!isVerifyingService(service)) return noSuchService(req, reply);
    const x = tx(req);
    return demo.render(
      req,
      reply,
      ['デジタル身分証で確認', 'Check with your digital ID'],
      `<p>${serviceName(req, service)}: ${x('ログインの代わりに、ウォレットのデジタル身分証 (Kakunin が発行) で次の2点だけを確認します。', 'Instead of a login, this service checks only these two facts with the digital ID (issued by Kakunin) in your wallet.')}</p>
<ul data-testid="asked"><li>${x('福井県在住 (都道府県コード 18)', 'You live in Fukui (prefecture code 18)')}</li><li>${x('18歳以上', '18 or over')}</li></ul>
<p class="muted">${x('氏名・住所・生年月日は受け取りません。', 'Your name, address and date of birth are not received.')}</p>
<div class="actions">${startForm(req, service, x('ウォレットで提示する', 'Present from my wallet'))}</div>`,
    );
  });

  app.post<{ Params: { service: string } }>('/verify/:service', async (req, reply) => {
    const { service } = req.params;
    if (!isVerifyingService(service)) return noSuchService(req, reply);
    const r = verifier.create(service, demo.session(req).id);
    return reply.redirect(`/presentations/${r.id}`, 303);
  });

  app.get<{ Params: { id: string }; Querystring: { response_code?: string } }>(
    '/presentations/:id',
    async (req, reply) => {
      const r = verifier.get(req.params.id);
      const code = req.query.response_code;
      const outcome = r?.outcome;
      // The session that asked sees its request; on the wallet's redirect (same device) the response
      // code proves the browser is the one the wallet came back to.
      const mine =
        !!r &&
        (r.sessionId === demo.session(req).id || (!!code && outcome?.ok === true && code === outcome.responseCode));
      if (!r || !mine)
        return demo.problem(
          req,
          reply,
          404,
          ['確認の依頼が見つかりません', 'Request not found'],
          [
            'このブラウザで始めた確認ではないか、期限が切れています。',
            'It was not started in this browser, or it expired.',
          ],
        );
      if (code !== undefined && (outcome?.ok !== true || code !== outcome.responseCode))
        return demo.problem(
          req,
          reply,
          400,
          ['確認の結果を表示できません', 'Cannot show the result'],
          ['もう一度最初からお試しください。', 'Please start again.'],
          'PRESENTATION_CODE_MISMATCH',
        );
      return requestPage(req, reply, r);
    },
  );

  const requestPage = async (req: FastifyRequest, reply: FastifyReply, r: PresentationRequest) => {
    const x = tx(req);
    const title: [string, string] = ['デジタル身分証で確認', 'Check with your digital ID'];
    const service = serviceName(req, r.service);
    const again = startForm(req, r.service, x('もう一度確認する', 'Try again'));
    if (r.outcome?.ok) {
      const d = r.outcome.disclosed as {
        address?: { prefecture_code?: string };
        age_equal_or_over?: Record<string, boolean>;
      };
      return demo.render(
        req,
        reply,
        title,
        `<p class="notice" role="status" data-testid="presentation-result" data-status="verified">${x('福井県在住・18歳以上を確認しました', 'Confirmed: lives in Fukui, 18 or over')}</p>
<p data-testid="service-status">${service}: ${x(...RESULT[r.service])}</p>
<section class="box" aria-labelledby="rx-h"><h2 id="rx-h">${x('このサービスが受け取った情報', 'What this service received')}</h2><dl data-testid="presentation-received">
<dt>${x('都道府県コード', 'Prefecture code')}</dt><dd data-testid="received-prefecture-code">${escapeHtml(String(d.address?.prefecture_code ?? ''))}</dd>
<dt>${x('18歳以上', '18 or over')}</dt><dd data-testid="received-age-18">${d.age_equal_or_over?.['18'] === true ? x('はい', 'Yes') : x('いいえ', 'No')}</dd></dl>
<p class="muted">${x('氏名・住所・生年月日は受け取っていません。', 'No name, address or date of birth was received.')}</p></section>
<p><a href="/">${x('サービス一覧へ', 'All services')}</a></p>`,
      );
    }
    if (r.outcome) {
      const words = refusalWords(r.outcome.code);
      return demo.render(
        req,
        reply,
        title,
        `<div class="notice error" role="alert" data-testid="presentation-error" data-code="${escapeHtml(r.outcome.code)}"><p>${x(...words)}</p></div>
<p class="muted"><small class="code" data-testid="presentation-error-detail">${escapeHtml(`${r.outcome.code}: ${r.outcome.message}`)}</small></p>
<div class="actions">${again}</div>`,
        400,
      );
    }
    if (verifier.expired(r))
      return demo.render(
        req,
        reply,
        title,
        `<p role="alert" data-testid="presentation-error" data-code="REQUEST_EXPIRED">${x(...refusalWords('REQUEST_EXPIRED'))}</p><div class="actions">${again}</div>`,
      );
    const url = verifier.requestUrl(r);
    const qr = await QRCode.toString(url, { type: 'svg', errorCorrectionLevel: 'L', margin: 1 });
    void reply.header('refresh', String(REFRESH_SECONDS));
    return demo.render(
      req,
      reply,
      title,
      `<p data-testid="presentation-status" data-status="${r.answered ? 'verifying' : 'pending'}">${r.answered ? x('確認しています…', 'Checking…') : x('ウォレットアプリで QR コードを読み取るか、このスマートフォンのウォレットで開いてください。', 'Scan the QR code with your wallet app, or open it in the wallet on this phone.')}</p>
<p>${service}: ${x('福井県在住であること・18歳以上であることだけを確認します。', 'Only checks that you live in Fukui and are 18 or over.')}</p>
<div class="qr" data-testid="presentation-qr" role="img" aria-label="${x('ウォレットで読み取る QR コード', 'QR code for your wallet')}">${qr}</div>
<div class="actions"><a class="button" href="${escapeHtml(url)}" data-testid="presentation-link">${x('このスマートフォンのウォレットで開く', 'Open in the wallet on this phone')}</a></div>
<p class="muted">${x('このページは自動で更新されます。', 'This page updates by itself.')}</p>`,
    );
  };

  // The response URI (direct_post): form fields from the wallet, JSON back (OpenID4VP 1.0 §8.2).
  app.post('/openid4vp/response', async (req, reply) => {
    const form = demo.form(req);
    void reply.header('cache-control', 'no-store');
    try {
      const accepted = await verifier.receive(form);
      // Only the asked claims, to show them later; nothing else of the credential is kept.
      store.update((s) => {
        s.presentations ??= [];
        s.presentations.push({
          service: accepted.request.service,
          at: new Date().toISOString(),
          disclosed: accepted.disclosed,
        });
        s.presentations.splice(0, Math.max(0, s.presentations.length - 1000));
      });
      return reply.code(200).send({ redirect_uri: accepted.redirectUri });
    } catch (e) {
      if (!(e instanceof PresentationRefused)) throw e;
      return reply
        .code(400)
        .send({ error: 'invalid_request', error_description: `${e.code}: ${e.message}`, code: e.code });
    }
  });
}
