// The pages' scripts (@kakunin/web browser/), at fixed paths on this origin: the pages' CSP allows
// scripts from 'self' only. The URL a page uses carries the script's version, so it may be cached.

import type { FastifyInstance } from 'fastify';
import { CEREMONY_SCRIPT_PATH, ceremonyScript } from '@kakunin/web';

export async function assetRoutes(app: FastifyInstance): Promise<void> {
  // Transpiled now: a broken script stops the start instead of the first ceremony.
  const { source } = ceremonyScript();
  app.get(CEREMONY_SCRIPT_PATH, { schema: { hide: true } }, async (_req, reply) =>
    reply
      .header('content-type', 'text/javascript; charset=utf-8')
      .header('cache-control', 'public, max-age=86400')
      .send(source),
  );
}
