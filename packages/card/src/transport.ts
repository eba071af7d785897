// The transport contract and the in-process transport. Every transport built on BaseTransport has an
// APDU log hook; what the hook sees is redacted: VERIFY / CHANGE REFERENCE DATA data (PINs) become
// '*', and any 12-digit My Number pattern is masked.

import { decodeApdu } from './apdu.js';
import { CardError, CardRemoved, TruncatedResponse } from './errors.js';
import { maskMyNumber } from './mask.js';

/** One exchange as the log hook sees it (copies; PINs redacted). */
export interface ApduExchange {
  readonly command: Uint8Array;
  /** data ‖ SW1 SW2, or empty when the transport failed. */
  readonly response: Uint8Array;
  /** Upper-case hex SW, or undefined when the transport failed. */
  readonly sw?: string;
  readonly ms: number;
  /** Set when the transport itself failed (card removed, timeout, …). */
  readonly error?: Error;
}

export type ApduListener = (e: ApduExchange) => void;

/** Anything that carries command APDUs to a card and returns data ‖ SW1 SW2. */
export interface Transport {
  transmit(apdu: Uint8Array): Promise<Uint8Array>;
  /** Subscribes to every exchange (redacted); returns the unsubscribe function. */
  onApdu?(listener: ApduListener): () => void;
  close?(): Promise<void> | void;
  /** e.g. `pcsc:Reader Name` or `in-process`. */
  readonly description?: string;
}

const PIN_INS = new Set([0x20, 0x24, 0x2c]);

/** A copy of `cmd` with the data of PIN-carrying commands replaced by '*'. */
export function redactCommand(cmd: Uint8Array): Uint8Array {
  const copy = Uint8Array.from(cmd);
  if (copy.length > 4 && PIN_INS.has(copy[1]!)) {
    try {
      const d = decodeApdu(copy);
      const n = d.data?.length ?? 0;
      if (n > 0) {
        const start = d.extended ? 7 : 5;
        copy.fill(0x2a, start, start + n);
      }
    } catch {
      copy.fill(0x2a, 4);
    }
  }
  maskMyNumber(copy);
  return copy;
}

/** Base for transports: logging hook, closed-state handling and response sanity. */
export abstract class BaseTransport implements Transport {
  private readonly listeners = new Set<ApduListener>();
  protected closed = false;
  abstract readonly description: string;

  /** Sends one APDU on the underlying channel; returns data ‖ SW. */
  protected abstract exchange(apdu: Uint8Array): Promise<Uint8Array>;

  onApdu(listener: ApduListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async transmit(apdu: Uint8Array): Promise<Uint8Array> {
    if (this.closed) throw new CardRemoved(`the transport ${this.description} is closed`);
    const t0 = performance.now();
    let response: Uint8Array;
    try {
      response = await this.exchange(apdu);
    } catch (e) {
      this.emit(apdu, new Uint8Array(0), performance.now() - t0, e as Error);
      throw e;
    }
    if (!(response instanceof Uint8Array) || response.length < 2) {
      const err = new TruncatedResponse(
        `the transport returned ${response instanceof Uint8Array ? `${response.length} byte(s)` : String(response)}`,
      );
      this.emit(apdu, response instanceof Uint8Array ? response : new Uint8Array(0), performance.now() - t0, err);
      throw err;
    }
    this.emit(apdu, response, performance.now() - t0);
    return response;
  }

  private emit(cmd: Uint8Array, response: Uint8Array, ms: number, error?: Error): void {
    if (this.listeners.size === 0) return;
    const r = Uint8Array.from(response);
    maskMyNumber(r);
    const sw =
      r.length >= 2
        ? ((r[r.length - 2]! << 8) | r[r.length - 1]!).toString(16).toUpperCase().padStart(4, '0')
        : undefined;
    const entry: ApduExchange = {
      command: redactCommand(cmd),
      response: r,
      ms,
      ...(sw !== undefined && !error ? { sw } : {}),
      ...(error ? { error } : {}),
    };
    for (const l of this.listeners) l(entry);
  }

  close(): Promise<void> | void {
    this.closed = true;
  }
}

/** A card object living in this process (the simulator's VirtualCard, a test double…). */
export interface ApduProcessor {
  transmit(apdu: Uint8Array): Uint8Array | Promise<Uint8Array>;
}

/** Direct calls into an in-process card: no I/O, for tests, demos and load. */
export class InProcessTransport extends BaseTransport {
  readonly description: string;
  private readonly card: ApduProcessor;

  constructor(card: ApduProcessor, name = 'in-process') {
    super();
    this.card = card;
    this.description = name;
  }

  protected async exchange(apdu: Uint8Array): Promise<Uint8Array> {
    try {
      return await this.card.transmit(Uint8Array.from(apdu));
    } catch (e) {
      if (e instanceof CardError) throw e;
      throw new CardRemoved(`the in-process card failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}
