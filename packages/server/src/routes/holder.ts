// Holder protocol v1 (docs/holder-protocol.md): what a phone app, `kakunin agent` or
// `kakunin holder` implements. The ceremony id in the link is the capability; the nonce inside the
// signed bytes binds the response to this ceremony and RP.

import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { holderLinkPage, langFrom, type Lang } from '@kakunin/web';
import { getCeremony, reportProgress, submitResponse } from '../ceremonies.js';
import type { Ceremony } from '../ceremony-store.js';
import { holderView, statusView } from '../ceremony-views.js';
import { CeremonyNotFound } from '../errors.js';
import type { Platform } from '../platform.js';
import { getRelyingParty } from '../relying-parties.js';
import { ErrorSchema, LangQuery } from './schemas.js';

const Params = Type.Object({
  id: Type.String({ pattern: '^cer_[A-Za-z0-9_-]{10,64}$', description: 'ceremony id (from the holder link)' }),
});

const CeremonyView = Type.Object(
  {
    protocol: Type.Literal('kakunin-holder/1'),
    ceremony_id: Type.String(),
    kind: Type.Union([Type.Literal('login'), Type.Literal('identity')]),
    state: Type.String(),
    certificate: Type.Union([Type.Literal('auth'), Type.Literal('sign')], {
      description: 'which certificate and key the card must use',
    }),
    pin: Type.Object({ kind: Type.String(), label_ja: Type.String(), label_en: Type.String() }),
    rp: Type.Object({ client_id: Type.String(), name: Type.String() }),
    purpose: Type.String(),
    shares: Type.Array(
      Type.Object({
        claim: Type.String({ description: 'the claim released, e.g. address, evidence, urn:kakunin:record' }),
        ja: Type.String(),
        en: Type.String(),
      }),
      { description: 'exactly what the relying party will receive; the statement names the same' },
    ),
    statement: Type.Optional(
      Type.String({ description: 'identity ceremonies: the text being signed (UTF-8 of to_be_signed)' }),
    ),
    nonce: Type.String(),
    to_be_signed: Type.String({ description: 'base64url; sign DigestInfo(SHA-256(these bytes))' }),
    digest_algorithm: Type.String(),
    signature_algorithm: Type.String(),
    expires_at: Type.String({ format: 'date-time' }),
    response_url: Type.String(),
  },
  { additionalProperties: true },
);

const ResponseBody = Type.Object({
  nonce: Type.String({ maxLength: 128, description: 'the nonce of the ceremony, echoed' }),
  certificate: Type.String({ maxLength: 32768, description: 'the certificate read from the card, DER in base64' }),
  signature: Type.String({
    maxLength: 2048,
    description: 'RSASSA-PKCS1-v1_5 signature over DigestInfo(SHA-256(to_be_signed)), base64',
  }),
});

/** A browser following the link (it asks for HTML, not JSON); apps and agents ask for JSON, or for anything. */
const wantsPage = (req: FastifyRequest): boolean => {
  const accept = String(req.headers.accept ?? '').toLowerCase();
  return accept.includes('text/html') && !accept.includes('application/json');
};

/** `?lang=`, else the browser's first choice of Japanese or English (Japanese by default): the link carries no language. */
function linkLang(asked: unknown, req: FastifyRequest): Lang {
  if (asked === 'ja' || asked === 'en') return langFrom({ lang: asked });
  for (const part of String(req.headers['accept-language'] ?? '').split(',')) {
    const tag = part.trim().toLowerCase();
    if (tag.startsWith('ja')) return 'ja';
    if (tag.startsWith('en')) return 'en';
  }
  return 'ja';
}

export async function holderRoutes(fastify: FastifyInstance, o: { platform: Platform }): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { platform } = o;

  /** The link opened in a browser (no app answered it): what it is for and how to finish on this computer. */
  const linkPage = async (lang: Lang, reply: FastifyReply, id: string): Promise<FastifyReply> => {
    let ceremony: Ceremony | undefined;
    try {
      ceremony = await getCeremony(platform.db, id);
    } catch (e) {
      if (!(e instanceof CeremonyNotFound)) throw e;
    }
    const holderUrl = `${platform.publicUrl}/holder/v1/ceremonies/${id}`;
    const rp = ceremony ? await getRelyingParty(platform.db, ceremony.rpClientId) : undefined;
    const state = ceremony
      ? ceremony.state === 'pending' && ceremony.expiresAt.getTime() <= Date.now()
        ? 'expired'
        : ceremony.state
      : undefined;
    const body = holderLinkPage({
      lang,
      holderUrl,
      ...(ceremony?.interactionUid
        ? {
            ceremonyPageUrl: `${platform.publicUrl}/interaction/${encodeURIComponent(ceremony.interactionUid)}?lang=${lang}`,
          }
        : {}),
      ...(ceremony && rp && state
        ? {
            ceremony: {
              kind: ceremony.kind,
              rpName: rp.name,
              purpose: ceremony.purpose,
              state,
              expiresAt: ceremony.expiresAt,
            },
          }
        : {}),
    });
    return reply
      .code(ceremony ? 200 : 404)
      .header('content-type', 'text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('vary', 'Accept, Accept-Language')
      .header(
        'content-security-policy',
        "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
      )
      .send(body);
  };

  app.get(
    '/holder/v1/ceremonies/:id',
    {
      schema: {
        tags: ['holder'],
        summary: 'What to sign, for whom (a browser asking for text/html gets a page saying what the link is for)',
        params: Params,
        querystring: Type.Pick(LangQuery, ['lang']),
        response: { 200: CeremonyView, 404: ErrorSchema },
      },
    },
    async (req, reply) => {
      const { id } = req.params;
      if (wantsPage(req)) return linkPage(linkLang(req.query.lang, req), reply, id);
      void reply.header('vary', 'Accept');
      const ceremony = await getCeremony(platform.db, id);
      return holderView(ceremony, await getRelyingParty(platform.db, ceremony.rpClientId), platform.publicUrl);
    },
  );

  app.post(
    '/holder/v1/ceremonies/:id/response',
    {
      bodyLimit: 64 * 1024,
      schema: {
        tags: ['holder'],
        summary: 'Post the certificate and the signature',
        params: Params,
        body: ResponseBody,
        response: {
          200: Type.Object({ state: Type.String(), ceremony_id: Type.String() }),
          400: ErrorSchema,
          404: ErrorSchema,
          409: ErrorSchema,
          410: ErrorSchema,
          422: ErrorSchema,
          503: ErrorSchema,
        },
      },
    },
    async (req) => {
      const { id } = req.params;
      const { ceremony } = await submitResponse(platform, id, req.body);
      return { state: ceremony.state, ceremony_id: ceremony.id };
    },
  );

  app.post(
    '/holder/v1/ceremonies/:id/progress',
    {
      schema: {
        tags: ['holder'],
        summary: 'Report progress: reading the card, or a card error (the ceremony stays open)',
        params: Params,
        body: Type.Union([
          Type.Object({ stage: Type.Literal('reading') }),
          Type.Object({
            stage: Type.Literal('card_error'),
            error: Type.Object({
              code: Type.String({
                pattern: '^[A-Z_]{3,40}$',
                description: 'a card error code, e.g. WRONG_PIN, PIN_BLOCKED, CARD_REMOVED, TIMEOUT',
              }),
              remaining: Type.Optional(Type.Integer({ minimum: 0, maximum: 15 })),
            }),
          }),
        ]),
        response: { 204: Type.Null(), 404: ErrorSchema, 409: ErrorSchema, 410: ErrorSchema },
      },
    },
    async (req, reply) => {
      const { id } = req.params;
      await reportProgress(platform.db, id, req.body);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/holder/v1/ceremonies/:id/status',
    { schema: { tags: ['holder'], summary: 'Progress of a ceremony', params: Params } },
    async (req) => {
      const { id } = req.params;
      return statusView(await getCeremony(platform.db, id));
    },
  );
}
