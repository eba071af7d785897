// Keeps the CRLs of the configured sources fresh in every server process.
//
// Fetching is a job (queue `crl-refresh`): each process computes, from the shared `crl_sources`
// row, when a source is next due (nextUpdate − refreshAhead, or lastAttempt + retry after a failed
// or fruitless try) and enqueues one job whose dedupe key names that time, so however many
// processes there are, one of them fetches per due CRL. The job verifies the CRL against its trust
// anchor and stores it only if it is newer. Every process then installs the newest stored CRL into
// its own CrlChecker (at start, after its own job, and on a cheap poll of the table), which swaps
// the list so lookups in flight keep the index they started with.
//
// Lookups keep the last good CRL until nextUpdate + grace; past that they fail closed with
// RevocationUnavailable saying which CRL expired when, and how the last refresh went.

import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import {
  CrlChecker,
  CrlIndex,
  RevocationUnavailable,
  crlDer,
  isJpkiError,
  type CertificateReference,
  type RevocationChecker,
  type RevocationStatus,
  type TrustAnchor,
  type TrustStore,
  type X509Certificate,
} from '@kakunin/jpki';
import { MAX_CRL_BYTES, httpCrlFetcher, type CrlFetcher } from '@kakunin/jpki/http';
import type { Database } from '../db/sql.js';
import { enqueue } from '../jobs/queue.js';
import { silentLogger, Worker, type Logger, type QueueConfig } from '../jobs/worker.js';
import type { CrlSource } from './sources.js';
import { readCrlDer, readCrlStates, recordAttempt, storeCrl, type StoredCrlState } from './store.js';

export const CRL_REFRESH_QUEUE = 'crl-refresh';

export interface CrlRefreshSettings {
  /** Fetch this long before nextUpdate. */
  refreshAheadSeconds: number;
  /** Answer from the last good CRL until nextUpdate + this. */
  graceSeconds: number;
  /** After a failed or fruitless refresh, try again this much later. */
  retrySeconds: number;
}

/** Why a refresh brought no new CRL: the source failed, the CRL is not acceptable, or it is not newer. */
export class CrlRefreshError extends Error {
  readonly code: 'CRL_FETCH_FAILED' | 'CRL_INVALID' | 'CRL_NOT_NEWER';
  constructor(code: 'CRL_FETCH_FAILED' | 'CRL_INVALID' | 'CRL_NOT_NEWER', message: string) {
    super(message);
    this.code = code;
    this.name = 'CrlRefreshError';
  }
}

/** The hook for whoever needs to know that a CRL changed (e.g. to diff successive CRLs). */
export interface CrlInstalled {
  source: CrlSource;
  /** Label of the trust anchor that signed it. */
  issuer: string;
  index: CrlIndex;
  /** The CRL this one replaced in this process, if any. */
  previous: CrlIndex | undefined;
  at: Date;
}

export type CrlSourceState = 'fresh' | 'grace' | 'expired' | 'missing';

export interface CrlSourceStatus {
  key: string;
  kind: 'url' | 'file';
  location: string;
  /** The anchor label of the installed CRL, else the configured one. */
  issuer: string | null;
  /** fresh: before nextUpdate; grace: past nextUpdate, within the grace; expired: lookups fail closed; missing: none installed. */
  state: CrlSourceState;
  /** Whether this source keeps the process ready (false when expired, or missing after a failure). */
  ready: boolean;
  thisUpdate: Date | null;
  nextUpdate: Date | null;
  /** nextUpdate + grace. */
  usableUntil: Date | null;
  crlNumber: string | null;
  entries: number | null;
  lastAttemptAt: Date | null;
  lastSuccessAt: Date | null;
  lastFailureAt: Date | null;
  /** The last refresh's error, or why the stored CRL could not be installed here. */
  lastError: string | null;
  nextRefreshAt: Date;
}

export interface CrlRefresherOptions {
  db: Database;
  trustStore: TrustStore;
  sources: readonly CrlSource[];
  settings: CrlRefreshSettings;
  clock?: () => Date;
  fetcher?: CrlFetcher;
  log?: Logger;
  /** How often the table is polled for CRLs other processes stored (default 5000 ms). */
  syncMs?: number;
  /** Worker poll interval (default 1000 ms). */
  pollMs?: number;
}

interface Installed {
  index: CrlIndex;
  sha256: string;
  issuer: string;
}

const iso = (d: Date): string => d.toISOString();
const sha256Hex = (der: Uint8Array): string => createHash('sha256').update(der).digest('hex');
const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export class CrlRefresher {
  /** What the verifier asks: the installed CRLs, failing closed with the reason spelled out. */
  readonly checker: RevocationChecker;
  private readonly lookups: CrlChecker;
  private readonly clock: () => Date;
  private readonly fetcher: CrlFetcher;
  private log: Logger;
  private jobs: Worker | undefined;
  private readonly byKey: Map<string, CrlSource>;
  private readonly installed = new Map<string, Installed>();
  /** Stored CRLs this process could not install, by source: [sha256, reason] (not retried until the row changes). */
  private readonly installErrors = new Map<string, [string, string]>();
  private readonly scheduled = new Map<string, string>();
  private readonly listeners = new Set<(e: CrlInstalled) => void>();
  private rows = new Map<string, StoredCrlState>();
  private syncing: Promise<void> | undefined;
  private again: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly o: CrlRefresherOptions;

  constructor(o: CrlRefresherOptions) {
    this.o = o;
    this.clock = o.clock ?? (() => new Date());
    this.fetcher = o.fetcher ?? httpCrlFetcher();
    this.log = o.log ?? silentLogger;
    this.byKey = new Map(o.sources.map((s) => [s.key, s]));
    this.lookups = new CrlChecker([], o.settings.graceSeconds);
    this.checker = { check: (certificate, issuer, at) => this.check(certificate, issuer, at) };
  }

  /** The worker of the `crl-refresh` queue (made on first use, with the logger `start` was given). */
  get worker(): Worker {
    this.jobs ??= new Worker({
      db: this.o.db,
      log: this.log,
      clock: this.clock,
      ...(this.o.pollMs !== undefined ? { pollMs: this.o.pollMs } : {}),
      queues: { [CRL_REFRESH_QUEUE]: this.queue() },
    });
    return this.jobs;
  }

  get sources(): readonly CrlSource[] {
    return this.o.sources;
  }

  /** Installs what is stored, then keeps polling; with `runJobs`, this process also fetches due CRLs. */
  async start(o: { runJobs: boolean; log?: Logger }): Promise<void> {
    if (o.log) this.log = o.log;
    await this.sync();
    if (o.runJobs) this.worker.start();
    this.timer = setInterval(
      () => void this.sync().catch((e: unknown) => this.log.warn({ err: e }, 'CRL sync failed; trying again shortly')),
      this.o.syncMs ?? 5000,
    );
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.jobs?.stop();
    await this.syncing?.catch(() => undefined);
  }

  /** Called with every CRL this process installs (the first one of a source too, with no previous). */
  onInstalled(listener: (e: CrlInstalled) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The CRL of a source installed in this process, with the label of its anchor and its SHA-256. */
  installedCrl(sourceKey: string): { index: CrlIndex; sha256: string; issuer: string } | undefined {
    return this.installed.get(sourceKey);
  }

  /**
   * Fetches every source now, whatever its schedule: the sandbox calls it when the simulator's state
   * changes, so a life event's CRL is seen in seconds (production keeps its schedule). `token`
   * names the change, so processes reacting to the same change enqueue one job per source; a job
   * finding the source fetched since it was asked for (by the schedule, say) does nothing.
   */
  async refreshNow(token: string): Promise<void> {
    for (const source of this.o.sources) {
      await enqueue(
        this.o.db,
        CRL_REFRESH_QUEUE,
        { source: source.key, force: this.clock().getTime() },
        { dedupeKey: `${CRL_REFRESH_QUEUE}:${source.key}:now:${token}` },
      );
    }
    this.jobs?.wake();
  }

  /** Schedules and runs every due refresh now and installs the result (tests, one-shot runs). */
  async runDue(): Promise<number> {
    await this.sync();
    return this.worker.drain();
  }

  /**
   * Reads the table, installs newer stored CRLs and schedules due refreshes. One pass at a time; a
   * call during a pass gets a fresh pass after it (it may have been made because the table changed).
   */
  sync(): Promise<void> {
    if (this.syncing) {
      this.again ??= this.syncing
        .catch(() => undefined)
        .then(() => {
          this.again = undefined;
          return this.sync();
        });
      return this.again;
    }
    this.syncing = this.syncOnce().finally(() => (this.syncing = undefined));
    return this.syncing;
  }

  private async syncOnce(): Promise<void> {
    this.rows = await readCrlStates(this.o.db, [...this.byKey.keys()]);
    for (const source of this.o.sources) {
      const row = this.rows.get(source.key);
      if (row?.sha256 && row.thisUpdate) await this.install(source, row);
    }
    await this.schedule();
  }

  private async install(source: CrlSource, row: StoredCrlState): Promise<void> {
    const current = this.installed.get(source.key);
    const sha256 = row.sha256!;
    if (current?.sha256 === sha256 || this.installErrors.get(source.key)?.[0] === sha256) return;
    if (current && row.thisUpdate! <= current.index.info.thisUpdate) return;
    const der = await readCrlDer(this.o.db, source.key, sha256);
    if (!der) return; // replaced since the read: the next sync sees the newer one
    const now = this.clock();
    try {
      const anchor = this.o.trustStore.list().find((a) => a.label === row.issuer);
      if (!anchor) throw new Error(`no trust anchor is labelled ${row.issuer ?? '(none)'} in this process`);
      const index = CrlIndex.load(der, {
        issuer: anchor.certificate.x509,
        at: now,
        graceSeconds: this.o.settings.graceSeconds,
      });
      this.lookups.add(index); // swaps the list: lookups in flight keep theirs
      this.installed.set(source.key, { index, sha256, issuer: anchor.label });
      this.installErrors.delete(source.key);
      this.log.info(
        {
          source: source.location,
          issuer: anchor.label,
          thisUpdate: index.info.thisUpdate,
          nextUpdate: index.info.nextUpdate,
          crlNumber: index.info.crlNumber,
          previousThisUpdate: current?.index.info.thisUpdate,
        },
        'CRL installed',
      );
      const event: CrlInstalled = { source, issuer: anchor.label, index, previous: current?.index, at: now };
      for (const listener of this.listeners) {
        try {
          listener(event);
        } catch (e) {
          this.log.error({ err: e, source: source.location }, 'a CRL install listener failed');
        }
      }
    } catch (e) {
      this.installErrors.set(source.key, [sha256, `the stored CRL could not be installed: ${message(e)}`]);
      this.log.warn({ err: e, source: source.location }, 'stored CRL not installed');
    }
  }

  /** When a source is next due: ahead of nextUpdate, but never sooner than retry after the last try. */
  private dueAt(row: StoredCrlState | undefined): Date {
    const { refreshAheadSeconds, retrySeconds } = this.o.settings;
    const ahead = row?.nextUpdate ? row.nextUpdate.getTime() - refreshAheadSeconds * 1000 : 0;
    const retry = row?.lastAttemptAt ? row.lastAttemptAt.getTime() + retrySeconds * 1000 : 0;
    return new Date(Math.max(ahead, retry));
  }

  private async schedule(): Promise<void> {
    let wake = false;
    for (const source of this.o.sources) {
      const runAt = this.dueAt(this.rows.get(source.key));
      // The due time is part of the key: every process enqueues the same job, which exists once.
      const dedupeKey = `${CRL_REFRESH_QUEUE}:${source.key}:${runAt.getTime() / 1000}`;
      if (this.scheduled.get(source.key) === dedupeKey) continue;
      await enqueue(this.o.db, CRL_REFRESH_QUEUE, { source: source.key }, { runAt, dedupeKey });
      this.scheduled.set(source.key, dedupeKey);
      wake ||= runAt <= this.clock();
    }
    if (wake) this.jobs?.wake();
  }

  private queue(): QueueConfig<{ source: string; force?: number }> {
    return {
      handler: async (job, ctx) => {
        const source = this.byKey.get(job.payload.source);
        if (!source)
          return void ctx.log.warn(
            { source: job.payload.source },
            'CRL refresh job for a source this process does not know; skipped',
          );
        const [row] = (await readCrlStates(ctx.db, [source.key])).values();
        // Another job of this source already ran (its due time moved on): nothing to do.
        const { force } = job.payload;
        if (force === undefined ? this.dueAt(row) > ctx.now : (row?.lastAttemptAt?.getTime() ?? -1) >= force) return;
        await this.refresh(source, row, ctx.now);
        await this.sync();
      },
      // A CRL of millions of entries takes seconds to download and verify.
      lockSeconds: 900,
      maxAttempts: 3,
    };
  }

  /** Fetches, verifies and stores one source's CRL; a failure is recorded on the source, not thrown. */
  async refresh(
    source: CrlSource,
    current: StoredCrlState | undefined,
    now = this.clock(),
  ): Promise<'stored' | 'unchanged' | 'failed'> {
    try {
      const der = crlDer(await this.read(source));
      const sha256 = sha256Hex(der);
      if (sha256 === current?.sha256) {
        // The source still serves what we have: not an error until that CRL is out of date.
        if (current.nextUpdate && now > current.nextUpdate) {
          throw new CrlRefreshError(
            'CRL_NOT_NEWER',
            `the source still serves the CRL of thisUpdate ${iso(current.thisUpdate!)}, past its nextUpdate ${iso(current.nextUpdate)}`,
          );
        }
        await recordAttempt(this.o.db, source.key, now);
        return 'unchanged';
      }
      const { index, anchor } = this.verify(source, der, now);
      const { thisUpdate, nextUpdate, crlNumber, authorityKeyId } = index.info;
      if (current?.thisUpdate) assertNewer(index, current);
      const stored = await storeCrl(
        this.o.db,
        source.key,
        {
          issuer: anchor.label,
          authorityKeyId: authorityKeyId ?? null,
          crlNumber: crlNumber ?? null,
          thisUpdate,
          nextUpdate: nextUpdate!,
          sha256,
          der,
        },
        now,
      );
      // Not stored: a newer CRL was stored meanwhile by another refresher.
      if (!stored) await recordAttempt(this.o.db, source.key, now);
      this.log.info(
        { source: source.location, issuer: anchor.label, thisUpdate, nextUpdate, crlNumber, entries: index.size },
        stored ? 'CRL refreshed' : 'CRL refreshed; a newer one was already stored',
      );
      return stored ? 'stored' : 'unchanged';
    } catch (e) {
      const error = message(e);
      await recordAttempt(this.o.db, source.key, now, error);
      this.log.warn({ source: source.location, error }, 'CRL refresh failed; the last good CRL stays');
      return 'failed';
    }
  }

  private async read(source: CrlSource): Promise<Uint8Array> {
    if (source.kind === 'url') return this.fetcher(source.location);
    const { size } = await stat(source.location);
    if (size > MAX_CRL_BYTES) throw new Error(`the CRL file is ${size} bytes, more than ${MAX_CRL_BYTES}`);
    return readFile(source.location);
  }

  /** The CRL verified by its anchor (the named one, or whichever anchor's key verifies it). */
  private verify(source: CrlSource, der: Uint8Array, now: Date): { index: CrlIndex; anchor: TrustAnchor } {
    const anchors = this.o.trustStore.list().filter((a) => !source.issuer || a.label === source.issuer);
    if (anchors.length === 0) throw new CrlRefreshError('CRL_INVALID', `no trust anchor is labelled ${source.issuer}`);
    let telling: unknown;
    for (const anchor of anchors) {
      try {
        return {
          index: CrlIndex.load(der, {
            issuer: anchor.certificate.x509,
            at: now,
            graceSeconds: this.o.settings.graceSeconds,
          }),
          anchor,
        };
      } catch (e) {
        // "Another issuer's name" says least; any other error (bad signature, stale, malformed) tells more.
        if (!telling || (isJpkiError(telling) && telling.code === 'UNTRUSTED_ISSUER')) telling = e;
      }
    }
    const who = source.issuer ? `its trust anchor ${source.issuer}` : 'any trust anchor';
    throw new CrlRefreshError('CRL_INVALID', `refused a CRL not verified by ${who}: ${message(telling)}`);
  }

  private async check(certificate: CertificateReference, issuer: X509Certificate, at: Date): Promise<RevocationStatus> {
    try {
      return await this.lookups.check(certificate, issuer, at);
    } catch (e) {
      if (!(e instanceof RevocationUnavailable)) throw e;
      const why = this.explain(issuer, at);
      throw why ? new RevocationUnavailable(why) : e;
    }
  }

  /** Why no CRL of `issuer` answers at `at`: each of its sources with its expiry and last refresh. */
  private explain(issuer: X509Certificate, at: Date): string | undefined {
    const labels = new Set(
      this.o.trustStore
        .list()
        .filter(
          (a) =>
            Buffer.from(a.certificate.x509.subject.der).equals(issuer.subject.der) &&
            a.certificate.x509.serial === issuer.serial,
        )
        .map((a) => a.label),
    );
    const reasons: string[] = [];
    for (const source of this.o.sources) {
      const installed = this.installed.get(source.key);
      const label = installed?.issuer ?? source.issuer;
      // A source that never delivered and names no issuer may be this issuer's: it is mentioned too.
      if (label ? !labels.has(label) : false) continue;
      let what: string;
      if (installed) {
        const usableUntil = this.usableUntil(installed.index);
        if (at <= usableUntil) continue;
        what = `the CRL of ${label} expired at ${iso(usableUntil)} (nextUpdate ${iso(installed.index.info.nextUpdate!)} + ${this.o.settings.graceSeconds} s grace)`;
      } else {
        what = label ? `no CRL of ${label} is loaded` : 'a source whose issuer is not known yet has delivered no CRL';
      }
      reasons.push(`${what}; ${this.lastRefresh(source)}`);
    }
    return reasons.length ? reasons.join('; ') : undefined;
  }

  private lastRefresh(source: CrlSource): string {
    const row = this.rows.get(source.key);
    const from = `${source.kind === 'url' ? 'URL' : 'file'} ${source.location}`;
    const installError = this.installErrors.get(source.key)?.[1];
    if (row?.lastError && row.lastFailureAt)
      return `the last refresh from ${from} failed at ${iso(row.lastFailureAt)}: ${row.lastError}`;
    if (installError) return `${installError} (from ${from})`;
    if (row?.lastSuccessAt) return `the last refresh from ${from} at ${iso(row.lastSuccessAt)} brought no newer CRL`;
    return `no refresh from ${from} has finished yet`;
  }

  private usableUntil(index: CrlIndex): Date {
    return new Date(index.info.nextUpdate!.getTime() + this.o.settings.graceSeconds * 1000);
  }

  /** Every source as this process sees it now (readiness, metrics, the admin console). */
  status(now = this.clock()): CrlSourceStatus[] {
    return this.o.sources.map((source) => {
      const row = this.rows.get(source.key);
      const installed = this.installed.get(source.key);
      const info = installed?.index.info;
      const usableUntil = installed ? this.usableUntil(installed.index) : null;
      const state: CrlSourceState = !info
        ? 'missing'
        : now <= info.nextUpdate!
          ? 'fresh'
          : now <= usableUntil!
            ? 'grace'
            : 'expired';
      const lastError = row?.lastError ?? this.installErrors.get(source.key)?.[1] ?? null;
      return {
        key: source.key,
        kind: source.kind,
        location: source.location,
        issuer: installed?.issuer ?? source.issuer ?? null,
        state,
        ready: state !== 'expired' && !(state === 'missing' && lastError !== null),
        thisUpdate: info?.thisUpdate ?? null,
        nextUpdate: info?.nextUpdate ?? null,
        usableUntil,
        crlNumber: info?.crlNumber ?? null,
        entries: installed ? installed.index.size : null,
        lastAttemptAt: row?.lastAttemptAt ?? null,
        lastSuccessAt: row?.lastSuccessAt ?? null,
        lastFailureAt: row?.lastFailureAt ?? null,
        lastError,
        nextRefreshAt: this.dueAt(row),
      };
    });
  }
}

/** Refuses a CRL that is not newer than the stored one (by thisUpdate, and by cRLNumber when both have one). */
function assertNewer(index: CrlIndex, current: StoredCrlState): void {
  const { thisUpdate, crlNumber } = index.info;
  const olderNumber =
    crlNumber && current.crlNumber ? BigInt(`0x${crlNumber}`) <= BigInt(`0x${current.crlNumber}`) : false;
  if (thisUpdate <= current.thisUpdate! || olderNumber) {
    throw new CrlRefreshError(
      'CRL_NOT_NEWER',
      `refused a CRL older than the one in use (thisUpdate ${iso(thisUpdate)}, number ${crlNumber ?? 'none'}; in use: thisUpdate ${iso(current.thisUpdate!)}, number ${current.crlNumber ?? 'none'})`,
    );
  }
}
