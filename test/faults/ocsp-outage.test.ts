// Fault: the OCSP responder goes away while holders are verifying. A sandbox platform whose verifier
// asks the simulated J-LIS's OCSP responder over HTTP (sandbox-mode.ts); the responder is stopped
// (connection refused), then replaced by a black hole on the same port (accepts, never answers),
// then brought back on the same port. The platform must fail closed — 503 REVOCATION_UNAVAILABLE, the
// ceremony failed with a 'rejected' record and never a 'verified' one, a page telling the holder to
// try later — answer within its OCSP timeout instead of hanging, and verify again once the
// responder is back, on the same authorization request.

import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimServices, type SimServices } from '@kakunin/sim';
import { createRelyingParty, getCeremony } from '@kakunin/server';
import { verifyLog } from '@kakunin/server/records';
import {
  REDIRECT,
  finishFlow,
  holderLinkOf,
  holderRespond,
  signAsHolder,
  startFlow,
  startTestPlatform,
  type Flow,
  type TestPlatform,
} from '@kakunin/server/testing';
import { copySharedSandbox } from './support/shared-sandbox.js';

let work: string;
let p: TestPlatform;
let rp: { clientId: string; clientSecret: string };
let person: string;
/** The loopback port the platform's OcspClient (and linkage client) is configured with. */
let port: number;
let revived: SimServices | undefined;
let blackHole: { server: Server; sockets: Set<Socket> } | undefined;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'kakunin-faults-ocsp-'));
  await copySharedSandbox(join(work, 'sim'));
  // Every login asks the responder: a good answer kept for the login reuse window would hide the outage.
  p = await startTestPlatform('pglite', join(work, 'sim'), { config: { ocspReuseSeconds: { login: 0, identity: 0 } } });
  rp = await createRelyingParty(p.server.platform, { name: 'Faults RP', redirectUris: [REDIRECT] });
  person = p.sandbox
    .people()
    .find((x) => p.sandbox.certificates({ personId: x.id, kind: 'auth', medium: 'card' }).length > 0)!.id;
  port = Number(new URL(p.server.sandbox!.services!.url).port);
}, 120_000);

afterAll(async () => {
  await closeBlackHole();
  await revived?.close();
  await p?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

const uidOf = (flow: Flow): string => /\/interaction\/([^/?]+)/.exec(flow.page.url)![1]!;
const ceremonyIdOf = (html: string): string => holderLinkOf(html).split('/').pop()!;

async function recordsOf(
  ceremonyId: string,
): Promise<{ outcome: string; payload: { error?: { code: string; message: string } } | null }[]> {
  return p.server.platform.db.query('SELECT outcome, payload FROM records WHERE ceremony_id = $1 ORDER BY seq', [
    ceremonyId,
  ]);
}

type Answer = Awaited<ReturnType<typeof holderRespond>>;

/** The holder's card signs, then the response is posted; `ms` is the POST alone (the platform's time). */
async function respondTimed(flow: Flow): Promise<Answer & { ms: number }> {
  const view = (await (await fetch(holderLinkOf(flow.page.body))).json()) as {
    certificate: 'auth' | 'sign';
    nonce: string;
    to_be_signed: string;
    response_url: string;
  };
  const body = await signAsHolder(p.sandbox, view, { person });
  const started = Date.now();
  const res = await fetch(view.response_url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as Answer['body'];
  return { status: res.status, body: json, ms: Date.now() - started };
}

/** What every outage must look like: 503, failed ceremony, one rejected record, a "try later" page. */
async function expectFailedClosed(flow: Flow, answer: Answer): Promise<string> {
  expect(answer.status).toBe(503);
  expect(answer.body.error?.code).toBe('REVOCATION_UNAVAILABLE');
  expect(answer.body.error?.message).toMatch(/OCSP responder .* did not answer/);
  const ceremonyId = ceremonyIdOf(flow.page.body);

  const ceremony = await getCeremony(p.server.platform.db, ceremonyId);
  expect(ceremony).toMatchObject({ state: 'failed', errorCode: 'REVOCATION_UNAVAILABLE', subjectId: null });
  expect(ceremony.recordId).toBeTruthy();
  const records = await recordsOf(ceremonyId);
  expect(records.map((r) => r.outcome)).toEqual(['rejected']);
  expect(records[0]!.payload?.error?.code).toBe('REVOCATION_UNAVAILABLE');

  // The holder app's status view and the browser page's live status.
  expect(await (await fetch(`${p.server.url}/holder/v1/ceremonies/${ceremonyId}/status`)).json()).toMatchObject({
    state: 'failed',
    error: { code: 'REVOCATION_UNAVAILABLE' },
  });
  const uid = uidOf(flow);
  const status = await flow.browser.request(`${p.server.url}/interaction/${uid}/status`);
  expect(await status.json()).toMatchObject({ state: 'failed', error: { code: 'REVOCATION_UNAVAILABLE' } });

  // The ceremony page now sends the browser to the error page: stopped for safety, try again later.
  const ja = await flow.browser.go(`${p.server.url}/interaction/${uid}`, p.server.url);
  expect(ja.url).toContain(`/interaction/${uid}/error`);
  expect(ja.status).toBe(200);
  expect(ja.body).toContain('data-error-code="REVOCATION_UNAVAILABLE"');
  expect(ja.body).toContain('失効情報を確認できませんでした');
  expect(ja.body).toContain('しばらくしてからお試しください');
  expect(ja.body).toMatch(/id="retry" href="[^"]*\/restart"/);
  const en = await flow.browser.go(`${p.server.url}/interaction/${uid}/error?lang=en`, p.server.url);
  expect(en.body).toContain('Revocation status is unavailable');
  expect(en.body).toContain('Please try again in a while');

  // The failed ceremony stays failed: the same signed response cannot be replayed into a success.
  const replay = await holderRespond(p.sandbox, holderLinkOf(flow.page.body), { person });
  expect(replay.status).toBe(409);
  expect(replay.body.error?.code).toBe('CEREMONY_FINISHED');
  expect((await recordsOf(ceremonyId)).map((r) => r.outcome)).toEqual(['rejected']);
  return ceremonyId;
}

/** Listens on `port` and accepts connections without ever answering (a hung responder). */
async function openBlackHole(): Promise<void> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    s.resume(); // read and discard the request
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  blackHole = { server, sockets };
}

async function closeBlackHole(): Promise<void> {
  if (!blackHole) return;
  const { server, sockets } = blackHole;
  blackHole = undefined;
  for (const s of sockets) s.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

describe('OCSP responder outage during ceremonies', () => {
  let pending: Flow;

  it('baseline: a login verifies with the responder up (OCSP over HTTP at the simulated J-LIS)', async () => {
    const flow = await startFlow(p, rp.clientId, rp.clientSecret);
    const answer = await holderRespond(p.sandbox, holderLinkOf(flow.page.body), { person });
    expect(answer).toMatchObject({ status: 200, body: { state: 'completed' } });
    const ceremony = await getCeremony(p.server.platform.db, ceremonyIdOf(flow.page.body));
    expect(ceremony.result?.revocation.source).toBe('ocsp');
  });

  it('responder stopped (connection refused): 503 REVOCATION_UNAVAILABLE at once, failed ceremony, rejected record, "try later" page', async () => {
    await p.server.sandbox!.services!.close();
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();

    pending = await startFlow(p, rp.clientId, rp.clientSecret);
    const answer = await respondTimed(pending);
    expect(answer.ms).toBeLessThan(4_000); // refused at once: well inside the 5 s OCSP timeout
    await expectFailedClosed(pending, answer);
  });

  it('responder hung (accepts, never answers): 503 after the OCSP timeout, not a hanging request', async () => {
    await openBlackHole();
    const flow = await startFlow(p, rp.clientId, rp.clientSecret);
    const answer = await respondTimed(flow);
    // httpOcspFetcher's default timeout is 5 s; the request must not outlive it by much.
    expect(answer.ms).toBeGreaterThanOrEqual(4_500);
    expect(answer.ms).toBeLessThan(15_000);
    expect(answer.body.error?.message).toMatch(/abort|timeout/i);
    await expectFailedClosed(flow, answer);
  }, 30_000);

  it('responder back on the same port: "try again" on the failed authorization verifies and reaches the RP', async () => {
    await closeBlackHole();
    // Same port, so the platform's OcspClient (configured once at start-up) reaches it unchanged.
    revived = await startSimServices({ sandbox: p.sandbox, port });
    expect(revived.url).toBe(p.server.sandbox!.services!.url);

    const uid = uidOf(pending);
    const restarted = await pending.browser.go(`${p.server.url}/interaction/${uid}/restart`, p.server.url);
    expect(restarted.status).toBe(200);
    const retry: Flow = { ...pending, page: restarted };
    const fresh = ceremonyIdOf(restarted.body);
    expect(fresh).not.toBe(ceremonyIdOf(pending.page.body));

    const answer = await holderRespond(p.sandbox, holderLinkOf(restarted.body), { person });
    expect(answer).toMatchObject({ status: 200, body: { state: 'completed' } });
    expect((await recordsOf(fresh)).map((r) => r.outcome)).toEqual(['verified']);
    const callback = await finishFlow(p, retry);
    const tokens = await oidc.authorizationCodeGrant(retry.config, callback, {
      pkceCodeVerifier: retry.verifier,
      expectedState: retry.state,
    });
    expect(tokens.claims()?.sub).toBeTruthy();
  });

  it('afterwards: two verified and two rejected records, never a verified one from the outage; the chain verifies', async () => {
    const rows = await p.server.platform.db.query<{ outcome: string; code: string | null }>(
      "SELECT outcome, payload->'error'->>'code' AS code FROM records ORDER BY seq",
    );
    expect(rows).toEqual([
      { outcome: 'verified', code: null },
      { outcome: 'rejected', code: 'REVOCATION_UNAVAILABLE' },
      { outcome: 'rejected', code: 'REVOCATION_UNAVAILABLE' },
      { outcome: 'verified', code: null },
    ]);
    const chain = await verifyLog(p.server.platform.db, { key: p.server.platform.recordsLog.verifierKey });
    expect(chain.ok, JSON.stringify(chain.problems)).toBe(true);
  });
});
