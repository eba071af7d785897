// Retention of verification records. A record is kept for its framework's period counted from the
// end of the RP–subject relationship (or from its own creation when it was made after that end),
// and a rejected attempt with no relationship counts from its creation. Nothing of an open
// relationship is ever purged. A purge only blanks the payload: the row and its hashes stay, so
// the chain still verifies, and a `retention_purge` note in the chain names every blanked record.

import type { Database, Queryable } from '../db/sql.js';
import { NotFound } from '../errors.js';
import { PURGE_EVENT } from './chain.js';
import { appendRecord, type AppendedRecord } from './log.js';

export interface RetentionPolicy {
  years: number;
  basis: string;
}

export const RETENTION: Readonly<Record<string, RetentionPolicy>> = {
  jp_aml: { years: 7, basis: '犯罪収益移転防止法第6条第2項(特定取引等に係る契約が終了した日から7年間)' },
  jp_mpiupa: { years: 3, basis: '携帯電話不正利用防止法第4条第2項(役務提供契約が終了した日から3年間)' },
};

/** Frameworks without a statutory period (municipal and others): a platform default, not a legal rule. */
export const DEFAULT_RETENTION: RetentionPolicy = {
  years: 1,
  basis: 'Kakunin default: 1 year after the relationship ends (個人情報保護法22条: delete data no longer needed)',
};

export const retentionPolicy = (framework: string): RetentionPolicy => RETENTION[framework] ?? DEFAULT_RETENTION;

const JST_MS = 9 * 3600_000;
const jstParts = (d: Date): [number, number, number] => {
  const j = new Date(d.getTime() + JST_MS);
  return [j.getUTCFullYear(), j.getUTCMonth(), j.getUTCDate()];
};
const jstMidnight = (y: number, m: number, d: number): Date => new Date(Date.UTC(y, m, d) - JST_MS);

/**
 * The first instant after a retention period of `years` counted from `start`, in Japan time. 民法140条:
 * the first day is not counted; 143条2項: the period ends with the day before the corresponding day
 * (the last day of the month when there is none, which Date.UTC's roll-over of 29 Feb gives).
 */
export function retentionEnd(start: Date, years: number): Date {
  const [y, m, d] = jstParts(start);
  const first = new Date(Date.UTC(y, m, d + 1));
  return jstMidnight(first.getUTCFullYear() + years, first.getUTCMonth(), first.getUTCDate());
}

/** The instant such that a period starting before it has ended by `now` (retentionEnd is monotonic by day). */
export function retentionCutoff(now: Date, years: number): Date {
  const [y, m, d] = jstParts(now);
  let day = d + 2; // retentionEnd of this day is after `now`; step back to the last day that has ended
  while (retentionEnd(jstMidnight(y - years, m, day), years).getTime() > now.getTime()) day--;
  return jstMidnight(y - years, m, day + 1);
}

export interface RelationshipEnd {
  /** The note appended to the chain; null when nothing changed (the relationship already ended at that instant). */
  record: AppendedRecord | null;
  endedAt: Date;
  previousEndedAt: Date | null;
  framework: string;
  /** Records of the relationship are kept until this instant (those made later, longer). */
  retainedUntil: Date;
  /** Watched certificates of the pair whose monitoring stopped now (status good → ended). */
  monitoringEnded: number;
}

export interface EndOptions {
  /** When the relationship has already ended, change nothing and answer its recorded end (an RP's "end it now" repeated). */
  ifOpen?: boolean;
}

/**
 * Ends (or re-dates the end of) the relationship between an RP and a subject and appends a note to
 * the log, so that the change itself is on record. Retention of their records counts from here.
 * Once the end has come, monitoring of the pair's certificates stops at once (the revocation
 * monitor would do it on its next run): revocation data may be used only for a live relationship.
 */
export async function endRelationship(
  db: Database,
  rpClientId: string,
  subjectId: string,
  at: Date,
  o: EndOptions = {},
): Promise<RelationshipEnd> {
  return db.transaction(async (tx) => {
    const [rp] = await tx.query<{ framework: string }>('SELECT framework FROM relying_parties WHERE client_id = $1', [
      rpClientId,
    ]);
    if (!rp) throw new NotFound(`no relying party ${rpClientId}`);
    const [subject] = await tx.query<{ id: string }>('SELECT id FROM subjects WHERE id = $1', [subjectId]);
    if (!subject) throw new NotFound(`no subject ${subjectId}`);
    const [before] = await tx.query<{ ended_at: Date | null }>(
      'SELECT ended_at FROM relationships WHERE rp_client_id = $1 AND subject_id = $2 FOR UPDATE',
      [rpClientId, subjectId],
    );
    const previousEndedAt = before?.ended_at ? new Date(before.ended_at) : null;
    const endedAt = o.ifOpen && previousEndedAt ? previousEndedAt : at;
    const policy = retentionPolicy(rp.framework);
    const done = {
      endedAt,
      previousEndedAt,
      framework: rp.framework,
      retainedUntil: retentionEnd(endedAt, policy.years),
    };
    // An end still to come (the admin API may set one) leaves it to the monitor's run after it.
    const stopMonitoring = async (): Promise<number> =>
      endedAt.getTime() > Date.now()
        ? 0
        : (
            await tx.query(
              `UPDATE monitored_certificates SET status = 'ended' WHERE rp_client_id = $1 AND subject_id = $2 AND status = 'good' RETURNING id`,
              [rpClientId, subjectId],
            )
          ).length;
    if (previousEndedAt?.getTime() === endedAt.getTime())
      return { record: null, ...done, monitoringEnded: await stopMonitoring() };
    await tx.query(
      `INSERT INTO relationships (rp_client_id, subject_id, started_at, ended_at)
       VALUES ($1, $2, LEAST($3::timestamptz, COALESCE((SELECT min(created_at) FROM records WHERE rp_client_id = $1 AND subject_id = $2), $3::timestamptz)), $3)
       ON CONFLICT (rp_client_id, subject_id) DO UPDATE SET ended_at = EXCLUDED.ended_at`,
      [rpClientId, subjectId, endedAt],
    );
    const record = await appendRecord(tx, {
      rpClientId,
      ceremonyId: null,
      subjectId,
      framework: rp.framework,
      outcome: 'note',
      payload: {
        event: 'relationship_ended',
        endedAt: endedAt.toISOString(),
        previousEndedAt: previousEndedAt?.toISOString() ?? null,
        retention: { years: policy.years, basis: policy.basis, until: done.retainedUntil.toISOString() },
      },
    });
    return { record, ...done, monitoringEnded: await stopMonitoring() };
  });
}

/** A relationship as the RP API and the admin console show it. */
export interface RelationshipView {
  rpClientId: string;
  subjectId: string;
  /** The RP's pairwise sub (null until filled, see fillRelationshipSubs). */
  rpSub: string | null;
  framework: string;
  startedAt: Date;
  endedAt: Date | null;
  /** When the end is known: the first instant after the retention period (Japan time, 民法140条・143条). */
  retainedUntil: Date | null;
  retention: RetentionPolicy;
  /** The latest relationship_ended note, when there is one. */
  endRecordId: string | null;
}

interface RelationshipRow {
  rp_client_id: string;
  subject_id: string;
  rp_sub: string | null;
  framework: string;
  started_at: Date;
  ended_at: Date | null;
  end_record_id: string | null;
}

const RELATIONSHIP_SELECT = `SELECT rel.rp_client_id, rel.subject_id, rel.rp_sub, rp.framework, rel.started_at, rel.ended_at,
    (SELECT r.id FROM records r WHERE r.subject_id = rel.subject_id AND r.rp_client_id = rel.rp_client_id AND r.outcome = 'note'
       AND r.payload->>'event' = 'relationship_ended' ORDER BY r.seq DESC LIMIT 1) AS end_record_id
  FROM relationships rel JOIN relying_parties rp ON rp.client_id = rel.rp_client_id`;

const relationshipView = (r: RelationshipRow): RelationshipView => {
  const retention = retentionPolicy(r.framework);
  const endedAt = r.ended_at ? new Date(r.ended_at) : null;
  return {
    rpClientId: r.rp_client_id,
    subjectId: r.subject_id,
    rpSub: r.rp_sub,
    framework: r.framework,
    startedAt: new Date(r.started_at),
    endedAt,
    retainedUntil: endedAt ? retentionEnd(endedAt, retention.years) : null,
    retention,
    endRecordId: r.end_record_id,
  };
};

/** The relationship of an RP with a platform subject, if there is one. */
export async function findRelationship(
  db: Queryable,
  rpClientId: string,
  subjectId: string,
): Promise<RelationshipView | undefined> {
  const [row] = await db.query<RelationshipRow>(
    `${RELATIONSHIP_SELECT} WHERE rel.rp_client_id = $1 AND rel.subject_id = $2`,
    [rpClientId, subjectId],
  );
  return row ? relationshipView(row) : undefined;
}

/** The relationship of an RP with the holder it knows by its pairwise `sub`, if there is one. */
export async function findRelationshipBySub(
  db: Queryable,
  rpClientId: string,
  rpSub: string,
): Promise<RelationshipView | undefined> {
  const [row] = await db.query<RelationshipRow>(
    `${RELATIONSHIP_SELECT} WHERE rel.rp_client_id = $1 AND rel.rp_sub = $2`,
    [rpClientId, rpSub],
  );
  return row ? relationshipView(row) : undefined;
}

/**
 * Fills the RP's pairwise sub of relationships that have none (written before migration 12, by an
 * older process, or by an admin's end of a relationship no ceremony made), `batchSize` rows per
 * statement in key order; safe to run in several processes at once. Returns the rows filled.
 */
export async function fillRelationshipSubs(
  db: Queryable,
  pairwise: (clientId: string, subjectId: string) => string,
  o: { rpClientId?: string; batchSize?: number; signal?: AbortSignal } = {},
): Promise<number> {
  const batch = Math.max(1, Math.min(o.batchSize ?? 1000, 10_000));
  let filled = 0;
  let after: [string, string] = ['', ''];
  while (!o.signal?.aborted) {
    const rows = await db.query<{ rp_client_id: string; subject_id: string }>(
      `SELECT rp_client_id, subject_id FROM relationships WHERE rp_sub IS NULL AND (rp_client_id, subject_id) > ($1, $2)
       ${o.rpClientId !== undefined ? 'AND rp_client_id = $4' : ''} ORDER BY rp_client_id, subject_id LIMIT $3`,
      [after[0], after[1], batch, ...(o.rpClientId !== undefined ? [o.rpClientId] : [])],
    );
    if (rows.length === 0) break;
    const values = rows.map((r) => ({
      c: r.rp_client_id,
      s: r.subject_id,
      sub: pairwise(r.rp_client_id, r.subject_id),
    }));
    const updated = await db.query(
      `UPDATE relationships rel SET rp_sub = v.sub FROM jsonb_to_recordset($1::jsonb) AS v(c text, s text, sub text)
       WHERE rel.rp_client_id = v.c AND rel.subject_id = v.s AND rel.rp_sub IS NULL RETURNING rel.subject_id`,
      [JSON.stringify(values)],
    );
    filled += updated.length;
    const last = rows.at(-1)!;
    after = [last.rp_client_id, last.subject_id];
    if (rows.length < batch) break;
  }
  return filled;
}

export interface PurgeOptions {
  now?: Date;
  dryRun?: boolean;
  /** Records per transaction (and per purge note); default 1000. */
  batchSize?: number;
  onProgress?: (purged: number) => void;
}

export interface PurgeResult {
  dryRun: boolean;
  now: Date;
  /** Records blanked (or, in a dry run, that would be). */
  purged: number;
  byFramework: Record<string, number>;
  /** Ids of the retention_purge notes appended (one per batch). */
  notes: string[];
}

// Frameworks with a statutory period get their own cutoff; every other framework shares the default.
function cutoffs(now: Date): { sql: string; params: Date[] } {
  const names = Object.keys(RETENTION);
  const params = names.map((f) => retentionCutoff(now, RETENTION[f]!.years));
  params.push(retentionCutoff(now, DEFAULT_RETENTION.years));
  const cases = names.map((f, i) => `WHEN '${f.replace(/'/g, "''")}' THEN $${i + 1}::timestamptz`).join(' ');
  return { sql: `CASE r.framework ${cases} ELSE $${names.length + 1}::timestamptz END`, params };
}

// When a record's retention starts: the later of the relationship's end and the record's creation;
// never while the relationship is open (GREATEST ignores NULLs, hence the inner CASE); from creation for a rejected attempt with no relationship.
// Notes without a relationship (platform notes such as purge logs) have no start: they are kept.
function expiredWhere(cutoffSql: string): string {
  return `r.purged_at IS NULL AND (CASE
      WHEN rel.rp_client_id IS NOT NULL THEN CASE WHEN rel.ended_at IS NOT NULL THEN GREATEST(rel.ended_at, r.created_at) END
      WHEN r.outcome = 'rejected' THEN r.created_at
    END) < ${cutoffSql}`;
}

const FROM =
  'records r LEFT JOIN relationships rel ON rel.rp_client_id = r.rp_client_id AND rel.subject_id = r.subject_id';

/**
 * Blanks the payload of every record strictly past its retention (UPDATE … SET payload = NULL, the
 * only update the append-only trigger allows), one batch per transaction, each batch logged by a
 * `retention_purge` note. `now` may not be in the future unless this is a dry run.
 */
export async function purgeExpired(db: Database, options: PurgeOptions = {}): Promise<PurgeResult> {
  const now = options.now ?? new Date();
  const dryRun = options.dryRun ?? false;
  if (Number.isNaN(now.getTime())) throw new RangeError('purgeExpired: invalid now');
  if (!dryRun && now.getTime() > Date.now() + 60_000)
    throw new RangeError(`purgeExpired: now (${now.toISOString()}) is in the future; only a dry run may look ahead`);
  const { sql: cutoffSql, params } = cutoffs(now);
  const byFramework: Record<string, number> = {};
  let purged = 0;
  const notes: string[] = [];

  if (dryRun) {
    const rows = await db.query<{ framework: string; n: string }>(
      `SELECT r.framework, count(*)::text AS n FROM ${FROM} WHERE ${expiredWhere(cutoffSql)} GROUP BY r.framework ORDER BY r.framework`,
      params,
    );
    for (const r of rows) {
      byFramework[r.framework] = Number(r.n);
      purged += Number(r.n);
    }
    return { dryRun, now, purged, byFramework, notes };
  }

  const batch = Math.max(1, Math.min(options.batchSize ?? 1000, 10_000));
  const nowIndex = params.length + 1;
  // `now` decides what has expired; purged_at and the note carry the real time of the purge.
  const purgedAt = new Date();
  while (true) {
    const done = await db.transaction(async (tx: Queryable) => {
      const rows = await tx.query<{ id: string; seq: string; framework: string }>(
        // MATERIALIZED: an IN (subquery) may be rescanned mid-update, and each rescan skips the rows
        // this statement already changed, so the LIMIT would not bound the batch.
        `WITH picked AS MATERIALIZED (
           SELECT r.seq FROM ${FROM} WHERE ${expiredWhere(cutoffSql)} ORDER BY r.seq LIMIT ${batch} FOR UPDATE OF r SKIP LOCKED
         )
         UPDATE records SET payload = NULL, purged_at = $${nowIndex}
         FROM picked WHERE records.seq = picked.seq AND records.purged_at IS NULL
         RETURNING records.id, records.seq::text AS seq, records.framework`,
        [...params, purgedAt],
      );
      if (rows.length === 0) return true;
      rows.sort((a, b) => (BigInt(a.seq) < BigInt(b.seq) ? -1 : 1));
      const frameworks: Record<string, number> = {};
      for (const r of rows) frameworks[r.framework] = (frameworks[r.framework] ?? 0) + 1;
      const note = await appendRecord(tx, {
        rpClientId: null,
        ceremonyId: null,
        subjectId: null,
        framework: 'platform',
        outcome: 'note',
        payload: {
          event: PURGE_EVENT,
          retentionEvaluatedAt: now.toISOString(),
          count: rows.length,
          byFramework: frameworks,
          records: rows.map((r) => r.id),
        },
        at: purgedAt,
      });
      notes.push(note.id);
      for (const [f, n] of Object.entries(frameworks)) byFramework[f] = (byFramework[f] ?? 0) + n;
      purged += rows.length;
      options.onProgress?.(purged);
      return rows.length < batch;
    });
    if (done) break;
  }
  return { dryRun, now, purged, byFramework, notes };
}
