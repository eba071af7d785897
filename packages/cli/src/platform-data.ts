// Reaching the platform's data from a CLI command: PostgreSQL directly, the embedded database of
// --data-dir directly when no server holds it, or else through that server's admin API.

import { resolve } from 'node:path';
import {
  ConfigError,
  DEFAULT_DATA_DIR,
  DatabaseBusy,
  isServerError,
  loadMasterKey,
  openPlatformDatabase,
  runningServer,
  type Database,
  type MasterKey,
  type RunningServer,
} from '@kakunin/server/data';
import type { DataOptions } from './data-options.js';
import { CliError, EXIT } from './output.js';

export { DATA_DIR_OPTION, DATABASE_URL_OPTION, type DataOptions } from './data-options.js';

/** Runs `direct` on the database, or `viaApi` when a running server holds the embedded one. */
export async function withPlatformData<T>(
  o: DataOptions,
  direct: (db: Database) => Promise<T>,
  viaApi: (server: RunningServer) => Promise<T>,
): Promise<T> {
  const databaseUrl = o.databaseUrl ?? process.env.DATABASE_URL;
  let db: Database;
  try {
    db = await openPlatformDatabase({
      dataDir: o.dataDir ?? DEFAULT_DATA_DIR,
      ...(databaseUrl ? { databaseUrl } : {}),
    });
  } catch (e) {
    if (e instanceof DatabaseBusy) return viaApi(await waitForServer(o.dataDir ?? DEFAULT_DATA_DIR, e));
    throw new CliError(`cannot open the database: ${(e as Error).message}`, EXIT.failed);
  }
  try {
    return await direct(db);
  } catch (e) {
    if (isServerError(e)) throw new CliError(`${e.message} (${e.code})`, EXIT.failed);
    throw e;
  } finally {
    await db.close();
  }
}

/**
 * The master key for commands that touch sealed secrets directly: KAKUNIN_MASTER_KEY,
 * KAKUNIN_MASTER_KEY_FILE or DATA_DIR/master-key (never created here; the server makes it).
 */
export function masterKeyOf(o: DataOptions): MasterKey {
  const env = process.env;
  try {
    return loadMasterKey({
      mode: 'sandbox',
      dataDir: resolve(o.dataDir ?? DEFAULT_DATA_DIR),
      ...(env.KAKUNIN_MASTER_KEY ? { masterKey: env.KAKUNIN_MASTER_KEY } : {}),
      ...(env.KAKUNIN_MASTER_KEY_FILE ? { masterKeyFile: resolve(env.KAKUNIN_MASTER_KEY_FILE) } : {}),
    });
  } catch (e) {
    if (e instanceof ConfigError) throw new CliError(e.message, EXIT.failed);
    throw e;
  }
}

/** A server that is still starting holds the database before it listens: wait for it (up to a minute). */
async function waitForServer(dataDir: string, busy: DatabaseBusy): Promise<RunningServer> {
  if (busy.server) return busy.server;
  process.stderr.write(
    `kakunin: the database in ${dataDir} is held by process ${busy.pid}; waiting for its server to listen…\n`,
  );
  for (let i = 0; i < 120; i++) {
    await new Promise((r) => setTimeout(r, 500));
    const server = runningServer(dataDir);
    if (server) return server;
  }
  throw new CliError(
    `the database in ${dataDir} is held by process ${busy.pid}, which does not answer as a server: stop it and try again`,
    EXIT.failed,
  );
}

/** fetch to the server that holds the database, with its failure as a clear one-line error. */
export async function serverFetch(server: RunningServer, path: string, init: RequestInit = {}): Promise<Response> {
  try {
    return await fetch(`${server.url}/admin/v1${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${server.adminToken}`,
        ...(init.headers as Record<string, string> | undefined),
      },
    });
  } catch (e) {
    const cause = (e as { cause?: Error }).cause?.message ?? (e as Error).message;
    throw new CliError(
      `the embedded database is held by the Kakunin server at ${server.url} (pid ${server.pid}), which does not answer (${cause}): stop that server or wait for it`,
      EXIT.failed,
    );
  }
}

export async function adminApi<T>(server: RunningServer, method: string, path: string, body?: unknown): Promise<T> {
  const res = await serverFetch(server, path, {
    method,
    ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
  });
  const json = (await res.json()) as T & { error?: { code: string; message: string } };
  if (!res.ok)
    throw new CliError(
      `${json.error?.message ?? `HTTP ${res.status}`} (${json.error?.code ?? res.status})`,
      EXIT.failed,
    );
  return json;
}
