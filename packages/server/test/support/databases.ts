// Both database engines for tests: a fresh PGlite in memory and a fresh PostgreSQL database on
// 127.0.0.1:5432 (dropped afterwards). Every storage test runs on both.

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openDatabase, PGLITE_SHARED_BUFFERS_ENV, type Database } from '../../src/db/database.js';
import { PGLITE_IMAGE_ENV, writePgliteImage } from '../../src/db/pglite-image.js';

/** The shared buffers of the test run's embedded databases. */
export const TEST_SHARED_BUFFERS = '8MB';

export const POSTGRES_ADMIN_URL = process.env.KAKUNIN_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export const ENGINES = ['pglite', 'postgres'] as const;
export type Engine = (typeof ENGINES)[number];

/**
 * The test run's migrated PostgreSQL database (made by test/setup/global.ts), copied by `CREATE
 * DATABASE … TEMPLATE` when a test asks for a migrated database: a copy costs less than migrating.
 */
export const POSTGRES_TEMPLATE_ENV = 'KAKUNIN_TEST_POSTGRES_TEMPLATE';

/**
 * Creates a PostgreSQL database and returns its URL and a drop function: empty, or with `migrated`
 * a copy of the run's migrated template when there is one (else empty, for the caller to migrate).
 */
export async function createPostgresDatabase(
  prefix = 'kakunin_test',
  o: { migrated?: boolean } = {},
): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const template = o.migrated ? process.env[POSTGRES_TEMPLATE_ENV] : undefined;
  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}${template ? ` TEMPLATE ${template}` : ''}`);
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
  const created = await createPostgresDatabase('kakunin_test', { migrated: true });
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

/**
 * Makes the test run's database templates: a migrated PGlite image written to the directory `imageDir` and a
 * migrated PostgreSQL database. Returns the environment that makes new test databases start from
 * them, and a function that drops the PostgreSQL template.
 */
export async function prepareDatabaseTemplates(
  imageDir: string,
): Promise<{ env: Record<string, string>; drop: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'kakunin-image-'));
  try {
    await (await openDatabase({ dataDir: join(dir, 'db') })).close();
    await writePgliteImage(join(dir, 'db'), imageDir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const template = await createPostgresDatabase('kakunin_template');
  await (await openDatabase({ databaseUrl: template.url })).close();
  const name = new URL(template.url).pathname.slice(1);
  return {
    env: {
      [PGLITE_IMAGE_ENV]: imageDir,
      [POSTGRES_TEMPLATE_ENV]: name,
      // A test database holds a few dozen rows: PostgreSQL's 128MB of shared buffers, zeroed at every
      // open, cost more CPU than anything a test then does with the database (see OpenDatabaseOptions).
      [PGLITE_SHARED_BUFFERS_ENV]: TEST_SHARED_BUFFERS,
    },
    drop: template.drop,
  };
}
