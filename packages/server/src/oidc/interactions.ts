// The interaction routes oidc-provider sends the browser to: start (or resume) the JPKI ceremony
// for this authorization, follow its progress, continue when it is verified, ask for consent.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type Provider from 'oidc-provider';
import QRCode from 'qrcode';
import { createCeremony, getCeremony } from '../ceremonies.js';
import { bindGrantCeremony, ceremonyOfInteraction, type Ceremony } from '../ceremony-store.js';
import { statusView } from '../ceremony-views.js';
import { CeremonyChanges } from '../ceremony-changes.js';
import { toErrorBody } from '../errors.js';
import type { Platform } from '../platform.js';
import { getRelyingParty } from '../relying-parties.js';
import { ACR } from '../ceremony-domain.js';
import { releasedClaims, requestsVerifiedClaims, sharedItems } from './claims.js';
import { ProgressStreams, TooManyStreams } from './progress-streams.js';
import { queryObject } from '../routes/schemas.js';
import { ceremonyPage, consentPage, errorPage, langFrom, raw, type Lang } from '@kakunin/web';

type Details = Awaited<ReturnType<Provider['interactionDetails']>>;

// The page language: ?lang=, else the ui_locales of the authorization request, else Japanese.
const langOf = (req: FastifyRequest, d?: Details): Lang =>
  langFrom({ ...(d ? { ui_locales: d.params.ui_locales } : {}), ...queryObject(req) });

/**
 * Pages may talk to themselves and to the local holder agent (the same-device button), nothing else;
 * their only script is served by URL (@kakunin/web browser/), so no inline script runs.
 */
const html = (reply: FastifyReply, status: number, body: string, agentUrl?: string): FastifyReply => {
  const agent = agentUrl ? ` ${new URL(agentUrl).origin}` : '';
  return reply
    .code(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('x-frame-options', 'DENY')
    .header(
      'content-security-policy',
      `default-src 'self'; script-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; connect-src 'self'${agent}; frame-ancestors 'none'`,
    )
    .send(body);
};

export const holderUrlOf = (platform: Pick<Platform, 'publicUrl'>, ceremonyId: string): string =>
  `${platform.publicUrl}/holder/v1/ceremonies/${ceremonyId}`;

export async function interactionRoutes(
  app: FastifyInstance,
  o: { platform: Platform; provider: Provider },
): Promise<void> {
  const { platform, provider } = o;
  // Browser pages, not an API: kept out of the OpenAPI document.
  app.addHook('onRoute', (route) => {
    route.schema = { ...route.schema, hide: true };
  });

  const details = async (req: FastifyRequest, reply: FastifyReply): Promise<Details> =>
    provider.interactionDetails(req.raw, reply.raw);

  // One change listener per process feeds every progress stream (no polling per stream).
  const changes = await CeremonyChanges.start(platform.db, platform.log);
  const streams = new ProgressStreams(changes, {
    perCeremony: platform.config.eventStreamsPerCeremony,
    perAddress: platform.config.eventStreamsPerAddress,
  });
  app.addHook('preClose', async () => {
    streams.close();
    await changes.close();
  });

  /** The authorization's claims parameter (oidc-provider has checked it is a JSON object) and scope. */
  const requestOf = (d: Details): { claims: unknown; scope: string | undefined } => ({
    claims: typeof d.params.claims === 'string' ? (JSON.parse(d.params.claims) as unknown) : undefined,
    scope: typeof d.params.scope === 'string' ? d.params.scope : undefined,
  });

  /** The pending (or finished) ceremony of this interaction, creating one when none is usable. */
  const ceremonyFor = async (d: Details, fresh = false): Promise<Ceremony> => {
    const existing = fresh ? undefined : await ceremonyOfInteraction(platform.db, d.uid);
    if (existing && (existing.state !== 'pending' || existing.expiresAt.getTime() > Date.now())) return existing;
    const request = requestOf(d);
    const kind = requestsVerifiedClaims(request.claims, request.scope) ? 'identity' : 'login';
    const detail = typeof d.params.statement_detail === 'string' ? d.params.statement_detail : undefined;
    // What this authorization releases is fixed here, from its request: listed, signed, enforced.
    return createCeremony(platform, {
      kind,
      rpClientId: String(d.params.client_id),
      interactionUid: d.uid,
      request,
      ...(detail ? { detail } : {}),
    });
  };

  const showError = (req: FastifyRequest, reply: FastifyReply, e: unknown): FastifyReply => {
    const { status, body } = toErrorBody(e);
    if (status >= 500) req.log.error({ err: e }, 'interaction failed');
    return html(
      reply,
      status,
      errorPage(langOf(req), { code: body.error.code, message: body.error.message, messageJa: body.error.message_ja }),
    );
  };
  const base = (uid: string): string => `/interaction/${encodeURIComponent(uid)}`;

  app.get('/interaction/:uid', async (req, reply) => {
    try {
      const d = await details(req, reply);
      const lang = langOf(req, d);
      const rp = await getRelyingParty(platform.db, String(d.params.client_id));
      if (d.prompt.name === 'login') {
        const ceremony = await ceremonyFor(d);
        if (ceremony.state === 'failed') return reply.redirect(`${base(d.uid)}/error?lang=${lang}`);
        if (ceremony.state === 'completed') return reply.redirect(`${base(d.uid)}/continue`);
        const holderUrl = holderUrlOf(platform, ceremony.id);
        // Trusted markup: the QR encoder's SVG, made of paths only (the URL is encoded as modules, not text).
        const qrSvg = raw(await QRCode.toString(holderUrl, { type: 'svg', errorCorrectionLevel: 'M', margin: 1 }));
        return html(
          reply,
          200,
          ceremonyPage({
            lang,
            base: base(d.uid),
            rpName: rp.name,
            purpose: ceremony.purpose,
            kind: ceremony.kind,
            shares: sharedItems(ceremony.shares),
            holderUrl,
            qrSvg,
            expiresAt: ceremony.expiresAt,
            ...(platform.config.agentUrl ? { agentUrl: platform.config.agentUrl } : {}),
            ...(platform.config.mode === 'sandbox' ? { sandbox: true } : {}),
          }),
          platform.config.agentUrl || undefined,
        );
      }
      const ceremonyId = (d.lastSubmission as { ceremony?: { id?: string } } | undefined)?.ceremony?.id;
      const ceremony = ceremonyId ? await getCeremony(platform.db, ceremonyId) : undefined;
      // Exactly what the RP will receive (the verified certificate is known now): what findAccount releases.
      const shares = ceremony
        ? releasedClaims({
            kind: ceremony.kind,
            shares: ceremony.shares,
            framework: rp.framework,
            recordId: ceremony.recordId,
            result: ceremony.result,
            ...requestOf(d),
          })
        : [];
      return html(
        reply,
        200,
        consentPage({
          lang,
          base: base(d.uid),
          rpName: rp.name,
          purpose: ceremony?.purpose ?? rp.purpose,
          shares: sharedItems(shares),
        }),
      );
    } catch (e) {
      return showError(req, reply, e);
    }
  });

  app.get('/interaction/:uid/status', async (req, reply) => {
    try {
      const d = await details(req, reply);
      const ceremony = await ceremonyOfInteraction(platform.db, d.uid);
      if (!ceremony) return reply.code(404).send({ state: 'none' });
      return statusView(ceremony);
    } catch (e) {
      const { status, body } = toErrorBody(e);
      return reply.code(status).send(body);
    }
  });

  // Server-sent events: the page's live progress, pushed when any process changes the ceremony
  // (progress-streams.ts); limited per ceremony page and per client address.
  app.get('/interaction/:uid/events', async (req, reply) => {
    let uid: string;
    let release: () => void;
    try {
      uid = (await details(req, reply)).uid;
      release = streams.admit(uid, req.ip);
    } catch (e) {
      const { status, body } = toErrorBody(e);
      if (e instanceof TooManyStreams) void reply.header('retry-after', String(e.retryAfterSeconds));
      return reply.code(status).send(body);
    }
    reply.hijack();
    streams.serve(uid, reply.raw, release);
  });

  app.get('/interaction/:uid/continue', async (req, reply) => {
    try {
      const d = await details(req, reply);
      const ceremony = await ceremonyOfInteraction(platform.db, d.uid);
      if (!ceremony || ceremony.state !== 'completed' || !ceremony.subjectId)
        return reply.redirect(`/interaction/${encodeURIComponent(d.uid)}`);
      const result = {
        login: { accountId: ceremony.subjectId, acr: ACR[ceremony.kind], amr: ['hwk', 'pin'] },
        ceremony: { id: ceremony.id },
      };
      reply.hijack();
      await provider.interactionFinished(req.raw, reply.raw, result, { mergeWithLastSubmission: false });
    } catch (e) {
      if (reply.sent) throw e;
      return showError(req, reply, e);
    }
  });

  // Why the ceremony of this interaction failed or expired, with what to do next.
  app.get('/interaction/:uid/error', async (req, reply) => {
    try {
      const d = await details(req, reply);
      const ceremony = await ceremonyOfInteraction(platform.db, d.uid);
      const view = ceremony ? statusView(ceremony) : undefined;
      if (!view?.error) return reply.redirect(base(d.uid));
      const ja = JA_MESSAGES[view.error.code];
      return html(
        reply,
        200,
        errorPage(langOf(req, d), {
          code: view.error.code,
          message: view.error.message,
          ...(ja ? { messageJa: ja } : {}),
          retryHref: `${base(d.uid)}/restart`,
          backHref: `${base(d.uid)}/abort`,
        }),
      );
    } catch (e) {
      return showError(req, reply, e);
    }
  });

  app.get('/interaction/:uid/restart', async (req, reply) => {
    try {
      const d = await details(req, reply);
      await ceremonyFor(d, true);
      return reply.redirect(`/interaction/${encodeURIComponent(d.uid)}`);
    } catch (e) {
      return showError(req, reply, e);
    }
  });

  app.post('/interaction/:uid/consent', async (req, reply) => {
    try {
      const d = await details(req, reply);
      if (d.prompt.name !== 'consent') return showError(req, reply, new Error('not at the consent step'));
      const ceremonyId = (d.lastSubmission as { ceremony?: { id?: string } } | undefined)?.ceremony?.id;
      const ceremony = ceremonyId ? await getCeremony(platform.db, ceremonyId) : undefined;
      if (!ceremony || ceremony.state !== 'completed' || ceremony.subjectId !== d.session?.accountId)
        return showError(req, reply, new Error('no verified ceremony for this consent'));
      const clientId = String(d.params.client_id);
      const grant = d.grantId
        ? ((await provider.Grant.find(d.grantId)) ?? new provider.Grant({ accountId: ceremony.subjectId, clientId }))
        : new provider.Grant({ accountId: ceremony.subjectId, clientId });
      const missing = d.prompt.details as {
        missingOIDCScope?: string[];
        missingOIDCClaims?: string[];
        missingResourceScopes?: Record<string, string[]>;
      };
      if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
      if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
      for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {}))
        grant.addResourceScope(indicator, scopes.join(' '));
      const grantId = await grant.save();
      await bindGrantCeremony(platform.db, grantId, ceremony.id);
      reply.hijack();
      await provider.interactionFinished(
        req.raw,
        reply.raw,
        { consent: { grantId } },
        { mergeWithLastSubmission: true },
      );
    } catch (e) {
      if (reply.sent) throw e;
      return showError(req, reply, e);
    }
  });

  app.post('/interaction/:uid/abort', async (req, reply) => {
    try {
      await details(req, reply);
      reply.hijack();
      await provider.interactionFinished(
        req.raw,
        reply.raw,
        { error: 'access_denied', error_description: 'the holder cancelled' },
        { mergeWithLastSubmission: false },
      );
    } catch (e) {
      if (reply.sent) throw e;
      return showError(req, reply, e);
    }
  });
}

// The stored error message is the verifier's English one; the page shows the advice of @kakunin/web
// and, in Japanese, this short detail.
const JA_MESSAGES: Record<string, string> = {
  REVOKED: 'この電子証明書は失効しています。',
  EXPIRED: '電子証明書の有効期限が切れています。',
  UNTRUSTED_ISSUER: 'この電子証明書は信頼できる発行者のものではありません。',
  BAD_SIGNATURE: '署名を検証できませんでした。',
  WRONG_KIND: '必要な種類の電子証明書ではありません。',
  REVOCATION_UNAVAILABLE: '失効情報を確認できませんでした。',
  CEREMONY_EXPIRED: '手続きの有効期限が切れました。',
};
