// Opening the platform database the way `kakunin serve` does, for the server and for CLI commands.
// A PGlite data directory can be open in one process only: while a server holds it, CLI commands go
// through that server's admin API instead (see runningServer).

import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

export class DatabaseBusy extends Error {
  readonly code = 'DATABASE_BUSY';
  constructor(readonly server: RunningServer) {
    super(`the embedded database is in use by the server at ${server.url} (pid ${server.pid})`);
    this.name = 'DatabaseBusy';
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

/** The server that holds this data directory's PGlite database, if one is running. */
export function runningServer(dataDir: string): RunningServer | undefined {
  const file = join(dataDir, SERVER_FILE);
  if (!existsSync(file)) return undefined;
  try {
    const s = JSON.parse(readFileSync(file, 'utf8')) as RunningServer;
    return s.pid !== process.pid && alive(s.pid) ? s : undefined;
  } catch {
    return undefined;
  }
}

export function announceServer(dataDir: string, server: Omit<RunningServer, 'pid'>): () => void {
  const file = join(dataDir, SERVER_FILE);
  writeFileSync(file, JSON.stringify({ pid: process.pid, ...server }), { mode: 0o600 });
  return () => rmSync(file, { force: true });
}

/**
 * PostgreSQL when a URL is given; otherwise the PGlite database under `DATA_DIR/db`, unless a live
 * server holds it (then `DatabaseBusy`, which carries that server's URL and admin token).
 */
export async function openPlatformDatabase(location: DatabaseLocation): Promise<Database> {
  if (location.databaseUrl) return openDatabase({ databaseUrl: location.databaseUrl });
  const server = runningServer(location.dataDir);
  if (server) throw new DatabaseBusy(server);
  return openDatabase({ dataDir: pgliteDir(location) });
}
