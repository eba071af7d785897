// Every RSA key of the simulator comes from here: roots, OCSP responders, cards, CVC authorities.
//
// Generating an RSA-2048 key costs ~50 ms of CPU, and a sandbox needs dozens. A test run builds a
// sandbox in nearly every test file, so it may hand the simulator a pool of keys generated once
// (`KAKUNIN_SIM_KEY_POOL`, a file of PKCS#8 PEM keys). A process takes each pooled key at most once and
// generates fresh keys when the pool runs out, so no two keys of one process are ever the same. The
// process that reads the pool takes the variable out of its environment, so the processes it starts
// (a `kakunin sim init` next to the test's own sandbox) generate keys of their own, never the same.

import { createPrivateKey, createPublicKey, generateKeyPair, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import { promisify } from 'node:util';

export interface RsaKeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** Environment variable naming a key-pool file (see `writeRsaKeyPool`). Unset: every key is fresh. */
export const KEY_POOL_ENV = 'KAKUNIN_SIM_KEY_POOL';

const RSA = { modulusLength: 2048, publicExponent: 65537 } as const;
const generateAsync = promisify(generateKeyPair);

// Taken out of the environment as soon as the simulator is loaded, before the process starts others.
const poolFile = process.env[KEY_POOL_ENV];
delete process.env[KEY_POOL_ENV];
let pool: string[] | undefined;
let next = 0;

function pooledKey(): RsaKeyPair | undefined {
  if (!poolFile) return undefined;
  if (!pool) {
    pool = readFileSync(poolFile, 'utf8')
      .split(/(?=-----BEGIN PRIVATE KEY-----)/)
      .filter((pem) => pem.includes('PRIVATE KEY'));
  }
  const pem = pool[next];
  if (pem === undefined) return undefined;
  next++;
  const privateKey = createPrivateKey(pem);
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

/**
 * Takes keys from the start of the pool again. For a test runner whose worker processes run test
 * file after test file: called between files, it makes the keys unique per file rather than per
 * process (files share nothing where two sandboxes' keys could meet), so that a pool of a few hundred
 * keys serves every file instead of running out after the first few.
 */
export function rewindKeyPool(): void {
  next = 0;
}

/** A fresh RSA-2048 (e = 65537) key pair, generated on the libuv thread pool (or taken from the pool). */
export async function generateRsaKeyPair(): Promise<RsaKeyPair> {
  return pooledKey() ?? generateAsync('rsa', RSA);
}

/** The same, synchronously (for the few places that cannot wait). */
export function generateRsaKeyPairSync(): RsaKeyPair {
  return pooledKey() ?? generateKeyPairSync('rsa', RSA);
}

/**
 * Writes a pool of `count` fresh RSA-2048 keys to `file` (atomically), generated `parallel` at a time,
 * calling `progress` after each. Returns the file.
 */
export async function writeRsaKeyPool(
  file: string,
  count: number,
  progress?: (done: number) => void,
  parallel = 8,
): Promise<string> {
  const pems: string[] = [];
  while (pems.length < count) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(parallel, count - pems.length) }, () => generateAsync('rsa', RSA)),
    );
    for (const k of batch) pems.push(k.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
    progress?.(pems.length);
  }
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, pems.join(''), { mode: 0o600 });
  renameSync(tmp, file);
  return file;
}
