// Verifiers of secrets the platform only ever has to recognise (RP client secrets, the admin token):
// scrypt with a random salt, so the database holds nothing a client could present. Successful checks
// are remembered for this process (keyed by a hash under a per-process key), so a busy RP pays the
// slow hash once, not on every token request; failures always pay it (and are rate limited).

import { createHmac, randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const PREFIX = 'scrypt$';
// N = 2^14, r = 8: 16 MiB and some tens of milliseconds per check (OWASP's minimum for scrypt).
const PARAMS = { N: 16384, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;

const scrypt = (secret: string, salt: Buffer, o: ScryptOptions): Promise<Buffer> =>
  new Promise((resolve, reject) =>
    scryptCb(secret, salt, KEY_LENGTH, { ...o, maxmem: 64 * 1024 * 1024 }, (e, key) => (e ? reject(e) : resolve(key))),
  );

export const isVerifier = (value: string): boolean => value.startsWith(PREFIX);

/** `scrypt$N$r$p$<salt>$<hash>` (base64url). */
export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scrypt(secret, salt, PARAMS);
  return [
    PREFIX.slice(0, -1),
    PARAMS.N,
    PARAMS.r,
    PARAMS.p,
    salt.toString('base64url'),
    hash.toString('base64url'),
  ].join('$');
}

const cacheKey = randomBytes(32);
const remembered = new Map<string, true>();
const REMEMBER = 1000;

export async function verifySecret(secret: string, verifier: string): Promise<boolean> {
  const m = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/.exec(verifier);
  if (!m) return false;
  const key = createHmac('sha256', cacheKey).update(verifier).update('\0').update(secret).digest('base64url');
  if (remembered.has(key)) return true;
  const want = Buffer.from(m[5]!, 'base64url');
  const got = await scrypt(secret, Buffer.from(m[4]!, 'base64url'), {
    N: Number(m[1]),
    r: Number(m[2]),
    p: Number(m[3]),
  });
  if (got.length !== want.length || !timingSafeEqual(got, want)) return false;
  if (remembered.size >= REMEMBER) remembered.delete(remembered.keys().next().value!);
  remembered.set(key, true);
  return true;
}
