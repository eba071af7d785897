// Kakunin's signed webhooks, verified exactly as docs/relying-parties.md §3 describes:
//   Kakunin-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(webhook_secret, "<t>.<raw body>")>

import { createHmac, timingSafeEqual } from 'node:crypto';

export interface KakuninEvent {
  id: string;
  type: string;
  created_at: string;
  rp_client_id: string;
  /** The RP's pairwise OIDC subject of the holder. */
  sub?: string;
  data: { serial?: string; reason?: string; revoked_at?: string; record_id?: string; [key: string]: unknown };
}

/** True only for a fresh timestamp (±5 min) and a matching HMAC over the raw body (constant time). */
export function verifyKakuninSignature(
  rawBody: string,
  header: string | undefined,
  secret: string,
  toleranceSeconds = 300,
  now = Date.now(),
): boolean {
  if (!header) return false;
  const parts = header.split(',').map((kv) => kv.trim().split('='));
  const t = Number(parts.find(([k]) => k === 't')?.[1]);
  if (!Number.isInteger(t) || Math.abs(now / 1000 - t) > toleranceSeconds) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${rawBody}`).digest();
  // Several v1= entries may appear while the platform rotates secrets: one match is enough.
  return parts.some(([k, v]) => {
    if (k !== 'v1' || !v || !/^[0-9a-f]{64}$/i.test(v)) return false;
    return timingSafeEqual(Buffer.from(v, 'hex'), expected);
  });
}
