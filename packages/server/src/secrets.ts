// Generated secrets shared by every process on one database: the first process creates them, the
// others read the same row (INSERT … ON CONFLICT DO NOTHING, then SELECT). In kv_secrets they are
// sealed under the master key (`{ sealed }`); the admin token is kept only as a verifier. Rows
// written by earlier versions in plaintext (`{ v }`) are sealed or hashed in place when read.

import { createHmac, generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { ConfigError } from './config.js';
import type { Database, Queryable } from './db/sql.js';
import { InvalidRequest, NotFound } from './errors.js';
import type { MasterKey } from './master-key.js';
import { resealRelyingPartySecrets, sealRelyingPartySecrets } from './relying-parties.js';
import { hashSecret, verifySecret } from './secret-verifier.js';

interface StoredValue {
  sealed?: string;
  verifier?: string;
  /** Plaintext, as written before secrets were sealed. */
  v?: unknown;
}

const context = (name: string): string => `kv_secrets/${name}`;

async function readRow(db: Queryable, name: string, forUpdate = false): Promise<StoredValue | undefined> {
  return (
    await db.query<{ value: StoredValue }>(
      `SELECT value FROM kv_secrets WHERE name = $1${forUpdate ? ' FOR UPDATE' : ''}`,
      [name],
    )
  )[0]?.value;
}

const sealValue = (key: MasterKey, name: string, value: unknown): StoredValue => ({
  sealed: key.seal(JSON.stringify(value), context(name)),
});

/** A secret sealed under the master key, created by the first process that asks for it. */
export async function sharedSecret<T>(db: Queryable, key: MasterKey, name: string, create: () => T): Promise<T> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const row = await readRow(db, name);
    if (row?.sealed) return JSON.parse(key.open(row.sealed, context(name))) as T;
    if (row && 'v' in row) {
      // Sealed in place; the WHERE keeps a concurrent start from sealing twice.
      await db.query(`UPDATE kv_secrets SET value = $2 WHERE name = $1 AND value->>'sealed' IS NULL`, [
        name,
        sealValue(key, name, row.v) as Record<string, unknown>,
      ]);
      continue;
    }
    if (row) throw new ConfigError(`kv_secrets row ${name} is neither sealed nor a plaintext value`);
    // Only the first start creates it (key generation is not free); a concurrent first start loses the race harmlessly.
    await db.query('INSERT INTO kv_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [
      name,
      sealValue(key, name, create()) as Record<string, unknown>,
    ]);
  }
  throw new Error(`kv_secrets row ${name} keeps changing under this process`);
}

// ---- signing key rings: ID tokens, digital ID credentials -------------------------------------

export interface SigningKey {
  /** Private JWK (with kid and alg). */
  jwk: Record<string, unknown>;
  createdAt: string;
}

/**
 * A list of signing keys kept sealed in one kv_secrets row, newest first: the first signs, all are
 * published. `idToken`: RS256 keys of ID tokens (/jwks). `credential`: ES256 keys of the digital ID
 * credentials and their status lists (/.well-known/jwt-vc-issuer).
 */
export type KeyRing = 'idToken' | 'credential';

const RINGS: Record<
  KeyRing,
  { row: string; legacyRow?: string; prefix: string; generate: () => Record<string, unknown> }
> = {
  idToken: {
    row: 'oidc.signing-keys',
    legacyRow: 'oidc.signing-key',
    prefix: 'k',
    generate: () => ({
      ...(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }) as Record<
        string,
        unknown
      >),
      alg: 'RS256',
    }),
  },
  credential: {
    row: 'vc.issuer-keys',
    prefix: 'vc',
    generate: () => ({
      ...(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }) as Record<
        string,
        unknown
      >),
      alg: 'ES256',
    }),
  },
};

function newSigningKey(ring: KeyRing): SigningKey {
  const r = RINGS[ring];
  const jwk = { ...r.generate(), kid: `${r.prefix}-${randomBytes(6).toString('hex')}`, use: 'sig' };
  return { jwk, createdAt: new Date().toISOString() };
}

/** The keys of a ring, newest first: the first signs, all are published. */
async function signingKeys(db: Database, key: MasterKey, ring: KeyRing): Promise<SigningKey[]> {
  const { row: SIGNING_KEYS, legacyRow } = RINGS[ring];
  // One key under the old name (plaintext or sealed) becomes the first entry of the list.
  const legacy = legacyRow ? await readRow(db, legacyRow) : undefined;
  if (legacy && legacyRow) {
    const jwk = (legacy.sealed ? JSON.parse(key.open(legacy.sealed, context(legacyRow))) : legacy.v) as Record<
      string,
      unknown
    >;
    await db.transaction(async (tx) => {
      const row = await readRow(tx, SIGNING_KEYS, true);
      const list = row?.sealed ? (JSON.parse(key.open(row.sealed, context(SIGNING_KEYS))) as SigningKey[]) : [];
      // Behind the newer keys: it stays published, and signs only when it is the only one.
      if (!list.some((k) => k.jwk.kid === jwk.kid)) list.push({ jwk, createdAt: new Date(0).toISOString() });
      await tx.query(
        'INSERT INTO kv_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value',
        [SIGNING_KEYS, sealValue(key, SIGNING_KEYS, list) as Record<string, unknown>],
      );
      await tx.query('DELETE FROM kv_secrets WHERE name = $1', [legacyRow]);
    });
  }
  return sharedSecret(db, key, SIGNING_KEYS, () => [newSigningKey(ring)]);
}

async function updateSigningKeys(
  db: Database,
  key: MasterKey,
  ring: KeyRing,
  change: (keys: SigningKey[]) => SigningKey[],
): Promise<SigningKey[]> {
  const SIGNING_KEYS = RINGS[ring].row;
  await signingKeys(db, key, ring);
  return db.transaction(async (tx) => {
    const row = (await readRow(tx, SIGNING_KEYS, true))!;
    const next = change(JSON.parse(key.open(row.sealed!, context(SIGNING_KEYS))) as SigningKey[]);
    await tx.query('UPDATE kv_secrets SET value = $2 WHERE name = $1', [
      SIGNING_KEYS,
      sealValue(key, SIGNING_KEYS, next) as Record<string, unknown>,
    ]);
    return next;
  });
}

export interface SigningKeyInfo {
  kid: string;
  createdAt: string;
  /** The newest key, which signs new ID tokens (or credentials). */
  signing: boolean;
}

const info = (keys: SigningKey[]): SigningKeyInfo[] =>
  keys.map((k, i) => ({ kid: String(k.jwk.kid), createdAt: k.createdAt, signing: i === 0 }));

export async function listSigningKeys(
  db: Database,
  key: MasterKey,
  ring: KeyRing = 'idToken',
): Promise<SigningKeyInfo[]> {
  return info(await signingKeys(db, key, ring));
}

/** Adds a new signing key in front: servers started from now on sign with it and still publish the others. */
export async function rotateSigningKey(
  db: Database,
  key: MasterKey,
  ring: KeyRing = 'idToken',
): Promise<SigningKeyInfo[]> {
  const fresh = newSigningKey(ring);
  return info(await updateSigningKeys(db, key, ring, (keys) => [fresh, ...keys]));
}

/** Removes an older key from publication (what it signed no longer verifies). The signing key cannot be retired. */
export async function retireSigningKey(
  db: Database,
  key: MasterKey,
  kid: string,
  ring: KeyRing = 'idToken',
): Promise<SigningKeyInfo[]> {
  return info(
    await updateSigningKeys(db, key, ring, (keys) => {
      const i = keys.findIndex((k) => k.jwk.kid === kid);
      if (i < 0) throw new NotFound(`no signing key ${kid}`);
      if (i === 0)
        throw new InvalidRequest(
          `signing key ${kid} is the one in use: rotate first (kakunin keys rotate), restart the servers, then retire it`,
        );
      return keys.filter((_, j) => j !== i);
    }),
  );
}

// ---- the platform's secrets ------------------------------------------------------------------

export interface PlatformSecrets {
  /** RS256 private JWKs for ID tokens, newest (signing) first. */
  signingJwks: Record<string, unknown>[];
  /** ES256 private JWKs for digital ID credentials and their status lists, newest (signing) first. */
  credentialJwks: Record<string, unknown>[];
  cookieKeys: string[];
  /** HMAC key of pairwise subject identifiers. */
  pairwiseSalt: string;
}

export async function platformSecrets(db: Database, key: MasterKey): Promise<PlatformSecrets> {
  const signingJwks = (await signingKeys(db, key, 'idToken')).map((k) => k.jwk);
  const credentialJwks = (await signingKeys(db, key, 'credential')).map((k) => k.jwk);
  const cookieKeys = await sharedSecret(db, key, 'oidc.cookie-keys', () => [randomBytes(32).toString('base64url')]);
  const pairwiseSalt = await sharedSecret(db, key, 'oidc.pairwise-salt', () => randomBytes(32).toString('base64url'));
  return { signingJwks, credentialJwks, cookieKeys, pairwiseSalt };
}

/** The pairwise subject (OIDC `sub`) of a platform subject at one RP: the same in ID tokens and webhooks. */
export function pairwiseSubject(salt: string, clientId: string, subjectId: string): string {
  return createHmac('sha256', salt).update(`${clientId}\n${subjectId}`).digest('base64url');
}

// ---- the admin token -------------------------------------------------------------------------

const ADMIN_TOKEN = 'admin.token';

/**
 * The admin token of this process. KAKUNIN_ADMIN_TOKEN when set; otherwise the database keeps only
 * its verifier and the token itself lives in `file` (DATA_DIR/admin-token, 0600), written by the
 * process that generated it. A process that cannot find it there refuses to start (it could accept
 * the token, but could not tell an operator what it is).
 */
export async function loadAdminToken(db: Queryable, o: { configured?: string; file: string }): Promise<string> {
  let row = await readRow(db, ADMIN_TOKEN);
  let known = o.configured;
  if (row && 'v' in row && typeof row.v === 'string') {
    known ??= row.v;
    await db.query(`UPDATE kv_secrets SET value = $2 WHERE name = $1 AND value->>'verifier' IS NULL`, [
      ADMIN_TOKEN,
      { verifier: await hashSecret(row.v) },
    ]);
    row = await readRow(db, ADMIN_TOKEN);
  }
  if (o.configured) return o.configured;
  if (!row) {
    const token = `kka_${randomBytes(24).toString('base64url')}`;
    const [won] = await db.query(
      'INSERT INTO kv_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING RETURNING name',
      [ADMIN_TOKEN, { verifier: await hashSecret(token) }],
    );
    if (won) return writeTokenFile(o.file, token);
    row = await readRow(db, ADMIN_TOKEN);
  }
  known ??= existsSync(o.file) ? readFileSync(o.file, 'utf8').trim() : undefined;
  if (known !== undefined && row?.verifier && (await verifySecret(known, row.verifier)))
    return writeTokenFile(o.file, known);
  throw new ConfigError(
    `this database's admin token is not in ${o.file}: copy that file from the server that created it, or set KAKUNIN_ADMIN_TOKEN`,
  );
}

function writeTokenFile(file: string, token: string): string {
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return token;
}

// ---- master key rotation ---------------------------------------------------------------------

/**
 * Re-seals every sealed secret (kv_secrets, RP webhook secrets) under `to`, in one transaction.
 * Run it with the servers stopped, then start them with the new key.
 */
export async function rotateMasterKey(db: Database, from: MasterKey, to: MasterKey): Promise<{ resealed: number }> {
  // Whatever is still plaintext is sealed (under `from`) first, so nothing is skipped.
  await platformSecrets(db, from);
  await sealRelyingPartySecrets(db, from);
  return db.transaction(async (tx) => {
    let resealed = 0;
    for (const { name, value } of await tx.query<{ name: string; value: StoredValue }>(
      'SELECT name, value FROM kv_secrets ORDER BY name FOR UPDATE',
    )) {
      if (!value.sealed) continue;
      await tx.query('UPDATE kv_secrets SET value = $2 WHERE name = $1', [
        name,
        { sealed: to.seal(from.open(value.sealed, context(name)), context(name)) },
      ]);
      resealed++;
    }
    return { resealed: resealed + (await resealRelyingPartySecrets(tx, from, to)) };
  });
}
