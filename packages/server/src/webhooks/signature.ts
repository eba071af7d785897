// Webhook signatures, in the form relying parties verify (see the webhook docs):
//
//   Kakunin-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
//
// The key is the RP's whole webhook secret string (`whsec_…`) as UTF-8. The timestamp is signed
// with the body so that a captured request cannot be replayed after the tolerance window. Several
// v1= entries may appear (secret rotation); one matching is enough.

import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'Kakunin-Signature';
export const EVENT_ID_HEADER = 'Kakunin-Event-Id';

function hmacHex(secret: string, t: number, body: string | Uint8Array): string {
  // Bytes as received: never re-serialise the JSON before verifying.
  return createHmac('sha256', secret).update(`${t}.`).update(body).digest('hex');
}

/** The `Kakunin-Signature` header value for `body` at unix time `t` (seconds). */
export function signWebhook(
  secret: string,
  body: string | Uint8Array,
  t: number = Math.floor(Date.now() / 1000),
): string {
  if (!Number.isInteger(t) || t < 0) throw new RangeError('the webhook timestamp must be whole unix seconds');
  return `t=${t},v1=${hmacHex(secret, t, body)}`;
}

export type SignatureCheck =
  { ok: true; timestamp: number } | { ok: false; reason: 'malformed' | 'stale' | 'mismatch' };

export interface VerifyOptions {
  /** Accepted clock difference either way (default 300 s). */
  toleranceSeconds?: number;
  now?: Date;
}

/** Like `verifyWebhookSignature`, with the reason of a rejection. */
export function checkWebhookSignature(
  secret: string,
  rawBody: string | Uint8Array,
  header: string | null | undefined,
  options: VerifyOptions = {},
): SignatureCheck {
  if (typeof header !== 'string' || header.length > 4096) return { ok: false, reason: 'malformed' };
  let t: number | undefined;
  const v1: Buffer[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) return { ok: false, reason: 'malformed' };
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't') {
      if (t !== undefined || !/^\d{1,12}$/.test(value)) return { ok: false, reason: 'malformed' };
      t = Number(value);
    } else if (key === 'v1') {
      if (!/^[0-9a-f]{64}$/i.test(value)) return { ok: false, reason: 'malformed' };
      v1.push(Buffer.from(value, 'hex'));
    }
    // Other keys (future schemes) are ignored.
  }
  if (t === undefined || v1.length === 0) return { ok: false, reason: 'malformed' };
  const now = Math.floor((options.now ?? new Date()).getTime() / 1000);
  if (Math.abs(now - t) > (options.toleranceSeconds ?? 300)) return { ok: false, reason: 'stale' };
  const expected = Buffer.from(hmacHex(secret, t, rawBody), 'hex');
  let match = false;
  for (const candidate of v1) if (timingSafeEqual(candidate, expected)) match = true;
  return match ? { ok: true, timestamp: t } : { ok: false, reason: 'mismatch' };
}

/**
 * What an RP runs on each webhook request: true only for a well-formed header, a timestamp within
 * the tolerance and an HMAC (compared in constant time) made with `secret` over the raw body.
 */
export function verifyWebhookSignature(
  secret: string,
  rawBody: string | Uint8Array,
  header: string | null | undefined,
  options: VerifyOptions = {},
): boolean {
  return checkWebhookSignature(secret, rawBody, header, options).ok;
}
