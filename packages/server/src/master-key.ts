// The master key: the one secret that is not in the database. Secrets that must stay usable (ID token
// signing keys, cookie keys, the pairwise salt, webhook secrets) are sealed under it with AES-256-GCM,
// so a copy of the database alone cannot mint ID tokens or forge webhooks. It comes from
// KAKUNIN_MASTER_KEY, from a file (KAKUNIN_MASTER_KEY_FILE, default DATA_DIR/master-key), or — in
// sandbox mode only — is created in DATA_DIR/master-key (0600) at the first start.

import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ConfigError, type Mode } from './config.js';

const PREFIX = 'sealed:v1:';

/** A sealed value that does not open: another master key, or an edited or moved ciphertext. */
export class SealedSecretError extends Error {
  readonly code = 'SEALED_SECRET';
  constructor(message: string) {
    super(message);
    this.name = 'SealedSecretError';
  }
}

export class MasterKey {
  /** Names the key without revealing it (in sealed values and error messages). */
  readonly id: string;
  private readonly key: Buffer;

  constructor(key: Buffer) {
    this.key = key;
    if (key.length !== 32) throw new ConfigError(`a master key is 32 bytes (got ${key.length})`);
    this.id = createHash('sha256').update('kakunin master key id\n').update(key).digest('hex').slice(0, 16);
  }

  static generate(): MasterKey {
    return new MasterKey(randomBytes(32));
  }

  /** 32 bytes as 64 hex digits or base64/base64url (`where` names the source in errors). */
  static parse(text: string, where: string): MasterKey {
    const t = text.trim();
    const bytes = /^[0-9a-fA-F]{64}$/.test(t)
      ? Buffer.from(t, 'hex')
      : /^[A-Za-z0-9+/_-]{43}=?$/.test(t)
        ? Buffer.from(t, 'base64url')
        : undefined;
    if (!bytes || bytes.length !== 32)
      throw new ConfigError(
        `${where} is not a master key: 32 random bytes as 64 hex digits or 43 base64url characters (kakunin keys new-master-key prints one)`,
      );
    return new MasterKey(bytes);
  }

  /** The text form written to key files and printed by `kakunin keys new-master-key`. */
  export(): string {
    return this.key.toString('base64url');
  }

  /**
   * AES-256-GCM under a key derived for `context` (which table, row and column the value belongs
   * to), so a sealed value copied onto another row does not open there.
   */
  seal(plaintext: string, context: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.subkey('seal'), iv);
    cipher.setAAD(Buffer.from(context));
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `${PREFIX}${this.id}:${[iv, ct, cipher.getAuthTag()].map((b) => b.toString('base64url')).join('.')}`;
  }

  open(sealed: string, context: string): string {
    const m = /^sealed:v1:([0-9a-f]{16}):([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]*)\.([A-Za-z0-9_-]+)$/.exec(sealed);
    if (!m) throw new SealedSecretError(`${context} is not a sealed value`);
    if (m[1] !== this.id)
      throw new SealedSecretError(
        `${context} is sealed under master key ${m[1]}, not the configured ${this.id} (wrong KAKUNIN_MASTER_KEY or master-key file?)`,
      );
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.subkey('seal'), Buffer.from(m[2]!, 'base64url'));
      decipher.setAAD(Buffer.from(context));
      decipher.setAuthTag(Buffer.from(m[4]!, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(m[3]!, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new SealedSecretError(
        `${context} does not open under master key ${this.id} (edited, or moved from another row)`,
      );
    }
  }

  private subkey(purpose: string): Buffer {
    return createHmac('sha256', this.key).update(`kakunin ${purpose} v1`).digest();
  }
}

export const isSealed = (value: string): boolean => value.startsWith(PREFIX);

export interface MasterKeySource {
  mode: Mode;
  dataDir: string;
  masterKey?: string;
  masterKeyFile?: string;
}

export const defaultMasterKeyFile = (dataDir: string): string => join(dataDir, 'master-key');

/**
 * The configured master key. Production never makes one up: without KAKUNIN_MASTER_KEY or a key file
 * it refuses to start. `create` (the sandbox server) writes a new DATA_DIR/master-key when none exists.
 */
export function loadMasterKey(source: MasterKeySource, o: { create?: boolean } = {}): MasterKey {
  if (source.masterKey) return MasterKey.parse(source.masterKey, 'KAKUNIN_MASTER_KEY');
  const file = source.masterKeyFile ?? defaultMasterKeyFile(source.dataDir);
  if (existsSync(file)) return MasterKey.parse(readFileSync(file, 'utf8'), file);
  if (source.masterKeyFile) throw new ConfigError(`the master key file ${file} does not exist`);
  if (!o.create || source.mode === 'production') {
    throw new ConfigError(
      `${source.mode === 'production' ? 'production mode refuses to start' : 'cannot open the platform secrets'} without a master key: set KAKUNIN_MASTER_KEY or KAKUNIN_MASTER_KEY_FILE, or put it in ${file} (kakunin keys new-master-key prints a new one); keep it out of the database and its backups`,
    );
  }
  const key = MasterKey.generate();
  mkdirSync(dirname(file), { recursive: true });
  // wx: two first starts racing never overwrite each other's key; the loser reads the winner's.
  try {
    writeFileSync(file, `${key.export()}\n`, { mode: 0o600, flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return MasterKey.parse(readFileSync(file, 'utf8'), file);
    throw e;
  }
  chmodSync(file, 0o600);
  return key;
}
