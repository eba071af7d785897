// Builds and starts one platform process: database, J-LIS wiring (real or simulated), OpenID
// Provider, holder protocol, admin API, background jobs, metrics. Several processes may share one
// PostgreSQL database.

import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance } from 'fastify';
import { LinkageClient } from '@kakunin/jpki';
import type Provider from 'oidc-provider';
import type * as ProviderModule from './oidc/provider.js';
import { simDir, type ServerConfig } from './config.js';
import type { Database } from './db/database.js';
import { announceServer, openPlatformDatabase } from './db/open.js';
import { purgeStaleCeremonies } from './ceremonies.js';
import { toErrorBody } from './errors.js';
import { Metrics } from './metrics.js';
import { interactionRoutes } from './oidc/interactions.js';
import type { Platform } from './platform.js';
import { findRelyingParty, listRelyingParties } from './relying-parties.js';
import { adminConsoleRoutes } from './routes/admin-console.js';
import { adminRoutes } from './routes/admin.js';
import { holderRoutes } from './routes/holder.js';
import { opsRoutes } from './routes/ops.js';
import { startSandboxJlis, type SandboxJlis } from './sandbox-mode.js';
import { pairwiseSubject, platformSecrets, sharedSecret } from './secrets.js';
import { randomBytes } from 'node:crypto';
import { JpkiVerifier, productionRevocation } from './verifier.js';
import { withConfiguredAnchors } from './trust-anchors.js';
import { startBackgroundJobs, type BackgroundJobs } from './monitor/index.js';

export interface RunningPlatform {
  readonly url: string;
  readonly platform: Platform;
  readonly app: FastifyInstance;
  readonly provider: Provider;
  readonly adminToken: string;
  /** The simulated J-LIS in sandbox mode. */
  readonly sandbox?: SandboxJlis;
  /** Background workers (revocation monitor, webhooks), unless started with noJobs. */
  readonly jobs?: BackgroundJobs;
  close(): Promise<void>;
}

export interface StartOptions {
  /** Progress lines for slow steps (first sandbox creation, migrations). */
  onProgress?: (line: string) => void;
  /** An already open database (tests); it is not closed by `close()`. */
  db?: Database;
  /** Do not start the revocation monitor and webhook workers. */
  noJobs?: boolean;
  /** Sandbox simulator directory (default DATA_DIR/sim); tests share one across servers. */
  simDir?: string;
}

async function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export async function startServer(config: ServerConfig, options: StartOptions = {}): Promise<RunningPlatform> {
  const cleanups: (() => Promise<void> | void)[] = [];
  const closeAll = async (): Promise<void> => {
    for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => undefined);
    cleanups.length = 0;
  };
  try {
    // Pinned roots first: a wrong or missing pin refuses start before anything is opened.
    const productionTrust = config.mode === 'production' ? withConfiguredAnchors(config.trustAnchors) : undefined;
    mkdirSync(config.dataDir, { recursive: true });
    options.onProgress?.(config.databaseUrl ? 'connecting to PostgreSQL…' : `opening the embedded database in ${join(config.dataDir, 'db')}…`);
    const db = options.db ?? (await openPlatformDatabase(config));
    if (!options.db) cleanups.push(() => db.close());

    let sandbox: SandboxJlis | undefined;
    let verifier: JpkiVerifier;
    if (config.mode === 'sandbox' || !productionTrust) {
      sandbox = await startSandboxJlis(options.simDir ?? simDir(config), options.onProgress, config.simServicesUrl, config.ocsp);
      cleanups.push(() => sandbox!.close());
      verifier = sandbox.verifier;
    } else {
      const trustStore = productionTrust;
      verifier = new JpkiVerifier({
        mode: 'production',
        trustStore,
        revocation: productionRevocation({ trustStore, ocsp: config.ocsp, ...(config.ocspUrl ? { ocspUrl: config.ocspUrl } : {}), ...(config.crlDir ? { crlDir: config.crlDir } : {}) }),
        ...(config.linkageUrl ? { linkage: new LinkageClient(config.linkageUrl) } : {}),
      });
    }

    const port = config.port === 0 ? await freePort(config.host) : config.port;
    const listenUrl = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
    const publicUrl = (config.publicUrl ?? listenUrl).replace(/\/+$/, '');
    const secrets = await platformSecrets(db);
    const adminToken = config.adminToken ?? (await sharedSecret(db, 'admin.token', () => `kka_${randomBytes(24).toString('base64url')}`));
    if (!config.adminToken) {
      const file = join(config.dataDir, 'admin-token');
      writeFileSync(file, `${adminToken}\n`, { mode: 0o600 });
      chmodSync(file, 0o600);
    }

    const metrics = new Metrics();
    const app = Fastify({
      logger: {
        level: config.logLevel,
        // Standard output carries the base URL (and nothing else); logs go to standard error.
        stream: process.stderr,
        redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'], censor: '[redacted]' },
      },
      trustProxy: true,
      bodyLimit: 256 * 1024,
      ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array' } },
    });
    cleanups.push(() => app.close());
    const platform: Platform = { config, db, verifier, metrics, log: app.log, publicUrl, ...(sandbox ? { sandbox: sandbox.sandbox } : {}) };
    const frameworks = (await listRelyingParties(db)).map((rp) => rp.framework);
    const { createProvider } = await importOidcQuietly();
    const provider = createProvider({ issuer: publicUrl, db, secrets, frameworks });

    // Form posts (token endpoint, consent) stay strings: oidc-provider parses them itself.
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => done(null, body));
    app.setErrorHandler((error, req, reply) => {
      const { status, body } = toErrorBody(error);
      if (status >= 500) req.log.error({ err: error }, 'request failed');
      else req.log.info({ code: body.error.code }, 'request rejected');
      if (body.error.code === 'TEMPORARILY_UNAVAILABLE') void reply.header('retry-after', '2');
      return reply.code(status).send(body);
    });

    await app.register(swagger, {
      openapi: {
        openapi: '3.0.3',
        info: { title: 'Kakunin platform API', version: '1.0.0', description: 'Holder protocol v1 (docs/holder-protocol.md) and the admin API. The OpenID Provider endpoints are described by /.well-known/openid-configuration.' },
        servers: [{ url: publicUrl }],
        components: { securitySchemes: { adminToken: { type: 'http', scheme: 'bearer', description: 'the admin token (DATA_DIR/admin-token or KAKUNIN_ADMIN_TOKEN)' } } },
        tags: [{ name: 'holder', description: 'Holder protocol v1' }, { name: 'admin', description: 'Admin API' }],
      },
    });
    await app.register(holderRoutes, { platform });
    const jobs: BackgroundJobs | undefined = options.noJobs
      ? undefined
      : startBackgroundJobs({ db, verifier, metrics, log: app.log, config, webhooks: { subjectFor: (clientId, subjectId) => pairwiseSubject(secrets.pairwiseSalt, clientId, subjectId) } });
    if (jobs) cleanups.push(() => jobs.stop());
    await app.register(adminRoutes, { platform, adminToken, prefix: '/admin/v1', ...(jobs ? { jobs } : {}) });
    await app.register(adminConsoleRoutes, { platform, adminToken, prefix: '/admin', ...(jobs ? { jobs } : {}) });
    await app.register(interactionRoutes, { platform, provider });
    await app.register(opsRoutes, { platform });
    app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

    // Everything else is the OpenID Provider. Secret-based clients may authenticate either way
    // (Basic or in the body), whatever their registration says: stock clients differ in defaults.
    const callback = provider.callback();
    app.route({
      method: ['GET', 'POST', 'HEAD', 'OPTIONS', 'DELETE'],
      url: '/*',
      schema: { hide: true },
      handler: async (req, reply) => {
        const raw = req.raw as typeof req.raw & { body?: unknown };
        if (req.body !== undefined) raw.body = req.body;
        if (req.method === 'POST' && typeof req.body === 'string' && /^\/token(\/|$)/.test(req.url)) await alignClientAuth(db, raw, req.body);
        reply.hijack();
        callback(raw, reply.raw);
      },
    });

    // Expired ceremonies and nonces (and the basic 4 info in ceremony results) do not outlive a day.
    const purgeCeremonies = (): void => void purgeStaleCeremonies(db).catch((e: unknown) => app.log.warn({ err: e }, 'ceremony purge failed'));
    if (!options.noJobs) {
      purgeCeremonies();
      const timer = setInterval(purgeCeremonies, 3600_000);
      timer.unref();
      cleanups.push(() => clearInterval(timer));
    }

    await app.listen({ port, host: config.host });
    if (!config.databaseUrl) cleanups.push(announceServer(config.dataDir, { url: publicUrl, adminToken }));
    return { url: publicUrl, platform, app, provider, adminToken, ...(sandbox ? { sandbox } : {}), ...(jobs ? { jobs } : {}), close: closeAll };
  } catch (e) {
    await closeAll();
    throw e;
  }
}

/** Rewrites client_secret_basic ↔ client_secret_post to what the client is registered with. */
async function alignClientAuth(db: Database, raw: { headers: Record<string, string | string[] | undefined>; body?: unknown }, body: string): Promise<void> {
  const params = new URLSearchParams(body);
  const basic = /^Basic (.+)$/i.exec(String(raw.headers.authorization ?? ''));
  if (basic && !params.has('client_secret')) {
    const [id, secret] = Buffer.from(basic[1]!, 'base64').toString('utf8').split(':').map((s) => decodeURIComponent(s.replace(/\+/g, '%20')));
    const rp = id ? await findRelyingParty(db, id) : undefined;
    if (rp?.tokenEndpointAuthMethod === 'client_secret_post' && secret !== undefined) {
      delete raw.headers.authorization;
      params.set('client_id', id!);
      params.set('client_secret', secret);
      raw.body = params.toString();
    }
  } else if (!basic && params.has('client_secret')) {
    const id = params.get('client_id') ?? '';
    const rp = await findRelyingParty(db, id);
    if (rp?.tokenEndpointAuthMethod === 'client_secret_basic') {
      const secret = params.get('client_secret')!;
      params.delete('client_secret');
      params.delete('client_id');
      raw.headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
      raw.body = params.toString();
    }
  }
}

/**
 * oidc-provider warns that the request body was parsed before it, which is how it is mounted here;
 * the warning would only confuse operators. Every other warning passes through.
 */
async function importOidcQuietly(): Promise<typeof ProviderModule> {
  quietOidcWarnings();
  return import('./oidc/provider.js');
}

// The oidc-provider warning that does not apply here: the request body being parsed before it
// (fastify reads every body; oidc-provider then uses req.body).
const QUIET = ['already parsed request body'];
let quieted = false;
function quietOidcWarnings(): void {
  if (quieted) return;
  quieted = true;
  const warn = console.warn.bind(console);
  console.warn = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && args[0].startsWith('oidc-provider WARNING') && QUIET.some((q) => (args[0] as string).includes(q))) return;
    warn(...args);
  };
}
