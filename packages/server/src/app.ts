// Builds and starts one platform process: database, J-LIS wiring (real or simulated), OpenID
// Provider, holder protocol, admin API, background jobs, metrics. Several processes may share one
// PostgreSQL database.

import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance } from 'fastify';
import { LinkageClient, httpJsonFetcher, type RevocationChecker, type TrustStore } from '@kakunin/jpki';
import { httpCrlFetcher } from '@kakunin/jpki/http';
import type Provider from 'oidc-provider';
import { ConfigError, simDir, type CrlSourceConfig, type MonitorMode, type ServerConfig } from './config.js';
import { CrlRefresher } from './crl/refresher.js';
import { crlSourcesOf } from './crl/sources.js';
import { registerCrlMetrics } from './crl/metrics.js';
import type { Database } from './db/sql.js';
import { announceServer, openPlatformDatabase } from './db/open.js';
import { purgeStaleCeremonies } from './ceremony-store.js';
import { toErrorBody } from './errors.js';
import { Metrics } from './metrics.js';
import { interactionRoutes } from './oidc/interactions.js';
import type { Platform } from './platform.js';
import { listRelyingParties, sealRelyingPartySecrets, webhookSecretOf } from './relying-parties.js';
import { adminConsoleRoutes } from './routes/admin-console.js';
import { adminRoutes } from './routes/admin.js';
import { holderRoutes } from './routes/holder.js';
import { opsRoutes } from './routes/ops.js';
import { assetRoutes } from './routes/assets.js';
import { httpServerOptions, limitConnectionsPerAddress, secureEveryResponse } from './http-hardening.js';
import { sandboxJlis, type SandboxJlis, type StartSimulatedJlis } from './sandbox-mode.js';
import { loadAdminToken, pairwiseSubject, platformSecrets } from './secrets.js';
import { loadMasterKey } from './master-key.js';
import { AuthThrottle } from './auth-throttle.js';
import { CLIENT_AUTH_PATHS, ClientAuthentication } from './oidc/client-auth.js';
import { unreadRequest } from './oidc/unread-request.js';
import { JpkiVerifier, productionRevocation } from './verifier.js';
import { withConfiguredAnchors } from './trust-anchors.js';
import { startBackgroundJobs, type BackgroundJobs } from './monitor/background.js';
import { CrlMonitor } from './monitor/crl-monitor.js';
import { UsageMeter } from './usage.js';
import { LogSequencer, defaultLogOrigin, logIdentity } from './records/log.js';
import { recordsLogRoutes } from './routes/records-log.js';
import { rpApiRoutes } from './routes/rp-api.js';
import { fillRelationshipSubs } from './records/retention.js';
import { CredentialIssuer, ensureWalletClient } from './credentials/issuer.js';
import { credentialRoutes } from './credentials/routes.js';
import { registerPreAuthorizedGrant } from './credentials/offers.js';
import { loadMunicipalityCodes } from './credentials/municipalities.js';
import { nonceKey } from './credentials/nonces.js';

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
  /**
   * Sandbox mode: starts the simulated J-LIS (@kakunin/sim's startSimulatedJlis). The caller hands
   * it in so that this package never loads the simulator; sandbox mode refuses to start without it.
   */
  simulatedJlis?: StartSimulatedJlis;
  /** Sandbox simulator directory (default DATA_DIR/sim); tests share one across servers. */
  simDir?: string;
  /** The CRL refresher's clock (tests move it forward). */
  crlClock?: () => Date;
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
    const startSimulatedJlis = productionTrust ? undefined : options.simulatedJlis;
    if (!productionTrust && !startSimulatedJlis)
      throw new ConfigError(
        'sandbox mode needs the simulated J-LIS (StartOptions.simulatedJlis): run `kakunin serve --sandbox`',
      );
    mkdirSync(config.dataDir, { recursive: true });
    // Before the database: without the key that seals its secrets the platform cannot start.
    const masterKey = loadMasterKey(config, { create: config.mode === 'sandbox' });
    options.onProgress?.(
      config.databaseUrl
        ? 'connecting to PostgreSQL…'
        : `opening the embedded database in ${join(config.dataDir, 'db')}…`,
    );
    const db = options.db ?? (await openPlatformDatabase(config));
    if (!options.db) cleanups.push(() => db.close());
    const metrics = new Metrics();
    // Every J-LIS lookup is counted where it leaves (usage.ts); flushed before the database closes.
    const usage = new UsageMeter(db, { metrics }).start();
    cleanups.push(() => usage.stop());

    // The CRL sources (crl/): made with the trust store of the mode, started once the logger exists.
    let crl: CrlRefresher | undefined;
    const crlChecker = (trustStore: TrustStore, extra: CrlSourceConfig[] = []): RevocationChecker | undefined => {
      const sources = crlSourcesOf(config, extra);
      if (sources.length === 0) return undefined;
      const settings = {
        refreshAheadSeconds: config.crlRefreshAheadSeconds,
        graceSeconds: config.crlGraceSeconds,
        retrySeconds: config.crlRetrySeconds,
      };
      crl = new CrlRefresher({
        db,
        trustStore,
        sources,
        settings,
        fetcher: usage.crlFetcher(httpCrlFetcher()),
        ...(options.crlClock ? { clock: options.crlClock } : {}),
      });
      return crl.checker;
    };
    let sandbox: SandboxJlis | undefined;
    let verifier: JpkiVerifier;
    if (startSimulatedJlis) {
      const jlis = await startSimulatedJlis({
        dir: options.simDir ?? simDir(config),
        ...(config.simServicesUrl ? { servicesUrl: config.simServicesUrl } : {}),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      });
      cleanups.push(() => jlis.close());
      sandbox = sandboxJlis(jlis, config.ocsp, crlChecker, usage);
      verifier = sandbox.verifier;
    } else {
      const trustStore = productionTrust!; // production mode: no simulator, so set (checked above)
      verifier = new JpkiVerifier({
        mode: 'production',
        trustStore,
        revocation: productionRevocation({
          trustStore,
          ocsp: config.ocsp,
          ...(config.ocspUrl ? { ocspUrl: config.ocspUrl } : {}),
          crl: crlChecker(trustStore),
          usage,
        }),
        ...(config.linkageUrl
          ? { linkage: new LinkageClient(config.linkageUrl, usage.jsonFetcher(httpJsonFetcher())) }
          : {}),
      });
    }

    const port = config.port === 0 ? await freePort(config.host) : config.port;
    const listenUrl = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
    const publicUrl = (config.publicUrl ?? listenUrl).replace(/\/+$/, '');
    const secrets = await platformSecrets(db, masterKey);
    await sealRelyingPartySecrets(db, masterKey);
    const adminToken = await loadAdminToken(db, {
      ...(config.adminToken ? { configured: config.adminToken } : {}),
      file: join(config.dataDir, 'admin-token'),
    });
    const recordsLog = await logIdentity(db, masterKey, config.recordsLogOrigin ?? defaultLogOrigin(publicUrl));
    const authThrottle = new AuthThrottle(db, {
      perClient: config.authFailuresPerClient,
      perAddress: config.authFailuresPerAddress,
      windowSeconds: config.authFailureWindowSeconds,
    });
    const clientAuth = new ClientAuthentication(db, authThrottle);

    const app = Fastify({
      logger: {
        level: config.logLevel,
        // Standard output carries the base URL (and nothing else); logs go to standard error.
        stream: process.stderr,
        redact: {
          paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'],
          censor: '[redacted]',
        },
      },
      ...httpServerOptions(config),
      bodyLimit: 256 * 1024,
      ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array' } },
    });
    cleanups.push(() => app.close());
    limitConnectionsPerAddress(app.server, config, app.log);
    secureEveryResponse(app, publicUrl);
    usage.log = app.log;
    const monitorMode: MonitorMode = config.monitorMode ?? (crl ? 'crl' : 'ocsp');
    if (monitorMode === 'crl' && !crl)
      throw new ConfigError(
        'monitorMode crl needs CRL sources (KAKUNIN_CRL_DIR or crlSources); without CRL access use monitorMode ocsp',
      );
    const crlMonitor =
      monitorMode === 'crl'
        ? new CrlMonitor({ db, trustStore: verifier.options.trustStore, metrics, log: app.log })
        : undefined;
    const platform: Platform = {
      config,
      db,
      masterKey,
      authThrottle,
      verifier,
      metrics,
      log: app.log,
      publicUrl,
      monitorMode,
      usage,
      recordsLog,
      pairwiseSubject: (clientId, subjectId) => pairwiseSubject(secrets.pairwiseSalt, clientId, subjectId),
      ...(sandbox ? { simulator: sandbox } : {}),
      ...(crl ? { crl } : {}),
      ...(crlMonitor ? { crlMonitor } : {}),
    };
    if (crl) {
      const refresher = crl;
      // Stored CRLs are installed before the first request; fetching is the crl-refresh job's.
      await refresher.start({ runJobs: !options.noJobs, log: app.log });
      cleanups.push(() => refresher.stop());
      registerCrlMetrics(metrics.registry, () => refresher.status(), options.crlClock);
      if (sandbox && !options.noJobs) {
        // Sandbox only: a life event publishes a new simulated CRL; fetch it now, not at nextUpdate.
        const refreshNow = (token: string): void =>
          void refresher
            .refreshNow(token)
            .catch((e: unknown) => app.log.warn({ err: e }, 'sandbox CRL refresh not enqueued'));
        cleanups.push(sandbox.onChange(refreshNow));
        // And once at start, for events applied while no platform was running (once per state).
        refreshNow(sandbox.changeToken());
      }
    }
    // The platform's own public client for wallets (the digital ID credential), before the provider loads clients.
    await ensureWalletClient({ db, masterKey });
    const frameworks = (await listRelyingParties(db)).map((rp) => rp.framework);
    const { createProvider } = await import('./oidc/provider.js');
    const provider = createProvider({
      issuer: publicUrl,
      db,
      secrets,
      clientSecret: (id) => clientAuth.providerSecret(id),
      frameworks,
    });
    registerPreAuthorizedGrant(provider, db);

    // Form posts (token endpoint, consent) stay strings: oidc-provider parses them itself.
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) =>
      done(null, body),
    );
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
        info: {
          title: 'Kakunin platform API',
          version: '1.0.0',
          description:
            'Holder protocol v1 (docs/holder-protocol.md) and the admin API. The OpenID Provider endpoints are described by /.well-known/openid-configuration.',
        },
        servers: [{ url: publicUrl }],
        components: {
          securitySchemes: {
            adminToken: {
              type: 'http',
              scheme: 'bearer',
              description: 'the admin token (DATA_DIR/admin-token or KAKUNIN_ADMIN_TOKEN)',
            },
            clientCredentials: {
              type: 'http',
              scheme: 'basic',
              description: "a relying party's client_id:client_secret",
            },
          },
        },
        tags: [
          { name: 'holder', description: 'Holder protocol v1' },
          { name: 'admin', description: 'Admin API' },
          { name: 'records', description: 'The records log: signed checkpoints, inclusion and consistency proofs' },
          {
            name: 'relying party',
            description: "A relying party's own API (its client credentials): ending the relationship with a holder",
          },
        ],
      },
    });
    await app.register(holderRoutes, { platform });
    const jobs: BackgroundJobs | undefined = options.noJobs
      ? undefined
      : startBackgroundJobs({
          db,
          verifier,
          metrics,
          log: app.log,
          config: { ...config, monitorMode },
          ...(crl && crlMonitor ? { crl: { monitor: crlMonitor, refresher: crl } } : {}),
          webhooks: { subjectFor: platform.pairwiseSubject, secretFor: (rp) => webhookSecretOf(rp, masterKey) },
        });
    if (jobs) cleanups.push(() => jobs.stop());
    if (!options.noJobs && config.logSequencerIntervalMs > 0) {
      // Every process runs one; the advisory lock lets one integrate at a time (records/log.ts).
      const sequencer = new LogSequencer({
        db,
        identity: recordsLog,
        intervalMs: config.logSequencerIntervalMs,
        onIntegrated: (i) => {
          for (const d of i.delays) metrics.recordsIntegrationSeconds.observe(d);
          metrics.recordsTreeSize.set(i.treeSize);
        },
        onError: (e) => app.log.error({ err: e }, 'records log: integration failed; retrying'),
      });
      sequencer.start();
      cleanups.push(() => sequencer.stop());
    }
    await app.register(adminRoutes, { platform, adminToken, prefix: '/admin/v1', ...(jobs ? { jobs } : {}) });
    await app.register(adminConsoleRoutes, { platform, adminToken, prefix: '/admin', ...(jobs ? { jobs } : {}) });
    await app.register(interactionRoutes, { platform, provider });
    await app.register(opsRoutes, { platform });
    await app.register(recordsLogRoutes, { platform, adminToken, prefix: '/records/v1' });
    await app.register(rpApiRoutes, { platform, prefix: '/rp/v1' });
    const municipalityCode = config.municipalityCodesFile
      ? loadMunicipalityCodes(config.municipalityCodesFile)
      : sandbox
        ? (address: string) => sandbox.municipalityCode(address)
        : undefined;
    const credentialIssuer = new CredentialIssuer({
      db,
      issuer: publicUrl,
      keys: secrets.credentialJwks,
      nonceKey: await nonceKey(db, masterKey),
      ...(municipalityCode ? { municipalityCode } : {}),
    });
    await app.register(credentialRoutes, { platform, provider, issuer: credentialIssuer });
    await app.register(assetRoutes);
    app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

    // Everything else is the OpenID Provider; where a client authenticates, client-auth.ts checks it
    // first (registered method, exact secret, failure limits) and answers the refusals itself.
    const callback = provider.callback();
    app.route({
      method: ['GET', 'POST', 'HEAD', 'OPTIONS', 'DELETE'],
      url: '/*',
      schema: { hide: true },
      handler: async (req, reply) => {
        const raw = req.raw as typeof req.raw & { body?: unknown };
        if (req.body !== undefined) raw.body = req.body;
        if (req.method === 'POST' && typeof req.body === 'string' && CLIENT_AUTH_PATHS.test(req.url.split('?')[0]!)) {
          const refusal = await clientAuth.authenticate(raw, req.body, req.ip, req.log);
          if (refusal) return reply.code(refusal.status).headers(refusal.headers).send(refusal.body);
        }
        reply.hijack();
        callback(unreadRequest(raw, raw.body), reply.raw);
      },
    });

    // Expired ceremonies and nonces (and the basic 4 info in ceremony results) do not outlive a day.
    const purgeCeremonies = (): void => {
      void purgeStaleCeremonies(db).catch((e: unknown) => app.log.warn({ err: e }, 'ceremony purge failed'));
      void authThrottle.purge().catch((e: unknown) => app.log.warn({ err: e }, 'auth failure counter purge failed'));
    };
    if (!options.noJobs) {
      purgeCeremonies();
      const timer = setInterval(purgeCeremonies, 3600_000);
      timer.unref();
      cleanups.push(() => clearInterval(timer));
    }

    await app.listen({ port, host: config.host });
    // Relationships from before migration 12 get the RP's pairwise sub (the salt is not SQL's), in
    // batches behind the start; until then the RP API fills an RP's rows when a sub is not found.
    const filling = new AbortController();
    const filled = fillRelationshipSubs(db, platform.pairwiseSubject, { signal: filling.signal })
      .then((n) => n > 0 && app.log.info({ filled: n }, 'relationships: pairwise subs filled'))
      .catch((e: unknown) =>
        app.log.warn({ err: e }, 'relationships: filling pairwise subs failed; the RP API fills them on demand'),
      );
    cleanups.push(async () => {
      filling.abort();
      await filled;
    });
    if (!config.databaseUrl) cleanups.push(announceServer(config.dataDir, { url: publicUrl, adminToken }));
    return {
      url: publicUrl,
      platform,
      app,
      provider,
      adminToken,
      ...(sandbox ? { sandbox } : {}),
      ...(jobs ? { jobs } : {}),
      close: closeAll,
    };
  } catch (e) {
    await closeAll();
    throw e;
  }
}
