// The whole sandbox in one process: the platform (PGlite, simulated J-LIS), the local holder agent
// with the simulator's virtual cards, and the four demo relying parties, registered on the platform
// as ordinary OIDC clients. `npm start` runs it; the browser tests start it too.

import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { startAgent } from '@kakunin/agent';
import { startSimulatedJlis } from '@kakunin/sim';
import {
  createRelyingParty,
  findRelyingParty,
  loadConfig,
  webhookSecretOf,
  simDir,
  startServer,
  updateRelyingParty,
  type RunningPlatform,
} from '@kakunin/server';
import { BANK_RP, startBank } from '../examples/bank/index.js';
import { MUNICIPAL_RP, startMunicipal } from '../examples/municipal/index.js';
import { MVNO_RP, startMvno } from '../examples/mvno/index.js';
import { WALLET_RP, startWallet } from '../examples/wallet/index.js';

export interface DemoStackOptions {
  dataDir: string;
  /** Preferred ports (a busy one falls back to a free port); 0 everywhere for tests. */
  ports?: Partial<Record<'platform' | 'agent' | 'wallet' | 'bank' | 'mvno' | 'municipal', number>>;
  /** The agent's card: the simulator's virtual cards (default) or a PC/SC reader. */
  agentCard?: { kind: 'sim' } | { kind: 'pcsc'; reader?: string };
  /** Background jobs (revocation monitor, webhooks) — on by default; monitor period in seconds. */
  monitorIntervalSeconds?: number;
  logLevel?: string;
  onProgress?: (line: string) => void;
}

export interface DemoStack {
  /** NAME → URL, in the order `npm start` prints them. */
  readonly services: readonly (readonly [string, string])[];
  readonly platform: RunningPlatform;
  close(): Promise<void>;
}

export const DEFAULT_PORTS = {
  platform: 8080,
  agent: 8931,
  wallet: 3001,
  bank: 3002,
  mvno: 3003,
  municipal: 3004,
} as const;

/** The preferred port when it is free, else any free port. */
async function portFor(preferred: number): Promise<number> {
  const tryListen = (port: number): Promise<number | undefined> =>
    new Promise((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(undefined));
      s.listen(port, '127.0.0.1', () => {
        const got = (s.address() as { port: number }).port;
        s.close(() => resolve(got));
      });
    });
  return (preferred !== 0 ? await tryListen(preferred) : undefined) ?? (await tryListen(0))!;
}

interface Credentials {
  clientSecret: string;
}

/** Demo client secrets persist in DATA_DIR/examples so that a restart keeps the registrations. */
function credentialsOf(dir: string, clientId: string): Credentials {
  const file = join(dir, `${clientId}.json`);
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as Credentials;
  const c = { clientSecret: randomBytes(32).toString('base64url') };
  writeFileSync(file, JSON.stringify(c), { mode: 0o600 });
  return c;
}

interface DemoSpec {
  name: 'wallet' | 'bank' | 'mvno' | 'municipal';
  rp: {
    clientId: string;
    name: string;
    framework: string;
    purpose: string;
    ceremonies: readonly ('login' | 'identity')[];
  };
  start: (o: {
    platformUrl: string;
    clientId: string;
    clientSecret: string;
    webhookSecret: string;
    port: number;
    dataDir: string;
  }) => Promise<{ url: string; close(): Promise<void> }>;
}

const DEMOS: DemoSpec[] = [
  { name: 'wallet', rp: WALLET_RP, start: startWallet },
  { name: 'bank', rp: BANK_RP, start: startBank },
  { name: 'mvno', rp: MVNO_RP, start: startMvno },
  { name: 'municipal', rp: MUNICIPAL_RP, start: startMunicipal },
];

export async function startDemoStack(o: DemoStackOptions): Promise<DemoStack> {
  const closers: (() => Promise<void>)[] = [];
  const close = async (): Promise<void> => {
    for (const c of closers.reverse()) await c().catch(() => undefined);
    closers.length = 0;
  };
  try {
    const port = async (name: keyof typeof DEFAULT_PORTS): Promise<number> =>
      portFor(o.ports?.[name] ?? DEFAULT_PORTS[name]);
    const platformPort = await port('platform');
    const agentPort = await port('agent');
    const platformUrl = `http://127.0.0.1:${platformPort}`;
    const agentUrl = `http://127.0.0.1:${agentPort}`;
    const config = loadConfig({
      mode: 'sandbox',
      port: platformPort,
      dataDir: o.dataDir,
      agentUrl,
      logLevel: o.logLevel ?? 'warn',
      ...(o.monitorIntervalSeconds !== undefined ? { monitorIntervalSeconds: o.monitorIntervalSeconds } : {}),
    });
    const platform = await startServer(config, {
      simulatedJlis: startSimulatedJlis,
      ...(o.onProgress ? { onProgress: o.onProgress } : {}),
    });
    closers.push(() => platform.close());

    const agent = await startAgent({
      port: agentPort,
      platformOrigins: [platformUrl],
      card:
        o.agentCard?.kind === 'pcsc'
          ? { kind: 'pcsc', ...(o.agentCard.reader ? { reader: o.agentCard.reader } : {}) }
          : { kind: 'sim', sandboxDir: simDir(config) },
    });
    closers.push(() => agent.close());

    const examplesDir = join(o.dataDir, 'examples');
    mkdirSync(examplesDir, { recursive: true });
    const services: [string, string][] = [
      ['platform', platform.url],
      ['admin', `${platform.url}/admin`],
    ];
    for (const demo of DEMOS) {
      const demoPort = await port(demo.name);
      const url = `http://127.0.0.1:${demoPort}`;
      const { clientSecret } = credentialsOf(examplesDir, demo.rp.clientId);
      const registration = {
        name: demo.rp.name,
        redirectUris: [`${url}/callback`],
        framework: demo.rp.framework,
        purpose: demo.rp.purpose,
        ceremonies: [...demo.rp.ceremonies],
        webhookUrl: `${url}/webhooks/kakunin`,
      };
      // Registered like any RP; on a restart the ports may differ, so the URIs are brought up to date.
      const existing = await findRelyingParty(platform.platform.db, demo.rp.clientId);
      const rp = existing
        ? await updateRelyingParty(platform.platform.db, demo.rp.clientId, registration)
        : await createRelyingParty(platform.platform, { ...registration, clientId: demo.rp.clientId, clientSecret });
      // The database keeps only a verifier of the client secret (the demo's file has it) and the webhook secret sealed.
      const webhookSecret = webhookSecretOf(rp, platform.platform.masterKey);
      const app = await demo.start({
        platformUrl: platform.url,
        clientId: rp.clientId,
        clientSecret,
        webhookSecret,
        port: demoPort,
        dataDir: join(examplesDir, demo.name),
      });
      closers.push(() => app.close());
      services.push([demo.name, app.url]);
    }
    services.push(['agent', agent.url]);
    return { services, platform, close };
  } catch (e) {
    await close();
    throw e;
  }
}
