// `npm run load`, the processes: a fresh PostgreSQL database, the simulated J-LIS (`kakunin sim
// serve`) and S `kakunin serve --sandbox` processes on that one database, all started here and all
// stopped (and the database dropped) whatever happens: normal end, error, Ctrl-C or SIGTERM.
//
// With several servers, every server is started with the same public URL (the first one's), as
// behind a load balancer: issuer, holder links and redirects name that one origin, and the load
// clients spread their requests over the servers themselves (load-http.ts, Origins).

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';

const t0 = performance.now();
export const log = (line: string): void =>
  void process.stderr.write(`load: [${((performance.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${line}\n`);

const ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const BIN = new URL('../packages/cli/bin/kakunin.js', import.meta.url).pathname;

const children: ChildProcess[] = [];
const cleanups: (() => Promise<void> | void)[] = [];
let shuttingDown: Promise<void> | undefined;

/** Runs at shutdown, last registered first (e.g. dropping the database after the servers stopped). */
export const onShutdown = (fn: () => Promise<void> | void): void => void cleanups.push(fn);

/** Whether shutdown began (then a failing phase is only the consequence: not worth reporting). */
export const stopping = (): boolean => shuttingDown !== undefined;

/** Stops every child (SIGINT, then SIGKILL after 5 s), then runs the cleanups. Safe to call twice. */
export function shutdown(): Promise<void> {
  shuttingDown ??= (async () => {
    await Promise.all(
      children.map((c) =>
        c.exitCode !== null || c.signalCode !== null
          ? undefined
          : new Promise<void>((resolve) => {
              const hard = setTimeout(() => c.kill('SIGKILL'), 5000);
              c.once('exit', () => {
                clearTimeout(hard);
                resolve();
              });
              c.kill('SIGINT');
            }),
      ),
    );
    for (const fn of cleanups.reverse()) {
      try {
        await fn();
      } catch (e) {
        log(`cleanup failed: ${(e as Error).message}`);
      }
    }
  })();
  return shuttingDown;
}

/** Ctrl-C / SIGTERM: stop everything, drop the database, exit; and never leave a child behind. */
export function installExitHandlers(): void {
  const onSignal = (signal: NodeJS.Signals): void => {
    log(`${signal}: stopping the processes and dropping the database…`);
    void shutdown().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('exit', () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });
}

/** Spawns `node ARGS` that prints its URL on standard output; resolves with it. */
export function startService(
  name: string,
  args: string[],
  o: { env?: NodeJS.ProcessEnv; quiet?: boolean; timeoutMs?: number } = {},
): Promise<{ url: string; child: ChildProcess }> {
  if (shuttingDown) return Promise.reject(new Error(`not starting ${name}: stopping`));
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', o.quiet ? 'ignore' : 'inherit'],
    env: { ...process.env, ...o.env },
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${name} did not start within ${(o.timeoutMs ?? 120_000) / 1000} s`)),
      o.timeoutMs ?? 120_000,
    );
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      if (!/^https?:\/\//.test(line.trim())) return;
      clearTimeout(timer);
      lines.removeAllListeners('line');
      resolve({ url: line.trim().replace(/\/+$/, ''), child });
    });
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code ?? signal}`));
    });
  });
}

async function kakunin(args: string[]): Promise<void> {
  if (shuttingDown) throw new Error('stopping');
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
  children.push(child);
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  if (code !== 0) throw new Error(`kakunin ${args.join(' ')} exited with ${code}`);
}

/** A free TCP port on 127.0.0.1 (to give each server its own port and all of them one public URL). */
const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

async function freshDatabase(given?: string): Promise<string> {
  if (given) return given;
  const name = `kakunin_load_${Date.now()}_${process.pid}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  onShutdown(async () => {
    const c = new pg.Client({ connectionString: ADMIN_URL });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await c.end();
  });
  return `postgres://postgres@127.0.0.1:5432/${name}`;
}

export interface Platform {
  /** Each server's own base URL, to spread requests over. */
  urls: string[];
  /** The one URL every server announces (issuer, holder links): the first server's. */
  publicUrl: string;
  databaseUrl: string;
  dataDir: string;
  simDir: string;
  /** The environment the servers run with (for reading their configuration back). */
  env: NodeJS.ProcessEnv;
}

export async function startPlatform(o: {
  servers: number;
  simInProcess: boolean;
  databaseUrl?: string;
  profileDir?: string;
}): Promise<Platform> {
  const dataDir = mkdtempSync(join(tmpdir(), 'kakunin-load-'));
  onShutdown(() => rmSync(dataDir, { recursive: true, force: true }));
  const databaseUrl = await freshDatabase(o.databaseUrl);
  const simDir = join(dataDir, 'sim');
  const env: NodeJS.ProcessEnv = { KAKUNIN_MONITOR_INTERVAL_SECONDS: '0' };
  const prof = o.profileDir ? ['--cpu-prof', '--cpu-prof-dir', o.profileDir] : [];
  if (!o.simInProcess) {
    log('creating the simulated J-LIS and starting `kakunin sim serve` in its own process…');
    await kakunin(['sim', 'init', '--dir', simDir]);
    // Its per-request log lines would only slow it down.
    env.KAKUNIN_SIM_SERVICES_URL = (
      await startService('kakunin sim serve', [...prof, BIN, 'sim', 'serve', '--dir', simDir, '--port', '0'], {
        quiet: true,
      })
    ).url;
  }
  log(`starting ${o.servers} kakunin serve process(es) on PostgreSQL (${databaseUrl})…`);
  const ports: number[] = [];
  for (let i = 0; i < o.servers; i++) ports.push(await freePort());
  const publicUrl = `http://127.0.0.1:${ports[0]}`;
  const urls: string[] = [];
  // One after the other: the first applies the migrations and creates the secrets.
  for (const port of ports) {
    await startService(
      'kakunin serve',
      [
        ...prof,
        BIN,
        'serve',
        '--sandbox',
        '--port',
        String(port),
        '--public-url',
        publicUrl,
        '--data-dir',
        dataDir,
        '--database-url',
        databaseUrl,
        '--log-level',
        'warn',
      ],
      { env },
    );
    urls.push(`http://127.0.0.1:${port}`);
  }
  return { urls, publicUrl, databaseUrl, dataDir, simDir, env };
}
