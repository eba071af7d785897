// The records log over HTTP (prefix /records/v1): the latest signed checkpoint and the log's key for
// anyone; inclusion proofs for a relying party's own records (its client credentials, HTTP Basic)
// or for any record (the operator's or an auditor's admin token); consistency proofs between two
// checkpointed sizes. An RP keeps the inclusion bundle beside its copy of the record and can show a
// regulator, years later, that the 確認記録 existed unaltered (`kakunin records check-proof`).

import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { InvalidRequest, TooManyAttempts } from '../errors.js';
import type { Platform } from '../platform.js';
import { checkpointAt, consistencyProof, consistencyWire, inclusionProof, inclusionWire } from '../records/proofs.js';
import { isAdminToken } from './admin.js';
import { authenticatedClient, refuse } from './rp-auth.js';
import { ErrorSchema } from './schemas.js';

/** Whose records a request may see: every record (admin token), or one RP's. */
type Reader = { all: true } | { rpClientId: string };

const REFUSAL = {
  realm: 'kakunin records',
  message:
    'authenticate with your client credentials (HTTP Basic, client_id:client_secret) or the admin token (Bearer)',
  messageJa: 'クライアント認証情報(HTTP Basic)または管理者トークンが必要です',
};

async function reader(
  platform: Platform,
  adminToken: string,
  req: FastifyRequest,
  reply: FastifyReply,
): Promise<Reader> {
  if (/^Bearer /i.test(req.headers.authorization ?? '')) {
    const { ok, retryAfter } = await platform.authThrottle.attempt(platform.authThrottle.keys('admin', req.ip), () =>
      isAdminToken(adminToken, req),
    );
    if (ok) return { all: true };
    if (retryAfter) throw new TooManyAttempts(retryAfter);
    return refuse(reply, REFUSAL);
  }
  return { rpClientId: await authenticatedClient(platform, req, reply, REFUSAL) };
}

const wholeNumber = (v: string | undefined, name: string): number | undefined => {
  if (v === undefined) return undefined;
  if (!/^\d{1,15}$/.test(v)) throw new InvalidRequest(`${name} must be a whole number ≥ 0 (got "${v.slice(0, 40)}")`);
  return Number(v);
};

const Inclusion = Type.Object({
  record_id: Type.String(),
  rp_client_id: Type.Union([Type.String(), Type.Null()]),
  entry: Type.String({ description: 'the canonical entry (UTF-8) whose leaf hash SHA-256(0x00 ‖ entry) is proven' }),
  leaf_hash: Type.String({ description: 'hex' }),
  leaf_index: Type.Integer(),
  tree_size: Type.Integer(),
  proof: Type.Array(Type.String({ description: 'base64 RFC 9162 hashes' })),
  checkpoint: Type.String({ description: 'the signed checkpoint (C2SP signed-note) of tree_size' }),
});

export async function recordsLogRoutes(
  fastify: FastifyInstance,
  o: { platform: Platform; adminToken: string },
): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { platform, adminToken } = o;
  const { db } = platform;

  app.get(
    '/checkpoint',
    {
      schema: {
        tags: ['records'],
        summary: 'The latest signed checkpoint of the records log (C2SP tlog-checkpoint, text/plain)',
        querystring: Type.Object({ tree_size: Type.Optional(Type.String()) }),
      },
    },
    async (req, reply) => {
      const size = wholeNumber(req.query.tree_size, 'tree_size');
      const c = await checkpointAt(db, size);
      return reply.header('content-type', 'text/plain; charset=utf-8').header('cache-control', 'no-cache').send(c.note);
    },
  );

  app.get(
    '/key',
    {
      schema: {
        tags: ['records'],
        summary: "The log's verifier key (C2SP signed-note: <origin>+<key id>+<Ed25519 key>), text/plain",
      },
    },
    async (_req, reply) =>
      reply.header('content-type', 'text/plain; charset=utf-8').send(`${platform.recordsLog.verifierKey}\n`),
  );

  app.get(
    '/proof/inclusion',
    {
      schema: {
        tags: ['records'],
        summary: 'Inclusion proof of one record (an RP: its own records only)',
        querystring: Type.Object({
          record_id: Type.Optional(Type.String({ maxLength: 64 })),
          leaf_index: Type.Optional(Type.String()),
          tree_size: Type.Optional(Type.String()),
        }),
        response: { 200: Inclusion, 401: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema },
      },
    },
    async (req, reply) => {
      const who = await reader(platform, adminToken, req, reply);
      const q = req.query;
      const leafIndex = wholeNumber(q.leaf_index, 'leaf_index');
      const treeSize = wholeNumber(q.tree_size, 'tree_size');
      try {
        const a = await inclusionProof(db, {
          ...(q.record_id !== undefined ? { recordId: q.record_id } : {}),
          ...(leafIndex !== undefined ? { leafIndex } : {}),
          ...(treeSize !== undefined ? { treeSize } : {}),
          ...('rpClientId' in who ? { rpClientId: who.rpClientId } : {}),
        });
        return inclusionWire(a);
      } catch (e) {
        if ((e as { code?: string }).code === 'RECORD_NOT_INTEGRATED') void reply.header('retry-after', '1');
        throw e;
      }
    },
  );

  app.get(
    '/proof/consistency',
    {
      schema: {
        tags: ['records'],
        summary: 'Consistency proof between two checkpointed tree sizes (second: default the latest)',
        querystring: Type.Object({ first: Type.String(), second: Type.Optional(Type.String()) }),
      },
    },
    async (req, reply) => {
      await reader(platform, adminToken, req, reply);
      const q = req.query;
      const second = wholeNumber(q.second, 'second');
      const a = await consistencyProof(db, {
        first: wholeNumber(q.first, 'first')!,
        ...(second !== undefined ? { second } : {}),
      });
      return consistencyWire(a);
    },
  );
}
