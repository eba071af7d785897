// `npm run load`, the whole OIDC login, as a relying party and its users see it: openid-client (the
// RP: discovery once, then per login PKCE + state, the authorization URL, the code grant with
// client_secret_basic and ID token validation, userinfo) and a browser that follows the redirects:
// authorize → the interaction page → (the platform: the holder's card signs the ceremony, the holder
// response) → continue → consent → back at the RP with the code → token → userinfo. C logins at a
// time (closed loop), counted per second. Beside it, the same flow against the bare oidc-provider
// (load-bare-provider.ts) whose login is a form POST.

import * as oidc from 'openid-client';
import { holderBody, percentile, type Holder } from './load-holders.js';
import { Browser, Origins, errorOf, send } from './load-http.js';
import { log, startService } from './load-platform.js';

/** The RP's redirect URI (nothing listens there: the browser stops at it). */
export const REDIRECT = 'http://127.0.0.1:9/callback';

type Page = Awaited<ReturnType<Browser['go']>>;

export interface LoginTarget {
  name: string;
  origins: Origins;
  clientId: string;
  clientSecret: string;
  /** From the page the authorization request landed on to the consent page. */
  authenticate(browser: Browser, page: Page): Promise<Page>;
  /** The platform: every ceremony whose holder response succeeded (its record is checked afterwards). */
  ceremonies?: string[];
}

export interface LoginOutcome {
  seconds: number;
  ok: number;
  /** Milliseconds per login, sorted. */
  latencies: number[];
  failures: Map<string, number>;
  /** Total milliseconds per step over the logins that got through (where the time goes). */
  steps: Map<string, number>;
}

const uidOf = (url: string): string => {
  const m = /\/interaction\/([^/?]+)/.exec(url);
  if (!m) throw new Error(`not an interaction page: ${url}`);
  return m[1]!;
};

const expectPage = (page: Page, step: string): Page => {
  if (page.status !== 200 || page.external)
    throw new Error(
      `${step}: ${
        page.external
          ? `left for ${page.url}`
          : `${page.status} ${page.body
              .replace(/<[^>]*>/g, ' ')
              .replace(/\s+/g, ' ')
              .slice(0, 160)}`
      }`,
    );
  return page;
};

/** The platform: the ceremony page's holder link, the card's signature, the holder response, continue. */
export function kakuninTarget(o: {
  origins: Origins;
  clientId: string;
  clientSecret: string;
  holders: Holder[];
}): LoginTarget {
  let n = 0;
  const ceremonies: string[] = [];
  return {
    name: 'Kakunin',
    ceremonies,
    origins: o.origins,
    clientId: o.clientId,
    clientSecret: o.clientSecret,
    async authenticate(browser, page) {
      const link = /id="holder-link" href="([^"]+)"/.exec(page.body)?.[1]?.replace(/&amp;/g, '&');
      if (!link) throw new Error('the ceremony page has no holder link');
      const ceremonyId = /\/holder\/v1\/ceremonies\/([^/?#]+)/.exec(link)?.[1];
      const viewAnswer = await send(o.origins.route(link));
      if (viewAnswer.status !== 200) throw new Error(`holder view: ${errorOf(viewAnswer)}`);
      const view = JSON.parse(viewAnswer.body) as { nonce: string; to_be_signed: string; response_url: string };
      const body = holderBody(
        o.holders[n++ % o.holders.length]!,
        view.nonce,
        Buffer.from(view.to_be_signed, 'base64url'),
      );
      const answer = await send(o.origins.route(view.response_url), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      if (answer.status !== 200) throw new Error(`holder response: ${errorOf(answer)}`);
      if (ceremonyId) ceremonies.push(ceremonyId);
      return expectPage(await browser.go(`${o.origins.publicUrl}/interaction/${uidOf(page.url)}/continue`), 'continue');
    },
  };
}

/** The bare provider: the login form is posted at once. */
export function bareTarget(o: { url: string; clientId: string; clientSecret: string }): LoginTarget {
  const origins = new Origins(o.url, [o.url]);
  return {
    name: 'bare oidc-provider',
    origins,
    clientId: o.clientId,
    clientSecret: o.clientSecret,
    async authenticate(browser, page) {
      return expectPage(
        await browser.go(`${o.url}/interaction/${uidOf(page.url)}/login`, { method: 'POST', form: {} }),
        'login',
      );
    },
  };
}

/** Starts the bare provider in its own process with the same client; its URL. */
export async function startBareProvider(clientId: string, clientSecret: string): Promise<string> {
  const script = new URL('./load-bare-provider.ts', import.meta.url).pathname;
  const { url } = await startService('bare oidc-provider', [...process.execArgv, script], {
    env: {
      LOAD_BARE_CLIENT: JSON.stringify({ client_id: clientId, client_secret: clientSecret, redirect_uri: REDIRECT }),
    },
  });
  return url;
}

/** The RP's side: discovery once (through the same routing as the browser). */
async function discover(target: LoginTarget): Promise<oidc.Configuration> {
  const fetcher = (url: string, options: RequestInit): Promise<Response> => fetch(target.origins.route(url), options);
  return oidc.discovery(
    new URL(target.origins.publicUrl),
    target.clientId,
    undefined,
    oidc.ClientSecretBasic(target.clientSecret),
    {
      execute: [oidc.allowInsecureRequests],
      [oidc.customFetch]: fetcher as oidc.CustomFetch,
    },
  );
}

/** One whole login; the milliseconds of its steps. */
async function login(target: LoginTarget, config: oidc.Configuration): Promise<[string, number][]> {
  const steps: [string, number][] = [];
  let t = performance.now();
  const step = (name: string): void => {
    const now = performance.now();
    steps.push([name, now - t]);
    t = now;
  };
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT,
    scope: 'openid',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
  });
  const browser = new Browser(target.origins);
  const page = expectPage(await browser.go(url.href), 'authorize');
  step('authorize → page');
  const consent = await target.authenticate(browser, page);
  step('login → consent page');
  const landed = await browser.go(`${target.origins.publicUrl}/interaction/${uidOf(consent.url)}/consent`, {
    method: 'POST',
    form: {},
  });
  if (!landed.external || !landed.url.startsWith(REDIRECT)) throw new Error(`consent: ${landed.status} ${landed.url}`);
  step('consent → code');
  const tokens = await oidc.authorizationCodeGrant(config, new URL(landed.url), {
    pkceCodeVerifier: verifier,
    expectedState: state,
  });
  const sub = tokens.claims()?.sub;
  if (!sub) throw new Error('no ID token');
  step('token');
  const info = await oidc.fetchUserInfo(config, tokens.access_token, sub);
  if (info.sub !== sub) throw new Error('userinfo: another subject');
  step('userinfo');
  return steps;
}

/** `warmup` logins (not counted), then `n` logins, `concurrency` at a time. */
export async function runLogins(
  target: LoginTarget,
  n: number,
  concurrency: number,
  warmup: number,
): Promise<LoginOutcome> {
  const config = await discover(target);
  const run = async (count: number): Promise<LoginOutcome> => {
    const out: LoginOutcome = { seconds: 0, ok: 0, latencies: [], failures: new Map(), steps: new Map() };
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: Math.min(concurrency, count) }, async () => {
        while (next < count) {
          next++;
          const t0 = performance.now();
          try {
            for (const [name, ms] of await login(target, config)) out.steps.set(name, (out.steps.get(name) ?? 0) + ms);
            out.ok++;
            out.latencies.push(performance.now() - t0);
          } catch (e) {
            const message = (e as Error).message.slice(0, 200);
            out.failures.set(message, (out.failures.get(message) ?? 0) + 1);
          }
        }
      }),
    );
    out.seconds = (performance.now() - started) / 1000;
    out.latencies.sort((a, b) => a - b);
    return out;
  };
  if (warmup > 0) {
    log(`${target.name}: ${warmup} warm-up logins…`);
    const w = await run(warmup);
    for (const [m, k] of w.failures) log(`${target.name} warm-up: ${k}× ${m}`);
  }
  log(`${target.name}: ${n} logins, ${concurrency} at a time…`);
  return run(n);
}

/** Mean milliseconds per step: where a login's time goes. */
export const loginSteps = (o: LoginOutcome): string =>
  [...o.steps].map(([name, ms]) => `${name} ${(ms / Math.max(1, o.ok)).toFixed(0)} ms`).join(', ');

export const loginSummary = (o: LoginOutcome): string =>
  `${(o.ok / o.seconds).toFixed(0)} logins/s (p50 ${percentile(o.latencies, 50).toFixed(0)} ms, p99 ${percentile(o.latencies, 99).toFixed(0)} ms per login)`;
