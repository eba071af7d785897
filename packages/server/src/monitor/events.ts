// Platform events (certificate.revoked, certificate.expired, …): what happened to something an RP
// relied on. Webhooks carry them to the RP; the admin API lists them. Event data never holds the
// basic 4 info or a My Number: identifiers, reasons and times only.

import { randomBytes } from 'node:crypto';
import type { Queryable } from '../db/sql.js';

export type EventType = 'certificate.revoked' | 'certificate.expired' | (string & {});

export interface PlatformEvent {
  id: string;
  createdAt: Date;
  type: EventType;
  rpClientId: string | null;
  subjectId: string | null;
  recordId: string | null;
  data: Record<string, unknown>;
}

export interface NewEvent {
  type: EventType;
  rpClientId: string | null;
  subjectId?: string | null;
  recordId?: string | null;
  data: Record<string, unknown>;
  /** Default now. */
  at?: Date;
}

interface EventRow {
  id: string;
  created_at: Date;
  type: string;
  rp_client_id: string | null;
  subject_id: string | null;
  record_id: string | null;
  data: Record<string, unknown>;
}

const fromRow = (r: EventRow): PlatformEvent => ({
  id: r.id,
  createdAt: new Date(r.created_at),
  type: r.type,
  rpClientId: r.rp_client_id,
  subjectId: r.subject_id,
  recordId: r.record_id,
  data: r.data,
});

export const newEventId = (): string => `evt_${randomBytes(16).toString('base64url')}`;

export async function insertEvent(db: Queryable, e: NewEvent): Promise<PlatformEvent> {
  const [row] = await db.query<EventRow>(
    `INSERT INTO events (id, created_at, type, rp_client_id, subject_id, record_id, data)
     VALUES ($1, COALESCE($2::timestamptz, now()), $3, $4, $5, $6, $7) RETURNING *`,
    [newEventId(), e.at ?? null, e.type, e.rpClientId, e.subjectId ?? null, e.recordId ?? null, e.data],
  );
  return fromRow(row!);
}

export async function getEvent(db: Queryable, id: string): Promise<PlatformEvent | undefined> {
  const [row] = await db.query<EventRow>('SELECT * FROM events WHERE id = $1', [id]);
  return row ? fromRow(row) : undefined;
}

export interface ListEventsOptions {
  rpClientId?: string;
  type?: string;
  limit: number;
  /** Page backwards: events older than this time, or than this event id (a stable cursor). */
  before?: Date | string;
}

/** Newest first. */
export async function listEvents(db: Queryable, o: ListEventsOptions): Promise<PlatformEvent[]> {
  const params: unknown[] = [o.rpClientId ?? null, o.type ?? null, Math.max(1, Math.min(o.limit, 1000))];
  let cursor = '';
  if (o.before instanceof Date) {
    params.push(o.before);
    cursor = 'AND created_at < $4';
  } else if (typeof o.before === 'string') {
    params.push(o.before);
    cursor = 'AND (created_at, id) < (SELECT created_at, id FROM events WHERE id = $4)';
  }
  const rows = await db.query<EventRow>(
    `SELECT * FROM events WHERE ($1::text IS NULL OR rp_client_id = $1) AND ($2::text IS NULL OR type = $2) ${cursor}
     ORDER BY created_at DESC, id DESC LIMIT $3`,
    params as (string | number | Date | null)[],
  );
  return rows.map(fromRow);
}
