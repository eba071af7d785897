// Good OCSP answers kept for reuse within a ceremony kind's window (config `ocspReuseSeconds`).
//
// They live in the database rather than in each process: every process then reuses the same
// answers, and the revocation monitor deletes a certificate's answers in the very transaction that
// records its revocation event, so from that commit on no process can reuse one. The cost is one
// indexed read per ceremony with a window (and a write after each fresh answer), against an OCSP
// round trip saved per reuse. A row is the issuer generation, the serial and the answer's times:
// nothing of the certificate or its holder.

import type { RevocationStatus } from '@kakunin/jpki';
import type { Queryable } from './db/sql.js';
import type { RevocationAnswers } from './verifier.js';

/** A kept answer (as read with a ceremony: ceremony-store.ts). */
export interface OcspAnswerRow {
  issuer_id: string;
  serial: string;
  checked_at: Date | string;
  this_update: Date | string | null;
  next_update: Date | string | null;
}

/** The kept answer of a certificate usable at `at`, among rows read earlier. */
function usable(
  rows: readonly OcspAnswerRow[],
  issuerId: string,
  serial: string,
  at: Date,
  maxAgeSeconds: number,
): OcspAnswerRow | undefined {
  const oldest = at.getTime() - maxAgeSeconds * 1000;
  return rows.find((r) => {
    const checked = new Date(r.checked_at).getTime();
    return (
      r.issuer_id === issuerId &&
      r.serial === serial &&
      checked > oldest &&
      checked <= at.getTime() &&
      (r.next_update === null || new Date(r.next_update).getTime() > at.getTime())
    );
  });
}

/**
 * The answers store. `prefetched`: the certificate's rows, read in the ceremony's one read before
 * the verification (ceremony-store.ts), so that finding one costs no round trip of its own.
 */
export function ocspAnswers(db: Queryable, prefetched?: readonly OcspAnswerRow[]): RevocationAnswers {
  return {
    find: async (issuerId, serial, at, maxAgeSeconds) => {
      const rows =
        prefetched ??
        (await db.query<OcspAnswerRow>(
          `SELECT issuer_id, serial, checked_at, this_update, next_update FROM ocsp_answers
         WHERE issuer_id = $1 AND serial = $2 AND checked_at > $3 AND checked_at <= $4 AND (next_update IS NULL OR next_update > $4)`,
          [issuerId, serial, new Date(at.getTime() - maxAgeSeconds * 1000), at],
        ));
      const row = usable(rows, issuerId, serial, at, maxAgeSeconds);
      if (!row) return undefined;
      return {
        status: 'good',
        source: 'ocsp',
        checkedAt: new Date(row.checked_at),
        ...(row.this_update ? { thisUpdate: new Date(row.this_update) } : {}),
        ...(row.next_update ? { nextUpdate: new Date(row.next_update) } : {}),
      } satisfies RevocationStatus;
    },
    remember: async (issuerId, serial, status) => {
      // Not for a certificate the monitor already found revoked: a ceremony whose fresh answer
      // crossed the monitor's revocation event must not bring a good answer back after it.
      await db.query(
        `INSERT INTO ocsp_answers (issuer_id, serial, checked_at, this_update, next_update)
         SELECT $1, $2, $3, $4, $5
         WHERE NOT EXISTS (SELECT 1 FROM monitored_certificates WHERE issuer_id = $1 AND serial = $2 AND status = 'revoked')
         ON CONFLICT (issuer_id, serial) DO UPDATE
           SET checked_at = EXCLUDED.checked_at, this_update = EXCLUDED.this_update, next_update = EXCLUDED.next_update
           WHERE ocsp_answers.checked_at < EXCLUDED.checked_at`,
        [issuerId, serial, status.checkedAt, status.thisUpdate ?? null, status.nextUpdate ?? null],
      );
    },
  };
}

/**
 * Forgets the kept answers of a revoked certificate and of every other certificate of its subject
 * (a lost card revokes both of its certificates; the monitor watches only the signing one). Call it
 * in the transaction that records the revocation event.
 */
export async function forgetOcspAnswers(
  tx: Queryable,
  o: { issuerId: string; serial: string; subjectId: string },
): Promise<number> {
  const gone = await tx.query(
    `DELETE FROM ocsp_answers
     WHERE (issuer_id = $1 AND serial = $2) OR (issuer_id, serial) IN (SELECT issuer_id, serial FROM subject_certificates WHERE subject_id = $3)
     RETURNING serial`,
    [o.issuerId, o.serial, o.subjectId],
  );
  return gone.length;
}

/** Deletes answers checked before `before` (no window reaches them). */
export async function purgeOcspAnswers(db: Queryable, before: Date): Promise<number> {
  return (await db.query('DELETE FROM ocsp_answers WHERE checked_at < $1 RETURNING serial', [before])).length;
}
