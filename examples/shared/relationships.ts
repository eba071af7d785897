// The end of the business relationship with a holder, told to the platform with the RP's client
// credentials (POST /rp/v1/relationships/end): the platform stops monitoring the holder's
// certificates for this RP and the retention of its records starts. Plain fetch, HTTP Basic.

import { dayInJapan, dayWords, jstWords } from './japan.js';

/** What the platform answers (the same answer again for a repeated call). */
export interface RelationshipEnded {
  sub: string;
  /** When the relationship ended (ISO 8601). */
  ended_at: string;
  /** The first instant after the retention period, 00:00 JST (ISO 8601). */
  retained_until: string;
  framework: string;
  retention: { years: number; basis: string };
  /** The note in the platform's records log that recorded the end. */
  record_id: string | null;
}

export class RelationshipEndRefused extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// RFC 6749 §2.3.1: id and secret are form-encoded before Basic.
const form = (s: string): string => encodeURIComponent(s).replace(/%20/g, '+');

/**
 * Ends the relationship with the holder of `sub` (the pairwise sub of our ID tokens). Without
 * `endedAt` it ends now, or, when it has already ended, changes nothing and answers the recorded end.
 */
export async function endRelationship(
  o: { platformUrl: string; clientId: string; clientSecret: string },
  sub: string,
  endedAt?: Date,
): Promise<RelationshipEnded> {
  const res = await fetch(new URL('/rp/v1/relationships/end', o.platformUrl), {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Basic ${Buffer.from(`${form(o.clientId)}:${form(o.clientSecret)}`).toString('base64')}`,
    },
    body: JSON.stringify({ sub, ...(endedAt ? { ended_at: endedAt.toISOString() } : {}) }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await res.json().catch(() => ({}))) as RelationshipEnded & {
    error?: { code: string; message: string };
  };
  if (!res.ok)
    throw new RelationshipEndRefused(
      res.status,
      body.error?.code ?? 'HTTP_ERROR',
      body.error?.message ?? `the platform answered ${res.status}`,
    );
  return body;
}

/** The last day records are kept, in Japan: the day before `retained_until` (which is 00:00 JST). */
export const lastRetainedDay = (r: Pick<RelationshipEnded, 'retained_until'>): string =>
  dayInJapan(new Date(Date.parse(r.retained_until) - 1));

/** The platform's answer in words, in Japan time. */
export function relationshipEndWords(r: RelationshipEnded, lang: 'ja' | 'en'): { ended: string; kept: string } {
  const last = dayWords(lastRetainedDay(r), lang);
  return lang === 'ja'
    ? { ended: jstWords(r.ended_at, 'ja'), kept: `${last}まで (日本時間、終了日の翌日から${r.retention.years}年間)` }
    : {
        ended: jstWords(r.ended_at, 'en'),
        kept: `until ${last} (Japan time; ${r.retention.years} years from the day after the end)`,
      };
}
