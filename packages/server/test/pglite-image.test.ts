// A new embedded database may start from an image of a migrated one (the test run's), never an
// existing database and never one that must stay unmigrated.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, PGLITE_SHARED_BUFFERS_ENV } from '../src/db/database.js';
import { PGLITE_IMAGE_ENV } from '../src/db/pglite-image.js';
import { prepareDatabaseTemplates } from './support/databases.js';

describe('PGlite image', () => {
  let dir: string;
  let drop: () => Promise<void>;
  const saved = process.env[PGLITE_IMAGE_ENV];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kakunin-image-test-'));
    // The run's image (test/setup/global.ts) when there is one; else one made here.
    if (saved) drop = async () => undefined;
    else {
      const made = await prepareDatabaseTemplates(join(dir, 'image'));
      drop = made.drop;
      process.env[PGLITE_IMAGE_ENV] = made.env[PGLITE_IMAGE_ENV];
    }
  });
  afterAll(async () => {
    await drop();
    rmSync(dir, { recursive: true, force: true });
    if (saved === undefined) delete process.env[PGLITE_IMAGE_ENV];
    else process.env[PGLITE_IMAGE_ENV] = saved;
  });

  const tables = async (db: Awaited<ReturnType<typeof openDatabase>>): Promise<number> =>
    Number(
      (
        await db.query<{ n: string }>(
          "SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'public'",
        )
      )[0]!.n,
    );

  it('a new database (in memory or an empty directory) starts from the image, migrated', async () => {
    for (const dataDir of ['memory://', join(dir, 'new')]) {
      const db = await openDatabase({ dataDir });
      expect(await tables(db)).toBeGreaterThan(10);
      await db.exec('CREATE TABLE mine (x int)');
      await db.close();
    }
    // An existing database is opened as it is: the table made above is still there.
    const again = await openDatabase({ dataDir: join(dir, 'new') });
    expect((await again.query("SELECT to_regclass('public.mine') AS t"))[0]).toEqual({ t: 'mine' });
    await again.close();
  });

  it('a database that must stay unmigrated never starts from the image', async () => {
    const db = await openDatabase({ dataDir: 'memory://', migrate: false });
    expect(await tables(db)).toBe(0);
    await db.close();
  });
});

describe('PGlite shared buffers', () => {
  const setting = async (db: Awaited<ReturnType<typeof openDatabase>>): Promise<string> =>
    (await db.query<{ s: string }>("SELECT current_setting('shared_buffers') AS s"))[0]!.s;

  it('the option, else KAKUNIN_PGLITE_SHARED_BUFFERS, else PostgreSQL’s 128MB', async () => {
    const saved = process.env[PGLITE_SHARED_BUFFERS_ENV];
    try {
      const given = await openDatabase({ dataDir: 'memory://', sharedBuffers: '4MB' });
      expect(await setting(given)).toBe('4MB');
      await given.close();
      process.env[PGLITE_SHARED_BUFFERS_ENV] = '2MB';
      const fromEnv = await openDatabase({ dataDir: 'memory://' });
      expect(await setting(fromEnv)).toBe('2MB');
      await fromEnv.close();
      delete process.env[PGLITE_SHARED_BUFFERS_ENV];
      const unset = await openDatabase({ dataDir: 'memory://' });
      expect(await setting(unset)).toBe('128MB');
      await unset.close();
    } finally {
      if (saved === undefined) delete process.env[PGLITE_SHARED_BUFFERS_ENV];
      else process.env[PGLITE_SHARED_BUFFERS_ENV] = saved;
    }
  });

  it('a value that is not a size is a ConfigError naming the variable, before the engine starts', async () => {
    for (const bad of ['8', '8 MB', '-1MB', '8MB; DROP', '0MB'])
      await expect(openDatabase({ dataDir: 'memory://', sharedBuffers: bad })).rejects.toMatchObject({
        name: 'ConfigError',
        message: expect.stringMatching(/KAKUNIN_PGLITE_SHARED_BUFFERS\) is not a size such as 8MB/),
      });
  });
});
