// End to end: an RP verifies a resident's identity, the resident moves (the simulator revokes the
// signing certificate), the revocation monitor notices, and the RP receives a signed webhook naming
// the same pairwise subject its ID token carried. Both database engines.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRelyingParty, type RegisteredRelyingParty } from '../src/relying-parties.js';
import { verifyWebhookSignature } from '../src/webhooks/index.js';
import { ENGINES } from './support/databases.js';
import {
  createTestSandbox,
  finishFlow,
  holderLinkOf,
  holderRespond,
  startFlow,
  startTestPlatform,
  type TestPlatform,
} from './support/platform.js';

let sim: Awaited<ReturnType<typeof createTestSandbox>>;
beforeAll(async () => {
  sim = await createTestSandbox();
}, 120_000);
afterAll(() => sim?.remove());

describe.each(ENGINES)('revocation webhook on %s', (engine) => {
  let p: TestPlatform;
  let rp: RegisteredRelyingParty;
  let receiver: Server;
  const received: { headers: Record<string, string | string[] | undefined>; body: string }[] = [];
  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    p = await startTestPlatform(engine, sim.dir, { noJobs: false });
    rp = await createRelyingParty(p.server.platform, {
      name: 'はぴコイン',
      redirectUris: ['http://127.0.0.1:9/callback'],
      webhookUrl: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`,
    });
  }, 120_000);
  afterAll(async () => {
    await p?.close();
    receiver?.close();
  });

  it('identity → move → monitor → signed webhook with the pairwise sub', async () => {
    const person = p.sandbox
      .people()
      .filter((x) => p.sandbox.certificates({ personId: x.id, kind: 'sign', medium: 'card' }).length > 0)
      .at(-2)!.id;
    const flow = await startFlow(p, rp.clientId, rp.clientSecret, { scope: 'openid identity' });
    expect((await holderRespond(p.sandbox, holderLinkOf(flow.page.body), { person })).status).toBe(200);
    const tokens = await oidc.authorizationCodeGrant(flow.config, await finishFlow(p, flow), {
      pkceCodeVerifier: flow.verifier,
      expectedState: flow.state,
    });
    const sub = tokens.claims()!.sub;
    const serial = p.sandbox.currentCertificateRecord(person, 'sign', 'card').serial;

    const admin = { authorization: `Bearer ${p.server.adminToken}` };
    const watched = (await (
      await fetch(`${p.server.url}/admin/v1/monitored-certificates?rp=${rp.clientId}`, { headers: admin })
    ).json()) as { serial: string; status: string }[];
    expect(watched).toEqual([expect.objectContaining({ serial, status: 'good' })]);

    await p.sandbox.applyEvent(person, 'move');
    expect((await fetch(`${p.server.url}/admin/v1/monitor/run`, { method: 'POST', headers: admin })).status).toBe(202);
    for (let i = 0; i < 100 && received.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(received).toHaveLength(1);

    const [hook] = received;
    expect(verifyWebhookSignature(rp.webhookSecret, hook!.body, String(hook!.headers['kakunin-signature']))).toBe(true);
    expect(verifyWebhookSignature('whsec_wrong', hook!.body, String(hook!.headers['kakunin-signature']))).toBe(false);
    const event = JSON.parse(hook!.body) as { id: string; type: string; sub?: string; data: Record<string, unknown> };
    expect(event.type).toBe('certificate.revoked');
    expect(event.sub).toBe(sub);
    expect(event.data).toMatchObject({ serial });
    expect(hook!.headers['kakunin-event-id']).toBe(event.id);
    expect(hook!.body).not.toContain(p.sandbox.person(person).name);

    const events = (await (
      await fetch(`${p.server.url}/admin/v1/events?rp=${rp.clientId}`, { headers: admin })
    ).json()) as { id: string }[];
    expect(events.map((e) => e.id)).toContain(event.id);
    const deliveries = (await (
      await fetch(`${p.server.url}/admin/v1/webhook-deliveries?event=${event.id}`, { headers: admin })
    ).json()) as { delivered: boolean }[];
    expect(deliveries).toEqual([expect.objectContaining({ delivered: true })]);
  }, 60_000);
});
