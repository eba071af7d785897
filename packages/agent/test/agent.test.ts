// The local agent against a real sandbox platform (PGlite), with sandbox residents' virtual cards:
// discovery and CORS, the same-device hand-over (POST /v1/ceremonies), the agent's confirmation
// page, login and identity ceremonies completed by a form post, wrong and blocked PINs reported to
// the ceremony page, a platform rejection, single-use links, and `kakunin agent` itself.

import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRelyingParty } from '@kakunin/server';
import {
  REDIRECT,
  createTestSandbox,
  finishFlow,
  startFlow,
  startTestPlatform,
  type TestPlatform,
} from '@kakunin/server/testing';
import { AgentConfigError, startAgent, type RunningAgent } from '../src/index.js';
import type { PinQuestion } from '../src/prompt.js';
import { ceremonyStatus, formKeyOf, openConfirmation, submit } from './support/agent-client.js';

const IDENTITY_CLAIMS = {
  userinfo: { verified_claims: { verification: { trust_framework: null }, claims: { name: null, birthdate: null } } },
};

let sim: Awaited<ReturnType<typeof createTestSandbox>>;
let p: TestPlatform;
let agent: RunningAgent;
let rp: { clientId: string; clientSecret: string };
/** Adults with a signing certificate, one per test so PIN counters never interfere. */
let adults: string[];
const take = (): string => adults.shift()!;
const FOREIGN = 'http://127.0.0.1:9999';

beforeAll(async () => {
  sim = await createTestSandbox();
  p = await startTestPlatform('pglite', sim.dir);
  rp = await createRelyingParty(p.server.platform, {
    name: 'はぴコイン<銀行>',
    redirectUris: [REDIRECT],
    framework: 'jp_aml',
    purpose: 'ウォレット開設の本人確認',
  });
  adults = p.sandbox
    .people()
    .filter((x) => p.sandbox.certificates({ personId: x.id, kind: 'sign', medium: 'card' }).length > 0)
    .map((x) => x.id);
  agent = await startAgent({ port: 0, platformOrigins: [p.server.url], card: { kind: 'sim', sandboxDir: sim.dir } });
}, 180_000);

afterAll(async () => {
  await agent?.close();
  await p?.close();
  sim?.remove();
});

describe('discovery and CORS', () => {
  it('answers /v1/hello; CORS only for the platform origins, 403 for any other origin', async () => {
    const plain = await fetch(`${agent.url}/v1/hello`);
    expect(plain.status).toBe(200);
    expect(await plain.json()).toEqual({ agent: 'kakunin-agent', protocol: 1, mode: 'sim' });
    expect(plain.headers.get('access-control-allow-origin')).toBeNull();

    const allowed = await fetch(`${agent.url}/v1/hello`, { headers: { origin: p.server.url } });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(p.server.url);
    expect(allowed.headers.get('vary')).toMatch(/Origin/);

    const denied = await fetch(`${agent.url}/v1/hello`, { headers: { origin: FOREIGN } });
    expect(denied.status).toBe(403);
    expect(denied.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('its address opened in a browser is a page saying what the agent is; programs keep the JSON', async () => {
    const browser = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };
    const ja = await fetch(`${agent.url}/`, { headers: { ...browser, 'accept-language': 'ja-JP,ja' } });
    expect(ja.status).toBe(200);
    expect(ja.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(ja.headers.get('content-security-policy')).toContain("default-src 'none'");
    const page = await ja.text();
    expect(page).toContain('<h1 id="agent-home">Kakunin エージェントが動いています</h1>');
    expect(page).toContain('「このパソコンで読み取る」を押すと');
    expect(page).toContain('このページで操作することはありません。');
    expect(page).toContain('id="agent-mode" data-mode="sim"');
    expect(page).toContain(`<code>${p.server.url}</code>`);
    const en = await (await fetch(`${agent.url}/`, { headers: { ...browser, 'accept-language': 'en-US,en' } })).text();
    expect(en).toContain('The Kakunin agent is running');
    expect(
      await (await fetch(`${agent.url}/?lang=en`, { headers: { ...browser, 'accept-language': 'ja' } })).text(),
    ).toContain('<html lang="en">');
    // Programs (and the platform's page script) get the JSON as before.
    for (const headers of [{}, { accept: 'application/json' }, { accept: '*/*' }]) {
      const res = await fetch(`${agent.url}/`, { headers });
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await res.json()).toEqual({ agent: 'kakunin-agent', protocol: 1, mode: 'sim' });
    }
    // Another address: a page for a browser, the JSON error for a program.
    const unknown = await fetch(`${agent.url}/nothing-here`, { headers: browser });
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toContain('id="unknown"');
    expect(((await (await fetch(`${agent.url}/nothing-here`)).json()) as { error: { code: string } }).error.code).toBe(
      'NOT_FOUND',
    );
  });

  it('answers preflights with Private Network Access for the platform only', async () => {
    const headers = {
      origin: p.server.url,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type',
      'access-control-request-private-network': 'true',
    };
    const ok = await fetch(`${agent.url}/v1/ceremonies`, { method: 'OPTIONS', headers });
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe(p.server.url);
    expect(ok.headers.get('access-control-allow-private-network')).toBe('true');
    expect(ok.headers.get('access-control-allow-methods')).toMatch(/POST/);
    expect(ok.headers.get('access-control-allow-headers')).toMatch(/content-type/i);

    const hello = await fetch(`${agent.url}/v1/hello`, {
      method: 'OPTIONS',
      headers: { origin: p.server.url, 'access-control-request-method': 'GET' },
    });
    expect(hello.status).toBe(204);
    expect(hello.headers.get('access-control-allow-private-network')).toBeNull();

    const denied = await fetch(`${agent.url}/v1/ceremonies`, {
      method: 'OPTIONS',
      headers: { ...headers, origin: FOREIGN },
    });
    expect(denied.status).toBe(403);
    expect(denied.headers.get('access-control-allow-origin')).toBeNull();
    expect(denied.headers.get('access-control-allow-private-network')).toBeNull();
  });

  it('refuses non-loopback hosts and requests for another host name (DNS rebinding)', async () => {
    for (const host of ['0.0.0.0', '192.168.1.10', 'example.com', '::']) {
      await expect(
        startAgent({ host, port: 0, platformOrigins: [p.server.url], card: { kind: 'sim', sandboxDir: sim.dir } }),
      ).rejects.toBeInstanceOf(AgentConfigError);
    }
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${agent.url}/v1/hello`, { headers: { host: `rebound.example:${agent.port}` } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(421);
  });
});

describe('POST /v1/ceremonies', () => {
  const post = (origin: string | undefined, body: unknown): Promise<Response> =>
    fetch(`${agent.url}/v1/ceremonies`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(origin ? { origin } : {}) },
      body: JSON.stringify(body),
    });

  it('refuses a foreign or missing origin, and URLs off the calling origin', async () => {
    const flow = await startFlow(p, rp.clientId, rp.clientSecret);
    const holder = /id="holder-link" href="([^"]+)"/.exec(flow.page.body)![1]!;
    const back = `${p.server.url}/interaction/x?lang=ja`;

    const foreign = await post(FOREIGN, { holder_url: holder, return_url: back });
    expect(foreign.status).toBe(403);
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
    expect((await post(undefined, { holder_url: holder, return_url: back })).status).toBe(403);

    const crossHolder = await post(p.server.url, {
      holder_url: holder.replace(p.server.url, FOREIGN),
      return_url: back,
    });
    expect(crossHolder.status).toBe(400);
    expect(((await crossHolder.json()) as { error: { code: string } }).error.code).toBe('CROSS_ORIGIN_URL');
    const crossReturn = await post(p.server.url, { holder_url: holder, return_url: 'https://evil.example/phish' });
    expect(crossReturn.status).toBe(400);
    expect(((await crossReturn.json()) as { error: { code: string } }).error.code).toBe('CROSS_ORIGIN_URL');
    const notCeremony = await post(p.server.url, { holder_url: `${p.server.url}/admin/v1/records`, return_url: back });
    expect(notCeremony.status).toBe(400);
    expect(((await notCeremony.json()) as { error: { code: string } }).error.code).toBe('INVALID_HOLDER_URL');
    expect((await post(p.server.url, { holder_url: holder })).status).toBe(400);
  });
});

describe('the confirmation page', () => {
  it('shows the RP, purpose, shared items, the whole statement and the residents; never a PIN; strict headers', async () => {
    const flow = await startFlow(p, rp.clientId, rp.clientSecret, { scope: 'openid', claims: IDENTITY_CLAIMS });
    const c = await openConfirmation(agent.url, p.server.url, flow);
    const res = await fetch(c.confirmUrl);
    expect(res.status).toBe(200);
    // The form posts to the agent only; its answer may redirect to the platform's ceremony page.
    expect(res.headers.get('content-security-policy')).toBe(
      `default-src 'none'; style-src 'unsafe-inline'; form-action 'self' ${p.server.url}; frame-ancestors 'none'`,
    );
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const html = await res.text();
    expect(html).toContain('<html lang="ja">');
    expect(html).toContain('はぴコイン&lt;銀行&gt;'); // escaped
    expect(html).not.toContain('はぴコイン<銀行>');
    expect(html).toContain('ウォレット開設の本人確認');
    const view = (await (await fetch(c.holderUrl)).json()) as { statement: string; nonce: string };
    const escaped = view.statement
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&#39;');
    expect(html).toContain(`<pre class="statement" id="statement">${escaped}</pre>`);
    expect(html).toContain(view.nonce);
    expect(html).toContain('署名して送信');
    expect(html).toMatch(
      /<label for="pin">[^<]+<\/label>\s*<input type="password" id="pin" name="pin" autocomplete="off"/,
    );
    expect(html).toContain('<select id="person" name="person"');
    for (const person of p.sandbox.people()) {
      if (adults.includes(person.id)) expect(html).toContain(`<option value="${person.id}"`);
      // Never a PIN: no password of anyone, no value on the PIN field.
      expect(html).not.toContain(person.pins.sign);
    }
    expect(html).not.toMatch(/name="pin"[^>]*value=/);
    expect(html).toContain('kakunin sim people');
    expect(html).toContain(`href="${c.returnUrl.replace(/&/g, '&amp;')}"`); // cancel goes back
    expect(html).not.toMatch(/<script/i);

    const en = await (await fetch(`${c.confirmUrl}?lang=en`)).text();
    expect(en).toContain('<html lang="en">');
    expect(en).toContain('Sign and send');
    expect(en).toContain('The text you sign');
  });

  it('login: "ログイン" / "Log in", the auth PIN label, no statement', async () => {
    const flow = await startFlow(p, rp.clientId, rp.clientSecret);
    const c = await openConfirmation(agent.url, p.server.url, flow);
    const html = await (await fetch(c.confirmUrl)).text();
    expect(html).toContain('>ログイン</button>');
    expect(html).toContain('利用者証明用電子証明書の暗証番号');
    expect(html).not.toContain('id="statement"');
    expect(await (await fetch(`${c.confirmUrl}?lang=en`)).text()).toContain('>Log in</button>');
  });

  it('an unknown confirmation link is 404', async () => {
    const res = await fetch(`${agent.url}/confirm/${'A'.repeat(43)}`);
    expect(res.status).toBe(404);
    expect(await res.text()).toContain('id="not-found"');
    expect(
      (await submit(`${agent.url}/confirm/${'B'.repeat(43)}`, { form_key: 'x', pin: '1234', person: 'p001' })).status,
    ).toBe(404);
  });
});

describe('completing ceremonies from the form', () => {
  it('login with the right PIN completes; the link is then spent (404); the RP gets its code', async () => {
    const person = take();
    const flow = await startFlow(p, rp.clientId, rp.clientSecret);
    const c = await openConfirmation(agent.url, p.server.url, flow);
    const form = formKeyOf(await (await fetch(c.confirmUrl)).text());
    const done = await submit(c.confirmUrl, { form_key: form, person, pin: p.sandbox.person(person).pins.auth });
    // Straight back to the ceremony page: a 303, no page to wait on (no fixed delay).
    expect(done.status, done.body).toBe(303);
    expect(done.headers.get('location')).toBe(c.returnUrl);
    expect(done.body).not.toContain('http-equiv="refresh"');
    expect(done.body).toContain('id="done"');
    expect(done.body).toContain(`id="return" href="${c.returnUrl.replace(/&/g, '&amp;')}"`);
    expect(await ceremonyStatus(p.server.url, c.ceremonyId)).toMatchObject({ state: 'completed' });

    expect((await fetch(c.confirmUrl)).status).toBe(404);
    expect(
      (await submit(c.confirmUrl, { form_key: form, person, pin: p.sandbox.person(person).pins.auth })).status,
    ).toBe(404);
    await finishFlow(p, flow);
  });

  it('identity with the signing password completes and the RP receives verified_claims', async () => {
    const person = take();
    const flow = await startFlow(p, rp.clientId, rp.clientSecret, { claims: IDENTITY_CLAIMS });
    const c = await openConfirmation(agent.url, p.server.url, flow, 'en');
    const form = formKeyOf(await (await fetch(c.confirmUrl)).text());
    const done = await submit(
      c.confirmUrl,
      { form_key: form, person, pin: p.sandbox.person(person).pins.sign.toLowerCase() },
      { lang: 'en' },
    );
    expect(done.status, done.body).toBe(303);
    expect(done.body).toContain('Your card has been checked');
    expect(await ceremonyStatus(p.server.url, c.ceremonyId)).toMatchObject({ state: 'completed' });
    const callback = await finishFlow(p, flow);
    const oidc = await import('openid-client');
    const tokens = await oidc.authorizationCodeGrant(flow.config, callback, {
      pkceCodeVerifier: flow.verifier,
      expectedState: flow.state,
    });
    const info = await oidc.fetchUserInfo(flow.config, tokens.access_token, tokens.claims()!.sub);
    expect((info.verified_claims as { claims: { name: string } }).claims.name).toBe(p.sandbox.person(person).name);
  });

  it('a wrong PIN re-renders the form with the remaining tries; the ceremony page sees card_error; the right PIN then completes', async () => {
    const person = take();
    const flow = await startFlow(p, rp.clientId, rp.clientSecret);
    const c = await openConfirmation(agent.url, p.server.url, flow);
    const form = formKeyOf(await (await fetch(c.confirmUrl)).text());
    const right = p.sandbox.person(person).pins.auth;
    const wrong = right === '0000' ? '1111' : '0000';
    const again = await submit(c.confirmUrl, { form_key: form, person, pin: wrong });
    expect(again.status).toBe(422);
    expect(again.body).toContain('data-error-code="WRONG_PIN"');
    expect(again.body).toContain('残り2回');
    // In words: which PIN, the tries left; the code only in small print.
    expect(again.body).toContain('利用者証明用電子証明書の暗証番号(数字4桁)が違います。');
    expect(again.body).toContain('(3回続けて間違えるとロックされます)');
    expect(again.body).toContain('<small>エラーコード: <code>WRONG_PIN</code></small>');
    expect(again.body).toContain(`<option value="${person}" selected>`);
    expect(again.body).toContain('name="pin"');
    expect(again.body).not.toContain(wrong === '0000' ? 'value="0000"' : 'value="1111"');
    expect(await ceremonyStatus(p.server.url, c.ceremonyId)).toEqual({
      state: 'pending',
      stage: 'waiting',
      card_error: { code: 'WRONG_PIN', remaining: 2 },
    });

    const format = await submit(c.confirmUrl, { form_key: form, person, pin: '12' });
    expect(format.status).toBe(422);
    expect(format.body).toContain('data-error-code="INVALID_PIN_FORMAT"');

    const done = await submit(c.confirmUrl, { form_key: form, person, pin: right });
    expect(done.status, done.body).toBe(303);
    expect(await ceremonyStatus(p.server.url, c.ceremonyId)).toMatchObject({ state: 'completed' });
  });

  it('a blocked PIN: the municipal office, no form; the ceremony page sees PIN_BLOCKED', async () => {
    const person = take();
    const flow = await startFlow(p, rp.clientId, rp.clientSecret);
    const c = await openConfirmation(agent.url, p.server.url, flow);
    const form = formKeyOf(await (await fetch(c.confirmUrl)).text());
    const wrong = p.sandbox.person(person).pins.auth === '0000' ? '1111' : '0000';
    expect((await submit(c.confirmUrl, { form_key: form, person, pin: wrong })).body).toContain('残り2回');
    const last = await submit(c.confirmUrl, { form_key: form, person, pin: wrong }, { lang: 'en' });
    expect(last.body).toContain('1 try left');
    expect(last.body).toContain('(one more wrong try locks it)');
    expect(last.body).toContain('That was not the user authentication PIN (4 digits).');
    const blocked = await submit(c.confirmUrl, { form_key: form, person, pin: wrong });
    expect(blocked.body).toContain('data-error-code="PIN_BLOCKED"');
    expect(blocked.body).toContain('市区町村の窓口');
    expect(blocked.body).toContain('利用者証明用電子証明書の暗証番号(数字4桁)を続けて間違えたため');
    expect(blocked.body).not.toContain('残り0回');
    expect(blocked.body).toContain(`<code>kakunin sim card reset-pin --person ${person}</code>`);
    expect(blocked.body).not.toContain('<form');
    expect(blocked.body).toContain(`id="return" href="${c.returnUrl.replace(/&/g, '&amp;')}"`);
    expect(await ceremonyStatus(p.server.url, c.ceremonyId)).toMatchObject({
      state: 'pending',
      card_error: { code: 'PIN_BLOCKED', remaining: 0 },
    });
  });

  it('a platform rejection (revoked certificate) is shown with a way back; the link is spent', async () => {
    const person = take();
    await p.sandbox.applyEvent(person, 'lose');
    const flow = await startFlow(p, rp.clientId, rp.clientSecret);
    const c = await openConfirmation(agent.url, p.server.url, flow);
    const form = formKeyOf(await (await fetch(c.confirmUrl)).text());
    const res = await submit(c.confirmUrl, { form_key: form, person, pin: p.sandbox.person(person).pins.auth });
    expect(res.status).toBe(422);
    expect(res.body).toContain('data-error-code="REVOKED"');
    expect(res.body).toContain(`id="return" href="${c.returnUrl.replace(/&/g, '&amp;')}"`);
    expect(await ceremonyStatus(p.server.url, c.ceremonyId)).toMatchObject({
      state: 'failed',
      error: { code: 'REVOKED' },
    });
    expect((await fetch(c.confirmUrl)).status).toBe(404);
  });

  it('refuses form posts from another origin or without the form key', async () => {
    const person = take();
    const flow = await startFlow(p, rp.clientId, rp.clientSecret);
    const c = await openConfirmation(agent.url, p.server.url, flow);
    const form = formKeyOf(await (await fetch(c.confirmUrl)).text());
    const pin = p.sandbox.person(person).pins.auth;
    expect((await submit(c.confirmUrl, { form_key: form, person, pin }, { origin: p.server.url })).status).toBe(403);
    expect((await submit(c.confirmUrl, { form_key: 'forged', person, pin })).status).toBe(403);
    expect((await submit(c.confirmUrl, { person, pin })).status).toBe(403);
    expect(await ceremonyStatus(p.server.url, c.ceremonyId)).toMatchObject({ state: 'pending', stage: 'waiting' });
    // The agent's own origin is fine.
    expect((await submit(c.confirmUrl, { form_key: form, person, pin }, { origin: agent.url })).status).toBe(303);
  });

  it('a finished ceremony: the link says so and is spent', async () => {
    const person = take();
    const flow = await startFlow(p, rp.clientId, rp.clientSecret);
    const c = await openConfirmation(agent.url, p.server.url, flow);
    const first = await openConfirmation(agent.url, p.server.url, flow);
    const form = formKeyOf(await (await fetch(first.confirmUrl)).text());
    expect(
      (await submit(first.confirmUrl, { form_key: form, person, pin: p.sandbox.person(person).pins.auth })).status,
    ).toBe(303);
    const late = await fetch(c.confirmUrl);
    expect(late.status).toBe(409);
    expect(await late.text()).toContain('data-error-code="CEREMONY_FINISHED"');
    expect((await fetch(c.confirmUrl)).status).toBe(404);
  });
});

describe('PIN on the terminal', () => {
  it('the page has no PIN field; the PIN comes from the prompt', async () => {
    const person = take();
    const asked: PinQuestion[] = [];
    const terminal = await startAgent({
      port: 0,
      platformOrigins: [p.server.url],
      card: { kind: 'sim', sandboxDir: sim.dir },
      pinPrompt: 'terminal',
      askPin: async (q) => {
        asked.push(q);
        return p.sandbox.person(person).pins.sign;
      },
    });
    try {
      const flow = await startFlow(p, rp.clientId, rp.clientSecret, { claims: IDENTITY_CLAIMS });
      const c = await openConfirmation(terminal.url, p.server.url, flow);
      const html = await (await fetch(c.confirmUrl)).text();
      expect(html).not.toContain('type="password"');
      expect(html).toContain('id="pin-on-terminal"');
      const done = await submit(c.confirmUrl, { form_key: formKeyOf(html), person });
      expect(done.status, done.body).toBe(303);
      expect(asked).toEqual([
        expect.objectContaining({
          kind: 'sign',
          rpName: 'はぴコイン<銀行>',
          ceremonyKind: 'identity',
          statement: expect.stringContaining(c.ceremonyId),
        }),
      ]);
      expect(await ceremonyStatus(p.server.url, c.ceremonyId)).toMatchObject({ state: 'completed' });
    } finally {
      await terminal.close();
    }
  });
});

describe('kakunin agent', () => {
  it('prints its base URL first, serves hello for the given platform, stops on SIGINT', async () => {
    const script = fileURLToPath(new URL('./support/agent-cli.ts', import.meta.url));
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', script, 'agent', '--port', '0', '--sim', '--dir', sim.dir, '--platform', p.server.url],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout }).once('line', resolve);
        void exited.then((code) => reject(new Error(`agent exited with ${code}: ${stderr}`)));
      });
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const hello = await fetch(`${url}/v1/hello`, { headers: { origin: p.server.url } });
      expect(hello.headers.get('access-control-allow-origin')).toBe(p.server.url);
      expect(await hello.json()).toMatchObject({ agent: 'kakunin-agent', mode: 'sim' });
      child.kill('SIGINT');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 60_000);
});
