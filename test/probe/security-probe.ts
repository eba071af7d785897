// The security review's requests (issue 15), sent to a running platform, each with the answer it
// must get: `node --import tsx test/probe/security-probe.ts --url URL --admin-token TOKEN
// [--sim-dir DIR] [--request-timeout S] [--max-connections N] [--streams-per-ceremony N]`.
// Prints one line per check (its adversarial catalogue id) and exits 1 when any fails. The checks
// that lock this address out for a minute (failed-attempt limits) run last. `--sim-dir` (a sandbox
// platform's simulator) lets the holder answer with a virtual card for the checks that need a
// completed ceremony. test/probe/security-probe.test.ts runs it against a fresh sandbox platform.

import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import * as oidc from 'openid-client';
import { JLIS_ROOTS, parseCertificate } from '@kakunin/jpki';
import { openSandbox } from '@kakunin/sim';
import { Browser, holderLinkOf, holderRespond } from '@kakunin/server/testing';

export interface ProbeOptions {
  url: string;
  adminToken: string;
  simDir?: string;
  /** The server's request timeout (requestTimeoutSeconds). */
  requestTimeoutSeconds?: number;
  /** The server's maxConnectionsPerAddress. */
  maxConnectionsPerAddress?: number;
  /** The server's progress streams per ceremony. */
  streamsPerCeremony?: number;
  /** Failed client authentications per client before 429. */
  failuresPerClient?: number;
  /** Failed admin sign-ins per address before 429. */
  failuresPerAddress?: number;
}

export interface ProbeResult {
  id: string;
  item: number;
  what: string;
  ok: boolean;
  detail: string;
}

interface Registered {
  client_id: string;
  client_secret: string;
  redirect_uris: string[];
}

class ProbeFailure extends Error {}
function check(cond: unknown, what: string): asserts cond {
  if (!cond) throw new ProbeFailure(what);
}

const REDIRECT = 'http://127.0.0.1:9/probe-callback';
const SECURITY_HEADERS = [
  'x-frame-options',
  'content-security-policy',
  'x-content-type-options',
  'referrer-policy',
] as const;

/** A raw HTTP request (fetch cannot send its own Host header). */
function rawGet(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const basic = (id: string, secret: string): string => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

export async function runProbe(o: ProbeOptions): Promise<ProbeResult[]> {
  const base = o.url.replace(/\/+$/, '');
  const admin = { authorization: `Bearer ${o.adminToken}`, 'content-type': 'application/json' };
  const discovery = (await (await fetch(`${base}/.well-known/openid-configuration`)).json()) as {
    issuer: string;
    token_endpoint: string;
    authorization_endpoint: string;
  };
  const results: ProbeResult[] = [];

  const register = async (
    body: Record<string, unknown>,
  ): Promise<{ status: number; json: Record<string, unknown> }> => {
    const res = await fetch(`${base}/admin/v1/relying-parties`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };
  const created = async (body: Record<string, unknown>): Promise<Registered> => {
    const r = await register(body);
    if (r.status !== 201) throw new Error(`registering a probe RP answered ${r.status}: ${JSON.stringify(r.json)}`);
    return r.json as unknown as Registered;
  };
  const rp = await created({ name: 'security probe', redirect_uris: [REDIRECT], ceremonies: ['login', 'identity'] });
  const postRp = await created({
    name: 'security probe (post)',
    redirect_uris: [REDIRECT],
    token_endpoint_auth_method: 'client_secret_post',
  });

  /** An authorization by the probe RP in a cookie-keeping browser, up to the ceremony page. */
  const ceremonyPage = async (
    params: Record<string, string> = {},
  ): Promise<{
    browser: Browser;
    page: { url: string; status: number; body: string };
    config: oidc.Configuration;
    verifier: string;
    state: string;
  }> => {
    const config = await oidc.discovery(
      new URL(base),
      rp.client_id,
      undefined,
      oidc.ClientSecretBasic(rp.client_secret),
      { execute: [oidc.allowInsecureRequests] },
    );
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT,
      scope: 'openid',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      ...params,
    });
    const browser = new Browser();
    return { browser, page: await browser.go(url.toString(), base), config, verifier, state };
  };
  const tokenRequest = (headers: Record<string, string>, body: Record<string, string> = {}): Promise<Response> =>
    fetch(discovery.token_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: 'probe',
        redirect_uri: REDIRECT,
        code_verifier: 'p'.repeat(43),
        ...body,
      }).toString(),
    });

  const run = async (id: string, item: number, what: string, body: () => Promise<string | void>): Promise<void> => {
    try {
      const detail = await body();
      results.push({ id, item, what, ok: true, detail: detail ?? '' });
    } catch (e) {
      results.push({
        id,
        item,
        what,
        ok: false,
        detail: e instanceof ProbeFailure ? e.message : `error: ${(e as Error).stack ?? String(e)}`,
      });
    }
  };

  await run('A73', 1, 'forged Host / X-Forwarded-Host / -Proto change no endpoint in discovery', async () => {
    const r = await rawGet(`${base}/.well-known/openid-configuration`, {
      host: 'evil.example',
      'x-forwarded-host': 'evil.example',
      'x-forwarded-proto': 'https',
    });
    check(r.status === 200, `discovery answered ${r.status}`);
    check(!r.body.includes('evil.example'), 'the discovery document names evil.example');
    const doc = JSON.parse(r.body) as Record<string, unknown>;
    check(doc.issuer === discovery.issuer, `issuer ${String(doc.issuer)}`);
    for (const [k, v] of Object.entries(doc))
      if (k.endsWith('_endpoint') || k === 'jwks_uri')
        check(String(v).startsWith(discovery.issuer), `${k} is ${String(v)}`);
    return `issuer and endpoints stay under ${discovery.issuer}`;
  });

  await run('A75', 2, 'malformed Basic credentials are invalid_client (401), not a 500', async () => {
    for (const header of [
      `Basic ${Buffer.from(`${rp.client_id}:%E0%A4%A`).toString('base64')}`,
      `Basic ${Buffer.from(rp.client_id).toString('base64')}`,
      'Basic !!!',
    ]) {
      const res = await tokenRequest({ authorization: header });
      const json = (await res.json()) as { error?: string };
      check(
        res.status === 401 && json.error === 'invalid_client',
        `${header} answered ${res.status} ${JSON.stringify(json)}`,
      );
    }
    return '3 malformed headers → 401 invalid_client';
  });

  await run(
    'A76',
    3,
    'a slow request body is cut by the request timeout; the per-address connection cap holds',
    async () => {
      const timeout = o.requestTimeoutSeconds ?? 30;
      const { host, port } = new URL(base);
      const hostname = host.replace(/:\d+$/, '');
      const started = Date.now();
      const answer = await new Promise<string>((resolve) => {
        const socket = connect(Number(port || 80), hostname);
        let got = '';
        const drip = setInterval(() => socket.writable && socket.write('x'), 200);
        const done = (): void => {
          clearInterval(drip);
          clearTimeout(limit);
          socket.destroy();
          resolve(got);
        };
        const limit = setTimeout(done, (timeout + 5) * 1000);
        socket.on('connect', () =>
          socket.write(
            `POST /holder/v1/ceremonies/cer_probe/response HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: 60000\r\n\r\n{`,
          ),
        );
        socket.on('data', (d: Buffer) => (got += d.toString('latin1')));
        socket.on('close', done);
        socket.on('error', done);
      });
      const took = (Date.now() - started) / 1000;
      check(
        took < timeout + 5,
        `the slow body was still open after ${took.toFixed(1)} s (request timeout ${timeout} s)`,
      );
      check(
        answer === '' || answer.startsWith('HTTP/1.1 408'),
        `the slow body got ${JSON.stringify(answer.slice(0, 40))}`,
      );
      // The connection cap: one more than allowed is closed at once, without an answer.
      const cap = o.maxConnectionsPerAddress ?? 100;
      const sockets: Socket[] = [];
      try {
        for (let i = 0; i < cap; i++) {
          const s = connect(Number(port || 80), hostname);
          s.on('error', () => undefined);
          sockets.push(s);
          await new Promise((r) => s.once('connect', r));
        }
        await new Promise((r) => setTimeout(r, 200));
        const extra = connect(Number(port || 80), hostname);
        sockets.push(extra);
        const closed = await new Promise<boolean>((resolve) => {
          const t = setTimeout(() => resolve(false), 2000);
          extra.on('error', () => undefined);
          extra.once('close', () => {
            clearTimeout(t);
            resolve(true);
          });
          extra.once('connect', () => extra.write(`GET /healthz HTTP/1.1\r\nHost: ${host}\r\n\r\n`));
        });
        check(closed, `connection ${cap + 1} from one address stayed open`);
      } finally {
        for (const s of sockets) s.destroy();
      }
      await new Promise((r) => setTimeout(r, 300));
      check(
        (await fetch(`${base}/healthz`)).status === 200,
        'the platform does not answer after the connections closed',
      );
      return `slow body closed after ${took.toFixed(1)} s; connection ${cap + 1} refused`;
    },
  );

  await run('A77', 4, 'progress streams beyond the cap per ceremony are refused with 429 and Retry-After', async () => {
    const { browser, page } = await ceremonyPage();
    check(page.status === 200, `the ceremony page answered ${page.status}`);
    const events = `${page.url.replace(/[?#].*$/, '')}/events`;
    const cap = o.streamsPerCeremony ?? 4;
    const open: Response[] = [];
    try {
      for (let i = 0; i < cap; i++) {
        const res = await browser.request(events);
        open.push(res);
        check(
          res.status === 200 && (res.headers.get('content-type') ?? '').startsWith('text/event-stream'),
          `stream ${i + 1} answered ${res.status}`,
        );
      }
      const refused = await browser.request(events);
      const body = (await refused.json()) as { error?: { code?: string } };
      check(
        refused.status === 429 && refused.headers.get('retry-after') !== null,
        `stream ${cap + 1} answered ${refused.status}`,
      );
      check(body.error?.code === 'TOO_MANY_STREAMS', `stream ${cap + 1}: ${JSON.stringify(body)}`);
    } finally {
      for (const res of open) await res.body?.cancel();
    }
    return `${cap} streams open, stream ${cap + 1} → 429 TOO_MANY_STREAMS`;
  });

  await run('A78', 5, 'security headers on every page, oidc-provider error pages included', async () => {
    const paths = [
      '/',
      `/auth?client_id=nope&response_type=code&scope=openid&redirect_uri=${encodeURIComponent(REDIRECT)}`,
      '/.well-known/openid-configuration',
      '/healthz',
      '/no-such-page',
      '/interaction/unknown',
    ];
    for (const path of paths) {
      const res = await fetch(`${base}${path}`, { redirect: 'manual' });
      await res.arrayBuffer();
      for (const h of SECURITY_HEADERS) check(res.headers.get(h), `${path} (${res.status}) has no ${h}`);
      check(
        res.headers.get('x-frame-options') === 'DENY',
        `${path}: x-frame-options ${res.headers.get('x-frame-options')}`,
      );
      const csp = res.headers.get('content-security-policy')!;
      check(csp.includes("frame-ancestors 'none'"), `${path}: CSP without frame-ancestors 'none'`);
      check(!/script-src[^;]*'unsafe-inline'/.test(csp), `${path}: script-src allows 'unsafe-inline'`);
      check(res.headers.get('x-content-type-options') === 'nosniff', `${path}: no nosniff`);
      check(
        base.startsWith('https:') === Boolean(res.headers.get('strict-transport-security')),
        `${path}: HSTS ${base.startsWith('https:') ? 'missing' : 'on plain http'}`,
      );
    }
    return `${paths.length} pages`;
  });

  await run('A79', 5, "the ceremony page's CSP allows no inline script", async () => {
    const { page, browser } = await ceremonyPage();
    const res = await browser.request(page.url);
    const csp = res.headers.get('content-security-policy') ?? '';
    const html = await res.text();
    check(/script-src 'self'(;|$)/.test(csp), `ceremony page script-src: ${csp}`);
    const scripts = [...html.matchAll(/<script\b([^>]*)>/g)].map((m) => m[1]!);
    check(
      scripts.every((a) => /\bsrc=/.test(a) || /type="application\/json"/.test(a)),
      `inline scripts on the ceremony page: ${scripts.join(' | ')}`,
    );
    const src = /<script[^>]*\bsrc="([^"]+)"/.exec(html)?.[1];
    check(src, 'the ceremony page loads no script file');
    const js = await fetch(new URL(src.replace(/&amp;/g, '&'), base));
    check(
      js.status === 200 && (js.headers.get('content-type') ?? '').includes('javascript'),
      `${src} answered ${js.status} ${js.headers.get('content-type')}`,
    );
    return `script-src 'self'; ${src}`;
  });

  await run('A80', 6, 'statement_detail with U+2028, U+0085, a zero-width or a bidi mark is refused', async () => {
    for (const ch of ['\u2028', '\u2029', '\u0085', '\u200b', '\u202e', '\u2066']) {
      const { page } = await ceremonyPage({ scope: 'openid identity', statement_detail: `送金 10${ch}000 円` });
      check(
        page.status === 400 && page.body.includes('data-error-code="INVALID_REQUEST"'),
        `U+${ch.codePointAt(0)!.toString(16)} answered ${page.status}`,
      );
    }
    return '6 characters → 400 INVALID_REQUEST';
  });

  await run('A82', 8, "a J-LIS root posted as the holder's certificate is INVALID_BASIC_CONSTRAINTS", async () => {
    const { page } = await ceremonyPage({ scope: 'openid identity' });
    const view = (await (await fetch(holderLinkOf(page.body))).json()) as { nonce: string; response_url: string };
    const root = parseCertificate(JLIS_ROOTS.find((r) => r.label === 'signca03')!.pem).x509.der;
    const res = await fetch(view.response_url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        nonce: view.nonce,
        certificate: Buffer.from(root).toString('base64'),
        signature: Buffer.alloc(256, 1).toString('base64'),
      }),
    });
    const body = (await res.json()) as { error?: { code?: string } };
    check(
      res.status >= 400 && body.error?.code === 'INVALID_BASIC_CONSTRAINTS',
      `answered ${res.status} ${JSON.stringify(body)}`,
    );
    return `${res.status} INVALID_BASIC_CONSTRAINTS`;
  });

  await run('A81', 7, 'claims named constructor / toString release nothing', async () => {
    check(o.simDir, 'needs --sim-dir (a sandbox platform) to answer the ceremony with a virtual card');
    const sandbox = openSandbox(o.simDir);
    const person = sandbox
      .people()
      .find((p) => sandbox.certificates({ personId: p.id, kind: 'sign', medium: 'card' }).length > 0)!.id;
    const claims = { constructor: null, toString: null };
    const request = {
      userinfo: { verified_claims: { verification: { trust_framework: null }, claims } },
      id_token: { verified_claims: { verification: { trust_framework: null }, claims } },
    };
    const flow = await ceremonyPage({ claims: JSON.stringify(request) });
    const answered = await holderRespond(sandbox, holderLinkOf(flow.page.body), { person });
    check(answered.status === 200, `the holder's answer got ${answered.status}`);
    const uid = /\/interaction\/([^/?]+)/.exec(flow.page.url)![1]!;
    const consent = await flow.browser.go(`${base}/interaction/${uid}/continue`, base);
    const consentUid = /\/interaction\/([^/?]+)/.exec(consent.url)![1]!;
    const landed = await flow.browser.go(`${base}/interaction/${consentUid}/consent`, base, {
      method: 'POST',
      form: {},
    });
    check(landed.external && landed.url.startsWith(REDIRECT), `the flow ended at ${landed.url}`);
    const tokens = await oidc.authorizationCodeGrant(flow.config, new URL(landed.url), {
      pkceCodeVerifier: flow.verifier,
      expectedState: flow.state,
    });
    const info = await oidc.fetchUserInfo(flow.config, tokens.access_token, tokens.claims()!.sub);
    check(
      tokens.claims()!.verified_claims === undefined,
      `the ID token holds verified_claims ${JSON.stringify(tokens.claims()!.verified_claims)}`,
    );
    check(info.verified_claims === undefined, `userinfo holds verified_claims ${JSON.stringify(info.verified_claims)}`);
    return 'no verified_claims in the ID token or userinfo';
  });

  await run('A87', 11, 'a client_secret_post client is refused with Basic, with or without ":junk"', async () => {
    for (const secret of [`${postRp.client_secret}:junk`, postRp.client_secret]) {
      const res = await tokenRequest({ authorization: basic(postRp.client_id, secret) });
      const json = (await res.json()) as { error?: string };
      check(
        res.status === 401 && json.error === 'invalid_client',
        `Basic with ${secret === postRp.client_secret ? 'the exact secret' : 'secret:junk'} answered ${res.status} ${JSON.stringify(json)}`,
      );
    }
    const ok = await tokenRequest({}, { client_id: postRp.client_id, client_secret: postRp.client_secret });
    const json = (await ok.json()) as { error?: string };
    check(
      ok.status === 400 && json.error === 'invalid_grant',
      `its registered method answered ${ok.status} ${JSON.stringify(json)}`,
    );
    return 'Basic → 401 invalid_client; post → past authentication (invalid_grant for the made-up code)';
  });

  await run('A88', 12, 'a redirect URI with a Unicode host is stored as punycode', async () => {
    const r = await register({ name: 'IDN probe', redirect_uris: ['https://ｅxаmple.jp/cb'] });
    check(r.status === 201, `registration answered ${r.status} ${JSON.stringify(r.json)}`);
    check(
      JSON.stringify(r.json.redirect_uris) === JSON.stringify(['https://xn--exmple-4nf.jp/cb']),
      `stored ${JSON.stringify(r.json.redirect_uris)}`,
    );
    return 'https://xn--exmple-4nf.jp/cb';
  });

  await run('A89', 12, 'redirect URIs with userinfo or a wildcard host are refused', async () => {
    for (const uri of [
      'https://user@rp.example.jp/cb',
      'https://rp.example.jp@evil.example/cb',
      'https://*.example.jp/cb',
    ]) {
      const r = await register({ name: 'tricky probe', redirect_uris: [uri] });
      check(r.status === 400, `${uri} answered ${r.status}`);
    }
    return '3 URIs → 400';
  });

  // Last: these lock this address (or the probe client) out for the failure window.
  await run('A85', 10, 'wrong client secrets at the token endpoint: 429 with Retry-After after the limit', async () => {
    const limit = o.failuresPerClient ?? 10;
    for (let i = 0; i < limit; i++) {
      const res = await tokenRequest({ authorization: basic(rp.client_id, 'wrong-secret') });
      await res.arrayBuffer();
      check(res.status === 401, `wrong secret ${i + 1} answered ${res.status}`);
    }
    const res = await tokenRequest({ authorization: basic(rp.client_id, rp.client_secret) });
    const json = (await res.json()) as { error?: string };
    check(res.status === 429 && res.headers.get('retry-after'), `attempt ${limit + 1} answered ${res.status}`);
    check(json.error === 'temporarily_unavailable', `attempt ${limit + 1}: ${JSON.stringify(json)}`);
    return `${limit} × 401, then 429 Retry-After ${res.headers.get('retry-after')} s`;
  });

  await run(
    'A74+A86',
    1,
    'wrong admin tokens with forged X-Forwarded-For still count against this address: 429 after the limit',
    async () => {
      const limit = o.failuresPerAddress ?? 30;
      for (let i = 0; i < limit; i++) {
        const res = await fetch(`${base}/admin/v1/relying-parties`, {
          headers: { authorization: 'Bearer wrong', 'x-forwarded-for': `203.0.113.${i + 1}` },
        });
        await res.arrayBuffer();
        check(res.status === 401, `wrong token ${i + 1} answered ${res.status}`);
      }
      const res = await fetch(`${base}/admin/v1/relying-parties`, {
        headers: { authorization: `Bearer ${o.adminToken}`, 'x-forwarded-for': '203.0.113.250' },
      });
      const json = (await res.json()) as { error?: { code?: string } };
      check(res.status === 429 && res.headers.get('retry-after'), `attempt ${limit + 1} answered ${res.status}`);
      check(json.error?.code === 'TOO_MANY_ATTEMPTS', `attempt ${limit + 1}: ${JSON.stringify(json)}`);
      return `${limit} × 401 from "different" forwarded addresses, then 429`;
    },
  );

  return results;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      'admin-token': { type: 'string' },
      'sim-dir': { type: 'string' },
      'request-timeout': { type: 'string' },
      'max-connections': { type: 'string' },
      'streams-per-ceremony': { type: 'string' },
    },
  });
  if (!values.url || !values['admin-token']) {
    process.stderr.write(
      'usage: security-probe --url URL --admin-token TOKEN [--sim-dir DIR] [--request-timeout S] [--max-connections N] [--streams-per-ceremony N]\n',
    );
    process.exit(2);
  }
  const num = (v: string | undefined): number | undefined => (v === undefined ? undefined : Number(v));
  const results = await runProbe({
    url: values.url,
    adminToken: values['admin-token'],
    ...(values['sim-dir'] ? { simDir: values['sim-dir'] } : {}),
    ...(values['request-timeout'] ? { requestTimeoutSeconds: num(values['request-timeout'])! } : {}),
    ...(values['max-connections'] ? { maxConnectionsPerAddress: num(values['max-connections'])! } : {}),
    ...(values['streams-per-ceremony'] ? { streamsPerCeremony: num(values['streams-per-ceremony'])! } : {}),
  });
  for (const r of results)
    process.stdout.write(
      `${r.ok ? 'PASS' : 'FAIL'} ${r.id.padEnd(7)} item ${String(r.item).padStart(2)}  ${r.what}${r.detail ? ` — ${r.detail}` : ''}\n`,
    );
  process.stdout.write('A84 (item 9, secrets at rest) is a database check: test/adversarial/secrets.test.ts\n');
  const failed = results.filter((r) => !r.ok).length;
  process.stdout.write(`${results.length - failed} passed, ${failed} failed\n`);
  process.exitCode = failed ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
