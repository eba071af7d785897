// The frame of every demo relying party: a fastify app with server-rendered pages (ja by default,
// `?lang=en`), a cookie session, CSRF tokens on forms, the OIDC callback and the signed webhook.
// A demo adds its pages, what happens after a login or an identity ceremony, and what a
// `certificate.revoked` event means for it.

import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { html, langFrom, page, raw, type Html } from '@kakunin/web';
import { type Verified } from './claims.js';
import { oidcErrorWords } from './labels.js';
import { EXTRA_STYLE, escapeHtml, t, type Lang } from './layout.js';
import { KakuninClient, type Pending } from './oidc.js';
import { JsonStore } from './store.js';
import { verifyKakuninSignature, type KakuninEvent } from './webhooks.js';

/** What every `start<Name>()` takes. */
export interface DemoOptions {
  /** The Kakunin platform (the OpenID Provider's issuer URL). */
  platformUrl: string;
  clientId: string;
  clientSecret: string;
  /** `whsec_…`, shown once when the RP was registered. */
  webhookSecret: string;
  /** 0 (default): any free port on 127.0.0.1. */
  port?: number;
  /** Where the demo keeps its JSON state. */
  dataDir: string;
  /** The URL browsers use, when not http://127.0.0.1:<port> (behind a proxy). */
  publicUrl?: string;
}

export interface RunningDemo {
  /** Base URL; the redirect URI is `${url}/callback` and the webhook `${url}/webhooks/kakunin`. */
  url: string;
  close(): Promise<void>;
}

/** How a demo registers at the platform (the orchestrator passes it to `createRelyingParty`). */
export interface DemoRegistration {
  clientId: string;
  name: string;
  framework: string;
  purpose: string;
  purposeEn: string;
  ceremonies: ('login' | 'identity')[];
}

export interface Flash {
  kind: 'ok' | 'error';
  text: string;
}

interface PendingSignIn extends Pending {
  intent: string;
  data: unknown;
  at: number;
}

export interface Session {
  id: string;
  csrf: string;
  lang?: Lang;
  /** The pairwise OIDC subject of whoever signed in last in this browser. */
  sub?: string;
  acr?: string;
  flash?: Flash;
  pending: Record<string, PendingSignIn>;
  seen: number;
}

export interface SignInContext {
  req: FastifyRequest;
  reply: FastifyReply;
  session: Session;
  lang: Lang;
  sub: string;
  acr: string;
  /** What the demo kept with the request (e.g. the application form). */
  data: unknown;
}
export interface IdentityContext extends SignInContext {
  verified: Verified;
}

type Handler<C> = (ctx: C) => unknown;
/** The identity service's redirect back: `?code=…&state=…` (or `?error=…`), read as the RP's OIDC client reads it. */
type Callback = { Querystring: { state?: string; error?: string; error_description?: string } };
interface Intent {
  identity?: { claims: object; framework: string };
  done: Handler<SignInContext> | Handler<IdentityContext>;
}

const ACR_SIGN = 'urn:kakunin:jpki:sign';
const SESSION_IDLE_MS = 12 * 3600_000;
const PENDING_MS = 30 * 60_000;

export class Demo {
  readonly app: FastifyInstance;
  readonly kakunin: KakuninClient;
  private base = '';
  private readonly sessions = new Map<string, Session>();
  private readonly bySession = new WeakMap<FastifyRequest, Session>();
  private readonly intents = new Map<string, Intent>();
  private readonly webhookEvents: JsonStore<{ seen: string[] }>;
  private webhookHandler: (event: KakuninEvent) => unknown = () => undefined;
  /** Paths machines call (the webhook, a wallet's direct_post): no session cookie, no CSRF field. */
  private readonly machinePaths = ['/webhooks/'];
  readonly o: DemoOptions;
  readonly brand: { name: string; ja: string; en: string };

  constructor(o: DemoOptions, brand: { name: string; ja: string; en: string }) {
    this.o = o;
    this.brand = brand;
    this.kakunin = new KakuninClient(o);
    this.webhookEvents = new JsonStore(o.dataDir, `${brand.name}-webhook-events`, () => ({ seen: [] }));
    const app = Fastify({ logger: false, bodyLimit: 64 * 1024 });
    this.app = app;
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) =>
      done(null, new URLSearchParams(String(body))),
    );
    // Webhooks are verified over the raw bytes: keep JSON bodies as strings.
    app.removeContentTypeParser('application/json');
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => done(null, body));

    app.addHook('onRequest', async (req, reply) => {
      if (this.isMachinePath(req.url)) return;
      this.bySession.set(req, this.sessionFor(req, reply));
    });
    app.addHook('preHandler', async (req, reply) => {
      if (req.method !== 'POST' || this.isMachinePath(req.url)) return;
      const given = req.body instanceof URLSearchParams ? (req.body.get('csrf') ?? '') : '';
      const expected = this.session(req).csrf;
      if (given.length !== expected.length || !timingSafeEqual(Buffer.from(given), Buffer.from(expected))) {
        return this.problem(
          req,
          reply,
          403,
          ['操作を確認できませんでした', 'Request not accepted'],
          ['ページを読み込み直してから、もう一度お試しください。', 'Reload the page and try again.'],
        );
      }
    });
    app.setNotFoundHandler((req, reply) =>
      this.problem(
        req,
        reply,
        404,
        ['ページが見つかりません', 'Page not found'],
        ['URL をお確かめください。', 'Check the address.'],
      ),
    );
    app.setErrorHandler((err, req, reply) => {
      const code = (err as { statusCode?: number }).statusCode ?? 500;
      const status = code >= 400 && code < 600 ? code : 500;
      if (status >= 500) console.error(`[${brand.name}]`, err);
      // The words say what to do; a framework message (English, technical) only goes to small print.
      const detail = status >= 500 ? undefined : String((err as Error).message);
      return this.problem(
        req,
        reply,
        status,
        ['エラーが発生しました', 'Something went wrong'],
        ['ページを読み込み直すか、トップからもう一度お試しください。', 'Reload the page, or start again from the top.'],
        detail,
      );
    });

    app.get<Callback>('/callback', (req, reply) => this.callback(req, reply));
    app.post('/logout', async (req, reply) => {
      const s = this.session(req);
      delete s.sub;
      delete s.acr;
      return reply.redirect('/');
    });
    app.post('/webhooks/kakunin', (req, reply) => this.webhook(req, reply));
  }

  /** Routes under `prefix` are called by machines, not browsers: they get no session and no CSRF check. */
  machinePath(prefix: string): void {
    this.machinePaths.push(prefix);
  }

  private isMachinePath(url: string): boolean {
    return this.machinePaths.some((p) => url.startsWith(p));
  }

  /** One cookie name per demo: browsers share cookies between ports of one host. */
  get cookie(): string {
    return `${this.brand.name}_sid`;
  }

  /** Base URL (known once listening). */
  get url(): string {
    return this.base;
  }

  get redirectUri(): string {
    return `${this.base}/callback`;
  }

  // ---- sessions, language, pages ----

  private sessionFor(req: FastifyRequest, reply: FastifyReply): Session {
    const cookie = req.headers.cookie ?? '';
    const sid = cookie
      .split(';')
      .map((c) => c.trim().split('='))
      .find(([k]) => k === this.cookie)?.[1];
    const existing = sid ? this.sessions.get(sid) : undefined;
    if (existing) {
      existing.seen = Date.now();
      return existing;
    }
    for (const [id, s] of this.sessions) if (Date.now() - s.seen > SESSION_IDLE_MS) this.sessions.delete(id);
    const s: Session = {
      id: randomBytes(24).toString('base64url'),
      csrf: randomBytes(24).toString('base64url'),
      pending: {},
      seen: Date.now(),
    };
    this.sessions.set(s.id, s);
    const secure = this.base.startsWith('https:') ? '; Secure' : '';
    // SameSite=Lax: the cookie comes back on the top-level redirect from the platform to /callback.
    reply.header('set-cookie', `${this.cookie}=${s.id}; Path=/; HttpOnly; SameSite=Lax${secure}`);
    return s;
  }

  session(req: FastifyRequest): Session {
    const s = this.bySession.get(req);
    if (!s) throw new Error('no session for this request');
    return s;
  }

  /** `?lang=` (remembered in the session), else the session's, else Japanese. */
  lang(req: FastifyRequest): Lang {
    const s = this.session(req);
    // Any page's request: its query is read here, not by a route's schema.
    const q: { lang?: unknown } = typeof req.query === 'object' && req.query !== null ? req.query : {};
    if (q.lang === 'en' || q.lang === 'ja') s.lang = langFrom(q);
    return s.lang ?? 'ja';
  }

  /** The hidden CSRF field every POST form carries. */
  csrf(req: FastifyRequest): Html {
    return html`<input type="hidden" name="csrf" value="${escapeHtml(this.session(req).csrf)}">`;
  }

  /** The posted form (URLSearchParams); an empty one when the body was something else. */
  form(req: FastifyRequest): URLSearchParams {
    return req.body instanceof URLSearchParams ? req.body : new URLSearchParams();
  }

  flash(req: FastifyRequest, kind: Flash['kind'], ja: string, en: string): void {
    this.session(req).flash = { kind, text: this.lang(req) === 'ja' ? ja : en };
  }

  render(req: FastifyRequest, reply: FastifyReply, title: [string, string], body: string, status = 200): FastifyReply {
    const lang = this.lang(req);
    const s = this.session(req);
    const tx = t(lang);
    const flash = s.flash;
    delete s.flash;
    const notice = flash
      ? flash.kind === 'ok'
        ? html`<p class="notice" role="status" data-testid="message">${escapeHtml(flash.text)}</p>`
        : html`<p class="notice error" role="alert" data-testid="error">${escapeHtml(flash.text)}</p>`
      : '';
    const user = s.sub
      ? html`<nav class="user" aria-label="${tx('アカウント', 'Account')}"><span class="muted" data-testid="signed-in">${tx('ログイン中', 'Signed in')}</span><form method="post" action="/logout">${this.csrf(req)}<button type="submit" class="secondary" data-testid="logout">${tx('ログアウト', 'Log out')}</button></form></nav>`
      : '';
    const brand = html`<a href="/"><strong>${escapeHtml(lang === 'ja' ? this.brand.ja : this.brand.en)}</strong></a> <span class="muted">${tx('(デモ)', '(demo)')}</span>`;
    const [heading, name] = lang === 'ja' ? [title[0], this.brand.ja] : [title[1], this.brand.en];
    const doc = page(
      lang,
      heading === name ? name : `${heading} | ${name}`,
      // The demos' pages are built by layout.ts's helpers, which escape every value; their bodies are
      // not typed Html yet, so this is the one place they are taken as trusted markup.
      html`${EXTRA_STYLE}${user}${notice}<h1>${tx(...title)}</h1>${raw(body)}`,
      { brand },
    );
    return reply
      .code(status)
      .header('content-type', 'text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('content-security-policy', "default-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'")
      .header('referrer-policy', 'same-origin')
      .send(doc);
  }

  /**
   * An error page: what happened and what to do, in words; `detail` (a code, a technical message)
   * only in small print under them.
   */
  problem(
    req: FastifyRequest,
    reply: FastifyReply,
    status: number,
    title: [string, string],
    message: [string, string],
    detail?: string,
  ): FastifyReply {
    if (!this.bySession.has(req)) this.bySession.set(req, this.sessionFor(req, reply));
    const tx = t(this.lang(req));
    const small = detail
      ? `<p class="muted"><small class="code" data-testid="problem-detail">${escapeHtml(detail)}</small></p>`
      : '';
    return this.render(
      req,
      reply,
      title,
      `<p role="alert" data-testid="problem">${tx(...message)}</p>${small}<p><a href="/">${tx('トップへ戻る', 'Back to the start')}</a></p>`,
      status,
    );
  }

  // ---- Kakunin: sign-in intents, callback, webhook ----

  /** A plain login (authentication certificate, no claims). */
  onLogin(intent: string, done: Handler<SignInContext>): void {
    this.intents.set(intent, { done });
  }

  /** An identity ceremony (signing certificate) asking for `claims`, expected under `framework`. */
  onIdentity(intent: string, identity: { claims: object; framework: string }, done: Handler<IdentityContext>): void {
    this.intents.set(intent, { identity, done });
  }

  /**
   * Sends the browser to the platform; `data` comes back to the intent's handler. `statementDetail`
   * (identity intents) is text the holder signs inside the platform's statement, e.g. an application.
   */
  async signIn(
    req: FastifyRequest,
    reply: FastifyReply,
    intent: string,
    data: unknown = null,
    o: { statementDetail?: string } = {},
  ): Promise<FastifyReply> {
    const def = this.intents.get(intent);
    if (!def) throw new Error(`unknown intent ${intent}`);
    const s = this.session(req);
    for (const [state, p] of Object.entries(s.pending)) if (Date.now() - p.at > PENDING_MS) delete s.pending[state];
    let started;
    try {
      started = await this.kakunin.start(this.redirectUri, {
        lang: this.lang(req),
        ...(def.identity
          ? { claims: def.identity.claims, ...(o.statementDetail ? { statementDetail: o.statementDetail } : {}) }
          : {}),
      });
    } catch (e) {
      console.error(`[${this.brand.name}] discovery failed:`, (e as Error).message);
      return this.problem(
        req,
        reply,
        503,
        ['本人確認サービスに接続できません', 'The identity service is unreachable'],
        ['しばらくしてから、もう一度お試しください。', 'Please try again later.'],
      );
    }
    s.pending[started.pending.state] = { ...started.pending, intent, data, at: Date.now() };
    return reply.redirect(started.url.href);
  }

  private async callback(req: FastifyRequest<Callback>, reply: FastifyReply): Promise<FastifyReply> {
    const q = req.query;
    const s = this.session(req);
    const pending = q.state ? s.pending[q.state] : undefined;
    if (!pending)
      return this.problem(
        req,
        reply,
        400,
        ['手続きが見つかりません', 'Unknown sign-in'],
        [
          '時間が経ちすぎたか、別のブラウザで始めた手続きです。もう一度お試しください。',
          'It expired or was started in another browser. Please start again.',
        ],
      );
    delete s.pending[pending.state];
    if (q.error) {
      // The platform's code (and its technical description) in small print; the words say what happened.
      const words = oidcErrorWords(q.error);
      return this.problem(
        req,
        reply,
        400,
        [...words.title],
        [...words.text],
        `${q.error}${q.error_description ? `: ${q.error_description}` : ''}`,
      );
    }
    const current = new URL(this.redirectUri);
    current.search = new URL(req.url, 'http://callback.invalid').search;
    const def = this.intents.get(pending.intent)!;
    let signedIn;
    try {
      signedIn = await this.kakunin.finish(current, pending);
    } catch (e) {
      return this.problem(
        req,
        reply,
        502,
        ['本人確認の結果を受け取れませんでした', 'Could not complete the sign-in'],
        ['もう一度最初からお試しください。', 'Please start again.'],
        String((e as Error).message),
      );
    }
    const ctx = {
      req,
      reply,
      session: s,
      lang: this.lang(req),
      sub: signedIn.sub,
      acr: signedIn.acr,
      data: pending.data,
    };
    if (def.identity) {
      // Rely only on what an identity ceremony under our trust framework produced.
      const v = signedIn.verified;
      if (signedIn.acr !== ACR_SIGN || !v || v.trustFramework !== def.identity.framework) {
        return this.problem(
          req,
          reply,
          502,
          ['本人確認の結果が不正です', 'Unexpected verification result'],
          [
            'この手続きに必要な方法で確認されていません。もう一度最初からお試しください。',
            'It was not verified the way this needs. Please start again.',
          ],
          `acr=${signedIn.acr}, trust_framework=${v?.trustFramework}`,
        );
      }
      s.sub = signedIn.sub;
      s.acr = signedIn.acr;
      await (def.done as Handler<IdentityContext>)({ ...ctx, verified: v });
    } else {
      s.sub = signedIn.sub;
      s.acr = signedIn.acr;
      await (def.done as Handler<SignInContext>)(ctx);
    }
    return reply;
  }

  /** What to do with a verified, new `certificate.revoked` (or other) event. */
  onWebhook(handler: (event: KakuninEvent) => unknown): void {
    this.webhookHandler = handler;
  }

  private async webhook(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const raw = typeof req.body === 'string' ? req.body : '';
    const header = req.headers['kakunin-signature'];
    if (!verifyKakuninSignature(raw, typeof header === 'string' ? header : undefined, this.o.webhookSecret))
      return reply.code(401).send({ error: 'invalid signature' });
    let event: KakuninEvent;
    try {
      event = JSON.parse(raw) as KakuninEvent;
    } catch {
      return reply.code(400).send({ error: 'not JSON' });
    }
    if (event.rp_client_id !== this.o.clientId) return reply.code(400).send({ error: 'not for this relying party' });
    // At-least-once delivery: the event id is stable across retries.
    if (this.webhookEvents.data.seen.includes(event.id)) return reply.code(200).send({ duplicate: true });
    await this.webhookHandler(event);
    this.webhookEvents.update((d) => {
      d.seen.push(event.id);
      d.seen.splice(0, Math.max(0, d.seen.length - 1000));
    });
    return reply.code(204).send();
  }

  async listen(): Promise<RunningDemo> {
    await this.app.listen({ port: this.o.port ?? 0, host: '127.0.0.1' });
    const { port } = this.app.server.address() as AddressInfo;
    this.base = (this.o.publicUrl ?? `http://127.0.0.1:${port}`).replace(/\/+$/, '');
    return { url: this.base, close: () => this.app.close() };
  }
}
