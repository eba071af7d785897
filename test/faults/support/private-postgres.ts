// A private, throwaway PostgreSQL cluster for fault tests that stop and restart the database: its own
// data directory in a temp dir, its own port on 127.0.0.1, its own socket directory. The machine's
// shared PostgreSQL (127.0.0.1:5432, used by other tests at the same time) is never touched.
// Uses Debian's server binaries (/usr/lib/postgresql/<version>/bin, or KAKUNIN_TEST_PG_BIN); initdb
// refuses to run as root, so as root every command runs as the `postgres` user via runuser.

import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface PrivatePostgres {
  /** postgres://postgres@127.0.0.1:PORT/postgres (trust authentication, loopback only). */
  readonly adminUrl: string;
  readonly port: number;
  readonly binDir: string;
  /** URL of a database on this cluster. */
  urlOf(database: string): string;
  createDatabase(name: string): Promise<string>;
  /** `pg_ctl stop -m fast`: open connections are terminated, in-flight transactions roll back. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** `pg_ctl restart -m fast`. */
  restart(): Promise<void>;
  /** The server log so far (for failure messages). */
  log(): string;
  /** Stops the cluster (immediate) and deletes its directory. */
  destroy(): Promise<void>;
}

/** The newest Debian PostgreSQL server binaries, or a clear error when there are none. */
export function findPostgresBin(): string {
  const override = process.env.KAKUNIN_TEST_PG_BIN;
  if (override) {
    if (!existsSync(join(override, 'initdb'))) throw new Error(`KAKUNIN_TEST_PG_BIN=${override} has no initdb`);
    return override;
  }
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin', 'initdb')) && existsSync(join(root, v, 'bin', 'pg_ctl')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) {
    throw new Error(
      'PostgreSQL server binaries not found: the fault tests need initdb and pg_ctl in /usr/lib/postgresql/<version>/bin (Debian/Ubuntu package postgresql, which CI installs) or a directory named by KAKUNIN_TEST_PG_BIN',
    );
  }
  return join(root, versions[0]!, 'bin');
}

/** A port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const binDir = findPostgresBin();
  const asRoot = userInfo().uid === 0;
  const dir = mkdtempSync(join(tmpdir(), 'kakunin-faults-pg-'));
  const data = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  if (asRoot) {
    let owner: { uid: number; gid: number };
    try {
      const { stdout } = await run('id', ['-u', 'postgres']);
      const { stdout: gid } = await run('id', ['-g', 'postgres']);
      owner = { uid: Number(stdout.trim()), gid: Number(gid.trim()) };
    } catch {
      rmSync(dir, { recursive: true, force: true });
      throw new Error('running as root but there is no `postgres` user to run initdb/pg_ctl as (initdb refuses root)');
    }
    chownSync(dir, owner.uid, owner.gid);
  }
  const pg = async (tool: string, args: string[]): Promise<string> => {
    const [file, argv] = asRoot
      ? ['runuser', ['-u', 'postgres', '--', join(binDir, tool), ...args]]
      : [join(binDir, tool), args];
    try {
      const { stdout, stderr } = await run(file, argv, { timeout: 60_000 });
      return stdout + stderr;
    } catch (e) {
      const err = e as Error & { stdout?: string; stderr?: string };
      throw new Error(
        `${tool} ${args.join(' ')} failed: ${err.message}\n${err.stdout ?? ''}${err.stderr ?? ''}\n${readLog()}`,
      );
    }
  };
  const readLog = (): string => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');

  await pg('initdb', ['-D', data, '--auth=trust', '--username=postgres', '--encoding=UTF8', '--locale=C', '--no-sync']);
  const port = await freePort();
  // fsync on: a restart must not be able to lose a committed transaction.
  const options = [
    '-c listen_addresses=127.0.0.1',
    `-c port=${port}`,
    `-c unix_socket_directories=${dir}`,
    '-c fsync=on',
    '-c synchronous_commit=on',
    '-c max_connections=50',
    '-c shared_buffers=32MB',
  ].join(' ');
  const start = async (): Promise<void> =>
    void (await pg('pg_ctl', ['-D', data, '-l', logFile, '-w', '-t', '30', '-o', options, 'start']));
  const stop = async (mode = 'fast'): Promise<void> =>
    void (await pg('pg_ctl', ['-D', data, '-w', '-t', '30', '-m', mode, 'stop']));
  await start();

  const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const urlOf = (database: string): string => `postgres://postgres@127.0.0.1:${port}/${database}`;
  return {
    adminUrl,
    port,
    binDir,
    urlOf,
    createDatabase: async (name) => {
      await pg('psql', [
        '-h',
        '127.0.0.1',
        '-p',
        String(port),
        '-U',
        'postgres',
        '-d',
        'postgres',
        '-v',
        'ON_ERROR_STOP=1',
        '-c',
        `CREATE DATABASE ${name}`,
      ]);
      return urlOf(name);
    },
    stop: () => stop('fast'),
    start,
    restart: async () =>
      void (await pg('pg_ctl', ['-D', data, '-l', logFile, '-w', '-t', '30', '-m', 'fast', '-o', options, 'restart'])),
    log: readLog,
    destroy: async () => {
      await stop('immediate').catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
