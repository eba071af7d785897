// Admin API for verification records: search (by RP, date, outcome — never by any personal field),
// one record with its log status, log verification, export, retention purge, relationship end.

import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { InvalidRequest, NotFound } from '../errors.js';
import type { Platform } from '../platform.js';
import type { RecordOutcome, RecordRow } from '../records/chain.js';
import { endRelationship, purgeExpired } from '../records/retention.js';
import { exportRecords } from '../records/export.js';
import { recordWithLogStatus, searchRecords } from '../records/query.js';
import { verifyLog } from '../records/verify-log.js';
import { ErrorSchema } from './schemas.js';

const security = [{ adminToken: [] }];
const OUTCOMES = ['verified', 'rejected', 'note'] as const satisfies readonly RecordOutcome[];

const dateParam = (v: string | undefined, name: string): Date | undefined => {
  if (v === undefined) return undefined;
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) throw new InvalidRequest(`${name} "${v}" is not a date`);
  return d;
};

const view = (r: RecordRow): Record<string, unknown> => ({
  seq: r.seq,
  id: r.id,
  created_at: r.created_at.toISOString(),
  rp_client_id: r.rp_client_id,
  ceremony_id: r.ceremony_id,
  subject_id: r.subject_id,
  framework: r.framework,
  outcome: r.outcome,
  payload: r.payload,
  payload_hash: r.payload_hash,
  leaf_hash: r.leaf_hash.toString('hex'),
  leaf_index: r.leaf_index === null ? null : Number(r.leaf_index),
  ...(r.entry_version === 1 ? { prev_hash: r.prev_hash, hash: r.hash } : {}),
  purged_at: r.purged_at?.toISOString() ?? null,
});

const Filters = Type.Object({
  rp: Type.Optional(Type.String()),
  from: Type.Optional(Type.String({ description: 'created_at ≥ from (ISO 8601)' })),
  to: Type.Optional(Type.String({ description: 'created_at < to (ISO 8601)' })),
  outcome: Type.Optional(Type.Union(OUTCOMES.map((o) => Type.Literal(o)))),
});

export async function adminRecordRoutes(fastify: FastifyInstance, o: { platform: Platform }): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = o.platform;

  app.get(
    '/records',
    {
      schema: {
        tags: ['admin'],
        security,
        summary: 'Search records (newest first)',
        querystring: Type.Intersect([
          Filters,
          Type.Object({
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
            before: Type.Optional(Type.String({ description: 'seq to page before' })),
          }),
        ]),
      },
    },
    async (req) => {
      const q = req.query;
      const from = dateParam(q.from, 'from');
      const to = dateParam(q.to, 'to');
      if (q.before && !/^\d+$/.test(q.before)) throw new InvalidRequest('before must be a record seq');
      const rows = await searchRecords(db, {
        limit: q.limit ?? 50,
        ...(q.rp ? { rpClientId: q.rp } : {}),
        ...(from ? { from } : {}),
        ...(to ? { to } : {}),
        ...(q.outcome ? { outcome: q.outcome } : {}),
        ...(q.before ? { before: q.before } : {}),
      });
      return rows.map(view);
    },
  );

  app.get(
    '/records/:id',
    {
      schema: {
        tags: ['admin'],
        security,
        summary: 'One record and whether its payload and leaf hash (and, for a v1 chain row, its links) are intact',
        params: Type.Object({ id: Type.String() }),
        // The record as view() writes it, plus its log status.
        response: { 200: Type.Unknown(), 404: ErrorSchema },
      },
    },
    async (req) => {
      const { id } = req.params;
      const found = await recordWithLogStatus(db, id);
      if (!found) throw new NotFound(`no record ${id}`);
      const { record, status } = found;
      return {
        ...view(record),
        log: {
          payload_intact: status.payloadIntact,
          leaf_intact: status.leafIntact,
          integrated: status.leafIndex !== null,
          ...(status.v1
            ? { v1: { hash_intact: status.v1.hashIntact, linked_to_previous: status.v1.linkedToPrevious } }
            : {}),
        },
      };
    },
  );

  app.post(
    '/records/verify',
    {
      schema: {
        tags: ['admin'],
        security,
        summary: 'Recompute the records log and check it against its stored nodes and signed checkpoints',
        body: Type.Optional(
          Type.Object({
            since: Type.Optional(
              Type.String({ description: 'a signed checkpoint saved earlier: the log must still extend it' }),
            ),
          }),
        ),
      },
    },
    async (req) => {
      const since = req.body?.since;
      return verifyLog(db, { key: o.platform.recordsLog.verifierKey, ...(since ? { since } : {}) });
    },
  );

  app.get(
    '/records/export',
    {
      schema: {
        tags: ['admin'],
        security,
        summary: 'Export records as CSV or JSON',
        querystring: Type.Intersect([
          Filters,
          Type.Object({
            format: Type.Union([Type.Literal('csv'), Type.Literal('json')]),
            bom: Type.Optional(Type.Boolean()),
          }),
        ]),
      },
    },
    async (req, reply) => {
      const q = req.query;
      const from = dateParam(q.from, 'from');
      const to = dateParam(q.to, 'to');
      reply.hijack();
      reply.raw.writeHead(200, {
        'content-type': q.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8',
        'cache-control': 'no-store',
      });
      try {
        await exportRecords(
          db,
          {
            format: q.format,
            ...(q.rp ? { rpClientId: q.rp } : {}),
            ...(from ? { from } : {}),
            ...(to ? { to } : {}),
            ...(q.outcome ? { outcome: q.outcome } : {}),
            ...(q.bom ? { bom: true } : {}),
          },
          (chunk) =>
            reply.raw.write(chunk) ? undefined : new Promise<void>((r) => reply.raw.once('drain', () => r())),
        );
      } finally {
        reply.raw.end();
      }
    },
  );

  app.post(
    '/records/purge',
    {
      schema: {
        tags: ['admin'],
        security,
        summary: 'Blank the payloads of records past their retention (never early)',
        body: Type.Optional(Type.Object({ now: Type.Optional(Type.String()), dry_run: Type.Optional(Type.Boolean()) })),
      },
    },
    async (req) => {
      const b = req.body ?? {};
      const now = dateParam(b.now, 'now');
      try {
        return await purgeExpired(db, { dryRun: b.dry_run ?? false, ...(now ? { now } : {}) });
      } catch (e) {
        if (e instanceof RangeError) throw new InvalidRequest(e.message);
        throw e;
      }
    },
  );

  app.post(
    '/relationships/end',
    {
      schema: {
        tags: ['admin'],
        security,
        summary: 'End the business relationship of an RP with a subject (retention starts counting)',
        body: Type.Object({ rp_client_id: Type.String(), subject_id: Type.String(), at: Type.Optional(Type.String()) }),
      },
    },
    async (req) => {
      const b = req.body;
      try {
        return await endRelationship(db, b.rp_client_id, b.subject_id, dateParam(b.at, 'at') ?? new Date());
      } catch (e) {
        if (e instanceof RangeError) throw new InvalidRequest(e.message);
        throw e;
      }
    },
  );
}
