// The relying party's API (prefix /rp/v1), authenticated with the RP's own client credentials
// (HTTP Basic, as at the token endpoint). An RP names a holder by the pairwise `sub` of its ID
// tokens and webhooks, and can reach only its own holders: another RP's sub is as unknown as one
// that never existed.
//
//   POST /relationships/end — the business relationship with a holder ended (the account was
//   closed, the contract ended): monitoring of the holder's certificates for this RP stops and the
//   retention of the records (7 years under 犯収法, 3 under 携帯法) starts counting from that day.
//   POST /credential-offers — a credential offer (QR code, link) for the digital ID credential of an
//   identity verification the RP made (docs/digital-id.md).

import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { InvalidRequest, ServerError } from '../errors.js';
import type { Platform } from '../platform.js';
import {
  endRelationship,
  fillRelationshipSubs,
  findRelationship,
  findRelationshipBySub,
  type RelationshipView,
} from '../records/retention.js';
import { authenticatedClient } from './rp-auth.js';
import { ErrorSchema } from './schemas.js';
import { createOffer } from '../credentials/offers.js';

const REFUSAL = {
  realm: 'kakunin relying party',
  message: 'authenticate with your client credentials (HTTP Basic, client_id:client_secret)',
  messageJa: 'クライアント認証情報(HTTP Basic、client_id:client_secret)が必要です',
};

/** The same answer for a sub that never existed and for another RP's. */
export class NoSuchRelationship extends ServerError {
  constructor() {
    super(
      'NO_SUCH_RELATIONSHIP',
      404,
      'no relationship with a holder of this sub (use the sub of your own ID tokens)',
      'この sub の利用者との取引関係はありません(自社の ID トークンの sub を指定してください)',
    );
  }
}

// RFC 3339 date-time with an offset (or Z): an end of a relationship is an instant, never a local time.
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;

function endedAtParam(v: string | undefined, now: Date): Date | undefined {
  if (v === undefined) return undefined;
  const d = new Date(v);
  if (!RFC3339.test(v) || Number.isNaN(d.getTime()))
    throw new InvalidRequest(
      `ended_at must be an RFC 3339 date-time with an offset, e.g. 2026-04-01T10:00:00+09:00 (got "${v.slice(0, 40)}")`,
      'ended_at は 2026-04-01T10:00:00+09:00 のような時差付きの日時で指定してください',
    );
  if (d.getTime() > now.getTime())
    throw new InvalidRequest(
      `ended_at (${d.toISOString()}) is in the future (the platform's clock says ${now.toISOString()}); omit it to mean now`,
      'ended_at が未来の日時です(省略すると現在時刻になります)',
    );
  return d;
}

const EndedRelationship = Type.Object({
  sub: Type.String({ description: 'the pairwise sub, as sent' }),
  ended_at: Type.String({
    format: 'date-time',
    description: 'when the relationship ended (retention counts from the next day, Japan time)',
  }),
  retained_until: Type.String({
    format: 'date-time',
    description:
      "the first instant after the records' retention period (00:00 JST); records made after the end are kept longer",
  }),
  framework: Type.String({ description: 'the trust framework of the RP: jp_aml (7 years), jp_mpiupa (3 years), …' }),
  retention: Type.Object({
    years: Type.Integer(),
    basis: Type.String({ description: 'the rule the period comes from' }),
  }),
  record_id: Type.Union([Type.String(), Type.Null()], {
    description:
      'the note in the records log that recorded this end (its inclusion proof: GET /records/v1/proof/inclusion)',
  }),
});

const answer = (sub: string, r: RelationshipView) => ({
  sub,
  ended_at: r.endedAt!.toISOString(),
  retained_until: r.retainedUntil!.toISOString(),
  framework: r.framework,
  retention: { years: r.retention.years, basis: r.retention.basis },
  record_id: r.endRecordId,
});

export async function rpApiRoutes(fastify: FastifyInstance, o: { platform: Platform }): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { platform } = o;
  const { db } = platform;
  // Authentication comes before the body is even validated: without credentials, a 401 whatever was sent.
  const clients = new WeakMap<FastifyRequest, string>();
  app.addHook('preValidation', async (req, reply) => {
    clients.set(req, await authenticatedClient(platform, req, reply, REFUSAL));
  });

  /** The RP's relationship with the holder of `sub`; rows not yet given their sub are filled first. */
  const relationshipOf = async (clientId: string, sub: string): Promise<RelationshipView> => {
    const found = await findRelationshipBySub(db, clientId, sub);
    if (found) return found;
    if ((await fillRelationshipSubs(db, platform.pairwiseSubject, { rpClientId: clientId })) > 0) {
      const filled = await findRelationshipBySub(db, clientId, sub);
      if (filled) return filled;
    }
    throw new NoSuchRelationship();
  };

  app.post(
    '/relationships/end',
    {
      schema: {
        tags: ['relying party'],
        security: [{ clientCredentials: [] }],
        summary:
          'End the business relationship with a holder (account closed, contract ended): monitoring stops, retention starts',
        description:
          'Idempotent. Without ended_at: ends it now, or, when it has already ended, changes nothing and answers the recorded end. With ended_at (not in the future): the end is that instant; the same instant again changes nothing, another one re-dates the end (a note in the records log says so). A sub that is unknown or another RP’s is the same 404 NO_SUCH_RELATIONSHIP.',
        body: Type.Object(
          {
            sub: Type.String({ minLength: 1, maxLength: 256, description: 'the pairwise sub of your ID tokens' }),
            ended_at: Type.Optional(
              Type.String({ maxLength: 64, description: 'RFC 3339 date-time with an offset; default now' }),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 200: EndedRelationship, 400: ErrorSchema, 401: ErrorSchema, 404: ErrorSchema, 429: ErrorSchema },
      },
    },
    async (req, reply) => {
      const clientId = clients.get(req)!;
      const { body } = req;
      const now = new Date();
      const at = endedAtParam(body.ended_at, now);
      const relationship = await relationshipOf(clientId, body.sub);
      if (at && at.getTime() < relationship.startedAt.getTime())
        throw new InvalidRequest(
          `ended_at (${at.toISOString()}) is before the relationship started (${relationship.startedAt.toISOString()})`,
          'ended_at が取引関係の開始より前です',
        );
      const ended = await endRelationship(db, clientId, relationship.subjectId, at ?? now, {
        ifOpen: at === undefined,
      });
      if (ended.record || ended.monitoringEnded)
        req.log.info(
          { rp: clientId, changed: !!ended.record, monitoringEnded: ended.monitoringEnded },
          'relationship ended by the relying party',
        );
      const after = await findRelationship(db, clientId, relationship.subjectId);
      void reply.header('cache-control', 'no-store');
      return answer(body.sub, after!);
    },
  );

  app.post(
    '/credential-offers',
    {
      schema: {
        tags: ['relying party'],
        security: [{ clientCredentials: [] }],
        summary: 'A credential offer for the digital ID credential of an identity verification you made',
        description:
          'For a verification of your own (record_id: the urn:kakunin:record claim of its ID token), kept a day after it: an OpenID4VCI credential offer with a pre-authorized code, as a link and a QR code, redeemable once within 10 minutes. With tx_code: true the wallet must also enter a 6-digit code you show the holder.',
        body: Type.Object(
          {
            record_id: Type.String({ minLength: 1, maxLength: 128, description: 'the record id of the verification' }),
            tx_code: Type.Optional(Type.Boolean({ description: 'also require a 6-digit transaction code' })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            credential_offer: Type.Record(Type.String(), Type.Unknown()),
            offer_uri: Type.String(),
            qr_svg: Type.String(),
            tx_code: Type.Optional(Type.String()),
            expires_at: Type.String({ format: 'date-time' }),
          }),
          400: ErrorSchema,
          401: ErrorSchema,
          403: ErrorSchema,
          404: ErrorSchema,
          429: ErrorSchema,
        },
      },
    },
    async (req, reply) => {
      const clientId = clients.get(req)!;
      const offer = await createOffer(db, {
        issuer: platform.publicUrl,
        rpClientId: clientId,
        recordId: req.body.record_id,
        allowed: platform.config.credentialOfferClients ?? (platform.config.mode === 'sandbox' ? ['*'] : []),
        ...(req.body.tx_code ? { txCode: true } : {}),
      });
      req.log.info({ rp: clientId, recordId: req.body.record_id }, 'credential offer created');
      void reply.header('cache-control', 'no-store');
      return offer;
    },
  );
}
