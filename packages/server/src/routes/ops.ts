// Health, readiness and Prometheus metrics.

import type { FastifyInstance } from 'fastify';
import { homePage, langFrom } from '@kakunin/web';
import type { Platform } from '../platform.js';

export async function opsRoutes(app: FastifyInstance, o: { platform: Platform }): Promise<void> {
  const { platform } = o;
  app.get('/', { schema: { hide: true } }, async (req, reply) =>
    reply.header('content-type', 'text/html; charset=utf-8').send(homePage(langFrom(req.query as object), { mode: platform.config.mode, issuer: platform.publicUrl })),
  );
  app.get('/healthz', { schema: { hide: true } }, async () => ({ ok: true }));
  app.get('/readyz', { schema: { hide: true } }, async (_req, reply) => {
    try {
      await platform.db.query('SELECT 1');
      return { ready: true, mode: platform.config.mode, database: platform.db.engine };
    } catch (e) {
      return reply.code(503).send({ ready: false, reason: `database: ${(e as Error).message}` });
    }
  });
  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => reply.header('content-type', platform.metrics.registry.contentType).send(await platform.metrics.registry.metrics()));
}
