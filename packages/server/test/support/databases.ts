// Both database engines for tests: a fresh PGlite in memory and a fresh PostgreSQL database on
// 127.0.0.1:5432 (dropped afterwards). Every storage test runs on both.

import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDatabase, type Database } from '../../src/db/database.js';

export const POSTGRES_ADMIN_URL = process.env.KAKUNIN_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export const ENGINES = ['pglite', 'postgres'] as const;
export type Engine = (typeof ENGINES)[number];

/** Creates an empty PostgreSQL database and returns its URL and a drop function. */
export async function createPostgresDatabase(
  prefix = 'kakunin_test',
): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

export interface TestDatabase {
  db: Database;
  /** Set for PostgreSQL: the URL other processes can connect to. */
  url?: string;
  close(): Promise<void>;
}

/** Opens a fresh, migrated database of the given engine. Always `close()` it (PGlite keeps the process alive). */
export async function openTestDatabase(engine: Engine): Promise<TestDatabase> {
  if (engine === 'pglite') {
    const db = await openDatabase({ dataDir: 'memory://' });
    return { db, close: () => db.close() };
  }
  const created = await createPostgresDatabase();
  const db = await openDatabase({ databaseUrl: created.url });
  return {
    db,
    url: created.url,
    close: async () => {
      await db.close();
      await created.drop();
    },
  };
}
