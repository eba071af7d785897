// A new embedded database normally starts with PGlite's initdb, which costs seconds of CPU. The test
// suite makes hundreds of throwaway databases, so it may name an image of a freshly migrated one
// (`KAKUNIN_PGLITE_IMAGE`, a PGlite `dumpDataDir` tarball) that new databases start from instead.
// Migrations still run after it, so an image from an older schema is brought up to date.

import { existsSync, readdirSync, readFileSync } from 'node:fs';

export const PGLITE_IMAGE_ENV = 'KAKUNIN_PGLITE_IMAGE';

let cached: { file: string; image: Blob } | undefined;

/** The image to start `dataDir` from: only for a database that does not exist yet, and only when set. */
export function pgliteImageFor(dataDir: string): Blob | undefined {
  const file = process.env[PGLITE_IMAGE_ENV];
  if (!file) return undefined;
  const fresh = dataDir.startsWith('memory://') || !existsSync(dataDir) || readdirSync(dataDir).length === 0;
  if (!fresh) return undefined;
  if (cached?.file !== file) cached = { file, image: new Blob([readFileSync(file)]) };
  return cached.image;
}
