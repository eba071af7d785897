// PC/SC transport through the `smartcard` N-API binding (pcsc-lite's libpcsclite → pcscd).
//
// - The binding is loaded lazily: in-process use never needs the native module.
// - A session connects in EXCLUSIVE share mode (no other application can interleave APDUs or reset
//   the card between our SELECT and VERIFY), and leaves the card powered on close.
// - Without the binding (an install on a machine without libpcsclite-dev) every call is PcscUnavailable.
// - PC/SC failures become typed errors: ReaderNotFound (no reader / no service / unknown reader),
//   CardRemoved (no card, removed, reset, unresponsive), Timeout.
// - The libpcsclite client honours PCSCLITE_CSOCK_NAME (tests point it at their own pcscd).

import type * as SmartcardModule from 'smartcard';
import type { CardInterface, ContextInterface, MonitorEvent, ReaderInterface } from 'smartcard';
import { createRequire } from 'node:module';
import { CardError, CardRemoved, PcscUnavailable, ReaderNotFound, Timeout } from './errors.js';
import { BaseTransport } from './transport.js';

type Smartcard = typeof SmartcardModule;

let loaded: Promise<Smartcard> | undefined;

async function smartcard(): Promise<Smartcard> {
  loaded ??= loadSmartcard().catch((e: unknown) => {
    loaded = undefined;
    throw e;
  });
  return loaded;
}

/**
 * Loads the optional `smartcard` binding (injectable for tests). A machine without libpcsclite-dev
 * installs Kakunin without it; asking for a reader there is a PcscUnavailable that says what to install.
 */
export async function loadSmartcard(
  load: () => Promise<unknown> = () => import('smartcard'),
  installed = bindingInstalled,
): Promise<Smartcard> {
  try {
    const m = await load();
    return ((m as { default?: Smartcard }).default ?? m) as Smartcard;
  } catch (e) {
    throw new PcscUnavailable(`the smartcard module did not load: ${(e as Error).message}`, installed());
  }
}

function bindingInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve('smartcard/package.json');
    return true;
  } catch {
    return false;
  }
}

/** Maps a PC/SC error (the binding rejects with pcsc-lite's message text) onto the typed errors. */
export function pcscError(e: unknown, context: string): CardError {
  if (e instanceof CardError) return e;
  const msg = (e as Error)?.message ?? String(e);
  if (
    /removed|No smart card present|unpowered|unresponsive|reset|not connected|Invalid handle|Communication error/i.test(
      msg,
    )
  ) {
    return new CardRemoved(`${context}: ${msg}`);
  }
  if (/timed out|timeout/i.test(msg)) return new Timeout(`${context}: ${msg}`);
  if (
    /service not running|service stopped|No readers|Unknown reader|Reader unavailable|Context is not valid/i.test(msg)
  ) {
    return new ReaderNotFound(`${context}: ${msg}${/service/i.test(msg) ? ' (is pcscd running?)' : ''}`);
  }
  if (/Sharing violation/i.test(msg))
    return new Timeout(`${context}: the card is in use by another application (${msg})`);
  return new CardRemoved(`${context}: ${msg}`);
}

function openContext(sc: Smartcard): ContextInterface {
  try {
    return new sc.Context();
  } catch (e) {
    throw pcscError(e, 'cannot reach the PC/SC service');
  }
}

export interface ReaderInfo {
  readonly name: string;
  readonly cardPresent: boolean;
  /** ATR in upper-case hex, when a card is present. */
  readonly atr?: string;
}

function describeReader(sc: Smartcard, r: ReaderInterface): ReaderInfo {
  const present = (r.state & sc.SCARD_STATE_PRESENT) !== 0;
  const atr = present && r.atr ? Buffer.from(r.atr).toString('hex').toUpperCase() : undefined;
  return { name: r.name, cardPresent: present, ...(atr ? { atr } : {}) };
}

/** Every reader the PC/SC service knows, with whether a card is present. No service → ReaderNotFound. */
export async function listReaders(): Promise<ReaderInfo[]> {
  const sc = await smartcard();
  const ctx = openContext(sc);
  try {
    return ctx.listReaders().map((r) => describeReader(sc, r));
  } catch (e) {
    throw pcscError(e, 'cannot list readers');
  } finally {
    ctx.close();
  }
}

export interface PcscOpenOptions {
  /** Reader name (exact, or a unique substring). Default: the first reader with a card. */
  reader?: string;
  /** How long to wait for a card to be inserted (ms). Default 0: fail at once. */
  waitForCardMs?: number;
  /** How long to wait while another application holds the card (ms). Default 5000. */
  busyTimeoutMs?: number;
  /** Per-APDU timeout (ms). Default 30000. */
  apduTimeoutMs?: number;
  /** `exclusive` (default) or `shared`. */
  share?: 'exclusive' | 'shared';
}

const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms).unref?.());

/** One PC/SC connection to a card. */
export class PcscTransport extends BaseTransport {
  readonly description: string;
  private readonly sc: Smartcard;
  private readonly ctx: ContextInterface;
  private card: CardInterface;
  readonly readerName: string;
  readonly atr: Uint8Array;
  private readonly apduTimeoutMs: number;

  private constructor(
    sc: Smartcard,
    ctx: ContextInterface,
    card: CardInterface,
    readerName: string,
    atr: Uint8Array,
    apduTimeoutMs: number,
  ) {
    super();
    this.sc = sc;
    this.ctx = ctx;
    this.card = card;
    this.readerName = readerName;
    this.atr = atr;
    this.apduTimeoutMs = apduTimeoutMs;
    this.description = `pcsc:${readerName}`;
  }

  /** Connects to the card in `reader` (or the first reader holding a card). */
  static async open(options: PcscOpenOptions = {}): Promise<PcscTransport> {
    const sc = await smartcard();
    const ctx = openContext(sc);
    try {
      const reader = await pickReader(sc, ctx, options);
      const share = options.share === 'shared' ? sc.SCARD_SHARE_SHARED : sc.SCARD_SHARE_EXCLUSIVE;
      const deadline = Date.now() + (options.busyTimeoutMs ?? 5000);
      for (;;) {
        try {
          const card = await reader.connect(share, sc.SCARD_PROTOCOL_T0 | sc.SCARD_PROTOCOL_T1);
          const atr = Uint8Array.from(card.atr ?? reader.atr ?? []);
          return new PcscTransport(sc, ctx, card, reader.name, atr, options.apduTimeoutMs ?? 30_000);
        } catch (e) {
          const err = pcscError(e, `cannot connect to the card in "${reader.name}"`);
          if (!(err instanceof Timeout) || Date.now() >= deadline) throw err;
          await delay(100);
        }
      }
    } catch (e) {
      ctx.close();
      throw e;
    }
  }

  protected async exchange(apdu: Uint8Array): Promise<Uint8Array> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Timeout(`no answer from the card in "${this.readerName}" within ${this.apduTimeoutMs} ms`)),
        this.apduTimeoutMs,
      );
      timer.unref?.();
    });
    try {
      const r = await Promise.race([this.card.transmit(Buffer.from(apdu), { maxRecvLength: 65538 }), timeout]);
      return new Uint8Array(r.buffer, r.byteOffset, r.byteLength);
    } catch (e) {
      throw pcscError(e, `transmit to "${this.readerName}"`);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Leaves the card powered (its PIN state is the card's business) and releases the context. */
  override close(): void {
    if (this.closed) return;
    super.close();
    try {
      this.card.disconnect(this.sc.SCARD_LEAVE_CARD);
    } catch {
      // already gone
    }
    this.ctx.close();
  }
}

async function pickReader(sc: Smartcard, ctx: ContextInterface, o: PcscOpenOptions): Promise<ReaderInterface> {
  const deadline = Date.now() + (o.waitForCardMs ?? 0);
  for (;;) {
    let readers: ReaderInterface[];
    try {
      readers = ctx.listReaders();
    } catch (e) {
      throw pcscError(e, 'cannot list readers');
    }
    const present = (r: ReaderInterface): boolean => (r.state & sc.SCARD_STATE_PRESENT) !== 0;
    let reader: ReaderInterface | undefined;
    if (o.reader !== undefined) {
      const want = o.reader;
      const exact = readers.find((r) => r.name === want);
      const partial = readers.filter((r) => r.name.includes(want));
      reader = exact ?? (partial.length === 1 ? partial[0] : undefined);
      if (!reader) {
        const names = readers.map((r) => `"${r.name}"`).join(', ') || 'none';
        throw new ReaderNotFound(
          partial.length > 1
            ? `reader "${want}" is ambiguous (${names})`
            : `no reader named "${want}" (readers: ${names})`,
        );
      }
      if (present(reader)) return reader;
    } else {
      if (readers.length === 0 && Date.now() >= deadline)
        throw new ReaderNotFound('no smart-card reader found (is pcscd running and a reader attached?)');
      reader = readers.find(present);
      if (reader) return reader;
    }
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      throw new CardRemoved(
        o.reader !== undefined
          ? `no card in reader "${o.reader}"`
          : `no card in any reader (${readers.map((r) => `"${r.name}"`).join(', ')})`,
      );
    }
    try {
      await ctx.waitForChange(readers, Math.min(remaining, 1000));
    } catch (e) {
      const err = pcscError(e, 'waiting for a card');
      if (!(err instanceof Timeout)) throw err;
    }
  }
}

export type ReaderEvent =
  | { readonly type: 'reader-attached' | 'reader-detached'; readonly reader: string }
  | { readonly type: 'card-inserted'; readonly reader: string; readonly atr?: string }
  | { readonly type: 'card-removed'; readonly reader: string }
  | { readonly type: 'error'; readonly error: CardError };

/**
 * Reader and card presence events (reader attached/detached, card inserted/removed) from pcsc-lite,
 * on a background thread. Call `stop()` when done or the process will not exit.
 */
export async function watchReaders(listener: (e: ReaderEvent) => void): Promise<{ stop(): void }> {
  const sc = await smartcard();
  const monitor = new sc.ReaderMonitor();
  try {
    monitor.start((e: MonitorEvent) => {
      if (e.type === 'error')
        listener({ type: 'error', error: pcscError(new Error(e.reader || 'monitor error'), 'reader monitor') });
      else if (e.type === 'card-inserted')
        listener({
          type: 'card-inserted',
          reader: e.reader,
          ...(e.atr ? { atr: Buffer.from(e.atr).toString('hex').toUpperCase() } : {}),
        });
      else listener({ type: e.type, reader: e.reader });
    });
  } catch (e) {
    throw pcscError(e, 'cannot watch readers');
  }
  return {
    stop: () => {
      if (monitor.isRunning) monitor.stop();
    },
  };
}
