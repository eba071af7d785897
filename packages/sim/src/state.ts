// The sandbox's persisted state and the file operations that keep it whole across crashes and
// processes: every file is written to a temporary name and renamed into place, state.json last,
// and changes are serialised by a lock file.

import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { CertKind, Medium, RevocationReason } from '@kakunin/jpki';
import { SandboxCorrupt, SandboxLocked, SandboxNotFound } from './errors.js';
import type { Person } from './people.js';

export { CRL_REASON_CODE, type RevocationReason } from '@kakunin/jpki';

export type EventType = 'issue' | 'renew' | 'move' | 'rename' | 'lose' | 'expire';

/** Identifies one certificate: issuer root id + serial (upper-case hex). */
export interface CertRef {
  readonly issuerId: string;
  readonly serial: string;
  readonly kind: CertKind;
  readonly medium: Medium;
}

export interface Revocation extends CertRef {
  readonly personId: string;
  readonly reason: RevocationReason;
  /** ISO 8601. */
  readonly revokedAt: string;
  readonly eventId: string;
}

export interface CertificateRecord extends CertRef {
  readonly personId: string;
  /** The opaque subject CN (識別符号). */
  readonly subjectId: string;
  /** Municipality of the CRL distribution point. */
  readonly municipalityCode: string;
  readonly notBefore: string;
  readonly notAfter: string;
  /** DER certificate, relative to the sandbox directory. */
  readonly file: string;
  /** PKCS#8 PEM private key, relative to the sandbox directory. */
  readonly keyFile: string;
  /** Event that issued it. */
  readonly eventId: string;
  revocation?: { readonly reason: RevocationReason; readonly revokedAt: string; readonly eventId: string };
  /** The certificate that replaced it (証明書新旧紐付け). */
  successor?: { readonly issuerId: string; readonly serial: string };
}

/** Old certificate → its successor (renewal, re-issue after a move or rename, …). */
export interface CertLink {
  readonly old: CertRef;
  readonly new: CertRef;
}

/** The authentication and signing certificates one person holds together on one medium (証明書紐付け). */
export interface CertPair {
  readonly personId: string;
  readonly medium: Medium;
  readonly auth: CertRef;
  readonly sign: CertRef;
}

export interface SimEvent {
  /** `e0001` … in order of application. */
  readonly id: string;
  readonly type: EventType;
  /** ISO 8601. */
  readonly at: string;
  readonly personId: string;
  readonly revoked: readonly Revocation[];
  readonly issued: readonly CertRef[];
  readonly links: readonly CertLink[];
  /** Auth↔sign pairings that hold after the event, for each medium whose pair changed. */
  readonly pairs: readonly CertPair[];
  /** What changed in the person (move, rename). */
  readonly changes?: {
    readonly trueName?: { readonly from: string; readonly to: string };
    readonly trueAddress?: { readonly from: string; readonly to: string };
    readonly municipalityCode?: { readonly from: string; readonly to: string };
  };
}

export interface RootRecord {
  readonly id: string;
  readonly kind: CertKind;
  readonly medium: Medium;
  readonly generation: number;
  readonly serial: string;
  readonly notBefore: string;
  readonly notAfter: string;
  /** DER (a `.pem` twin sits next to it for openssl). */
  readonly file: string;
  readonly keyFile: string;
}

export const STATE_FORMAT = 'kakunin-sim/1';

export interface SandboxState {
  readonly format: typeof STATE_FORMAT;
  /** Incremented on every write: a cheap change marker for long-running readers (OCSP, CRL). */
  revision: number;
  readonly createdAt: string;
  /** The instant everything at init was computed from. */
  readonly now: string;
  readonly seed: string;
  readonly baseUrl: string;
  readonly roots: RootRecord[];
  people: Person[];
  certificates: CertificateRecord[];
  events: SimEvent[];
}

export const STATE_FILE = 'state.json';
const LOCK_FILE = '.lock';

/** Writes a file so readers see either the old or the new content, never a part. */
export function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const fd = openSync(tmp, 'wx', mode);
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

export function readState(dir: string): SandboxState {
  const path = join(dir, STATE_FILE);
  if (!existsSync(path)) throw new SandboxNotFound(dir);
  let state: SandboxState;
  try {
    state = JSON.parse(readFileSync(path, 'utf8')) as SandboxState;
  } catch (e) {
    throw new SandboxCorrupt(dir, `${STATE_FILE} is not JSON (${(e as Error).message})`);
  }
  if (state?.format !== STATE_FORMAT)
    throw new SandboxCorrupt(dir, `${STATE_FILE} has format ${String(state?.format)}, expected ${STATE_FORMAT}`);
  for (const key of ['roots', 'people', 'certificates', 'events'] as const) {
    if (!Array.isArray(state[key])) throw new SandboxCorrupt(dir, `${STATE_FILE} lacks "${key}"`);
  }
  return state;
}

export function writeState(dir: string, state: SandboxState): void {
  writeFileAtomic(join(dir, STATE_FILE), `${JSON.stringify(state, null, 1)}\n`);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Runs `fn` holding the sandbox lock. A lock left by a dead process is taken over; a live holder
 * is waited for up to `waitMs`.
 */
export async function withLock<T>(dir: string, fn: () => Promise<T>, waitMs = 15_000): Promise<T> {
  const path = join(dir, LOCK_FILE);
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = Number(readFileOr(path, ''));
      if (Number.isInteger(holder) && holder > 0 && !pidAlive(holder)) {
        rmSync(path, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new SandboxLocked(dir, `pid ${holder || 'unknown'}`);
      await sleep(50);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(path, { force: true });
  }
}

function readFileOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}
