// Health, readiness and Prometheus metrics.

import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { homePage, langFrom } from '@kakunin/web';
import type { Platform } from '../platform.js';
import { LangQuery } from './schemas.js';

export async function opsRoutes(fastify: FastifyInstance, o: { platform: Platform }): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { platform } = o;
  app.get('/', { schema: { hide: true, querystring: LangQuery } }, async (req, reply) =>
    reply
      .header('content-type', 'text/html; charset=utf-8')
      .send(homePage(langFrom(req.query), { mode: platform.config.mode, issuer: platform.publicUrl })),
  );
  app.get('/healthz', { schema: { hide: true } }, async () => ({ ok: true }));
  app.get('/readyz', { schema: { hide: true } }, async (_req, reply) => {
    try {
      await platform.db.query('SELECT 1');
    } catch (e) {
      return reply.code(503).send({ ready: false, reason: `database: ${(e as Error).message}` });
    }
    // A CRL past nextUpdate + grace (or none after a failed refresh) means lookups fail closed.
    const crls = (platform.crl?.status() ?? []).map((s) => ({
      source: s.location,
      issuer: s.issuer,
      state: s.state,
      thisUpdate: s.thisUpdate,
      nextUpdate: s.nextUpdate,
      usableUntil: s.usableUntil,
      lastSuccessAt: s.lastSuccessAt,
      lastFailureAt: s.lastFailureAt,
      lastError: s.lastError,
      ready: s.ready,
    }));
    const unready = crls.filter((c) => !c.ready);
    const body = {
      ready: unready.length === 0,
      mode: platform.config.mode,
      database: platform.db.engine,
      ...(platform.crl ? { crls } : {}),
    };
    if (unready.length === 0) return body;
    return reply.code(503).send({
      ...body,
      reason: unready
        .map(
          (c) =>
            `CRL ${c.source} ${c.state === 'expired' ? `expired at ${c.usableUntil?.toISOString()}` : 'not loaded'}${c.lastError ? `: ${c.lastError}` : ''}`,
        )
        .join('; '),
    });
  });
  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) =>
    reply.header('content-type', platform.metrics.registry.contentType).send(await platform.metrics.registry.metrics()),
  );
}
