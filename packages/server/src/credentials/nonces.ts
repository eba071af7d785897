// c_nonces without a row per request: a nonce is its issuing time, random bits and an HMAC under a
// key the platform's processes share (sealed in kv_secrets), so the unauthenticated nonce endpoint
// writes nothing. The database learns a nonce only when a proof spends it (credential_nonces,
// behind a valid access token), which is what makes it single use.

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Queryable } from '../db/sql.js';
import type { MasterKey } from '../master-key.js';
import { sharedSecret } from '../secrets.js';

/** A c_nonce is good for this long, once. */
export const NONCE_SECONDS = 300;
const NONCE_KEY = 'vc.nonce-key';

/** The HMAC key of c_nonces, created by the first process that asks. */
export async function nonceKey(db: Queryable, key: MasterKey): Promise<Buffer> {
  return Buffer.from(await sharedSecret(db, key, NONCE_KEY, () => randomBytes(32).toString('base64url')), 'base64url');
}

const mac = (key: Buffer, body: Buffer): Buffer => createHmac('sha256', key).update(body).digest().subarray(0, 16);

/** A fresh c_nonce issued at `at`: 8 bytes of time (ms), 16 random, 16 of HMAC; base64url. */
export function mintNonce(key: Buffer, at = new Date()): string {
  const body = Buffer.alloc(24);
  body.writeBigUInt64BE(BigInt(at.getTime()));
  randomBytes(16).copy(body, 8);
  return Buffer.concat([body, mac(key, body)]).toString('base64url');
}

/** When a nonce of ours expires, or why it is not one. */
export function readNonce(key: Buffer, nonce: string, now = new Date()): { expiresAt: Date } | 'unknown' | 'expired' {
  const raw = /^[A-Za-z0-9_-]{54}$/.test(nonce) ? Buffer.from(nonce, 'base64url') : undefined;
  if (raw?.length !== 40 || !timingSafeEqual(mac(key, raw.subarray(0, 24)), raw.subarray(24))) return 'unknown';
  const issued = Number(raw.readBigUInt64BE(0));
  const expiresAt = new Date(issued + NONCE_SECONDS * 1000);
  // A nonce from the future (a clock ahead in another process) is as good as a fresh one, within the window.
  if (expiresAt <= now || issued > now.getTime() + NONCE_SECONDS * 1000) return 'expired';
  return { expiresAt };
}

/** Spends a valid nonce: 'ok' the first time, 'used' after (the row outlives the nonce's validity). */
export async function spendNonce(db: Queryable, nonce: string, expiresAt: Date): Promise<'ok' | 'used'> {
  const rows = await db.query(
    'INSERT INTO credential_nonces (nonce, expires_at, used_at) VALUES ($1, $2, now()) ON CONFLICT (nonce) DO NOTHING RETURNING nonce',
    [nonce, expiresAt],
  );
  // Spent nonces are needed only while they could be replayed.
  if (Math.random() < 0.01) await db.query('DELETE FROM credential_nonces WHERE expires_at < now()');
  return rows.length ? 'ok' : 'used';
}
