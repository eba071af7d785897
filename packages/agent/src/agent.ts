// The local holder agent (`kakunin agent`): the same-device flow. The platform's ceremony page finds
// it at http://127.0.0.1:8931 (GET /v1/hello, CORS for the configured platform origins only), hands
// it the holder link (POST /v1/ceremonies) and navigates to the agent's own confirmation page. That
// page — on the agent's origin, which relying-party and platform pages cannot script — shows who asks
// and what is signed, takes the PIN, runs the card (a sandbox resident's virtual card or a PC/SC
// reader), answers the ceremony through the holder protocol and sends the browser back.
//
// Listens on loopback only; checks the Host header (DNS rebinding) and the Origin of every state
// change. Confirmation links are random, single-use and live 10 minutes. The PIN is never logged,
// stored or echoed. Everything here is asynchronous except PcscTransport's own PC/SC calls.

import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIP, type AddressInfo } from 'node:net';
import {
  InProcessTransport,
  InvalidPinFormat,
  isCardError,
  listReaders,
  MyNumberCard,
  PcscTransport,
  PinBlocked,
  WrongPin,
  type ReaderInfo,
} from '@kakunin/card';
import { isSimError, openSandbox, UnknownPerson, type Sandbox } from '@kakunin/sim';
import { langFrom, type Lang } from '@kakunin/web';
import { cardForPerson } from '@kakunin/sim/card';
import {
  CeremonyExpired,
  CeremonyNotPending,
  completeCeremony,
  fetchCeremony,
  HOLDER_PATH,
  isHolderError,
  NotAHolderCeremony,
  PlatformRejected,
  PlatformUnreachable,
  reportCardError,
  type HolderView,
} from './holder-client.js';
import {
  confirmPage,
  donePage,
  forbiddenPage,
  homePage,
  messagePage,
  notFoundPage,
  unknownPage,
  type CardChoice,
  type ShownError,
} from './pages.js';
import { PinCancelled, terminalPinPrompt, type PinQuestion } from './prompt.js';

export const DEFAULT_AGENT_PORT = 8931;
export const AGENT_PROTOCOL = 1;

export type AgentCard =
  | {
      kind: 'sim';
      /** The sandbox directory (`kakunin sim init`; for `kakunin serve --sandbox`, DATA_DIR/sim). */
      sandboxDir: string;
      /** Token medium of the virtual card (default `card`). */
      medium?: 'card' | 'android' | 'iphone';
    }
  | {
      kind: 'pcsc';
      /** Reader name (exact or a unique part). Default: the holder picks one on the page. */
      reader?: string;
      /** How long to wait for a card after the holder submits (default 10 s). */
      waitForCardMs?: number;
    };

export interface AgentOptions {
  /** Default 8931 (the platform's default KAKUNIN_AGENT_URL); 0 picks a free port. */
  port?: number;
  /** A loopback address only: 127.0.0.1 (default), another 127.x address, ::1 or localhost. */
  host?: string;
  /** Origins of the platforms whose ceremony pages may use the agent, e.g. `http://127.0.0.1:8080`. */
  platformOrigins: string[];
  card: AgentCard;
  /** `page` (default): a PIN field on the agent's page; `terminal`: a masked prompt on the agent's terminal. */
  pinPrompt?: 'page' | 'terminal';
  /** With `pinPrompt: 'terminal'`: how to ask (default: a masked prompt on this process's terminal). */
  askPin?: (q: PinQuestion) => Promise<string>;
  /** One line per event (never a PIN). Default: silent. */
  log?: (line: string) => void;
  /** Lifetime of a confirmation link (default 10 minutes). */
  confirmTtlMs?: number;
}

export interface RunningAgent {
  /** Base URL, e.g. `http://127.0.0.1:8931`. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** A refused configuration (non-loopback host, bad platform origin, terminal prompt without a terminal). */
export class AgentConfigError extends Error {
  readonly code = 'AGENT_CONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'AgentConfigError';
  }
}

interface PendingConfirm {
  readonly token: string;
  readonly holderUrl: string;
  readonly returnUrl: string;
  readonly origin: string;
  /** Ties form posts to a page this agent rendered. */
  readonly formKey: string;
  /** The ceremony page's language (from return_url's `lang`), unless the page asks `?lang=`. */
  readonly lang: Lang;
  readonly expiresAt: number;
  busy: boolean;
}

const MAX_PENDING = 64;
const MAX_JSON_BODY = 8 * 1024;
const MAX_FORM_BODY = 8 * 1024;
/** Path of the holder link on the platform: `/holder/v1/ceremonies/cer_…` (behind an optional path prefix). */
const HOLDER_LINK_PATH = /^(?:\/[^?#]*)?\/holder\/v1\/ceremonies\/cer_[A-Za-z0-9_-]{10,64}$/;

const HTML_HEADERS: Record<string, string> = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

function isLoopbackHost(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

function normaliseOrigins(origins: string[]): Set<string> {
  if (origins.length === 0)
    throw new AgentConfigError('give at least one platform origin (e.g. http://127.0.0.1:8080)');
  const out = new Set<string>();
  for (const o of origins) {
    let u: URL;
    try {
      u = new URL(o);
    } catch {
      throw new AgentConfigError(`platform origin "${o}" is not a URL`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:')
      throw new AgentConfigError(`platform origin "${o}" is not http(s)`);
    out.add(u.origin);
  }
  return out;
}

/** Reads a request body up to `limit` bytes; undefined when it is larger. */
async function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

const sameSecret = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

const header = (req: IncomingMessage, name: string): string | undefined => {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

/** A browser opening an address (it asks for HTML, not JSON): it gets a page; programs keep their JSON. */
const wantsPage = (req: IncomingMessage): boolean => {
  const accept = (header(req, 'accept') ?? '').toLowerCase();
  return accept.includes('text/html') && !accept.includes('application/json');
};

/** `?lang=`, else the browser's first choice of Japanese or English (Japanese by default). */
function browserLang(asked: string | null, req: IncomingMessage): Lang {
  if (asked === 'ja' || asked === 'en') return asked;
  for (const part of (header(req, 'accept-language') ?? '').split(',')) {
    const tag = part.trim().toLowerCase();
    if (tag.startsWith('ja')) return 'ja';
    if (tag.startsWith('en')) return 'en';
  }
  return 'ja';
}

/** Starts the agent; resolves once it listens. */
export async function startAgent(o: AgentOptions): Promise<RunningAgent> {
  const requestedHost = o.host ?? '127.0.0.1';
  if (!isLoopbackHost(requestedHost))
    throw new AgentConfigError(
      `the agent listens on loopback only (127.0.0.1, ::1, localhost), not "${requestedHost}"`,
    );
  const host = requestedHost === 'localhost' ? '127.0.0.1' : requestedHost;
  const platformOrigins = normaliseOrigins(o.platformOrigins);
  const pinPrompt = o.pinPrompt ?? 'page';
  const askPin = o.askPin ?? terminalPinPrompt;
  if (pinPrompt === 'terminal' && !o.askPin && !process.stdin.isTTY)
    throw new AgentConfigError('pinPrompt "terminal" needs a terminal on standard input');
  const log = o.log ?? ((): void => undefined);
  const ttl = o.confirmTtlMs ?? 10 * 60_000;
  const cardConfig = o.card;
  // Throws SandboxNotFound / SandboxCorrupt now rather than on the first ceremony.
  const sandbox: Sandbox | undefined = cardConfig.kind === 'sim' ? openSandbox(cardConfig.sandboxDir) : undefined;

  const pending = new Map<string, PendingConfirm>();
  let port = 0;
  let ownHosts = new Set<string>();
  const urlHost = host.includes(':') ? `[${host}]` : host;
  const baseUrl = (): string => `http://${urlHost}:${port}`;

  // One card operation at a time (one reader, one sandbox; a terminal prompt is one too).
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = queue.then(fn, fn);
    queue = run.catch(() => undefined);
    return run;
  };

  const live = (token: string): PendingConfirm | undefined => {
    const p = pending.get(token);
    if (p && p.expiresAt <= Date.now()) {
      pending.delete(token);
      return undefined;
    }
    return p;
  };
  const prune = (): void => {
    const now = Date.now();
    for (const [k, p] of pending) if (p.expiresAt <= now && !p.busy) pending.delete(k);
  };

  // ------------------------------------------------------------------ responses

  const html = (res: ServerResponse, status: number, body: string): void => {
    res.writeHead(status, { ...HTML_HEADERS, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
  /**
   * The confirmation page: its form posts to the agent, whose answer is a 303 straight back to the
   * ceremony page on the platform — CSP form-action covers that redirect, so it names the platform.
   */
  const confirmHtml = (res: ServerResponse, status: number, entry: PendingConfirm, body: string): void => {
    const csp = HTML_HEADERS['content-security-policy']!.replace(
      "form-action 'self'",
      `form-action 'self' ${entry.origin}`,
    );
    res.writeHead(status, {
      ...HTML_HEADERS,
      'content-security-policy': csp,
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  };
  const json = (res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void => {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      vary: 'Origin',
      ...extra,
      'content-length': Buffer.byteLength(text),
    });
    res.end(text);
  };
  const apiError = (res: ServerResponse, status: number, code: string, message: string, cors?: string): void =>
    json(res, status, { error: { code, message } }, cors ? { 'access-control-allow-origin': cors } : {});

  // ------------------------------------------------------------------ /v1 (called by platform pages)

  /** The request's Origin when it is an allowed platform; false when another origin; undefined when none. */
  const platformOrigin = (req: IncomingMessage): string | false | undefined => {
    const origin = header(req, 'origin');
    if (origin === undefined) return undefined;
    return platformOrigins.has(origin) ? origin : false;
  };

  const preflight = (req: IncomingMessage, res: ServerResponse, methods: string): void => {
    const origin = platformOrigin(req);
    if (!origin) {
      res.writeHead(403, { vary: 'Origin', 'cache-control': 'no-store' });
      res.end();
      return;
    }
    const headers: Record<string, string> = {
      'access-control-allow-origin': origin,
      'access-control-allow-methods': methods,
      'access-control-allow-headers': 'content-type',
      'access-control-max-age': '600',
      vary: 'Origin, Access-Control-Request-Private-Network',
      'cache-control': 'no-store',
    };
    // Chrome's Private Network Access: a public or local page asking for a loopback resource.
    if (header(req, 'access-control-request-private-network') === 'true')
      headers['access-control-allow-private-network'] = 'true';
    res.writeHead(204, headers);
    res.end();
  };

  const hello = (req: IncomingMessage, res: ServerResponse): void => {
    const origin = platformOrigin(req);
    if (origin === false) return apiError(res, 403, 'ORIGIN_NOT_ALLOWED', 'this origin may not use the agent');
    json(
      res,
      200,
      { agent: 'kakunin-agent', protocol: AGENT_PROTOCOL, mode: cardConfig.kind },
      origin ? { 'access-control-allow-origin': origin } : {},
    );
  };

  const createConfirm = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const origin = platformOrigin(req);
    if (!origin)
      return apiError(res, 403, 'ORIGIN_NOT_ALLOWED', 'only the configured platforms may start a confirmation');
    if (!/^application\/json\s*(;|$)/i.test(header(req, 'content-type') ?? ''))
      return apiError(res, 415, 'UNSUPPORTED_MEDIA_TYPE', 'send application/json', origin);
    const text = await readBody(req, MAX_JSON_BODY);
    if (text === undefined) return apiError(res, 413, 'BODY_TOO_LARGE', 'request body too large', origin);
    let body: { holder_url?: unknown; return_url?: unknown };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      return apiError(res, 400, 'INVALID_REQUEST', 'the body is not JSON', origin);
    }
    if (
      !body ||
      typeof body.holder_url !== 'string' ||
      typeof body.return_url !== 'string' ||
      body.holder_url.length > 2048 ||
      body.return_url.length > 2048
    ) {
      return apiError(res, 400, 'INVALID_REQUEST', 'holder_url and return_url (strings) are required', origin);
    }
    let holder: URL;
    let back: URL;
    try {
      holder = new URL(body.holder_url);
      back = new URL(body.return_url);
    } catch {
      return apiError(res, 400, 'INVALID_REQUEST', 'holder_url and return_url must be absolute URLs', origin);
    }
    if (holder.origin !== origin || back.origin !== origin)
      return apiError(res, 400, 'CROSS_ORIGIN_URL', `holder_url and return_url must be on ${origin}`, origin);
    if (holder.username || holder.password || back.username || back.password)
      return apiError(res, 400, 'INVALID_REQUEST', 'URLs with credentials are refused', origin);
    if (!HOLDER_LINK_PATH.test(holder.pathname) || holder.search || holder.hash)
      return apiError(
        res,
        400,
        'INVALID_HOLDER_URL',
        'holder_url is not a ceremony link (/holder/v1/ceremonies/<id>)',
        origin,
      );
    prune();
    if (pending.size >= MAX_PENDING)
      return apiError(res, 429, 'TOO_MANY_PENDING', 'too many open confirmations; try again later', origin);
    const token = randomBytes(32).toString('base64url');
    const entry: PendingConfirm = {
      token,
      holderUrl: holder.toString(),
      returnUrl: back.toString(),
      origin,
      formKey: randomBytes(24).toString('base64url'),
      lang: langFrom({ lang: back.searchParams.get('lang') ?? undefined }),
      expiresAt: Date.now() + ttl,
      busy: false,
    };
    pending.set(token, entry);
    log(`confirmation opened for ${HOLDER_PATH.exec(holder.pathname)?.[1] ?? 'a ceremony'} (from ${origin})`);
    json(
      res,
      201,
      { confirm_url: `${baseUrl()}/confirm/${token}`, expires_at: new Date(entry.expiresAt).toISOString() },
      { 'access-control-allow-origin': origin },
    );
  };

  // ------------------------------------------------------------------ /confirm (the agent's own page)

  const cardChoice = async (view: HolderView, selected?: string): Promise<CardChoice> => {
    if (cardConfig.kind === 'sim') {
      sandbox!.reload();
      const people = sandbox!
        .people()
        // An identity ceremony needs a signing certificate (issued from age 15).
        .filter(
          (p) =>
            view.certificate === 'auth' ||
            sandbox!.certificates({ personId: p.id, kind: 'sign', medium: cardConfig.medium ?? 'card' }).length > 0,
        )
        .map((p) => ({ id: p.id, name: p.name }));
      return { kind: 'sim', people, ...(selected ? { selected } : {}) };
    }
    if (cardConfig.reader !== undefined) return { kind: 'pcsc', reader: cardConfig.reader };
    let readers: ReaderInfo[] = [];
    let problem: string | undefined;
    try {
      readers = await listReaders();
    } catch (e) {
      problem = (e as Error).message;
    }
    return { kind: 'pcsc', readers, ...(selected ? { selected } : {}), ...(problem ? { problem } : {}) };
  };

  /** The outcome of a link whose ceremony cannot be answered any more (or cannot be fetched). */
  const ceremonyProblem = (res: ServerResponse, lang: Lang, entry: PendingConfirm, e: unknown): void => {
    const shown = shownError(e);
    // Finished, expired, unknown or not a ceremony at all: this link is spent. Unreachable: it may come back.
    if (!(e instanceof PlatformUnreachable)) pending.delete(entry.token);
    log(`confirmation ${shown.code}`);
    html(
      res,
      e instanceof PlatformUnreachable ? 502 : 409,
      messagePage(lang, { error: shown, returnUrl: entry.returnUrl }),
    );
  };

  const showConfirm = async (req: IncomingMessage, res: ServerResponse, token: string, lang: Lang): Promise<void> => {
    const entry = live(token);
    if (!entry) return html(res, 404, notFoundPage(lang));
    let view: HolderView;
    try {
      view = await fetchCeremony(entry.holderUrl, { sameOrigin: true });
    } catch (e) {
      return ceremonyProblem(res, lang, entry, e);
    }
    confirmHtml(
      res,
      200,
      entry,
      confirmPage({
        lang,
        path: `/confirm/${token}`,
        formKey: entry.formKey,
        view,
        card: await cardChoice(view),
        pinPrompt,
        returnUrl: entry.returnUrl,
      }),
    );
  };

  /** Form posts come from the agent's own page only. Origin is `null` under `Referrer-Policy: no-referrer`. */
  const fromOwnPage = (req: IncomingMessage): boolean => {
    const own = `http://${header(req, 'host')}`;
    const origin = header(req, 'origin');
    if (origin !== undefined && origin !== 'null' && origin !== own) return false;
    const referer = header(req, 'referer');
    if (referer !== undefined && !referer.startsWith(`${own}/`)) return false;
    const site = header(req, 'sec-fetch-site');
    if (site !== undefined && site !== 'same-origin') return false;
    return true;
  };

  const submitConfirm = async (req: IncomingMessage, res: ServerResponse, token: string, lang: Lang): Promise<void> => {
    const entry = live(token);
    if (!entry) return html(res, 404, notFoundPage(lang));
    if (!fromOwnPage(req))
      return html(res, 403, forbiddenPage(lang, 'the form must be sent from the agent’s own page'));
    if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(header(req, 'content-type') ?? ''))
      return html(res, 415, forbiddenPage(lang, 'send the form'));
    const text = await readBody(req, MAX_FORM_BODY);
    if (text === undefined) return html(res, 413, forbiddenPage(lang, 'form too large'));
    const form = new URLSearchParams(text);
    if (!sameSecret(form.get('form_key') ?? '', entry.formKey))
      return html(res, 403, forbiddenPage(lang, 'this form was not issued by the agent for this confirmation'));
    if (entry.busy) return html(res, 409, messagePage(lang, { error: { code: 'BUSY' }, returnUrl: entry.returnUrl }));
    entry.busy = true;
    const selected = (cardConfig.kind === 'sim' ? form.get('person') : form.get('reader')) ?? undefined;
    let view: HolderView | undefined;
    const again = async (status: number, error: ShownError): Promise<void> =>
      confirmHtml(
        res,
        status,
        entry,
        confirmPage({
          lang,
          path: `/confirm/${token}`,
          formKey: entry.formKey,
          view: view!,
          card: await cardChoice(view!, selected || undefined),
          pinPrompt,
          returnUrl: entry.returnUrl,
          error,
        }),
      );
    try {
      // State and expiry again before a PIN try is spent (holder protocol §5).
      try {
        view = await fetchCeremony(entry.holderUrl, { sameOrigin: true });
      } catch (e) {
        return ceremonyProblem(res, lang, entry, e);
      }
      const v = view;
      const result = await serial(async () => {
        let secret: string;
        if (pinPrompt === 'terminal') {
          secret = await askPin({
            kind: v.certificate,
            rpName: v.rp.name,
            purpose: v.purpose,
            ceremonyKind: v.kind,
            ...(v.statement !== undefined ? { statement: v.statement } : {}),
          });
        } else {
          secret = form.get('pin') ?? '';
          form.delete('pin');
        }
        let card: MyNumberCard;
        try {
          card = await openCard(selected || undefined);
        } catch (e) {
          await reportCardError(v, e);
          throw e;
        }
        try {
          return await completeCeremony(v, card, secret);
        } finally {
          await card.close().catch(() => undefined);
        }
      });
      pending.delete(token);
      log(`ceremony ${v.ceremony_id} ${result.state} (${v.kind} for ${v.rp.name})`);
      // Straight back to the ceremony page, which goes on to the consent: no page in between, no delay.
      const body = donePage(lang, v, entry.returnUrl);
      res.writeHead(303, { ...HTML_HEADERS, location: entry.returnUrl, 'content-length': Buffer.byteLength(body) });
      res.end(body);
      return;
    } catch (e) {
      if (!view) throw e;
      // Which PIN it was (and, for a virtual card, whose: the sandbox's reset command names them).
      const shown: ShownError = {
        ...shownError(e),
        pin: view.certificate,
        ...(cardConfig.kind === 'sim' && selected ? { simPerson: selected } : {}),
      };
      log(
        `ceremony ${view.ceremony_id}: ${shown.code}${shown.remaining !== undefined ? ` (${shown.remaining} remaining)` : ''}`,
      );
      if (e instanceof PinBlocked) {
        return html(
          res,
          200,
          messagePage(lang, {
            error: shown,
            returnUrl: entry.returnUrl,
            heading: ['暗証番号がロックされています', 'The PIN is locked'],
          }),
        );
      }
      if (
        e instanceof PlatformRejected ||
        e instanceof CeremonyExpired ||
        e instanceof CeremonyNotPending ||
        e instanceof NotAHolderCeremony
      ) {
        // The platform has decided (REVOKED, …) or the ceremony is over: its own page shows the outcome too.
        pending.delete(token);
        return html(
          res,
          e instanceof PlatformRejected && e.status >= 500 ? 502 : 422,
          messagePage(lang, { error: shown, returnUrl: entry.returnUrl }),
        );
      }
      if (
        e instanceof WrongPin ||
        e instanceof InvalidPinFormat ||
        e instanceof PinCancelled ||
        e instanceof PlatformUnreachable ||
        isCardError(e) ||
        isSimError(e)
      ) {
        return again(e instanceof PlatformUnreachable ? 502 : 422, shown);
      }
      throw e;
    } finally {
      entry.busy = false;
    }
  };

  const openCard = async (selected: string | undefined): Promise<MyNumberCard> => {
    if (cardConfig.kind === 'sim') {
      if (!selected) throw new UnknownPerson('(none chosen)');
      sandbox!.reload();
      const virtual = cardForPerson(sandbox!, selected, cardConfig.medium ?? 'card');
      return new MyNumberCard(new InProcessTransport(virtual, `sim:${selected}`));
    }
    const reader = cardConfig.reader ?? selected;
    const transport = await PcscTransport.open({
      ...(reader ? { reader } : {}),
      waitForCardMs: cardConfig.waitForCardMs ?? 10_000,
    });
    return new MyNumberCard(transport);
  };

  // ------------------------------------------------------------------ routing

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    // DNS rebinding: a page on another name resolving to 127.0.0.1 must not reach the agent.
    const hostHeader = header(req, 'host') ?? '';
    if (!ownHosts.has(hostHeader.toLowerCase())) {
      res.writeHead(421, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
      res.end('misdirected request: use the agent by its loopback address\n');
      return;
    }
    const url = new URL(req.url ?? '/', baseUrl());
    const method = req.method ?? 'GET';
    const asked = url.searchParams.get('lang');
    const path = url.pathname;
    const lang = langFrom({ lang: asked ?? undefined });
    if (path === '/v1/hello') {
      if (method === 'OPTIONS') return preflight(req, res, 'GET');
      if (method === 'GET' || method === 'HEAD') return hello(req, res);
      return apiError(res, 405, 'METHOD_NOT_ALLOWED', 'GET only');
    }
    if (path === '/v1/ceremonies') {
      if (method === 'OPTIONS') return preflight(req, res, 'POST');
      if (method === 'POST') return createConfirm(req, res);
      return apiError(res, 405, 'METHOD_NOT_ALLOWED', 'POST only');
    }
    const m = /^\/confirm\/([A-Za-z0-9_-]{20,100})$/.exec(path);
    if (m) {
      const token = m[1]!;
      // Without ?lang=, the language of the ceremony page the holder came from.
      const pageLang = asked === 'ja' || asked === 'en' ? asked : (pending.get(token)?.lang ?? lang);
      if (method === 'GET' || method === 'HEAD') return showConfirm(req, res, token, pageLang);
      if (method === 'POST') return submitConfirm(req, res, token, pageLang);
      res.writeHead(405, { allow: 'GET, POST' });
      res.end();
      return;
    }
    if (path.startsWith('/confirm/')) return html(res, 404, notFoundPage(lang));
    if (path === '/' && (method === 'GET' || method === 'HEAD')) {
      // Opened in a browser: what the agent is; for programs, the same JSON as before.
      if (wantsPage(req))
        return html(
          res,
          200,
          homePage({
            lang: browserLang(asked, req),
            mode: cardConfig.kind,
            platformOrigins: [...platformOrigins],
            pinPrompt,
            protocol: AGENT_PROTOCOL,
          }),
        );
      return json(res, 200, { agent: 'kakunin-agent', protocol: AGENT_PROTOCOL, mode: cardConfig.kind });
    }
    if (wantsPage(req) && (method === 'GET' || method === 'HEAD'))
      return html(res, 404, unknownPage(browserLang(asked, req)));
    return apiError(res, 404, 'NOT_FOUND', 'no such endpoint');
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      log(`internal error: ${(e as Error)?.name ?? 'Error'}: ${(e as Error)?.message ?? String(e)}`);
      if (!res.headersSent) html(res, 500, messagePage('ja', { error: { code: 'AGENT_ERROR' } }));
      else res.end();
    });
  });
  server.headersTimeout = 20_000;
  // The POST of a confirmation may wait for a terminal prompt and the card: no request timeout.
  server.requestTimeout = 0;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: o.port ?? DEFAULT_AGENT_PORT, host, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  ownHosts = new Set([`${urlHost}:${port}`]);
  if (host === '127.0.0.1' || host === '::1') ownHosts.add(`localhost:${port}`);

  return {
    url: baseUrl(),
    port,
    close: () =>
      new Promise<void>((resolve) => {
        pending.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The error as the page shows it (codes and messages only; never a PIN). */
function shownError(e: unknown): ShownError {
  if (e instanceof WrongPin) return { code: e.code, remaining: e.remaining };
  if (e instanceof PinBlocked) return { code: e.code, remaining: 0 };
  if (e instanceof PlatformRejected)
    return { code: e.code, message: e.message, ...(e.messageJa ? { messageJa: e.messageJa } : {}) };
  if (isHolderError(e)) return { code: e.code, message: e.message };
  if (isCardError(e)) return { code: e.code, message: e.message };
  if (isSimError(e)) return { code: e.code, message: e.message };
  if (e instanceof PinCancelled) return { code: e.code };
  const code = (e as { code?: unknown })?.code;
  return { code: typeof code === 'string' && /^[A-Z_]{3,40}$/.test(code) ? code : 'AGENT_ERROR' };
}
