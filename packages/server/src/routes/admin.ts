// Admin API (JSON, bearer admin token): relying parties, records, events, webhook deliveries.

import { timingSafeEqual } from 'node:crypto';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';
import { TooManyAttempts, Unauthorized } from '../errors.js';
import type { Platform } from '../platform.js';
import { CEREMONY_KINDS } from '../ceremony-domain.js';
import {
  TOKEN_AUTH_METHODS,
  createRelyingParty,
  getRelyingParty,
  listRelyingParties,
  publicView,
  updateRelyingParty,
  type NewRelyingParty,
} from '../relying-parties.js';
import type { BackgroundJobs } from '../monitor/background.js';
import { adminEventRoutes } from './admin-events.js';
import { adminRecordRoutes } from './admin-records.js';
import { ErrorSchema } from './schemas.js';

const RpView = Type.Object(
  {
    client_id: Type.String(),
    name: Type.String(),
    redirect_uris: Type.Array(Type.String()),
    ceremonies: Type.Array(Type.String()),
    framework: Type.String(),
    purpose: Type.String(),
    purpose_en: Type.Union([Type.String(), Type.Null()]),
    webhook_url: Type.Union([Type.String(), Type.Null()]),
    token_endpoint_auth_method: Type.String(),
    created_at: Type.String(),
    disabled: Type.Boolean(),
  },
  { additionalProperties: true },
);

const RpInput = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200 }),
  redirect_uris: Type.Array(Type.String({ maxLength: 2000 }), { minItems: 1, maxItems: 20 }),
  ceremonies: Type.Optional(Type.Array(Type.Union(CEREMONY_KINDS.map((k) => Type.Literal(k))))),
  framework: Type.Optional(Type.String({ description: 'jp_aml (犯収法), jp_mpiupa (携帯法), jp_municipal, …' })),
  purpose: Type.Optional(Type.String({ maxLength: 500 })),
  purpose_en: Type.Optional(Type.String({ maxLength: 500 })),
  webhook_url: Type.Optional(Type.String({ maxLength: 2000 })),
  token_endpoint_auth_method: Type.Optional(Type.Union(TOKEN_AUTH_METHODS.map((m) => Type.Literal(m)))),
  client_id: Type.Optional(Type.String({ maxLength: 128 })),
  client_secret: Type.Optional(Type.String({ minLength: 32, maxLength: 256 })),
});

const toNew = (b: Partial<Static<typeof RpInput>>): Partial<NewRelyingParty> => ({
  ...(b.name !== undefined ? { name: b.name } : {}),
  ...(b.redirect_uris ? { redirectUris: b.redirect_uris } : {}),
  ...(b.ceremonies ? { ceremonies: b.ceremonies } : {}),
  ...(b.framework ? { framework: b.framework } : {}),
  ...(b.purpose ? { purpose: b.purpose } : {}),
  ...(b.purpose_en ? { purposeEn: b.purpose_en } : {}),
  ...(b.webhook_url ? { webhookUrl: b.webhook_url } : {}),
  ...(b.token_endpoint_auth_method ? { tokenEndpointAuthMethod: b.token_endpoint_auth_method } : {}),
  ...(b.client_id ? { clientId: b.client_id } : {}),
  ...(b.client_secret ? { clientSecret: b.client_secret } : {}),
});

/** Whether the request carries the admin token as its bearer token (constant time). */
export function isAdminToken(expected: string, req: FastifyRequest): boolean {
  const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
  const given = Buffer.from(m?.[1] ?? '');
  const want = Buffer.from(expected);
  return m !== null && given.length === want.length && timingSafeEqual(given, want);
}

/** The bearer check under the admin sign-in limit (failed attempts per address, shared with the console). */
async function guardAdminApi(
  platform: Platform,
  expected: string,
  req: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  const { ok, retryAfter } = await platform.authThrottle.attempt(platform.authThrottle.keys('admin', req.ip), () =>
    isAdminToken(expected, req),
  );
  if (ok) return;
  if (retryAfter) {
    void reply.header('retry-after', String(retryAfter));
    throw new TooManyAttempts(retryAfter);
  }
  throw new Unauthorized();
}

export async function adminRoutes(
  fastify: FastifyInstance,
  o: { platform: Platform; adminToken: string; jobs?: BackgroundJobs },
): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { platform } = o;
  app.addHook('onRequest', async (req, reply) => guardAdminApi(platform, o.adminToken, req, reply));
  const security = [{ adminToken: [] }];
  const ClientId = Type.Object({ client_id: Type.String() });
  await app.register(adminRecordRoutes, { platform });
  await app.register(adminEventRoutes, { platform, ...(o.jobs ? { jobs: o.jobs } : {}) });

  app.get(
    '/relying-parties',
    {
      schema: {
        tags: ['admin'],
        security,
        summary: 'List relying parties',
        response: { 200: Type.Array(RpView), 401: ErrorSchema },
      },
    },
    async () => (await listRelyingParties(platform.db)).map(publicView),
  );

  app.post(
    '/relying-parties',
    {
      schema: {
        tags: ['admin'],
        security,
        summary: 'Register a relying party (the only time the client secret and webhook secret are shown)',
        body: RpInput,
        response: {
          201: Type.Intersect([RpView, Type.Object({ client_secret: Type.String(), webhook_secret: Type.String() })]),
          400: ErrorSchema,
          401: ErrorSchema,
        },
      },
    },
    async (req, reply) => {
      const rp = await createRelyingParty(platform, toNew(req.body) as NewRelyingParty);
      return reply
        .code(201)
        .send({ ...publicView(rp), client_secret: rp.clientSecret, webhook_secret: rp.webhookSecret });
    },
  );

  app.get(
    '/relying-parties/:client_id',
    { schema: { tags: ['admin'], security, params: ClientId, response: { 200: RpView, 404: ErrorSchema } } },
    async (req) => publicView(await getRelyingParty(platform.db, req.params.client_id)),
  );

  app.patch(
    '/relying-parties/:client_id',
    {
      schema: {
        tags: ['admin'],
        security,
        params: ClientId,
        body: Type.Partial(Type.Intersect([RpInput, Type.Object({ disabled: Type.Boolean() })])),
        response: { 200: RpView, 400: ErrorSchema, 404: ErrorSchema },
      },
    },
    async (req) => {
      const body = req.body;
      return publicView(
        await updateRelyingParty(platform.db, req.params.client_id, {
          ...toNew(body),
          ...(body.disabled !== undefined ? { disabled: body.disabled } : {}),
        }),
      );
    },
  );
}
