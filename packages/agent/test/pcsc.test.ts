// The agent in PC/SC mode end to end: our own pcscd with a vsmartcard vpcd reader, a sandbox
// resident's card (their current certificates, keys and PINs) plugged into it from ANOTHER process
// (a card served from this event loop would deadlock with PcscTransport's synchronous SCardDisconnect),
// and the agent talking to it through PcscTransport while a sandbox platform runs here.
// Needs pcscd + vsmartcard-vpcd (CI installs them): without them this file FAILS, it does not skip.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listReaders } from '@kakunin/card';
import {
  personCardMaterial,
  plugCardProcess,
  startPcscd,
  type CardProcess,
  type PcscdInstance,
} from '@kakunin/sim/card';
import { createRelyingParty } from '@kakunin/server';
import {
  REDIRECT,
  createTestSandbox,
  finishFlow,
  startFlow,
  startTestPlatform,
  type TestPlatform,
} from '@kakunin/server/testing';
import { startAgent, type RunningAgent } from '../src/index.js';
import { ceremonyStatus, formKeyOf, openConfirmation, submit } from './support/agent-client.js';

const tmp = mkdtempSync(join(tmpdir(), 'kakunin-agent-pcsc-'));
let pcscd: PcscdInstance;
let sim: Awaited<ReturnType<typeof createTestSandbox>>;
let p: TestPlatform;
let rp: { clientId: string; clientSecret: string };
let card: CardProcess;
let person: string;
let agent: RunningAgent;

const until = async (what: string, ok: () => Promise<boolean>, ms = 10_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

beforeAll(async () => {
  pcscd = await startPcscd();
  // libpcsclite reads the socket path once per process, before the first PC/SC call.
  process.env.PCSCLITE_CSOCK_NAME = pcscd.socketPath;
  sim = await createTestSandbox();
  p = await startTestPlatform('pglite', sim.dir);
  rp = await createRelyingParty(p.server.platform, {
    name: 'PC/SC 銀行',
    redirectUris: [REDIRECT],
    framework: 'jp_aml',
    purpose: 'カードリーダーでの本人確認',
  });
  person = p.sandbox
    .people()
    .find((x) => p.sandbox.certificates({ personId: x.id, kind: 'sign', medium: 'card' }).length > 0)!.id;
  card = await plugCardProcess({
    material: personCardMaterial(p.sandbox, person),
    stateDir: join(tmp, 'state'),
    port: pcscd.port,
  });
  await until('the card in the reader', async () =>
    (await listReaders()).some((r) => r.name === pcscd.readerName && r.cardPresent),
  );
  agent = await startAgent({
    port: 0,
    platformOrigins: [p.server.url],
    card: { kind: 'pcsc', reader: pcscd.readerName, waitForCardMs: 2000 },
  });
}, 180_000);

afterAll(async () => {
  await agent?.close();
  await card?.close();
  await pcscd?.stop();
  await p?.close();
  sim?.remove();
  rmSync(tmp, { recursive: true, force: true });
});

describe('agent with a PC/SC reader (pcscd + vpcd, the card in its own process)', () => {
  it('hello says pcsc; the page names the reader', async () => {
    expect(await (await fetch(`${agent.url}/v1/hello`, { headers: { origin: p.server.url } })).json()).toEqual({
      agent: 'kakunin-agent',
      protocol: 1,
      mode: 'pcsc',
    });
    const flow = await startFlow(p, rp.clientId, rp.clientSecret);
    const c = await openConfirmation(agent.url, p.server.url, flow);
    const html = await (await fetch(c.confirmUrl)).text();
    expect(html).toContain(`<strong id="reader">${pcscd.readerName}</strong>`);
    expect(html).not.toContain('id="person"');
  });

  it('login: a wrong PIN through the reader is reported with the remaining tries, then the right PIN completes', async () => {
    const flow = await startFlow(p, rp.clientId, rp.clientSecret);
    const c = await openConfirmation(agent.url, p.server.url, flow);
    const form = formKeyOf(await (await fetch(c.confirmUrl)).text());
    const right = p.sandbox.person(person).pins.auth;
    const wrong = right === '0000' ? '1111' : '0000';
    const before = (await card.stats()).received;
    const again = await submit(c.confirmUrl, { form_key: form, pin: wrong });
    expect(again.status).toBe(422);
    expect(again.body).toContain('data-error-code="WRONG_PIN"');
    expect(again.body).toContain('残り2回');
    expect(await ceremonyStatus(p.server.url, c.ceremonyId)).toMatchObject({
      state: 'pending',
      card_error: { code: 'WRONG_PIN', remaining: 2 },
    });
    expect((await card.stats()).tries.auth).toBe(2);

    const done = await submit(c.confirmUrl, { form_key: form, pin: right });
    expect(done.status, done.body).toBe(303);
    expect(done.body).toContain('id="done"');
    expect(await ceremonyStatus(p.server.url, c.ceremonyId)).toMatchObject({ state: 'completed' });
    const after = await card.stats();
    expect(after.received).toBeGreaterThan(before);
    expect(after.tries.auth).toBe(3);
    expect(after.myNumberProbe).toEqual({ selected: 0, read: 0, verifyTargeted: 0 });
    await finishFlow(p, flow);
  });

  it('identity: signs the statement with the signing key through the reader', async () => {
    const flow = await startFlow(p, rp.clientId, rp.clientSecret, {
      claims: { userinfo: { verified_claims: { verification: { trust_framework: null }, claims: { name: null } } } },
    });
    const c = await openConfirmation(agent.url, p.server.url, flow);
    const html = await (await fetch(c.confirmUrl)).text();
    expect(html).toContain('id="statement"');
    const done = await submit(c.confirmUrl, { form_key: formKeyOf(html), pin: p.sandbox.person(person).pins.sign });
    expect(done.status, done.body).toBe(303);
    expect(await ceremonyStatus(p.server.url, c.ceremonyId)).toMatchObject({ state: 'completed' });
  });

  it('without --reader the page lists the readers; a card-less slot is reported as CARD_REMOVED', async () => {
    const picker = await startAgent({
      port: 0,
      platformOrigins: [p.server.url],
      card: { kind: 'pcsc', waitForCardMs: 300 },
    });
    try {
      const flow = await startFlow(p, rp.clientId, rp.clientSecret);
      const c = await openConfirmation(picker.url, p.server.url, flow);
      const html = await (await fetch(c.confirmUrl)).text();
      expect(html).toContain(`<option value="${pcscd.readerName}" selected>`);
      const empty = `${pcscd.readerName.slice(0, -6)} 00 01`;
      expect(html).toContain(`<option value="${empty}">`);
      const res = await submit(c.confirmUrl, {
        form_key: formKeyOf(html),
        reader: empty,
        pin: p.sandbox.person(person).pins.auth,
      });
      expect(res.status).toBe(422);
      expect(res.body).toContain('data-error-code="CARD_REMOVED"');
      expect(await ceremonyStatus(p.server.url, c.ceremonyId)).toMatchObject({
        state: 'pending',
        card_error: { code: 'CARD_REMOVED' },
      });
    } finally {
      await picker.close();
    }
  });
});
