// The reference wallet's directory: each credential with its holder key in one file, encrypted at
// rest (AES-256-GCM). The key is a passphrase's scrypt (KAKUNIN_WALLET_PASSPHRASE) or, without one,
// a random key in the directory's `wallet.key` (mode 0600): then the files are safe when copied
// without that key file, as a phone keeps its wallet key in its keystore and not in the backup.

import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { JWK } from 'jose';

export const PASSPHRASE_ENV = 'KAKUNIN_WALLET_PASSPHRASE';

/** One credential as the wallet keeps it. */
export interface StoredCredential {
  id: string;
  /** The credential issuer identifier. */
  issuer: string;
  format: 'dc+sd-jwt';
  vct: string;
  configuration_id: string;
  /** Issuer-signed JWT and every disclosure, ending with `~` (no key binding). */
  sd_jwt: string;
  /** The holder's private key the credential is bound to (`cnf`). */
  holder_key: JWK;
  received_at: string;
  expires_at?: string;
  /** The claims as the disclosures give them (for the holder's own view). */
  claims: Record<string, unknown>;
  /**
   * Every copy of the credential the issuer gave (batch issuance; `sd_jwt` and `holder_key` are the
   * first), each bound to its own key: a presentation shows the next one, so that verifiers cannot
   * link two presentations by anything the issuer signed. Absent: one copy.
   */
  copies?: { sd_jwt: string; holder_key: JWK }[];
  /** Presentations made so far (which copy is next). */
  presented?: number;
}

/** The copy the next presentation shows: each once, then round again (the holder is told). */
export function nextCopy(c: StoredCredential): { sd_jwt: string; holder_key: JWK; reused: boolean } {
  const copies = c.copies?.length ? c.copies : [{ sd_jwt: c.sd_jwt, holder_key: c.holder_key }];
  const n = c.presented ?? 0;
  return { ...copies[n % copies.length]!, reused: n >= copies.length };
}

export class WalletError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WalletError';
  }
}

interface WalletFile {
  version: 1;
  /** Salt of the passphrase's scrypt; absent when the key is wallet.key. */
  salt?: string;
  /** With a passphrase: a known value sealed with its key, so that a wrong passphrase is told at once. */
  check?: string;
}

const CHECK_ID = 'passphrase-check';
const CHECK_VALUE = 'kakunin-wallet';

export class Wallet {
  readonly dir: string;
  private readonly key: Buffer;

  private constructor(dir: string, key: Buffer) {
    this.dir = dir;
    this.key = key;
  }

  /** Opens the wallet at `dir`, creating it when absent unless `create` is false (reading commands). */
  static open(dir: string, passphrase = process.env[PASSPHRASE_ENV], create = true): Wallet {
    const root = resolve(dir);
    if (!create && !existsSync(join(root, 'wallet.json')))
      throw new WalletError(`no wallet in ${root} (kakunin wallet get or accept makes one)`);
    mkdirSync(join(root, 'credentials'), { recursive: true, mode: 0o700 });
    const meta = join(root, 'wallet.json');
    let file: WalletFile;
    if (existsSync(meta)) file = JSON.parse(readFileSync(meta, 'utf8')) as WalletFile;
    else {
      file = { version: 1, ...(passphrase ? { salt: randomBytes(16).toString('base64url') } : {}) };
      if (passphrase)
        file.check = Wallet.keyed(root, file.salt!, passphrase).seal(CHECK_ID, CHECK_VALUE).toString('base64url');
      writeFileSync(meta, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
    }
    if (file.salt) {
      if (!passphrase) throw new WalletError(`this wallet is locked with a passphrase: set ${PASSPHRASE_ENV}`);
      const wallet = Wallet.keyed(root, file.salt, passphrase);
      // A wrong passphrase must not go unnoticed: a credential saved under it could never be read with the right one.
      let known: unknown;
      try {
        known = file.check ? wallet.open(CHECK_ID, Buffer.from(file.check, 'base64url')) : CHECK_VALUE;
      } catch {
        known = undefined;
      }
      if (known !== CHECK_VALUE)
        throw new WalletError(`wrong passphrase for the wallet in ${root} (${PASSPHRASE_ENV})`);
      return wallet;
    }
    if (passphrase)
      throw new WalletError(
        `the wallet in ${root} was made without a passphrase (its key is ${join(root, 'wallet.key')}): unset ${PASSPHRASE_ENV}`,
      );
    const keyFile = join(root, 'wallet.key');
    if (!existsSync(keyFile)) writeFileSync(keyFile, randomBytes(32), { mode: 0o600 });
    chmodSync(keyFile, 0o600);
    const key = readFileSync(keyFile);
    if (key.length !== 32) throw new WalletError(`${keyFile} is not a 32-byte wallet key`);
    return new Wallet(root, key);
  }

  private static keyed(root: string, salt: string, passphrase: string): Wallet {
    return new Wallet(root, scryptSync(passphrase, Buffer.from(salt, 'base64url'), 32));
  }

  private seal(id: string, value: unknown): Buffer {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(`kakunin-wallet/${id}`));
    const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
    return Buffer.concat([Buffer.from([1]), iv, cipher.getAuthTag(), body]);
  }

  private open(id: string, sealed: Buffer): unknown {
    if (sealed[0] !== 1 || sealed.length < 29) throw new WalletError(`credential ${id}: not a wallet file`);
    const decipher = createDecipheriv('aes-256-gcm', this.key, sealed.subarray(1, 13));
    decipher.setAAD(Buffer.from(`kakunin-wallet/${id}`));
    decipher.setAuthTag(sealed.subarray(13, 29));
    try {
      return JSON.parse(Buffer.concat([decipher.update(sealed.subarray(29)), decipher.final()]).toString('utf8'));
    } catch {
      throw new WalletError(
        `credential ${id}: cannot be decrypted (another wallet's key or passphrase, or a damaged file)`,
      );
    }
  }

  private path(id: string): string {
    if (!/^[A-Za-z0-9_-]{1,100}$/.test(id)) throw new WalletError(`not a credential id: ${id}`);
    return join(this.dir, 'credentials', `${id}.enc`);
  }

  /** Saves a credential (atomically: a crash leaves the old file or the new one). */
  save(c: StoredCredential): void {
    const file = this.path(c.id);
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, this.seal(c.id, c), { mode: 0o600 });
    renameSync(tmp, file);
  }

  list(): StoredCredential[] {
    return readdirSync(join(this.dir, 'credentials'))
      .filter((f) => f.endsWith('.enc'))
      .map((f) => {
        const id = f.slice(0, -4);
        return this.open(id, readFileSync(this.path(id))) as StoredCredential;
      })
      .sort((a, b) => a.received_at.localeCompare(b.received_at));
  }

  get(id: string): StoredCredential {
    const file = this.path(id);
    if (!existsSync(file)) throw new WalletError(`no credential ${id} in ${this.dir}`);
    return this.open(id, readFileSync(file)) as StoredCredential;
  }
}
