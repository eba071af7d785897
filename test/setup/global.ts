// Once per test run, before any test file: what every file would otherwise make for itself, at a
// cost of seconds of CPU each time. Test files inherit the environment set here.
//  - a pool of RSA keys for the simulator (`KAKUNIN_SIM_KEY_POOL`; kept in test-artifacts/ between
//    runs on this machine: they are only ever simulator keys);
//  - a migrated PGlite image and a migrated PostgreSQL template that new test databases copy instead
//    of running initdb and the migrations (made afresh each run: the migrations may have changed).
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { KEY_POOL_ENV, writeRsaKeyPool } from '@kakunin/sim';
import { prepareDatabaseTemplates } from '@kakunin/server/testing';

const ARTIFACTS = resolve('test-artifacts');
/** More than one test file's simulator uses; a file that needs more generates the rest. */
const POOL_SIZE = 256;

function poolSize(file: string): number {
  return existsSync(file) ? readFileSync(file, 'utf8').split('-----BEGIN PRIVATE KEY-----').length - 1 : 0;
}

export default async function setup(): Promise<() => Promise<void>> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const started = Date.now();
  const pool = resolve(ARTIFACTS, 'sim-key-pool.pem');
  const [templates] = await Promise.all([
    prepareDatabaseTemplates(resolve(ARTIFACTS, 'pglite-image')),
    poolSize(pool) >= POOL_SIZE ? Promise.resolve(pool) : writeRsaKeyPool(pool, POOL_SIZE),
  ]);
  Object.assign(process.env, templates.env, { [KEY_POOL_ENV]: pool });
  process.stdout.write(`test set-up: key pool and database templates ready in ${Date.now() - started} ms\n`);
  return () => templates.drop();
}
