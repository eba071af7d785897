// A running sandbox platform for tests, on either database engine, plus the two parties of an
// OIDC flow: a cookie-keeping "browser" that follows redirects, and a holder with a virtual card.

import { mkdtempSync, rmSync } from 'node:fs';
import * as oidc from 'openid-client';
import { expect } from 'vitest';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InProcessTransport, MyNumberCard, type CvcAnchor } from '@kakunin/card';
import { sha256DigestInfo } from '@kakunin/jpki';
import { initSandbox, startSimulatedJlis, type Sandbox } from '@kakunin/sim';
import { cardForPerson, sandboxCvcAnchor } from '@kakunin/sim/card';
import { startServer, type RunningPlatform } from '../../src/app.js';
import { loadConfig, type ServerConfig } from '../../src/config.js';
import { createPostgresDatabase, type Engine } from './databases.js';

export interface TestPlatform {
  server: RunningPlatform;
  sandbox: Sandbox;
  dataDir: string;
  databaseUrl?: string;
  close(): Promise<void>;
}

/** One simulator per test file (key generation takes seconds); servers of both engines share it. */
export async function createTestSandbox(): Promise<{ dir: string; sandbox: Sandbox; remove: () => void }> {
  const root = mkdtempSync(join(tmpdir(), 'kakunin-sim-'));
  const dir = join(root, 'sim');
  const sandbox = await initSandbox({ dir, seed: 'server-tests' });
  return { dir, sandbox, remove: () => rmSync(root, { recursive: true, force: true }) };
}

export async function startTestPlatform(
  engine: Engine,
  simDir: string,
  o: {
    ceremonyTtlSeconds?: number;
    databaseUrl?: string;
    noJobs?: boolean;
    agentUrl?: string;
    config?: Partial<ServerConfig>;
  } = {},
): Promise<TestPlatform> {
  const dataDir = mkdtempSync(join(tmpdir(), `kakunin-${engine}-`));
  const pgdb =
    engine === 'postgres' && !o.databaseUrl
      ? await createPostgresDatabase('kakunin_test', { migrated: true })
      : undefined;
  const databaseUrl = o.databaseUrl ?? pgdb?.url;
  const config = loadConfig(
    {
      mode: 'sandbox',
      port: 0,
      dataDir,
      logLevel: 'silent',
      ceremonyTtlSeconds: o.ceremonyTtlSeconds ?? 300,
      agentUrl: o.agentUrl ?? '',
      ...(databaseUrl ? { databaseUrl } : {}),
      ...o.config,
    },
    {},
  );
  const server = await startServer(config, { simulatedJlis: startSimulatedJlis, simDir, noJobs: o.noJobs ?? true });
  return {
    server,
    sandbox: server.sandbox!.sandbox,
    dataDir,
    ...(databaseUrl ? { databaseUrl } : {}),
    close: async () => {
      await server.close();
      await pgdb?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A minimal browser: a cookie jar, manual redirects, form posts. */
export class Browser {
  private cookies = new Map<string, string>();
  readonly visited: string[] = [];

  private store(res: Response): void {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair!.indexOf('=');
      const name = pair!.slice(0, i);
      const value = pair!.slice(i + 1);
      if (/expires=Thu, 01 Jan 1970/i.test(c) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  async request(url: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<Response> {
    const headers: Record<string, string> = { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') };
    if (init.form) headers['content-type'] = 'application/x-www-form-urlencoded';
    const res = await fetch(url, {
      method: init.method ?? 'GET',
      headers,
      redirect: 'manual',
      ...(init.form ? { body: new URLSearchParams(init.form).toString() } : {}),
    });
    this.store(res);
    this.visited.push(`${init.method ?? 'GET'} ${url} → ${res.status}`);
    return res;
  }

  /** Follows redirects until a page (200) or a URL outside `origin` (returned without fetching it). */
  async go(
    url: string,
    origin: string,
    init: { method?: string; form?: Record<string, string> } = {},
  ): Promise<{ url: string; status: number; body: string; external: boolean }> {
    let current = url;
    let res = await this.request(current, init);
    for (let hops = 0; hops < 20; hops++) {
      const location = res.headers.get('location');
      if (res.status < 300 || res.status >= 400 || !location) break;
      current = new URL(location, current).toString();
      if (!current.startsWith(origin)) return { url: current, status: res.status, body: '', external: true };
      res = await this.request(current);
    }
    return { url: current, status: res.status, body: await res.text(), external: false };
  }
}

export const holderLinkOf = (html: string): string => {
  const m = /id="holder-link" href="([^"]+)"/.exec(html);
  if (!m) throw new Error('the ceremony page has no holder link');
  return m[1]!.replace(/&amp;/g, '&');
};

export interface HolderOptions {
  person: string;
  medium?: 'card' | 'android' | 'iphone';
  /** Post this instead of the card's answer (attack tests). */
  tamper?: (body: { nonce: string; certificate: string; signature: string }) => {
    nonce: string;
    certificate: string;
    signature: string;
  };
}

/** The holder side through the holder protocol, with the person's virtual card in process. */
export async function holderRespond(
  sandbox: Sandbox,
  holderUrl: string,
  o: HolderOptions,
): Promise<{ status: number; body: { state?: string; error?: { code: string; message: string } } }> {
  const view = (await (await fetch(holderUrl)).json()) as {
    certificate: 'auth' | 'sign';
    nonce: string;
    to_be_signed: string;
    response_url: string;
  };
  const body = await signAsHolder(sandbox, view, o);
  const res = await fetch(view.response_url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(o.tamper ? o.tamper(body) : body),
  });
  return {
    status: res.status,
    body: (await res.json()) as { state?: string; error?: { code: string; message: string } },
  };
}

export async function signAsHolder(
  sandbox: Sandbox,
  view: { certificate: 'auth' | 'sign'; nonce: string; to_be_signed: string },
  o: HolderOptions,
): Promise<{ nonce: string; certificate: string; signature: string }> {
  const person = sandbox.person(o.person);
  const card = new MyNumberCard(
    new InProcessTransport(cardForPerson(sandbox, o.person, o.medium ?? 'card'), `sim:${o.person}`),
    { cvcCaKeys: [sandboxCvcAnchor(sandbox) as CvcAnchor] },
  );
  try {
    const digestInfo = sha256DigestInfo(Buffer.from(view.to_be_signed, 'base64url'));
    const pin = view.certificate === 'auth' ? person.pins.auth : person.pins.sign;
    const signature =
      view.certificate === 'auth'
        ? await card.signWithAuthKey(pin, digestInfo)
        : await card.signWithSignKey(pin, digestInfo);
    const certificate =
      view.certificate === 'auth' ? await card.readAuthCertificate(pin) : await card.readSignCertificate(pin);
    return {
      nonce: view.nonce,
      certificate: Buffer.from(certificate).toString('base64'),
      signature: Buffer.from(signature).toString('base64'),
    };
  } finally {
    await card.close();
  }
}

/** The redirect URI of test RPs (nothing listens there: the browser stops at it). */
export const REDIRECT = 'http://127.0.0.1:9/callback';

export interface Flow {
  config: oidc.Configuration;
  browser: Browser;
  verifier: string;
  state: string;
  page: { url: string; body: string };
}

export interface AuthorizationOptions {
  redirectUri?: string;
  scope?: string;
  claims?: unknown;
  auth?: 'basic' | 'post';
  /** More authorization parameters (ui_locales, statement_detail, …). */
  extra?: Record<string, string>;
}

/** What a stock OIDC client does before redirecting: discovery, PKCE, state, the authorization URL. */
export async function authorizationRequest(
  issuer: string,
  clientId: string,
  secret: string,
  o: AuthorizationOptions = {},
): Promise<{ config: oidc.Configuration; verifier: string; state: string; url: URL }> {
  const config = await oidc.discovery(
    new URL(issuer),
    clientId,
    undefined,
    o.auth === 'post' ? oidc.ClientSecretPost(secret) : oidc.ClientSecretBasic(secret),
    { execute: [oidc.allowInsecureRequests] },
  );
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: o.redirectUri ?? REDIRECT,
    scope: o.scope ?? 'openid',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    ...(o.claims ? { claims: JSON.stringify(o.claims) } : {}),
    ...o.extra,
  });
  return { config, verifier, state, url };
}

export async function startFlow(
  p: TestPlatform,
  clientId: string,
  secret: string,
  o: AuthorizationOptions = {},
): Promise<Flow> {
  const { config, verifier, state, url } = await authorizationRequest(p.server.url, clientId, secret, o);
  const browser = new Browser();
  const page = await browser.go(url.toString(), p.server.url);
  expect(page.status).toBe(200);
  return { config, browser, verifier, state, page };
}

/** After the holder finished: continue, consent, land on the RP with code + state. */
export async function finishFlow(p: TestPlatform, flow: Flow): Promise<URL> {
  const uid = /\/interaction\/([^/?]+)/.exec(flow.page.url)![1]!;
  const consent = await flow.browser.go(`${p.server.url}/interaction/${uid}/continue`, p.server.url);
  expect(consent.body).toMatch(/同意する/);
  const consentUid = /\/interaction\/([^/?]+)/.exec(consent.url)![1]!;
  const landed = await flow.browser.go(`${p.server.url}/interaction/${consentUid}/consent`, p.server.url, {
    method: 'POST',
    form: {},
  });
  expect(landed.external).toBe(true);
  const callback = new URL(landed.url);
  expect(callback.origin + callback.pathname).toBe(REDIRECT);
  expect(callback.searchParams.get('state')).toBe(flow.state);
  expect(callback.searchParams.get('code')).toBeTruthy();
  return callback;
}
