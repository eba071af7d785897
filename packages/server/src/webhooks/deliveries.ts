// The webhook delivery log (one row per attempt) for the admin API.

import type { Queryable } from '../db/sql.js';

export interface WebhookDelivery {
  id: string;
  eventId: string;
  rpClientId: string;
  url: string;
  attempt: number;
  attemptedAt: Date;
  statusCode: number | null;
  error: string | null;
  delivered: boolean;
}

interface Row {
  id: string;
  event_id: string;
  rp_client_id: string;
  url: string;
  attempt: number;
  attempted_at: Date;
  status_code: number | null;
  error: string | null;
  delivered: boolean;
}

const fromRow = (r: Row): WebhookDelivery => ({
  id: String(r.id),
  eventId: r.event_id,
  rpClientId: r.rp_client_id,
  url: r.url,
  attempt: Number(r.attempt),
  attemptedAt: new Date(r.attempted_at),
  statusCode: r.status_code === null ? null : Number(r.status_code),
  error: r.error,
  delivered: r.delivered,
});

/** Newest first. */
export async function listDeliveries(
  db: Queryable,
  o: { eventId?: string; rpClientId?: string; delivered?: boolean; limit: number },
): Promise<WebhookDelivery[]> {
  const rows = await db.query<Row>(
    `SELECT * FROM webhook_deliveries
     WHERE ($1::text IS NULL OR event_id = $1) AND ($2::text IS NULL OR rp_client_id = $2) AND ($3::boolean IS NULL OR delivered = $3)
     ORDER BY id DESC LIMIT $4`,
    [o.eventId ?? null, o.rpClientId ?? null, o.delivered ?? null, Math.max(1, Math.min(o.limit, 1000))],
  );
  return rows.map(fromRow);
}
