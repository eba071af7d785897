// ふくいスマート窓口 (demo): a municipal portal entered with the authentication certificate, whose
// e-applications are signed with the signing certificate, which issues a digital ID card (and offers
// the platform's digital ID credential to the holder's wallet), and whose library and taxi services
// accept that credential from a wallet (OpenID4VP) instead of a login.

import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  Demo,
  JsonStore,
  badge,
  dayWords,
  pick,
  escapeHtml,
  jstWords,
  reasonHtml,
  row,
  rowHtml,
  t,
  type DemoOptions,
  type RunningDemo,
} from '../shared/index.js';
import type { WalletOffer } from './credential-offer.js';
import { connectKakunin } from './kakunin.js';
import {
  PORTAL,
  SERVICES,
  emptyPortal,
  isResident,
  readChildcareForm,
  type Application,
  type PortalState,
} from './municipal.js';
import { registerVerifierPages } from './verifier-pages.js';
import { Verifier, isVerifyingService } from './verifier.js';

export async function startMunicipal(o: DemoOptions): Promise<RunningDemo> {
  const demo = new Demo(o, { name: 'municipal', ...PORTAL });
  const store = new JsonStore<PortalState>(o.dataDir, 'municipal', emptyPortal);
  const offers = new Map<string, WalletOffer>();
  connectKakunin(demo, store, offers);
  const verifier = new Verifier({ platformUrl: o.platformUrl, baseUrl: () => demo.url });
  registerVerifierPages(demo, verifier, store);
  const { app } = demo;
  const tx = (req: FastifyRequest) => t(demo.lang(req));
  /** Pages behind the login: undefined (after redirecting) when nobody is signed in. */
  const signedIn = (req: FastifyRequest, reply: FastifyReply): string | undefined => {
    const sub = demo.session(req).sub;
    if (!sub) void reply.redirect('/');
    return sub;
  };
  const loginForm = (req: FastifyRequest) =>
    `<form method="post" action="/login" data-testid="login-form">${demo.csrf(req)}<button type="submit" data-testid="login">${tx(req)('マイナンバーカードでログイン', 'Log in with My Number Card')}</button></form>`;

  app.get('/', async (req, reply) => {
    const x = tx(req);
    const sub = demo.session(req).sub;
    const href = (id: string) => (id === 'e-application' ? '/apply/childcare' : `/services/${id}`);
    // The library and the taxi also take the digital ID from a wallet, without a login.
    const withWallet = (id: string) =>
      isVerifyingService(id)
        ? `<br><a href="/verify/${id}" data-testid="verify-${id}-link">${x('デジタル身分証で確認 (ログイン不要)', 'Check with your digital ID (no login)')}</a>`
        : '';
    const services = SERVICES.map((s) =>
      sub
        ? `<li data-testid="service-${s.id}"><a href="${href(s.id)}"><strong>${x(s.ja, s.en)}</strong></a><br><span class="muted">${x(s.aboutJa, s.aboutEn)}</span>${withWallet(s.id)}</li>`
        : `<li data-testid="service-${s.id}"><strong>${x(s.ja, s.en)}</strong><br><span class="muted">${x(s.aboutJa, s.aboutEn)}</span>${withWallet(s.id)}</li>`,
    ).join('');
    return demo.render(
      req,
      reply,
      ['ふくいスマート窓口', 'Fukui Smart Counter'],
      `
<p>${x('マイナンバーカードでログインすると、市町の各種サービスを利用できます (デモ)。ログインでは氏名・住所などの個人情報は提供されません。', 'Log in with your My Number Card to use the municipal services (demo). Logging in shares no personal details such as your name or address.')}</p>
${sub ? '' : `<div class="actions">${loginForm(req)}</div>`}
<section aria-labelledby="svc-h"><h2 id="svc-h">${x('サービス', 'Services')}</h2><ul class="cards" data-testid="services">${services}</ul></section>
${sub ? `<section aria-labelledby="me-h"><h2 id="me-h">${x('わたしの手続き', 'My records')}</h2><ul><li><a href="/id-card" data-testid="id-card-link">${x('デジタル住民証', 'Digital ID card')}</a></li><li><a href="/applications" data-testid="applications-link">${x('申請履歴', 'My applications')}</a></li></ul></section>` : ''}`,
    );
  });
  app.post('/login', (req, reply) => demo.signIn(req, reply, 'login'));

  app.get<{ Params: { id: string } }>('/services/:id', async (req, reply) => {
    const sub = signedIn(req, reply);
    if (!sub) return reply;
    const s = SERVICES.find((x) => x.id === req.params.id);
    if (!s)
      return demo.problem(
        req,
        reply,
        404,
        ['サービスが見つかりません', 'No such service'],
        ['一覧から選んでください。', 'Choose one from the list.'],
      );
    const x = tx(req);
    return demo.render(
      req,
      reply,
      [s.ja, s.en],
      `<p>${x(s.aboutJa, s.aboutEn)}</p>
<p data-testid="service-status">${x('マイナンバーカードでログイン済みです。このサービスはデモのため、ここまでです。', 'You are logged in with your My Number Card. This demo service ends here.')}</p>
<p class="muted">${x('このサービスが受け取った利用者番号 (サービスごとに異なる仮名ID)', 'The user number this service received (a pseudonym, different for every service)')}: <code data-testid="service-user">${escapeHtml(sub.slice(0, 12))}…</code></p>
${isVerifyingService(s.id) ? `<p><a href="/verify/${s.id}" data-testid="verify-${s.id}-link">${x('デジタル身分証で県内在住・18歳以上を確認する', 'Show with your digital ID that you live in Fukui and are 18 or over')}</a></p>\n` : ''}<p><a href="/">${x('サービス一覧へ', 'All services')}</a></p>`,
    );
  });

  const applicationForm = (
    req: FastifyRequest,
    reply: FastifyReply,
    f: URLSearchParams,
    errors: [string, string][] = [],
  ) => {
    const x = tx(req);
    const v = (k: string) => escapeHtml(f.get(k) ?? '');
    const receive = f.get('receive') ?? 'coin';
    return demo.render(
      req,
      reply,
      ['子育て支援の申請', 'Apply for childcare support'],
      `
${errors.length ? `<div class="notice error" role="alert" data-testid="form-errors"><ul>${errors.map((e) => `<li>${x(...e)}</li>`).join('')}</ul></div>` : ''}
<p>${x('申請内容を入力し、マイナンバーカードの署名用電子証明書で電子署名して申請します。申請者の氏名・住所・生年月日は電子証明書から取得します。', 'Fill in the application and sign it with the signing certificate of your My Number Card. Your name, address and date of birth come from the certificate.')}</p>
<form method="post" action="/apply/childcare" data-testid="application-form">${demo.csrf(req)}
<label for="child-name">${x('お子さんの氏名', 'Child’s name')}</label><input id="child-name" name="childName" required maxlength="40" value="${v('childName')}" data-testid="child-name">
<label for="child-birthdate">${x('お子さんの生年月日', 'Child’s date of birth')}</label><input id="child-birthdate" name="childBirthdate" type="date" required value="${v('childBirthdate')}" data-testid="child-birthdate">
<fieldset><legend>${x('受け取り方法', 'Receive as')}</legend>
<label><input type="radio" name="receive" value="coin" data-testid="receive-coin"${receive === 'coin' ? ' checked' : ''}> ${x('はぴコイン', 'Hapi-coin')}</label>
<label><input type="radio" name="receive" value="bank" data-testid="receive-bank"${receive === 'bank' ? ' checked' : ''}> ${x('口座振込', 'Bank transfer')}</label></fieldset>
<label for="phone">${x('連絡先電話番号', 'Phone number')}</label><input id="phone" name="phone" type="tel" required value="${v('phone')}" data-testid="phone">
<div class="actions"><button type="submit" data-testid="application-submit">${x('マイナンバーカードで署名して申請する', 'Sign with My Number Card and apply')}</button></div></form>`,
      errors.length ? 400 : 200,
    );
  };

  app.get('/apply/childcare', async (req, reply) =>
    signedIn(req, reply) ? applicationForm(req, reply, new URLSearchParams()) : reply,
  );
  app.post('/apply/childcare', async (req, reply) => {
    const loginSub = signedIn(req, reply);
    if (!loginSub) return reply;
    const f = demo.form(req);
    const { form, errors } = readChildcareForm(f);
    if (!form) return applicationForm(req, reply, f, errors);
    // What the resident applies for goes into the text they sign with their signing certificate.
    const detail = [
      `子育て応援給付の申請 / childcare benefit application`,
      `お子さん / child: ${form.childName} (${form.childBirthdate})`,
      `受け取り / payout: ${form.receive === 'coin' ? 'はぴコイン' : '銀行口座 / bank account'}`,
      `連絡先 / phone: ${form.phone}`,
    ].join('\n');
    return demo.signIn(req, reply, 'apply', { form, loginSub }, { statementDetail: detail });
  });

  const mine = (req: FastifyRequest, a: Application | undefined): a is Application => {
    const sub = demo.session(req).sub;
    return !!a && !!sub && (a.signerSub === sub || a.loginSub === sub);
  };

  app.get('/applications', async (req, reply) => {
    if (!signedIn(req, reply)) return reply;
    const x = tx(req);
    const list = Object.values(store.data.applications).filter((a) => mine(req, a));
    return demo.render(
      req,
      reply,
      ['申請履歴', 'My applications'],
      list.length
        ? `<ul data-testid="applications">${list.map((a) => `<li><a href="/applications/${a.no}" data-testid="application-link">${escapeHtml(a.no)}</a> ${x('子育て支援の申請', 'Childcare support')} — <time datetime="${escapeHtml(a.receivedAt)}">${escapeHtml(jstWords(a.receivedAt, demo.lang(req)))}</time></li>`).join('')}</ul>`
        : `<p data-testid="no-applications">${x('申請はまだありません。', 'No applications yet.')}</p>`,
    );
  });

  app.get<{ Params: { no: string } }>('/applications/:no', async (req, reply) => {
    const a = store.data.applications[req.params.no];
    if (!mine(req, a))
      return demo.problem(
        req,
        reply,
        404,
        ['申請が見つかりません', 'Application not found'],
        ['ログインしている方の申請ではないか、存在しません。', 'It does not exist or is not yours.'],
      );
    const x = tx(req);
    const lang = demo.lang(req);
    const say = pick(lang);
    return demo.render(
      req,
      reply,
      ['申請を受け付けました', 'Application received'],
      `
<section class="box" aria-labelledby="a-h"><h2 id="a-h">${x('受付内容', 'Application')}</h2><dl>
${row(x('受付番号', 'Number'), a.no, 'application-number')}
<dt>${x('状態', 'Status')}</dt><dd>${badge('application-status', 'received', x('受付済み', 'Received'), 'ok')}</dd>
${row(x('申請の種類', 'Type'), say('子育て支援の申請', 'Childcare support'), 'application-type')}
${row(x('受付日時', 'Received at'), jstWords(a.receivedAt, lang), 'application-received-at', ` data-value="${escapeHtml(a.receivedAt)}"`)}
${row(x('お子さんの氏名', 'Child’s name'), a.form.childName, 'application-child-name')}
${row(x('お子さんの生年月日', 'Child’s date of birth'), dayWords(a.form.childBirthdate, lang), 'application-child-birthdate', ` data-value="${escapeHtml(a.form.childBirthdate)}"`)}
${row(x('受け取り方法', 'Receive as'), a.form.receive === 'coin' ? say('はぴコイン', 'Hapi-coin') : say('口座振込', 'Bank transfer'), 'application-receive')}
${row(x('連絡先電話番号', 'Phone number'), a.form.phone, 'application-phone')}</dl></section>
<section class="box" aria-labelledby="s-h"><h2 id="s-h">${x('申請者 (電子署名で確認)', 'Applicant (verified by e-signature)')}</h2><dl>
${row(x('氏名', 'Name'), a.applicant.name, 'applicant-name')}
${row(x('生年月日', 'Date of birth'), dayWords(a.applicant.birthdate, lang), 'applicant-birthdate', ` data-value="${escapeHtml(a.applicant.birthdate)}"`)}
${row(x('住所', 'Address'), a.applicant.address, 'applicant-address')}
<dt>${x('県内在住', 'Fukui resident')}</dt><dd>${isResident(a.applicant) ? badge('applicant-residency', 'resident', x('福井県 (18)', 'Fukui (18)'), 'ok') : badge('applicant-residency', 'non-resident', x('県外', 'Outside Fukui'), 'bad')}</dd>
${row(x('署名日時', 'Signed at'), jstWords(a.signedAt, lang), 'signed-at', ` data-value="${escapeHtml(a.signedAt)}"`)}
${row(x('電子証明書の発行者', 'Certificate issuer'), a.certificate.issuer, 'signature-issuer')}
${row(x('電子証明書の発行番号', 'Certificate serial number'), a.certificate.serial, 'signature-serial')}
${row(x('確認記録ID', 'Verification record'), a.kakuninRecordId, 'record-id')}</dl></section>
<p><a href="/">${x('サービス一覧へ', 'All services')}</a></p>`,
    );
  });

  app.get('/id-card', async (req, reply) => {
    const sub = signedIn(req, reply);
    if (!sub) return reply;
    const x = tx(req);
    const lang = demo.lang(req);
    const card = store.data.cards[sub];
    const issue = (label: string, testid = 'issue-id-card') =>
      `<form method="post" action="/id-card" data-testid="${testid}-form">${demo.csrf(req)}<button type="submit" data-testid="${testid}">${label}</button></form>`;
    if (!card) {
      return demo.render(
        req,
        reply,
        ['デジタル住民証', 'Digital ID card'],
        `<p data-testid="no-id-card">${x('デジタル住民証はまだ発行されていません。マイナンバーカードの署名用電子証明書で本人確認をすると発行します (氏名・生年月日・住所を表示します)。同じ本人確認で、Kakunin のデジタル身分証をお使いのウォレットに追加できます。', 'No digital ID card yet. Verify your identity with the signing certificate of your My Number Card to get one (it shows your name, date of birth and address). The same verification lets you add the Kakunin digital ID to your wallet.')}</p>
<div class="actions">${issue(x('デジタル住民証を発行する', 'Issue my digital ID card'))}</div>`,
      );
    }
    const valid = card.status === 'valid';
    const offer = offers.get(demo.session(req).id);
    const live = offer && Date.parse(offer.expiresAt) > Date.now() ? offer : undefined;
    // "Add to your wallet": the platform's credential offer of this session's last verification.
    const wallet = !valid
      ? ''
      : live
        ? `<section class="box" aria-labelledby="w-h" data-testid="wallet-offer"><h2 id="w-h">${x('ウォレットに追加', 'Add to your wallet')}</h2>
<p>${x('Kakunin のデジタル身分証 (本人確認した氏名・生年月日・住所と、都道府県・年齢の確認) をお使いのウォレットに追加できます。別の端末のウォレットでは QR コードを読み取り、この端末のウォレットではボタンから開いてください。1回限り有効です。', 'Add the Kakunin digital ID (the verified name, date of birth and address, with prefecture and age checks) to your wallet: scan the QR code with a wallet on another device, or open it in the wallet on this device. It works once.')}</p>
<div class="qr" data-testid="offer-qr" role="img" aria-label="${x('ウォレットで読み取る QR コード', 'QR code for your wallet')}">${live.qrSvg}</div>
<div class="actions"><a class="button" href="${escapeHtml(live.offerUri)}" data-testid="offer-link">${x('この端末のウォレットで開く', 'Open in the wallet on this device')}</a></div>
<dl>${row(x('有効期限', 'Valid until'), jstWords(live.expiresAt, lang), 'offer-expires-at', ` data-value="${escapeHtml(live.expiresAt)}"`)}</dl></section>`
        : `<section class="box" aria-labelledby="w-h" data-testid="wallet-offer-none"><h2 id="w-h">${x('ウォレットに追加', 'Add to your wallet')}</h2>
<p>${x('Kakunin のデジタル身分証をウォレットに追加するには、もう一度本人確認をしてください (QR コードは1回限り・10分間有効です)。', 'To add the Kakunin digital ID to your wallet, verify your identity again (a QR code works once, for 10 minutes).')}</p>
<div class="actions">${issue(x('本人確認してウォレットに追加する', 'Verify and add to my wallet'), 'add-to-wallet')}</div></section>`;
    return demo.render(
      req,
      reply,
      ['デジタル住民証', 'Digital ID card'],
      `
<section class="box" aria-labelledby="card-h" data-testid="id-card"><h2 id="card-h">${x(`${PORTAL.ja} デジタル住民証`, `${PORTAL.en} digital ID`)}</h2><dl>
${row(x('番号', 'Number'), card.number, 'id-card-number')}
<dt>${x('状態', 'Status')}</dt><dd>${valid ? badge('id-status', 'valid', x('有効', 'Valid'), 'ok') : badge('id-status', 'revoked', x('無効 (電子証明書の失効)', 'Invalid (certificate revoked)'), 'bad')}</dd>
${valid ? '' : `${rowHtml(x('失効の理由', 'Why it was revoked'), reasonHtml(card.revokedReason, lang), 'id-revoked-reason', ` data-reason="${escapeHtml(card.revokedReason ?? '')}"`)}${card.revokedAt ? row(x('失効日時', 'Revoked at'), jstWords(card.revokedAt, lang), 'id-revoked-at', ` data-value="${escapeHtml(card.revokedAt)}"`) : ''}\n`}${row(x('氏名', 'Name'), card.name, 'id-name')}${row(x('生年月日', 'Date of birth'), dayWords(card.birthdate, lang), 'id-birthdate', ` data-value="${escapeHtml(card.birthdate)}"`)}${row(x('住所', 'Address'), card.address, 'id-address')}
${row(x('発行日時', 'Issued at'), jstWords(card.issuedAt, lang), 'id-issued-at', ` data-value="${escapeHtml(card.issuedAt)}"`)}
${row(x('本人確認日時', 'Verified at'), jstWords(card.verifiedAt, lang), 'id-verified-at', ` data-value="${escapeHtml(card.verifiedAt)}"`)}
${row(x('確認記録ID', 'Verification record'), card.recordId, 'id-record-id')}</dl></section>
${wallet}
${valid ? '' : `<p role="alert">${x('発行に使った署名用電子証明書が失効したため、この住民証は無効です。新しい電子証明書で再発行してください。', 'The signing certificate this card was issued from was revoked, so the card is invalid. Issue it again with your new certificate.')}</p><div class="actions">${issue(x('デジタル住民証を再発行する', 'Issue my digital ID card again'))}</div>`}`,
    );
  });
  app.post('/id-card', async (req, reply) => (signedIn(req, reply) ? demo.signIn(req, reply, 'id-card') : reply));

  return demo.listen();
}
