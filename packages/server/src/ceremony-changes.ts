// Ceremony progress pushed to the ceremony pages that follow it, instead of every stream polling the
// database. Each statement that creates a ceremony or changes its state or stage notifies
// CEREMONY_CHANNEL with the ceremony's interaction uid at commit (ceremony-store.ts); PostgreSQL delivers
// that to every process listening on the database, PGlite to its own process. A process listens once
// and reads an interaction's ceremony once per notification, however many streams follow it.

import type { FastifyBaseLogger } from 'fastify';
import { CEREMONY_CHANNEL, ceremonyOfInteraction, type Ceremony } from './ceremony-store.js';
import type { Database } from './db/sql.js';

/** Re-read at this period even without a notification: a lost one must not freeze a page for long. */
export const RECHECK_MS = 20_000;

export type Follower = (ceremony: Ceremony) => void;

interface Followed {
  readonly uid: string;
  readonly followers: Set<Follower>;
  readonly recheck: NodeJS.Timeout;
  reading: boolean;
  /** A notification came while reading: what was read may predate it. */
  again: boolean;
}

export class CeremonyChanges {
  private readonly followed = new Map<string, Followed>();
  private unlisten: (() => Promise<void>) | undefined;
  private readonly db: Database;
  private readonly log: FastifyBaseLogger;
  private readonly recheckMs: number;

  private constructor(db: Database, log: FastifyBaseLogger, recheckMs: number) {
    this.db = db;
    this.log = log;
    this.recheckMs = recheckMs;
  }

  /** Starts listening on the database; `close()` stops. */
  static async start(db: Database, log: FastifyBaseLogger, o: { recheckMs?: number } = {}): Promise<CeremonyChanges> {
    const changes = new CeremonyChanges(db, log, o.recheckMs ?? RECHECK_MS);
    changes.unlisten = await db.listen(CEREMONY_CHANNEL, {
      message: (uid) => {
        const f = changes.followed.get(uid);
        if (f) changes.read(f);
      },
      gap: () => {
        log.info('ceremony change listener reconnected; re-reading followed ceremonies');
        for (const f of changes.followed.values()) changes.read(f);
      },
      error: (e) =>
        log.warn(
          { err: e },
          'ceremony change listener lost its database connection; reconnecting (pages fall back to a re-check every %d s)',
          Math.round(changes.recheckMs / 1000),
        ),
    });
    return changes;
  }

  /**
   * Calls `fn` with the newest ceremony of the interaction: soon after following (once read), after
   * every change, and every re-check period. Returns the function that stops following.
   */
  follow(uid: string, fn: Follower): () => void {
    let f = this.followed.get(uid);
    if (!f) {
      const recheck = setInterval(() => this.read(entry), this.recheckMs);
      recheck.unref();
      const entry: Followed = { uid, followers: new Set(), recheck, reading: false, again: false };
      this.followed.set(uid, entry);
      f = entry;
    }
    const followed = f;
    followed.followers.add(fn);
    this.read(followed);
    return () => {
      followed.followers.delete(fn);
      if (followed.followers.size > 0 || this.followed.get(uid) !== followed) return;
      clearInterval(followed.recheck);
      this.followed.delete(uid);
    };
  }

  /** One read at a time per interaction; notifications during it cause one more. */
  private read(f: Followed): void {
    if (f.reading) {
      f.again = true;
      return;
    }
    f.reading = true;
    void (async () => {
      do {
        f.again = false;
        try {
          const ceremony = await ceremonyOfInteraction(this.db, f.uid);
          if (ceremony) for (const fn of [...f.followers]) fn(ceremony);
        } catch (e) {
          // The next notification or re-check reads again.
          this.log.warn({ err: e }, 'reading a followed ceremony failed');
        }
      } while (f.again && f.followers.size > 0);
      f.reading = false;
    })();
  }

  async close(): Promise<void> {
    for (const f of this.followed.values()) clearInterval(f.recheck);
    this.followed.clear();
    const unlisten = this.unlisten;
    this.unlisten = undefined;
    await unlisten?.();
  }
}
