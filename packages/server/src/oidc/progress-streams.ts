// The ceremony page's live progress (`/interaction/{uid}/events`, server-sent events), bounded: each
// process serves at most `perCeremony` streams of one interaction and `perAddress` streams to one
// client address (0: no limit). Beyond either, the stream is refused with 429 and Retry-After before
// anything is written: refusing the newcomer (rather than closing the oldest) never lets new streams
// churn the ones already open, and the page falls back to polling `/status` when its stream fails.
// Streams read nothing themselves; CeremonyChanges feeds them.

import type { ServerResponse } from 'node:http';
import type { Ceremony } from '../ceremony-store.js';
import { statusView } from '../ceremony-views.js';
import type { CeremonyChanges } from '../ceremony-changes.js';
import { ServerError } from '../errors.js';

export interface StreamLimits {
  perCeremony: number;
  perAddress: number;
}

/** A refused stream may be tried again after this long (an open one ends when its page closes). */
export const STREAM_RETRY_AFTER_SECONDS = 10;
/** A stream ends after this long at most (the page then polls `/status`). */
const MAX_STREAM_MS = 15 * 60_000;

export class TooManyStreams extends ServerError {
  readonly retryAfterSeconds = STREAM_RETRY_AFTER_SECONDS;
  constructor(per: 'ceremony' | 'address', limit: number) {
    super(
      'TOO_MANY_STREAMS',
      429,
      `too many progress streams for this ${per} (at most ${limit} open at once); close another page or try again in ${STREAM_RETRY_AFTER_SECONDS} s`,
      `進行状況の接続が多すぎます(同時に${limit}まで)。他の画面を閉じるか、${STREAM_RETRY_AFTER_SECONDS}秒後にお試しください`,
      { per, limit, retryAfterSeconds: STREAM_RETRY_AFTER_SECONDS },
    );
  }
}

/** Open streams per key, up to a limit. */
class Slots {
  private readonly open = new Map<string, number>();
  readonly limit: number;
  constructor(limit: number) {
    this.limit = limit;
  }

  take(key: string): boolean {
    const n = this.open.get(key) ?? 0;
    if (this.limit > 0 && n >= this.limit) return false;
    this.open.set(key, n + 1);
    return true;
  }

  release(key: string): void {
    const n = (this.open.get(key) ?? 1) - 1;
    if (n > 0) this.open.set(key, n);
    else this.open.delete(key);
  }
}

export class ProgressStreams {
  private readonly perCeremony: Slots;
  private readonly perAddress: Slots;
  private readonly ends = new Set<() => void>();
  private readonly changes: CeremonyChanges;

  constructor(changes: CeremonyChanges, limits: StreamLimits) {
    this.changes = changes;
    this.perCeremony = new Slots(limits.perCeremony);
    this.perAddress = new Slots(limits.perAddress);
  }

  /** Reserves a stream of interaction `uid` for `address`; throws TooManyStreams over a limit. The function returned gives it back. */
  admit(uid: string, address: string): () => void {
    if (!this.perCeremony.take(uid)) throw new TooManyStreams('ceremony', this.perCeremony.limit);
    if (!this.perAddress.take(address)) {
      this.perCeremony.release(uid);
      throw new TooManyStreams('address', this.perAddress.limit);
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.perCeremony.release(uid);
      this.perAddress.release(address);
    };
  }

  /**
   * Streams the interaction's ceremony view on `res` (admitted first) until the ceremony is finished
   * or expired, the client goes away, the stream is too old, or `close()`.
   */
  serve(uid: string, res: ServerResponse, release: () => void): void {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    let last = '';
    let ended = false;
    let expiry: NodeJS.Timeout | undefined;
    const end = (): void => {
      if (ended) return;
      ended = true;
      unfollow();
      clearTimeout(expiry);
      clearTimeout(deadline);
      this.ends.delete(end);
      release();
      res.end();
    };
    const show = (ceremony: Ceremony): void => {
      if (ended) return;
      const now = Date.now();
      const view = JSON.stringify(statusView(ceremony, new Date(now)));
      if (view !== last) {
        last = view;
        res.write(`data: ${view}\n\n`);
      }
      clearTimeout(expiry);
      if (ceremony.state !== 'pending' || ceremony.expiresAt.getTime() <= now) return end();
      // Expiry is not a write, so nothing announces it: show it from what was read.
      expiry = setTimeout(() => show(ceremony), Math.min(ceremony.expiresAt.getTime() - now + 1, MAX_STREAM_MS));
    };
    const deadline = setTimeout(end, MAX_STREAM_MS);
    this.ends.add(end);
    res.on('close', end);
    // `show` and `end` run only from events and timers, after this has returned.
    const unfollow = this.changes.follow(uid, show);
    if (!res.socket || res.socket.destroyed) end(); // the client left before 'close' could be heard
  }

  /** Ends every open stream (server shutdown). */
  close(): void {
    for (const end of [...this.ends]) end();
  }
}
