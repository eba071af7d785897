// Persistent PIN state of virtual cards: retry counters (so 63Cx → 63C0 → 6984 survives a restart of
// the simulator) and PINs changed with CHANGE REFERENCE DATA (stored as SHA-256, never in clear).

import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

export type PinName = 'auth' | 'sign' | 'cardInfo';

export interface CardPinState {
  /** Remaining tries per PIN. */
  readonly tries: Partial<Record<PinName, number>>;
  /** SHA-256 (hex) of a PIN changed on the card, replacing the initial one. */
  readonly changedPinSha256?: Partial<Record<PinName, string>>;
}

/** Where a virtual card keeps its PIN state between runs. Synchronous: the card answers APDUs synchronously. */
export interface PinStateStore {
  load(cardId: string): CardPinState | undefined;
  save(cardId: string, state: CardPinState): void;
}

/** In memory (one process). */
export class MemoryPinStateStore implements PinStateStore {
  private readonly states = new Map<string, CardPinState>();

  load(cardId: string): CardPinState | undefined {
    const s = this.states.get(cardId);
    return s && structuredClone(s);
  }

  save(cardId: string, state: CardPinState): void {
    this.states.set(cardId, structuredClone(state));
  }
}

/** One JSON file per card under `dir`, written atomically (temporary file, fsync, rename). */
export class FilePinStateStore implements PinStateStore {
  readonly dir: string;
  constructor(dir: string) {
    this.dir = dir;
  }

  private file(cardId: string): string {
    if (!/^[A-Za-z0-9._-]{1,100}$/.test(cardId) || cardId.startsWith('.'))
      throw new Error(`card id "${cardId}" is not a safe file name`);
    return join(this.dir, `${cardId}.json`);
  }

  load(cardId: string): CardPinState | undefined {
    let text: string;
    try {
      text = readFileSync(this.file(cardId), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    const parsed = JSON.parse(text) as CardPinState;
    if (typeof parsed !== 'object' || parsed === null || typeof parsed.tries !== 'object')
      throw new Error(`corrupt card state ${this.file(cardId)}`);
    return parsed;
  }

  save(cardId: string, state: CardPinState): void {
    mkdirSync(this.dir, { recursive: true });
    const target = this.file(cardId);
    const tmp = join(this.dir, `.${cardId}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, `${JSON.stringify(state, null, 2)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, target);
  }
}
