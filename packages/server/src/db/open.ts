// Opening the platform database the way `kakunin serve` does, for the server and for CLI commands.
// A PGlite data directory may be open in one process only: the opener holds DATA_DIR/db.lock (its
// pid) for as long as the database is open. While a server holds it, CLI commands go through that
// server's admin API instead (DATA_DIR/server.json says where it listens).

import { existsSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pgliteDir } from '../config.js';
import { openDatabase, type Database } from './database.js';

export interface DatabaseLocation {
  dataDir: string;
  databaseUrl?: string;
}

export interface RunningServer {
  pid: number;
  url: string;
  adminToken: string;
}

const SERVER_FILE = 'server.json';
const LOCK_FILE = 'db.lock';

export class DatabaseBusy extends Error {
  readonly code = 'DATABASE_BUSY';
  /** The server holding the database, once it listens (undefined while it starts or for another CLI command). */
  readonly server: RunningServer | undefined;
  readonly pid: number;
  constructor(pid: number, server: RunningServer | undefined) {
    super(
      server
        ? `the embedded database is in use by the server at ${server.url} (pid ${pid})`
        : `the embedded database is in use by process ${pid}`,
    );
    this.pid = pid;
    this.name = 'DatabaseBusy';
    this.server = server;
  }
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** The server that holds this data directory's PGlite database and listens, if any. */
export function runningServer(dataDir: string): RunningServer | undefined {
  const s = readJson<RunningServer>(join(dataDir, SERVER_FILE));
  return s && s.pid !== process.pid && alive(s.pid) ? s : undefined;
}

/** Called by a listening server that holds the lock; returns the function that withdraws it. */
export function announceServer(dataDir: string, server: Omit<RunningServer, 'pid'>): () => void {
  const file = join(dataDir, SERVER_FILE);
  writeFileSync(file, JSON.stringify({ pid: process.pid, ...server }), { mode: 0o600 });
  return () => rmSync(file, { force: true });
}

/** Takes DATA_DIR/db.lock (atomically: link of a private temp file); a dead holder's lock is taken over. */
function acquireLock(dataDir: string): () => void {
  const lock = join(dataDir, LOCK_FILE);
  const tmp = `${lock}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify({ pid: process.pid }));
  try {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        linkSync(tmp, lock);
        return () => {
          if (readJson<{ pid: number }>(lock)?.pid === process.pid) rmSync(lock, { force: true });
        };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        const holder = readJson<{ pid: number }>(lock);
        if (holder && alive(holder.pid) && holder.pid !== process.pid)
          throw new DatabaseBusy(holder.pid, runningServer(dataDir));
        rmSync(lock, { force: true }); // stale: its process is gone
      }
    }
    throw new Error(`cannot take ${lock}`);
  } finally {
    rmSync(tmp, { force: true });
  }
}

/**
 * PostgreSQL when a URL is given; otherwise the PGlite database under `DATA_DIR/db`, unless another
 * live process holds it (then `DatabaseBusy`, carrying the server's URL and admin token if it is a
 * listening server).
 */
export async function openPlatformDatabase(location: DatabaseLocation): Promise<Database> {
  if (location.databaseUrl) return openDatabase({ databaseUrl: location.databaseUrl });
  if (!existsSync(location.dataDir)) mkdirSync(location.dataDir, { recursive: true });
  const release = acquireLock(location.dataDir);
  let db: Database;
  try {
    db = await openDatabase({ dataDir: pgliteDir(location) });
  } catch (e) {
    release();
    throw e;
  }
  const close = db.close.bind(db);
  return Object.assign(db, {
    close: async () => {
      try {
        await close();
      } finally {
        release();
      }
    },
  });
}
