// Admin API for the revocation monitor: events, webhook deliveries, watched certificates, re-check now.

import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { InvalidRequest } from '../errors.js';
import { listEvents } from '../monitor/events.js';
import { listMonitored } from '../monitor/watch.js';
import type { BackgroundJobs } from '../monitor/background.js';
import type { Platform } from '../platform.js';
import { monthRange, usageReport } from '../usage.js';
import { listDeliveries } from '../webhooks/deliveries.js';
import { redeliverEvent } from '../webhooks/delivery.js';

const security = [{ adminToken: [] }];
const Limit = Type.Optional(Type.Integer({ minimum: 1, maximum: 500 }));

export async function adminEventRoutes(
  fastify: FastifyInstance,
  o: { platform: Platform; jobs?: BackgroundJobs },
): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = o.platform;

  app.get(
    '/events',
    {
      schema: {
        tags: ['admin'],
        security,
        summary: 'Revocation and other events (newest first)',
        querystring: Type.Object({
          rp: Type.Optional(Type.String()),
          type: Type.Optional(Type.String()),
          limit: Limit,
          before: Type.Optional(Type.String()),
        }),
      },
    },
    async (req) => {
      const q = req.query;
      return listEvents(db, {
        limit: q.limit ?? 50,
        ...(q.rp ? { rpClientId: q.rp } : {}),
        ...(q.type ? { type: q.type as never } : {}),
        ...(q.before ? { before: q.before } : {}),
      });
    },
  );

  app.get(
    '/webhook-deliveries',
    {
      schema: {
        tags: ['admin'],
        security,
        summary: 'Webhook delivery attempts',
        querystring: Type.Object({
          event: Type.Optional(Type.String()),
          rp: Type.Optional(Type.String()),
          limit: Limit,
        }),
      },
    },
    async (req) => {
      const q = req.query;
      return listDeliveries(db, {
        limit: q.limit ?? 50,
        ...(q.event ? { eventId: q.event } : {}),
        ...(q.rp ? { rpClientId: q.rp } : {}),
      });
    },
  );

  app.post(
    '/events/:id/redeliver',
    {
      schema: {
        tags: ['admin'],
        security,
        summary: 'Send an event to its RP again',
        params: Type.Object({ id: Type.String() }),
      },
    },
    async (req) => redeliverEvent(db, req.params.id),
  );

  app.get(
    '/usage',
    {
      schema: {
        tags: ['admin'],
        security,
        summary:
          'J-LIS revocation lookups of a month (OCSP requests, CRL downloads, linkage calls) by day, RP, ceremony kind and purpose',
        querystring: Type.Object({ month: Type.String() }),
      },
    },
    async (req) => {
      const { month } = req.query;
      try {
        monthRange(month);
      } catch (e) {
        throw new InvalidRequest((e as Error).message);
      }
      // Counts still in this process's memory first: a report right after a run includes them.
      await o.platform.usage?.flush();
      return usageReport(db, month);
    },
  );

  app.get(
    '/monitored-certificates',
    {
      schema: {
        tags: ['admin'],
        security,
        summary: 'Signing certificates under revocation watch',
        querystring: Type.Object({
          rp: Type.Optional(Type.String()),
          status: Type.Optional(Type.String()),
          limit: Limit,
        }),
      },
    },
    async (req) => {
      const q = req.query;
      return listMonitored(db, {
        limit: q.limit ?? 50,
        ...(q.rp ? { rpClientId: q.rp } : {}),
        ...(q.status ? { status: q.status as never } : {}),
      });
    },
  );

  app.post(
    '/monitor/run',
    { schema: { tags: ['admin'], security, summary: 'Re-check all watched certificates now' } },
    async (_req, reply) => {
      if (!o.jobs) throw new InvalidRequest('background jobs are not running in this process');
      return reply.code(202).send(await o.jobs.runMonitorNow());
    },
  );
}
