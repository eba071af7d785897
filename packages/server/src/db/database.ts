// One small SQL interface over the two engines Kakunin runs on: PGlite (embedded, the default) and
// PostgreSQL (`DATABASE_URL`). Repositories write plain parameterised SQL that both accept.

import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { ConfigError } from '../config.js';
import { migrate } from './migrations.js';
import { pgliteImageFor } from './pglite-image.js';
import type { Database, NotificationListener, Queryable, SqlValue } from './sql.js';

export type { Database, NotificationListener, Queryable, SqlValue } from './sql.js';

export interface OpenDatabaseOptions {
  /** PostgreSQL connection string; when absent, PGlite stores its data in `dataDir`. */
  databaseUrl?: string;
  /** PGlite data directory; `memory://` for a throwaway database. */
  dataDir?: string;
  /** Maximum pooled connections for PostgreSQL (default 10). */
  poolSize?: number;
  /** Apply migrations (default true). */
  migrate?: boolean;
  /**
   * PGlite only: PostgreSQL's `shared_buffers` (`8MB`, `128MB`, …); default `KAKUNIN_PGLITE_SHARED_BUFFERS`,
   * else PostgreSQL's 128MB. The engine zeroes this memory every time it opens: a short-lived process
   * or a small database opens several times faster with a few megabytes.
   */
  sharedBuffers?: string;
}

export const PGLITE_SHARED_BUFFERS_ENV = 'KAKUNIN_PGLITE_SHARED_BUFFERS';

/** PGlite's start parameters, with `shared_buffers` when one is asked for. */
function pgliteStartParams(sharedBuffers: string | undefined): string[] | undefined {
  if (sharedBuffers === undefined || sharedBuffers === '') return undefined;
  if (!/^[1-9]\d*(kB|MB|GB)$/.test(sharedBuffers))
    throw new ConfigError(
      `shared buffers "${sharedBuffers}" (${PGLITE_SHARED_BUFFERS_ENV}) is not a size such as 8MB or 128MB (units kB, MB, GB)`,
    );
  return [...PGlite.defaultStartParams, '-c', `shared_buffers=${sharedBuffers}`];
}

// pg returns JSON/bigint/timestamps as JS values; normalise params the same way for both engines.
function toParam(v: SqlValue): unknown {
  if (v instanceof Uint8Array && !Buffer.isBuffer(v)) return Buffer.from(v);
  if (v !== null && typeof v === 'object' && !(v instanceof Date) && !Buffer.isBuffer(v)) return JSON.stringify(v);
  if (typeof v === 'bigint') return v.toString();
  return v;
}

class PgliteDatabase implements Database {
  readonly engine = 'pglite' as const;
  private readonly db: PGlite;
  constructor(db: PGlite) {
    this.db = db;
  }

  async query<T>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return (await this.db.query<T>(sql, params.map(toParam))).rows;
  }

  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.db.transaction(async (tx) =>
      fn({
        query: async <R>(sql: string, params: readonly SqlValue[] = []) =>
          (await tx.query<R>(sql, params.map(toParam))).rows,
        exec: async (sql: string) => void (await tx.exec(sql)),
      }),
    );
  }

  async exec(sql: string): Promise<void> {
    await this.db.exec(sql);
  }

  // In process: nothing to lose, so never a gap.
  listen(channel: string, listener: NotificationListener): Promise<() => Promise<void>> {
    return this.db.listen(channel, (payload) => listener.message(payload));
  }

  close(): Promise<void> {
    return this.db.close();
  }
}

class PostgresDatabase implements Database {
  readonly engine = 'postgres' as const;
  private readonly notifications: PgNotifications;
  private readonly pool: pg.Pool;
  constructor(pool: pg.Pool, connectionString: string) {
    this.pool = pool;
    this.notifications = new PgNotifications(connectionString);
  }

  async query<T>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return (await this.pool.query(sql, params.map(toParam))).rows as T[];
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    // pg-pool takes its error listener off a checked-out client: without ours, a server that ends the
    // connection mid-transaction (restart, failover) would be an uncaught 'error' and kill the process.
    let lost: Error | undefined;
    const onError = (e: Error): void => {
      lost = e;
    };
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      const result = await fn({
        query: async <R>(sql: string, params: readonly SqlValue[] = []) =>
          (await client.query(sql, params.map(toParam))).rows as R[],
        exec: async (sql: string) => void (await client.query(sql)),
      });
      await client.query('COMMIT');
      return result;
    } catch (e) {
      await client.query('ROLLBACK').catch((rollbackFailed: Error) => (lost ??= rollbackFailed));
      throw e;
    } finally {
      // A broken connection is destroyed, not returned to the pool; it keeps our listener, because its
      // socket may still report the server's FATAL message after the release.
      if (!lost) client.off('error', onError);
      client.release(lost);
    }
  }

  async exec(sql: string): Promise<void> {
    await this.pool.query(sql);
  }

  listen(channel: string, listener: NotificationListener): Promise<() => Promise<void>> {
    return this.notifications.add(channel, listener);
  }

  async close(): Promise<void> {
    await this.notifications.stop();
    await this.pool.end();
  }
}

const LISTEN_RETRY_MIN_MS = 500;
const LISTEN_RETRY_MAX_MS = 15_000;
const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;
const ignore = (): void => undefined;

/**
 * The LISTEN side of PostgreSQL for one database handle: a connection of its own (a pooled one would
 * stop listening when returned), opened with the first listener, closed after the last, reconnected
 * with backoff when lost. Notifications sent while it was down are gone, so listeners get `gap()`.
 */
class PgNotifications {
  private readonly channels = new Map<string, Set<NotificationListener>>();
  private client: pg.Client | undefined;
  private connecting: Promise<void> | undefined;
  private retry: NodeJS.Timeout | undefined;
  private retryMs = LISTEN_RETRY_MIN_MS;
  /** A connection was lost or failed since listeners were last told. */
  private missed = false;
  private readonly connectionString: string;

  constructor(connectionString: string) {
    this.connectionString = connectionString;
  }

  async add(channel: string, listener: NotificationListener): Promise<() => Promise<void>> {
    const existing = this.channels.get(channel);
    this.channels.set(channel, (existing ?? new Set()).add(listener));
    if (!this.client) await (this.connecting ??= this.connect());
    // LISTEN is idempotent: a connection made just now may already have listened.
    const client = this.client;
    if (client && !existing)
      await client.query(`LISTEN ${quoteIdent(channel)}`).catch((e: Error) => this.lost(client, e));
    return async () => {
      const set = this.channels.get(channel);
      if (!set?.delete(listener) || set.size > 0) return;
      this.channels.delete(channel);
      if (this.channels.size === 0) await this.stop();
      else await this.client?.query(`UNLISTEN ${quoteIdent(channel)}`).catch(ignore);
    };
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.connectionString,
      keepAlive: true,
      connectionTimeoutMillis: 10_000,
      application_name: 'kakunin-listen',
    });
    client.on('error', (e) => this.lost(client, e));
    client.on('end', () => this.lost(client, new Error('the listening connection to PostgreSQL ended')));
    client.on('notification', (n) => {
      for (const l of this.channels.get(n.channel) ?? []) l.message(n.payload ?? '');
    });
    try {
      await client.connect();
      for (const channel of this.channels.keys()) await client.query(`LISTEN ${quoteIdent(channel)}`);
    } catch (e) {
      this.connecting = undefined;
      client.removeAllListeners('end');
      void client.end().catch(ignore);
      this.failed(e as Error);
      return;
    }
    this.connecting = undefined;
    if (this.channels.size === 0) {
      // Every listener left while this connected.
      client.removeAllListeners('end');
      await client.end().catch(ignore);
      return;
    }
    this.client = client;
    this.retryMs = LISTEN_RETRY_MIN_MS;
    if (this.missed) {
      this.missed = false;
      for (const set of this.channels.values()) for (const l of set) l.gap();
    }
  }

  private lost(client: pg.Client, e: Error): void {
    if (this.client !== client) return; // still connecting (handled there), or already replaced
    this.client = undefined;
    client.removeAllListeners('end');
    void client.end().catch(ignore);
    this.failed(e);
  }

  private failed(e: Error): void {
    this.missed = true;
    for (const set of this.channels.values()) for (const l of set) l.error(e);
    if (this.channels.size === 0 || this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      if (this.channels.size > 0 && !this.client) void (this.connecting ??= this.connect());
    }, this.retryMs);
    this.retry.unref();
    this.retryMs = Math.min(this.retryMs * 2, LISTEN_RETRY_MAX_MS);
  }

  /** Closes the connection (the next listener opens a new one). */
  async stop(): Promise<void> {
    this.channels.clear();
    clearTimeout(this.retry);
    this.retry = undefined;
    await this.connecting;
    const client = this.client;
    this.client = undefined;
    this.missed = false;
    if (!client) return;
    client.removeAllListeners('end');
    await client.end().catch(ignore);
  }
}

// bigint columns (bigserial sequence numbers) come back as strings from pg by default: keep them
// strings on both engines so record sequence numbers never lose precision.
pg.types.setTypeParser(20, (v) => v);

export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  let db: Database;
  if (options.databaseUrl) {
    const pool = new pg.Pool({ connectionString: options.databaseUrl, max: options.poolSize ?? 10 });
    // A client losing its server (restart, failover) must not crash the process: pg reports the lost
    // connection as an 'error' event, sometimes twice and after the failed query already rejected.
    // Every client keeps a listener for its whole life; the queries themselves still fail, and the
    // pool replaces the broken client.
    pool.on('error', () => undefined);
    pool.on('connect', (client) => client.on('error', () => undefined));
    db = new PostgresDatabase(pool, options.databaseUrl);
  } else {
    const dir = options.dataDir ?? 'memory://';
    // The test suite's image is a migrated database: never for one that must stay unmigrated.
    const image = options.migrate === false ? undefined : pgliteImageFor(dir);
    const startParams = pgliteStartParams(options.sharedBuffers ?? process.env[PGLITE_SHARED_BUFFERS_ENV]);
    if (!dir.startsWith('memory://')) mkdirSync(dir, { recursive: true });
    db = new PgliteDatabase(
      await PGlite.create(dir, {
        parsers: { 20: (v: string) => v },
        ...(image ? { loadDataDir: image } : {}),
        ...(startParams ? { startParams } : {}),
      }),
    );
  }
  if (options.migrate !== false) {
    try {
      await migrate(db);
    } catch (e) {
      await db.close();
      throw e;
    }
  }
  return db;
}
