// Test harness for the demo relying parties: a sandbox platform (with its background jobs, so that
// revocations become webhooks), each demo registered on it like a real RP, and a visitor: a
// cookie-keeping browser that follows redirects across the demo and the platform, fills in forms
// the way a person would, and answers ceremonies with a sandbox resident's virtual card.

import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { createRelyingParty, type RegisteredRelyingParty } from '@kakunin/server';
import {
  createTestSandbox,
  holderLinkOf,
  holderRespond,
  startTestPlatform,
  type TestPlatform,
} from '@kakunin/server/testing';
import type { DemoOptions, DemoRegistration, RunningDemo } from '../shared/index.js';

export interface Harness {
  p: TestPlatform;
  close(): Promise<void>;
}

/** One sandbox and one platform (revocation monitor and webhook workers running). */
export async function startPlatform(): Promise<Harness> {
  const sim = await createTestSandbox();
  const p = await startTestPlatform('pglite', sim.dir, { noJobs: false });
  return {
    p,
    close: async () => {
      await p.close();
      sim.remove();
    },
  };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export interface RunningTestDemo {
  demo: RunningDemo;
  rp: RegisteredRelyingParty;
  dataDir: string;
  options: DemoOptions;
  close(): Promise<void>;
}

/** Registers a demo on the platform with its URLs (as the orchestrator does) and starts it. */
export async function startDemo(
  h: Harness,
  reg: DemoRegistration,
  start: (o: DemoOptions) => Promise<RunningDemo>,
): Promise<RunningTestDemo> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const rp = await createRelyingParty(h.p.server.platform, {
    ...reg,
    redirectUris: [`${url}/callback`],
    webhookUrl: `${url}/webhooks/kakunin`,
  });
  const dataDir = mkdtempSync(join(tmpdir(), `kakunin-${reg.clientId}-`));
  const options: DemoOptions = {
    platformUrl: h.p.server.url,
    clientId: rp.clientId,
    clientSecret: rp.clientSecret,
    webhookSecret: rp.webhookSecret,
    port,
    dataDir,
  };
  const demo = await start(options);
  expect(demo.url).toBe(url);
  return {
    demo,
    rp,
    dataDir,
    options,
    close: async () => {
      await demo.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface Page {
  url: string;
  status: number;
  body: string;
}

const unescape = (s: string): string =>
  s
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

/** The text of the element carrying `data-testid` (tags stripped), or undefined. */
export function testid(body: string, id: string): string | undefined {
  const m = new RegExp(`<(\\w+)[^>]*data-testid="${id}"[^>]*>([\\s\\S]*?)</\\1>`).exec(body);
  return m ? unescape(m[2]!.replace(/<[^>]+>/g, '')).trim() : undefined;
}

/** An attribute of the element carrying `data-testid`. */
export function attr(body: string, id: string, name: string): string | undefined {
  const tag = new RegExp(`<\\w+[^>]*data-testid="${id}"[^>]*>`).exec(body)?.[0];
  const m = tag ? new RegExp(`\\s${name}="([^"]*)"`).exec(tag) : undefined;
  return m ? unescape(m[1]!) : undefined;
}

export class Visitor {
  private readonly cookies = new Map<string, string>();
  readonly visited: string[] = [];
  private readonly h: Harness;

  constructor(h: Harness) {
    this.h = h;
  }

  /** One request with this visitor's cookies (names only: demo and platform cookie names differ). */
  async request(url: string, form?: Record<string, string | string[]>): Promise<Response> {
    const headers: Record<string, string> = { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') };
    let body: string | undefined;
    if (form) {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(form)) for (const one of Array.isArray(v) ? v : [v]) params.append(k, one);
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = params.toString();
    }
    const res = await fetch(url, {
      method: form ? 'POST' : 'GET',
      headers,
      redirect: 'manual',
      ...(body !== undefined ? { body } : {}),
    });
    for (const c of res.headers.getSetCookie()) {
      const pair = c.split(';')[0]!;
      const i = pair.indexOf('=');
      const [name, value] = [pair.slice(0, i), pair.slice(i + 1)];
      if (/expires=Thu, 01 Jan 1970/i.test(c) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    this.visited.push(`${form ? 'POST' : 'GET'} ${url} → ${res.status}`);
    return res;
  }

  /** GET (or POST a form) and follow redirects wherever they lead, to the page at the end. */
  async go(url: string, form?: Record<string, string | string[]>): Promise<Page> {
    let current = url;
    let res = await this.request(current, form);
    for (let hops = 0; hops < 20; hops++) {
      const location = res.headers.get('location');
      if (res.status < 300 || res.status >= 400 || !location) break;
      current = new URL(location, current).toString();
      res = await this.request(current);
    }
    const body = await res.text();
    // oidc-provider's self-submitting form (a browser with JavaScript posts it at once), e.g. the
    // end of a platform session held by another account before the authorization resumes.
    const auto = /document\.forms\[0\]\.submit\(\)[\s\S]*?<form method="post" action="([^"]+)">([\s\S]*?)<\/form>/.exec(
      body,
    );
    if (res.status === 200 && auto) {
      const fields = Object.fromEntries(
        [...auto[2]!.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"\/?>/g)].map((m) => [
          m[1]!,
          unescape(m[2]!),
        ]),
      );
      return this.go(new URL(unescape(auto[1]!), current).toString(), fields);
    }
    return { url: current, status: res.status, body };
  }

  /** Submits the form with `data-testid` = formId, its hidden fields plus `fields`, like a click on its button. */
  async submit(page: Page, formId: string, fields: Record<string, string | string[]> = {}): Promise<Page> {
    const form = new RegExp(`<form([^>]*data-testid="${formId}"[^>]*)>([\\s\\S]*?)</form>`).exec(page.body);
    if (!form) throw new Error(`no form ${formId} on ${page.url}`);
    const action = /action="([^"]*)"/.exec(form[1]!)?.[1] ?? '';
    const hidden = Object.fromEntries(
      [...form[2]!.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [
        m[1]!,
        unescape(m[2]!),
      ]),
    );
    return this.go(new URL(unescape(action), page.url).toString(), { ...hidden, ...fields });
  }

  /**
   * On the platform's ceremony page: the holder answers with `person`'s virtual card, the browser
   * continues, consents, and is sent back to the demo's callback; returns the demo page it lands on.
   */
  async ceremony(page: Page, person: string, expected: 'auth' | 'sign'): Promise<Page> {
    const platform = this.h.p.server.url;
    expect(
      page.url.startsWith(`${platform}/interaction/`),
      `expected the ceremony page, got ${page.url} (${page.status}): ${page.body.slice(0, 300)}`,
    ).toBe(true);
    expect(page.status).toBe(200);
    const view = (await (await fetch(holderLinkOf(page.body))).json()) as { certificate: string };
    expect(view.certificate).toBe(expected);
    const answer = await holderRespond(this.h.p.sandbox, holderLinkOf(page.body), { person });
    expect(answer).toMatchObject({ status: 200, body: { state: 'completed' } });
    const uid = /\/interaction\/([^/?]+)/.exec(page.url)![1]!;
    const consent = await this.go(`${platform}/interaction/${uid}/continue`);
    expect(consent.body).toMatch(/同意する|Agree/);
    const consentUid = /\/interaction\/([^/?]+)/.exec(consent.url)![1]!;
    return this.go(`${platform}/interaction/${consentUid}/consent`, {});
  }
}

/** Adults (they hold a signing certificate on their card), in or outside Fukui. */
export function residents(p: TestPlatform, where: 'fukui' | 'elsewhere'): string[] {
  return p.sandbox
    .people()
    .filter(
      (x) =>
        (x.prefecture === '福井県') === (where === 'fukui') &&
        p.sandbox.certificates({ personId: x.id, kind: 'sign', medium: 'card' }).length > 0,
    )
    .map((x) => x.id);
}

/** Runs the platform's revocation monitor now (as an operator would). */
export async function runMonitor(h: Harness): Promise<void> {
  const res = await fetch(`${h.p.server.url}/admin/v1/monitor/run`, {
    method: 'POST',
    headers: { authorization: `Bearer ${h.p.server.adminToken}` },
  });
  expect(res.status).toBe(202);
}

/** Polls until `check` holds (webhooks arrive asynchronously). */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
