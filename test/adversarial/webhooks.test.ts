// Adversarial catalogue — webhook signatures (A60–A64). A revocation notice tells an RP that a holder
// moved or lost their card; a forged one could cut someone off, a suppressed or replayed one keep a
// stale identity alive. Each case is checked against the platform's verifier
// (packages/server/src/webhooks/signature.ts, what the docs tell RPs to run) and against the example
// RPs' own implementation (examples/shared/webhooks.ts).

import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { verifyKakuninSignature } from '../../examples/shared/webhooks.js';
import { checkWebhookSignature, signWebhook } from '@kakunin/server/testing';
import { title } from './catalogue.js';

const SECRET = 'whsec_adversarial_rp_secret';
const t = 1_900_000_000;
const now = new Date(t * 1000 + 30_000);
const body = JSON.stringify({
  id: 'evt_01',
  type: 'certificate.revoked',
  created_at: '2030-03-17T00:00:00Z',
  rp_client_id: 'rp_a',
  sub: 'sub-victim',
  data: { serial: '0A1B2C3D', reason: 'affiliationChanged' },
});
const genuine = signWebhook(SECRET, body, t);

/** Both verifiers must refuse, the platform's with this reason. */
function refused(
  rawBody: string,
  header: string | undefined,
  reason: 'mismatch' | 'stale' | 'malformed',
  at = now,
  o: { example?: boolean } = {},
): void {
  expect(checkWebhookSignature(SECRET, rawBody, header, { now: at })).toEqual({ ok: false, reason });
  if (o.example !== false) expect(verifyKakuninSignature(rawBody, header, SECRET, 300, at.getTime())).toBe(false);
}

describe('webhook signatures', () => {
  it('the genuine notice verifies (baseline)', () => {
    expect(checkWebhookSignature(SECRET, body, genuine, { now })).toEqual({ ok: true, timestamp: t });
    expect(verifyKakuninSignature(body, genuine, SECRET, 300, now.getTime())).toBe(true);
  });

  it(title('A60'), () => {
    refused(body, signWebhook('whsec_guessed', body, t), 'mismatch');
    // The RP's client secret is not the webhook secret.
    refused(body, signWebhook('cs_the_client_secret', body, t), 'mismatch');
    // A bare SHA-256 of the body (no key) in the v1 slot.
    refused(body, `t=${t},v1=${createHmac('sha256', '').update(`${t}.${body}`).digest('hex')}`, 'mismatch');
  });

  it(title('A61'), () => {
    refused(body.replace('sub-victim', 'sub-someone-else'), genuine, 'mismatch');
    refused(body.replace('affiliationChanged', 'keyCompromise'), genuine, 'mismatch');
    // Whitespace-only re-serialisation is a different body too (the raw bytes are signed).
    refused(JSON.stringify(JSON.parse(body), null, 1), genuine, 'mismatch');
  });

  it(title('A62'), () => {
    refused(body, genuine, 'stale', new Date((t + 301) * 1000));
    refused(body, genuine, 'stale', new Date((t + 86_400) * 1000));
    // From the future as well (a pre-signed notice held back).
    refused(body, genuine, 'stale', new Date((t - 301) * 1000));
  });

  it(title('A63'), () => {
    const v1 = genuine.split('v1=')[1]!;
    refused(body, `t=${t + 3600},v1=${v1}`, 'mismatch', new Date((t + 3600) * 1000));
    refused(body, `t=${t + 1},v1=${v1}`, 'mismatch');
  });

  it(title('A64'), () => {
    refused(body, undefined, 'malformed');
    refused(body, '', 'malformed');
    refused(body, `t=${t}`, 'malformed');
    refused(body, `v1=${genuine.split('v1=')[1]}`, 'malformed');
    // A scheme the verifier does not know (downgrade to "v0") counts as no signature.
    refused(body, `t=${t},v0=${createHmac('sha256', SECRET).update(body).digest('hex')}`, 'malformed');
    // Truncated or non-hex digests.
    refused(body, `t=${t},v1=${genuine.split('v1=')[1]!.slice(0, 32)}`, 'malformed');
    refused(body, `t=${t},v1=${'z'.repeat(64)}`, 'malformed');
    // An oversized header (resource bound). The example RP accepts it: its HMAC is the genuine one,
    // only padded with unknown keys, so that is not a forgery.
    const padded = `t=${t},${'x=1,'.repeat(2000)}v1=${genuine.split('v1=')[1]}`;
    refused(body, padded, 'malformed', now, { example: false });
    expect(verifyKakuninSignature(body, padded, SECRET, 300, now.getTime())).toBe(true);
  });
});
