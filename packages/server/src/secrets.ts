// Generated secrets shared by every process on one database: the first process creates them, the
// others read the same row (INSERT … ON CONFLICT DO NOTHING, then SELECT).

import { createHmac, generateKeyPairSync, randomBytes } from 'node:crypto';
import type { Queryable } from './db/database.js';

export async function sharedSecret<T>(db: Queryable, name: string, create: () => T): Promise<T> {
  const read = async (): Promise<T | undefined> => (await db.query<{ value: { v: T } }>('SELECT value FROM kv_secrets WHERE name = $1', [name]))[0]?.value.v;
  // Only the first start creates it (key generation is not free); a concurrent first start loses the race harmlessly.
  const existing = await read();
  if (existing !== undefined) return existing;
  await db.query('INSERT INTO kv_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [name, { v: create() } as Record<string, unknown>]);
  return (await read())!;
}

export interface PlatformSecrets {
  /** RS256 private JWK for ID tokens. */
  signingJwk: Record<string, unknown>;
  cookieKeys: string[];
  /** HMAC key of pairwise subject identifiers. */
  pairwiseSalt: string;
}

export async function platformSecrets(db: Queryable): Promise<PlatformSecrets> {
  const signingJwk = await sharedSecret(db, 'oidc.signing-key', () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    return { ...(privateKey.export({ format: 'jwk' }) as Record<string, unknown>), kid: `k-${randomBytes(6).toString('hex')}`, use: 'sig', alg: 'RS256' };
  });
  const cookieKeys = await sharedSecret(db, 'oidc.cookie-keys', () => [randomBytes(32).toString('base64url')]);
  const pairwiseSalt = await sharedSecret(db, 'oidc.pairwise-salt', () => randomBytes(32).toString('base64url'));
  return { signingJwk, cookieKeys, pairwiseSalt };
}

/** The pairwise subject (OIDC `sub`) of a platform subject at one RP: the same in ID tokens and webhooks. */
export function pairwiseSubject(salt: string, clientId: string, subjectId: string): string {
  return createHmac('sha256', salt).update(`${clientId}\n${subjectId}`).digest('base64url');
}
