// One small SQL interface over the two engines Kakunin runs on: PGlite (embedded, the default) and
// PostgreSQL (`DATABASE_URL`). Repositories write plain parameterised SQL that both accept.

import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { migrate } from './migrations.js';

export type SqlValue = string | number | bigint | boolean | null | Date | Buffer | Uint8Array | unknown[] | Record<string, unknown>;

export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /** Runs a script of several statements (no parameters). */
  exec(sql: string): Promise<void>;
}

export interface Database extends Queryable {
  readonly engine: 'pglite' | 'postgres';
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** PostgreSQL connection string; when absent, PGlite stores its data in `dataDir`. */
  databaseUrl?: string;
  /** PGlite data directory; `memory://` for a throwaway database. */
  dataDir?: string;
  /** Maximum pooled connections for PostgreSQL (default 10). */
  poolSize?: number;
  /** Apply migrations (default true). */
  migrate?: boolean;
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
  constructor(private readonly db: PGlite) {}

  async query<T>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return (await this.db.query<T>(sql, params.map(toParam))).rows;
  }

  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.db.transaction(async (tx) =>
      fn({
        query: async <R>(sql: string, params: readonly SqlValue[] = []) => (await tx.query<R>(sql, params.map(toParam))).rows,
        exec: async (sql: string) => void (await tx.exec(sql)),
      }),
    );
  }

  async exec(sql: string): Promise<void> {
    await this.db.exec(sql);
  }

  close(): Promise<void> {
    return this.db.close();
  }
}

class PostgresDatabase implements Database {
  readonly engine = 'postgres' as const;
  constructor(private readonly pool: pg.Pool) {}

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
        query: async <R>(sql: string, params: readonly SqlValue[] = []) => (await client.query(sql, params.map(toParam))).rows as R[],
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

  close(): Promise<void> {
    return this.pool.end();
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
    db = new PostgresDatabase(pool);
  } else {
    const dir = options.dataDir ?? 'memory://';
    if (!dir.startsWith('memory://')) mkdirSync(dir, { recursive: true });
    db = new PgliteDatabase(await PGlite.create(dir, { parsers: { 20: (v: string) => v } }));
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
