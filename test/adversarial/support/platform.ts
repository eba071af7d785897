// The adversarial catalogue's platform harness: one real sandbox platform per test file (PGlite),
// the holder protocol spoken by hand, and the checks every platform-level case ends with (no
// `verified` record for the attacked ceremony, a `rejected` one where the verifier spoke).
//
// Creating a simulator sandbox costs ~15 s of RSA key generation and a fresh PGlite database ~8 s of
// migrations, so the files of one vitest run share a template (sandbox, OCSP responder keys and a
// migrated platform database with its secrets), built once under a lock in the OS temp directory
// keyed by the vitest main process. Each file starts its platform on its own copy: life events and
// records of one file never leak into another. The template of a finished run is removed by the
// next run.

import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { initSandbox, startSimulatedJlis, type Sandbox } from '@kakunin/sim';
import {
  startServer,
  createCeremony,
  submitResponse,
  type Ceremony,
  type Platform,
  JpkiVerifier,
  type VerifierOptions,
  createRelyingParty,
  type NewRelyingParty,
  type RegisteredRelyingParty,
  type RelyingParty,
  loadConfig,
  type ServerConfig,
} from '@kakunin/server';
import { REDIRECT, type TestPlatform } from '@kakunin/server/testing';

export {
  Browser,
  REDIRECT,
  finishFlow,
  holderLinkOf,
  holderRespond,
  signAsHolder,
  startFlow,
  type Flow,
  type TestPlatform,
} from '@kakunin/server/testing';

const TEMPLATE_MAX_AGE_MS = 2 * 3600_000;

const pidAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Removes templates left by vitest runs that have ended. */
function removeStaleTemplates(keep: string): void {
  for (const name of readdirSync(tmpdir())) {
    const m = /^kakunin-adversarial-(\d+)$/.exec(name);
    if (!m || name === keep || pidAlive(Number(m[1]))) continue;
    rmSync(join(tmpdir(), name), { recursive: true, force: true });
  }
}

const configFor = (dataDir: string, ceremonyTtlSeconds = 300, more: Partial<ServerConfig> = {}) =>
  loadConfig({ mode: 'sandbox', port: 0, dataDir, logLevel: 'silent', ceremonyTtlSeconds, agentUrl: '', ...more }, {});

/** The shared template (`sim/`, `data/`), built by the first file that needs it. */
async function template(): Promise<string> {
  const name = `kakunin-adversarial-${process.ppid}`;
  const root = join(tmpdir(), name);
  const ready = join(root, 'READY');
  const lock = join(root, 'LOCK');
  mkdirSync(root, { recursive: true });
  for (;;) {
    if (existsSync(ready)) {
      if (Date.now() - statSync(ready).mtimeMs < TEMPLATE_MAX_AGE_MS) return root;
      rmSync(ready, { force: true });
    }
    try {
      mkdirSync(lock);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      // Another file is building it (or died doing so: a lock older than two minutes is taken over).
      if (Date.now() - statSync(lock).mtimeMs > 120_000) rmSync(lock, { recursive: true, force: true });
      await sleep(200);
      continue;
    }
    try {
      removeStaleTemplates(name);
      for (const d of ['sim', 'data']) rmSync(join(root, d), { recursive: true, force: true });
      await initSandbox({ dir: join(root, 'sim'), seed: 'adversarial-catalogue' });
      // One start persists the OCSP responder keys, the migrations and the platform secrets.
      const server = await startServer(configFor(join(root, 'data')), {
        simulatedJlis: startSimulatedJlis,
        simDir: join(root, 'sim'),
        noJobs: true,
      });
      await server.close();
      writeFileSync(ready, new Date().toISOString());
      return root;
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
}

export interface Harness {
  p: TestPlatform;
  /** Two ordinary relying parties (identity and login allowed). */
  rpA: RegisteredRelyingParty;
  rpB: RegisteredRelyingParty;
  /** Adults whose card holds a signing certificate, in sandbox order. */
  signers: string[];
  createRp(o: Partial<NewRelyingParty> & { name: string }): Promise<RegisteredRelyingParty>;
  ceremony(kind?: 'login' | 'identity', rp?: RelyingParty, now?: Date): Promise<Ceremony>;
  holderUrl(c: Ceremony | string): string;
  view(c: Ceremony): Promise<HolderView>;
  post(
    c: Ceremony,
    body: unknown,
  ): Promise<{ status: number; code: string | undefined; details?: Record<string, unknown> }>;
  outcomes(ceremonyId: string): Promise<string[]>;
  /**
   * The running platform with its verifier rewired (production mode, another trust store, another
   * revocation source: what a deployment configured that way does with the same database).
   */
  withVerifier(o: Partial<VerifierOptions>): Platform;
  /** submitResponse on such a platform: the thrown error (the refusal), or undefined when accepted. */
  submitTo(platform: Platform, ceremonyId: string, body: unknown): Promise<{ code?: string; error?: unknown }>;
  /** The end of every platform-level case: never a verified record; a rejected one when asked. */
  expectNoVerified(ceremonyId: string, o?: { rejected?: boolean }): Promise<void>;
  close(): Promise<void>;
}

export interface HolderView {
  protocol: string;
  ceremony_id: string;
  kind: 'login' | 'identity';
  state: string;
  certificate: 'auth' | 'sign';
  rp: { client_id: string; name: string };
  purpose: string;
  statement?: string;
  nonce: string;
  to_be_signed: string;
  expires_at: string;
  response_url: string;
}

/** A sandbox platform on PGlite over a private copy of the template sandbox. */
/** `config`: more settings of the platform (e.g. its HTTP limits). */
export async function startHarness(
  o: { ceremonyTtlSeconds?: number; config?: Partial<ServerConfig> } = {},
): Promise<Harness> {
  const root = await template();
  const work = mkdtempSync(join(tmpdir(), 'kakunin-adv-'));
  let p: TestPlatform;
  try {
    for (const d of ['sim', 'data']) cpSync(join(root, d), join(work, d), { recursive: true });
    const server = await startServer(configFor(join(work, 'data'), o.ceremonyTtlSeconds, o.config), {
      simulatedJlis: startSimulatedJlis,
      simDir: join(work, 'sim'),
      noJobs: true,
    });
    p = { server, sandbox: server.sandbox!.sandbox, dataDir: join(work, 'data'), close: () => server.close() };
  } catch (e) {
    rmSync(work, { recursive: true, force: true });
    throw e;
  }
  const db = p.server.platform.db;
  const createRp = (x: Partial<NewRelyingParty> & { name: string }): Promise<RegisteredRelyingParty> =>
    createRelyingParty(p.server.platform, { redirectUris: [REDIRECT], ...x });
  const rpA = await createRp({ name: 'RP A', purpose: '口座開設の本人確認' });
  const rpB = await createRp({ name: 'RP B' });
  const sandbox: Sandbox = p.sandbox;
  const signers = sandbox
    .people()
    .filter((x) => sandbox.certificates({ personId: x.id, kind: 'sign', medium: 'card' }).length > 0)
    .map((x) => x.id);
  const holderUrl = (c: Ceremony | string): string =>
    `${p.server.url}/holder/v1/ceremonies/${typeof c === 'string' ? c : c.id}`;
  const outcomes = async (id: string): Promise<string[]> =>
    (await db.query<{ outcome: string }>('SELECT outcome FROM records WHERE ceremony_id = $1 ORDER BY seq', [id])).map(
      (r) => r.outcome,
    );
  return {
    p,
    rpA,
    rpB,
    signers,
    createRp,
    ceremony: (kind = 'login', rp = rpA, now) =>
      createCeremony(p.server.platform, { kind, rpClientId: rp.clientId, ...(now ? { now } : {}) }),
    holderUrl,
    view: async (c) => (await (await fetch(holderUrl(c))).json()) as HolderView,
    post: async (c, body) => {
      const res = await fetch(`${holderUrl(c)}/response`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const json = (await res.json()) as { error?: { code: string; details?: Record<string, unknown> } };
      return {
        status: res.status,
        code: json.error?.code,
        ...(json.error?.details ? { details: json.error.details } : {}),
      };
    },
    outcomes,
    withVerifier: (x) => ({
      ...p.server.platform,
      verifier: new JpkiVerifier({ ...p.server.platform.verifier.options, ...x }),
    }),
    submitTo: async (platform, id, body) => {
      try {
        await submitResponse(platform, id, body);
        return {};
      } catch (error) {
        return { code: (error as { code?: string }).code, error };
      }
    },
    expectNoVerified: async (id, x = {}) => {
      const rows = await outcomes(id);
      expect(rows, `records of ${id}`).not.toContain('verified');
      if (x.rejected) expect(rows).toEqual(['rejected']);
      const [c] = await db.query<{ state: string; subject_id: string | null }>(
        'SELECT state, subject_id FROM ceremonies WHERE id = $1',
        [id],
      );
      if (c) {
        expect(c.state).not.toBe('completed');
        expect(c.subject_id).toBeNull();
      }
    },
    close: async () => {
      await p.close();
      rmSync(work, { recursive: true, force: true });
    },
  };
}
