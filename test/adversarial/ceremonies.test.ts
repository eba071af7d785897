// Adversarial catalogue — ceremonies (A31–A40, A77, A80): nonce replay and splicing, expiry,
// fixation, guessed capabilities and races, unbounded progress streams, hidden statement text, end to
// end through the holder protocol of a real sandbox platform.

import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { title } from './catalogue.js';
import {
  Browser,
  REDIRECT,
  finishFlow,
  holderLinkOf,
  holderRespond,
  signAsHolder,
  startFlow,
  startHarness,
  type Harness,
  type HolderView,
} from './support/platform.js';
import { authorizationRequest } from '@kakunin/server/testing';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
}, 180_000);
afterAll(async () => h?.close());

const answer = (v: HolderView, person = h.signers[0]!) => signAsHolder(h.p.sandbox, v, { person });

describe('ceremonies', () => {
  it(title('A31'), async () => {
    const used = await h.ceremony();
    const body = await answer(await h.view(used));
    expect((await h.post(used, body)).status).toBe(200);
    const fresh = await h.ceremony();
    expect(await h.post(fresh, body)).toMatchObject({ status: 409, code: 'NONCE_REPLAYED' });
    await h.expectNoVerified(fresh.id);
    expect(await h.outcomes(fresh.id)).toEqual([]);
  });

  it(title('A32'), async () => {
    // A first, forged answer fails the ceremony; a genuine second answer cannot turn it into a success.
    const c = await h.ceremony('identity');
    const v = await h.view(c);
    const mine = await answer(v);
    const theirs = await answer(v, h.signers[1]!);
    expect(await h.post(c, { ...mine, signature: theirs.signature })).toMatchObject({
      status: 422,
      code: 'BAD_SIGNATURE',
    });
    expect(await h.post(c, mine)).toMatchObject({ status: 409, code: 'CEREMONY_FINISHED' });
    expect(await h.post(c, theirs)).toMatchObject({ status: 409, code: 'CEREMONY_FINISHED' });
    await h.expectNoVerified(c.id, { rejected: true });
  });

  it(title('A33'), async () => {
    const target = await h.ceremony('identity');
    const sibling = await h.ceremony('identity');
    const spliced = await answer(await h.view(sibling));
    expect(await h.post(target, spliced)).toMatchObject({ status: 400, code: 'NONCE_CEREMONY_MISMATCH' });
    // With the target's own nonce but the sibling's signed statement, the signature no longer matches.
    const v = await h.view(target);
    expect(await h.post(target, { ...spliced, nonce: v.nonce })).toMatchObject({ status: 422, code: 'BAD_SIGNATURE' });
    await h.expectNoVerified(target.id, { rejected: true });
  });

  it(title('A34'), async () => {
    const target = await h.ceremony('login', h.rpA);
    const foreign = await h.ceremony('login', h.rpB);
    const fromB = await answer(await h.view(foreign));
    expect(await h.post(target, fromB)).toMatchObject({ status: 400, code: 'NONCE_AUDIENCE_MISMATCH' });
    await h.expectNoVerified(target.id);
    expect(await h.outcomes(target.id)).toEqual([]);
  });

  it(title('A35'), async () => {
    const c = await h.ceremony();
    const body = await answer(await h.view(c));
    expect(await h.post(c, { ...body, nonce: randomBytes(32).toString('base64url') })).toMatchObject({
      status: 400,
      code: 'NONCE_UNKNOWN',
    });
    await h.expectNoVerified(c.id);
    expect((await h.view(c)).state).toBe('pending');
  });

  it(title('A36'), async () => {
    const c = await h.ceremony('identity', h.rpA, new Date(Date.now() - 3_600_000));
    const body = await answer(await h.view(c));
    expect(await h.post(c, body)).toMatchObject({ status: 410, code: 'CEREMONY_EXPIRED' });
    await h.expectNoVerified(c.id);
  });

  it(title('A37'), async () => {
    const c = await h.ceremony('identity');
    const body = await answer(await h.view(c));
    // The nonce's own lifetime ended (e.g. a shorter nonce TTL, or clocks of two processes): the
    // ceremony row alone would still accept the answer.
    await h.p.server.platform.db.query(
      `UPDATE nonces SET expires_at = now() - interval '1 second' WHERE ceremony_id = $1`,
      [c.id],
    );
    expect(await h.post(c, body)).toMatchObject({ status: 410, code: 'NONCE_EXPIRED' });
    await h.expectNoVerified(c.id);
  });

  /*
   * Ceremony fixation (A38). The attacker starts an authorization at an RP in their own browser and
   * sends the victim the holder link (or QR code). What the platform does:
   *   - the holder link is a capability: whoever holds it may answer the ceremony, once. The
   *     platform cannot tell the victim's phone from the attacker's, so it does NOT prevent a victim
   *     who answers from verifying into the attacker's session: the code (and so the victim's
   *     identity) reaches the RP's registered redirect URI in the attacker's browser session, which
   *     is the session that holds the interaction cookie and the PKCE verifier.
   *   - its defence is disclosure: the holder view carries the RP's name, the purpose and (identity)
   *     the whole statement naming RP, purpose, time and ceremony, which the holder app must show
   *     before the PIN (docs/holder-protocol.md §1, §5) — the victim is asked by "RP A" for "purpose",
   *     not by whatever the attacker's message claimed; and it expires (5 minutes by default).
   *   - the victim's browser cannot take the session over: without the attacker's interaction cookie
   *     it can neither continue nor consent, and no code is ever sent anywhere but the registered
   *     redirect URI of the session that started the authorization.
   */
  it(title('A38'), async () => {
    const victim = h.signers[1]!;
    const attacker = await startFlow(h.p, h.rpA.clientId, h.rpA.clientSecret, { scope: 'openid identity' });
    const link = holderLinkOf(attacker.page.body);
    const uid = /\/interaction\/([^/?]+)/.exec(attacker.page.url)![1]!;

    // The victim's holder app sees who asks and for what before any PIN is typed.
    const view = (await (await fetch(link)).json()) as HolderView;
    expect(view.rp).toEqual({ client_id: h.rpA.clientId, name: h.rpA.name });
    expect(view.purpose).toBe(h.rpA.purpose);
    expect(view.kind).toBe('identity');
    expect(view.statement).toContain(`依頼者 / requested by: ${h.rpA.name} (${h.rpA.clientId})`);
    expect(view.statement).toContain(`目的 / purpose: ${h.rpA.purpose}`);
    expect(view.statement).toContain(`手続き / ceremony: ${view.ceremony_id}`);

    // The victim answers (the capability works: this is what the platform cannot prevent).
    expect((await holderRespond(h.p.sandbox, link, { person: victim })).status).toBe(200);

    // The victim's own browser, without the interaction cookie, gets nowhere.
    const other = new Browser();
    const cont = await other.go(`${h.p.server.url}/interaction/${uid}/continue`, h.p.server.url);
    expect(cont.external).toBe(false);
    expect(cont.status).toBe(400);
    const consent = await other.go(`${h.p.server.url}/interaction/${uid}/consent`, h.p.server.url, {
      method: 'POST',
      form: {},
    });
    expect(consent.external).toBe(false);
    expect(consent.status).toBe(400);
    expect(consent.body).toContain('data-error-code="BAD_REQUEST"');
    expect(cont.body).toContain('data-error-code="BAD_REQUEST"');
    expect(other.visited.join('\n')).not.toContain(REDIRECT);

    // The code goes only to the registered redirect URI, in the session that started the authorization.
    const callback = await finishFlow(h.p, attacker);
    expect(callback.origin + callback.pathname).toBe(REDIRECT);
    expect(callback.searchParams.get('state')).toBe(attacker.state);
    // The record shows whose certificate verified, for which RP, in which ceremony.
    const [record] = await h.p.server.platform.db.query<{ outcome: string; rp_client_id: string }>(
      'SELECT outcome, rp_client_id FROM records WHERE ceremony_id = $1',
      [view.ceremony_id],
    );
    expect(record).toEqual({ outcome: 'verified', rp_client_id: h.rpA.clientId });
  });

  it(title('A39'), async () => {
    const guess = `cer_${randomBytes(16).toString('base64url')}`;
    const get = await fetch(h.holderUrl(guess));
    expect(get.status).toBe(404);
    expect(((await get.json()) as { error: { code: string } }).error.code).toBe('CEREMONY_NOT_FOUND');
    const c = await h.ceremony();
    const body = await answer(await h.view(c));
    const post = await fetch(`${h.holderUrl(guess)}/response`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(post.status).toBe(404);
    expect(((await post.json()) as { error: { code: string } }).error.code).toBe('CEREMONY_NOT_FOUND');
    await h.expectNoVerified(guess);
  });

  it(title('A40'), async () => {
    const c = await h.ceremony('identity');
    const body = await answer(await h.view(c));
    const results = await Promise.all(Array.from({ length: 4 }, () => h.post(c, body)));
    const ok = results.filter((r) => r.status === 200);
    const refused = results.filter((r) => r.status !== 200);
    expect(ok).toHaveLength(1);
    for (const r of refused) {
      expect(r.status).toBe(409);
      expect(['CEREMONY_FINISHED', 'NONCE_REPLAYED']).toContain(r.code);
    }
    // Exactly one outcome was recorded.
    expect(await h.outcomes(c.id)).toEqual(['verified']);
  });

  it(title('A77'), async () => {
    // One browser, holding its interaction cookie, opens 100 progress streams (ten at a time: the
    // platform also caps connections per address).
    const flow = await startFlow(h.p, h.rpA.clientId, h.rpA.clientSecret);
    const uid = /\/interaction\/([^/?]+)/.exec(flow.page.url)![1]!;
    const ceremonyId = /\/ceremonies\/(cer_[^"/?]+)/.exec(holderLinkOf(flow.page.body))![1]!;
    const answers: Response[] = [];
    for (let batch = 0; batch < 10; batch++)
      answers.push(
        ...(await Promise.all(
          Array.from({ length: 10 }, () => flow.browser.request(`${h.p.server.url}/interaction/${uid}/events`)),
        )),
      );
    const open = answers.filter((r) => r.status === 200);
    try {
      expect(open).toHaveLength(4);
      for (const r of answers.filter((x) => x.status !== 200)) {
        expect(r.status).toBe(429);
        expect(r.headers.get('retry-after')).toBe('10');
        expect(((await r.json()) as { error: { code: string } }).error.code).toBe('TOO_MANY_STREAMS');
      }
      // The streams admitted still follow the ceremony.
      const progress = await fetch(`${h.holderUrl(ceremonyId)}/progress`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ stage: 'reading' }),
      });
      expect(progress.status).toBe(204);
      for (const r of open) {
        const reader = r.body!.getReader();
        let text = '';
        while (!text.includes('"stage":"reading"')) {
          const { done, value } = await reader.read();
          if (done) throw new Error(`the stream ended before the progress report: ${text}`);
          text += Buffer.from(value).toString('utf8');
        }
        await reader.cancel();
      }
    } finally {
      await Promise.all(open.map((r) => r.body?.cancel().catch(() => undefined)));
    }
    await h.expectNoVerified(ceremonyId);
  });

  it(title('A80'), async () => {
    // Each would show the holder other text than the bytes they sign on some device.
    const hidden = [
      '\u2028',
      '\u2029',
      '\u0085',
      '\u009b',
      '\u200b',
      '\u200d',
      '\u200e',
      '\u061c',
      '\u202e',
      '\u2066',
      '\u00ad',
      '\ufeff',
      '\u0007',
    ];
    for (const ch of hidden) {
      const { url } = await authorizationRequest(h.p.server.url, h.rpA.clientId, h.rpA.clientSecret, {
        scope: 'openid identity',
        extra: { statement_detail: `送金 10${ch}000 円` },
      });
      const page = await new Browser().go(url.toString(), h.p.server.url);
      const label = `U+${ch.codePointAt(0)!.toString(16).padStart(4, '0')}`;
      expect(page.status, label).toBe(400);
      expect(page.body, label).toContain('data-error-code="INVALID_REQUEST"');
    }
    // Visible text with line breaks (and an ideographic variation selector) is still accepted.
    const { url } = await authorizationRequest(h.p.server.url, h.rpA.clientId, h.rpA.clientSecret, {
      scope: 'openid identity',
      extra: { statement_detail: '口座開設申込書\r\n葛\u{E0100}飾区 / 普通預金' },
    });
    const page = await new Browser().go(url.toString(), h.p.server.url);
    expect(page.status).toBe(200);
    expect(page.body).toContain('id="same-device"');
  });
});
