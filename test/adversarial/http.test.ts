// Adversarial catalogue — the HTTP edge (A73, A74, A76, A78, A79): forwarded headers, slow clients
// and connection floods, security headers and the ceremony page's CSP. Three sandbox platforms:
// `plain` as deployed by default (no trusted proxy, http public URL), `proxied` behind a proxy on
// 127.0.0.1 with an https public URL, `tight` with short timeouts and a small connection limit.

import { request, type IncomingHttpHeaders } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { title } from './catalogue.js';
import { REDIRECT, holderLinkOf, holderRespond, startFlow, startHarness, type Harness } from './support/platform.js';

const PUBLIC_HTTPS = 'https://id.kakunin.test';
const TIGHT = {
  requestTimeoutSeconds: 2,
  headersTimeoutSeconds: 1,
  keepAliveTimeoutSeconds: 1,
  maxConnectionsPerAddress: 6,
};

let plain: Harness;
let proxied: Harness;
let tight: Harness;
beforeAll(async () => {
  plain = await startHarness();
  [proxied, tight] = await Promise.all([
    startHarness({ config: { trustedProxies: ['127.0.0.1'], publicUrl: PUBLIC_HTTPS } }),
    startHarness({ config: TIGHT }),
  ]);
}, 240_000);
afterAll(async () => {
  await Promise.all([plain?.close(), proxied?.close(), tight?.close()]);
});

/** Where the platform listens (its public URL may name another host, as behind a proxy). */
const portOf = (h: Harness): number => (h.p.server.app.server.address() as AddressInfo).port;

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One request with exactly these headers (Host included), on a connection of its own. */
function send(
  h: Harness,
  path: string,
  o: { method?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: portOf(h), path, method: o.method ?? 'GET', headers: o.headers ?? {}, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** A raw connection that records what it receives and when it is closed. */
async function open(h: Harness): Promise<{ socket: Socket; received: () => string; closed: Promise<number> }> {
  const socket = connect(portOf(h), '127.0.0.1');
  const started = Date.now();
  let received = '';
  socket.on('data', (d: Buffer) => (received += d.toString('latin1')));
  socket.on('error', () => undefined);
  const closed = new Promise<number>((resolve) => socket.on('close', () => resolve(Date.now() - started)));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('close', () => reject(new Error('closed before connecting')));
  });
  return { socket, received: () => received, closed };
}

/** Writes `piece` every 200 ms until the socket closes; resolves with the ms it stayed open. */
async function trickle(c: Awaited<ReturnType<typeof open>>, first: string, piece: string): Promise<number> {
  c.socket.write(first);
  const timer = setInterval(() => c.socket.writable && c.socket.write(piece), 200);
  try {
    return await Promise.race([
      c.closed,
      new Promise<number>((_, reject) => setTimeout(() => reject(new Error('still open after 10 s')), 10_000)),
    ]);
  } finally {
    clearInterval(timer);
    c.socket.destroy();
  }
}

const addressKeys = async (h: Harness): Promise<string[]> =>
  (
    await h.p.server.platform.db.query<{ key: string }>(
      "SELECT key FROM auth_failures WHERE key LIKE 'admin:address:%' ORDER BY key",
    )
  ).map((r) => r.key);

describe('the HTTP edge', () => {
  it(title('A73'), async () => {
    const forged = {
      host: 'evil.example',
      'x-forwarded-host': 'evil.example',
      'x-forwarded-proto': 'https',
      'x-forwarded-port': '443',
    };
    // A client talking directly, and (behind a configured proxy) a proxy passing a client's forgery on.
    for (const [h, origin] of [
      [plain, plain.p.server.url],
      [proxied, PUBLIC_HTTPS],
    ] as const) {
      const res = await send(h, '/.well-known/openid-configuration', { headers: forged });
      expect(res.status).toBe(200);
      const doc = JSON.parse(res.body) as Record<string, unknown>;
      expect(doc.issuer).toBe(origin);
      const urls = Object.entries(doc).filter(
        ([k, v]) => typeof v === 'string' && (k.endsWith('_endpoint') || k.endsWith('_uri')),
      );
      expect(urls.map(([k]) => k)).toEqual(
        expect.arrayContaining(['authorization_endpoint', 'token_endpoint', 'userinfo_endpoint', 'jwks_uri']),
      );
      for (const [k, v] of urls) expect(v, k).toMatch(new RegExp(`^${origin.replace(/[.]/g, '\\.')}/`));
      expect(res.body).not.toContain('evil.example');
    }
  });

  it(title('A74'), async () => {
    const wrongToken = { authorization: 'Bearer not-the-admin-token' };
    // Not from a configured proxy: the header is ignored, the failure counts against the socket's address.
    expect(
      (await send(plain, '/admin/v1/relying-parties', { headers: { ...wrongToken, 'x-forwarded-for': '203.0.113.7' } }))
        .status,
    ).toBe(401);
    expect(await addressKeys(plain)).toEqual(['admin:address:127.0.0.1']);
    // From a configured proxy: the client is the nearest address the proxy did not vouch for, not
    // what the client itself wrote further left.
    expect(
      (
        await send(proxied, '/admin/v1/relying-parties', {
          headers: { ...wrongToken, 'x-forwarded-for': '198.51.100.1, 203.0.113.7' },
        })
      ).status,
    ).toBe(401);
    expect(await addressKeys(proxied)).toEqual(['admin:address:203.0.113.7']);
  });

  it(
    title('A76'),
    async () => {
      // A body announced as 60 kB, sent one byte at a time: cut at the request timeout (2 s + Node's 1 s check).
      const body = await open(tight);
      const bodyOpenMs = await trickle(
        body,
        'POST /holder/v1/ceremonies/cer_AAAAAAAAAAAA/response HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 60000\r\n\r\n{',
        ' ',
      );
      expect(bodyOpenMs).toBeGreaterThanOrEqual(1900);
      expect(bodyOpenMs).toBeLessThan(5000);
      expect(body.received()).toMatch(/^HTTP\/1\.1 408 /);
      // Headers that never end: cut at the headers timeout.
      const headers = await open(tight);
      const headersOpenMs = await trickle(headers, 'GET /healthz HTTP/1.1\r\nHost: x\r\n', 'X-Slow: 1\r\n');
      expect(headersOpenMs).toBeLessThan(4000);
      expect(headers.received()).toMatch(/^HTTP\/1\.1 408 /);

      // Connections per address: the limit holds, and a closed connection frees its place.
      const held = await Promise.all(Array.from({ length: TIGHT.maxConnectionsPerAddress }, () => open(tight)));
      const extra = connect(portOf(tight), '127.0.0.1');
      extra.on('error', () => undefined);
      const extraClosedMs = await new Promise<number>((resolve) => {
        const started = Date.now();
        extra.on('close', () => resolve(Date.now() - started));
      });
      expect(extraClosedMs).toBeLessThan(900);
      expect(held.every((c) => !c.socket.destroyed)).toBe(true);
      for (const c of held) c.socket.destroy();
      await Promise.all(held.map((c) => c.closed));
      await new Promise((r) => setTimeout(r, 100));
      expect((await send(tight, '/healthz')).status).toBe(200);
    },
    30_000,
  );

  it('the progress stream outlives the request and headers timeouts, and still reports the outcome', async () => {
    const flow = await startFlow(tight.p, tight.rpA.clientId, tight.rpA.clientSecret);
    const uid = /\/interaction\/([^/?]+)/.exec(flow.page.url)![1]!;
    const res = await flow.browser.request(`${tight.p.server.url}/interaction/${uid}/events`);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = res.body!.getReader();
    let text = '';
    // One read at a time: a read left pending when waiting gives up is the next one's.
    let pending: ReturnType<typeof reader.read> | undefined;
    const readUntil = async (pattern: RegExp, ms: number): Promise<boolean> => {
      const deadline = Date.now() + ms;
      while (!pattern.test(text)) {
        const left = deadline - Date.now();
        if (left <= 0) return false;
        pending ??= reader.read();
        const chunk = await Promise.race([pending, new Promise<'wait'>((r) => setTimeout(() => r('wait'), left))]);
        if (chunk === 'wait') return false;
        pending = undefined;
        if (chunk.done) throw new Error(`the progress stream ended: ${text}`);
        text += new TextDecoder().decode(chunk.value);
      }
      return true;
    };
    // Longer than request + headers timeouts and two of Node's checks, with nothing to report.
    expect(await readUntil(/"state":"completed"/, 5000)).toBe(false);
    expect(
      (await holderRespond(tight.p.sandbox, holderLinkOf(flow.page.body), { person: tight.signers[0]! })).status,
    ).toBe(200);
    expect(await readUntil(/"state":"completed"/, 10_000)).toBe(true);
    await reader.cancel();
  }, 60_000);

  it(title('A78'), async () => {
    const paths = [
      '/', // the front page
      '/auth?client_id=nope&response_type=code&scope=openid&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb', // oidc-provider's error page
      '/authorize?client_id=nope', // oidc-provider's 404
      '/.well-known/openid-configuration',
      '/interaction/unknown', // a platform page without an interaction
      '/healthz',
      '/no-such-page',
    ];
    for (const [h, hsts] of [
      [plain, false],
      [proxied, true],
    ] as const) {
      for (const path of paths) {
        const res = await send(h, path);
        const where = `${path} → ${res.status}`;
        expect(res.headers['x-frame-options'], where).toBe('DENY');
        expect(res.headers['content-security-policy'], where).toMatch(/frame-ancestors 'none'/);
        expect(res.headers['content-security-policy'], where).not.toMatch(/script-src[^;]*'unsafe-inline'/);
        expect(res.headers['x-content-type-options'], where).toBe('nosniff');
        expect(res.headers['referrer-policy'], where).toBe('strict-origin-when-cross-origin');
        if (hsts) expect(res.headers['strict-transport-security'], where).toMatch(/^max-age=\d{7,}/);
        else expect(res.headers['strict-transport-security'], where).toBeUndefined();
      }
      // The oidc-provider error page is one of ours, and a page: it says so.
      const error = await send(h, paths[1]!);
      expect(error.status).toBe(400);
      expect(error.headers['content-type']).toMatch(/^text\/html/);
    }
    // oidc-provider's form_post page (here an error returned to the RP): its one inline script is
    // allowed by its hash, which oidc-provider adds to the CSP it finds; the headers stay.
    const query = new URLSearchParams({
      client_id: plain.rpA.clientId,
      response_type: 'code',
      scope: 'openid',
      redirect_uri: REDIRECT,
      response_mode: 'form_post',
      state: 'a78',
    });
    const formPost = await send(plain, `/auth?${query}`);
    expect(formPost.body).toContain(`<form method="post" action="${REDIRECT}">`);
    expect(formPost.headers['content-security-policy']).toMatch(/script-src 'self' 'sha256-[\w+/=]+'/);
    expect(formPost.headers['content-security-policy']).toMatch(/frame-ancestors 'none'/);
    expect(formPost.headers['x-frame-options']).toBe('DENY');
  });

  it(title('A79'), async () => {
    const flow = await startFlow(plain.p, plain.rpA.clientId, plain.rpA.clientSecret);
    const page = await flow.browser.request(flow.page.url);
    const csp = page.headers.get('content-security-policy') ?? '';
    const scriptSrc = /(?:^|;)\s*script-src ([^;]*)/.exec(csp)?.[1]?.trim().split(/\s+/);
    expect(scriptSrc).toEqual(["'self'"]);
    expect(csp).toMatch(/frame-ancestors 'none'/);
    // No script on the page runs inline: the one script is loaded by URL, the settings are JSON data.
    const scripts = [...flow.page.body.matchAll(/<script\b([^>]*)>/g)].map((m) => m[1]!);
    expect(scripts).toHaveLength(2);
    expect(scripts.filter((attrs) => !/\bsrc="/.test(attrs) && !/type="application\/json"/.test(attrs))).toEqual([]);
    const src = /<script\b[^>]*\bsrc="([^"]+)"/.exec(flow.page.body)![1]!;
    expect(src).toMatch(/^\/assets\/ceremony\.js\?v=[\w-]+$/);
    const script = await send(plain, src);
    expect(script.status).toBe(200);
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(script.headers['x-content-type-options']).toBe('nosniff');
    expect(script.body).toMatch(/new EventSource\(/);
  });
});
