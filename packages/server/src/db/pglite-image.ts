// A new embedded database normally starts with PGlite's initdb, which costs seconds of CPU. The test
// suite makes hundreds of throwaway databases, so it may name an image of a freshly migrated one
// (`KAKUNIN_PGLITE_IMAGE`) that new databases start from instead. Migrations still run after it, so
// an image from an older schema is brought up to date.
//
// The image is a directory (made by the suite's set-up, `writePgliteImage`) holding the data
// directory itself and the same as a PGlite `dumpDataDir` tarball. A new database on disk is a copy
// of the directory: PGlite would otherwise unpack the tarball through its WebAssembly file system,
// one JavaScript call per file (about a thousand), at several times the cost. A new database in
// memory loads the tarball, read once per process.

import { cpSync, existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';

export const PGLITE_IMAGE_ENV = 'KAKUNIN_PGLITE_IMAGE';

const DATA = 'data';
const TARBALL = 'data.tar';

/** A Blob whose bytes are read once: PGlite reads an image's bytes anew for every database it makes. */
class ReadOnceBlob extends Blob {
  readonly #contents: ArrayBuffer;
  constructor(contents: ArrayBuffer) {
    super([contents]);
    this.#contents = contents;
  }
  override arrayBuffer(): Promise<ArrayBuffer> {
    return Promise.resolve(this.#contents);
  }
}

let cached: { dir: string; tarball: Blob } | undefined;

/**
 * Starts `dataDir` from the image when one is set and the database does not exist yet: an on-disk
 * directory is filled with the image's copy (nothing to return), an in-memory database gets the
 * tarball to load.
 */
export function pgliteImageFor(dataDir: string): Blob | undefined {
  const dir = process.env[PGLITE_IMAGE_ENV];
  if (!dir) return undefined;
  if (!dataDir.startsWith('memory://')) {
    if (existsSync(dataDir) && readdirSync(dataDir).length > 0) return undefined;
    cpSync(join(dir, DATA), dataDir, { recursive: true });
    return undefined;
  }
  if (cached?.dir !== dir) {
    const bytes = readFileSync(join(dir, TARBALL));
    const tarball = new ReadOnceBlob(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
    cached = { dir, tarball };
  }
  return cached.tarball;
}

/**
 * Writes the image of `dataDir`, a closed PGlite data directory, to `dir` (replacing what is there):
 * the directory's copy and its `dumpDataDir` tarball.
 */
export async function writePgliteImage(dataDir: string, dir: string): Promise<void> {
  const pglite = await PGlite.create(dataDir);
  const tarball = await pglite.dumpDataDir('none');
  await pglite.close();
  const partial = `${dir}.partial`;
  rmSync(partial, { recursive: true, force: true });
  cpSync(dataDir, join(partial, DATA), { recursive: true });
  writeFileSync(join(partial, TARBALL), Buffer.from(await tarball.arrayBuffer()));
  rmSync(dir, { recursive: true, force: true });
  renameSync(partial, dir);
}
