// A private pcscd with one vsmartcard vpcd reader, for tests and demos: `pcscd -f` with its own
// reader configuration directory (the vpcd driver listens on a free port chosen here instead of the
// Debian default 35963) and, where the system allows it (root + unshare), its own socket directory
// bind-mounted over /run/pcscd inside a private mount namespace, so it never meets the machine's pcscd.
// Clients find it through PCSCLITE_CSOCK_NAME (libpcsclite reads it once per process).

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PcscdOptions {
  /** Reader friendly name (pcscd appends ` 00 00` for the first slot). Default `Kakunin Virtual PCD`. */
  friendlyName?: string;
  /** vpcd port (the second slot gets port + 1). Default: a free pair chosen here. */
  port?: number;
  /** Milliseconds to wait for "daemon ready". Default 10000. */
  startTimeoutMs?: number;
  /** Log APDUs (`pcscd -a`) into `log`. */
  logApdus?: boolean;
}

export interface PcscdInstance {
  /** Name of the first vpcd slot as PC/SC lists it. */
  readonly readerName: string;
  /** vpcd port of that slot: connect the virtual card here (`connectVpcd(card, { port })`). */
  readonly port: number;
  /** Client socket path; set PCSCLITE_CSOCK_NAME to it before the first PC/SC call of a process. */
  readonly socketPath: string;
  /** `{ PCSCLITE_CSOCK_NAME }` for child processes. */
  readonly env: Readonly<Record<string, string>>;
  /** Whether the daemon runs in its own mount namespace (otherwise it owns the system /run/pcscd). */
  readonly isolated: boolean;
  readonly pid: number;
  /** What pcscd printed so far. */
  log(): string;
  /** SIGTERM, wait for exit (SIGKILL after 5 s), remove the temporary directory. */
  stop(): Promise<void>;
}

const INSTALL_HINT = 'install them with: apt-get install -y pcscd libpcsclite-dev vsmartcard-vpcd';

function which(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin', '/usr/bin'])) {
    if (dir && existsSync(join(dir, cmd))) return join(dir, cmd);
  }
  return undefined;
}

/** The vpcd IFD handler: LIBPATH from Debian's /etc/reader.conf.d/vpcd, else the usual locations. */
export function findVpcdDriver(): string | undefined {
  const candidates: string[] = [];
  try {
    for (const f of readdirSync('/etc/reader.conf.d')) {
      const m = /^\s*LIBPATH\s+(\S*vpcd\S*)/m.exec(readFileSync(join('/etc/reader.conf.d', f), 'utf8'));
      if (m?.[1]) candidates.push(m[1]);
    }
  } catch {
    // no system reader.conf.d
  }
  candidates.push('/usr/lib/pcsc/drivers/serial/libifdvpcd.so', '/usr/local/lib/pcsc/drivers/serial/libifdvpcd.so');
  return candidates.find((p) => existsSync(p));
}

/** Missing pieces, as a message; undefined when pcscd and the vpcd driver are installed. */
export function pcscdMissing(): string | undefined {
  const missing = [!which('pcscd') && 'pcscd', !findVpcdDriver() && 'vsmartcard-vpcd (libifdvpcd.so)'].filter(Boolean);
  return missing.length ? `${missing.join(' and ')} not installed; ${INSTALL_HINT}` : undefined;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen({ port, host: '0.0.0.0', exclusive: true }, () => s.close(() => resolve(true)));
  });
}

async function freePortPair(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = 20000 + Math.floor(Math.random() * 40000);
    if ((await portFree(port)) && (await portFree(port + 1))) return port;
  }
  throw new Error('no free TCP port pair for vpcd');
}

function canUnshare(): boolean {
  if (process.getuid?.() !== 0 || !which('unshare')) return false;
  const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'true'], { stdio: 'ignore' });
  return r.status === 0;
}

/** Starts pcscd in the foreground with a vpcd reader on a private port. Throws when pcscd/vpcd are missing. */
export async function startPcscd(o: PcscdOptions = {}): Promise<PcscdInstance> {
  const missing = pcscdMissing();
  if (missing) throw new Error(`cannot start pcscd for the PC/SC tests: ${missing}`);
  const driver = findVpcdDriver()!;
  const pcscd = which('pcscd')!;
  const port = o.port ?? (await freePortPair());
  const friendlyName = o.friendlyName ?? 'Kakunin Virtual PCD';
  const dir = mkdtempSync(join(tmpdir(), 'kakunin-pcscd-'));
  const confDir = join(dir, 'reader.conf.d');
  const runDir = join(dir, 'run');
  mkdirSync(confDir);
  mkdirSync(runDir);
  writeFileSync(
    join(confDir, 'vpcd'),
    `FRIENDLYNAME "${friendlyName}"\nDEVICENAME   /dev/null:0x${port.toString(16).toUpperCase()}\nLIBPATH      ${driver}\nCHANNELID    0x${port.toString(16).toUpperCase()}\n`,
  );
  const isolated = canUnshare();
  const flags = [
    '-f',
    '-i',
    ...(o.logApdus ? ['-a'] : []),
    ...(process.env.KAKUNIN_PCSCD_DEBUG ? ['-d'] : []),
    '-c',
    confDir,
  ];
  let child: ChildProcess;
  let socketPath: string;
  if (isolated) {
    socketPath = join(runDir, 'pcscd.comm');
    const script = 'mkdir -p /run/pcscd && mount --bind "$1" /run/pcscd && shift && exec "$@"';
    child = spawn(
      'unshare',
      ['--mount', '--propagation', 'private', '--', 'sh', '-c', script, 'sh', runDir, pcscd, ...flags],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
  } else {
    socketPath = '/run/pcscd/pcscd.comm';
    if (existsSync(socketPath)) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(
        `another pcscd owns ${socketPath} and this user cannot run pcscd in a private mount namespace (needs root and unshare)`,
      );
    }
    child = spawn(pcscd, flags, { stdio: ['ignore', 'pipe', 'pipe'] });
  }
  let log = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let running = true;
  void exited.then(() => (running = false));
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer): void => {
      log += d.toString();
      if (log.includes('daemon ready')) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then(() => reject(new Error(`pcscd exited before it was ready:\n${log}`)));
    const t = setTimeout(
      () => reject(new Error(`pcscd was not ready within ${o.startTimeoutMs ?? 10_000} ms:\n${log}`)),
      o.startTimeoutMs ?? 10_000,
    );
    t.unref();
  });
  const stop = async (): Promise<void> => {
    if (running) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await ready;
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    readerName: `${friendlyName} 00 00`,
    port,
    socketPath,
    env: { PCSCLITE_CSOCK_NAME: socketPath },
    isolated,
    pid: child.pid!,
    log: () => log,
    stop,
  };
}
