// The holder-protocol client (docs/holder-protocol.md, `kakunin-holder/1`): fetch a ceremony, report
// progress, sign on the card and post the answer. Shared by `kakunin holder` and the local agent.
// The PIN only ever goes to the card: it is never sent, stored, logged or put in an error.

import { isCardError, pinBytes, type CardErrorCode } from '@kakunin/card';
import { sha256DigestInfo } from '@kakunin/jpki';

export const HOLDER_PROTOCOL = 'kakunin-holder/1';

/** The last path segments of a ceremony link: `…/holder/v1/ceremonies/<id>`. */
export const HOLDER_PATH = /\/holder\/v1\/ceremonies\/([^/]+)$/;

export interface SharedItem {
  ja: string;
  en: string;
}

/** What `GET /holder/v1/ceremonies/{id}` answers (checked by fetchCeremony). */
export interface HolderView {
  protocol: typeof HOLDER_PROTOCOL;
  ceremony_id: string;
  kind: 'login' | 'identity';
  state: string;
  /** Which key signs: `auth` (4-digit PIN) or `sign` (6–16 character password). */
  certificate: 'auth' | 'sign';
  pin: { kind: string; label_ja: string; label_en: string };
  rp: { client_id: string; name: string };
  purpose: string;
  shares: SharedItem[];
  /** Identity ceremonies: the whole text being signed. */
  statement?: string;
  nonce: string;
  /** base64url of the exact bytes to sign. */
  to_be_signed: string;
  expires_at: string;
  response_url: string;
}

/** The card operations a ceremony needs (MyNumberCard has them). */
export interface HolderCard {
  signWithAuthKey(pin: string, digestInfo: Uint8Array): Promise<Uint8Array>;
  signWithSignKey(password: string, digestInfo: Uint8Array): Promise<Uint8Array>;
  readAuthCertificate(pin?: string): Promise<Uint8Array>;
  readSignCertificate(password: string): Promise<Uint8Array>;
}

/** A card error as the progress endpoint takes it. */
export interface CardErrorReport {
  code: string;
  remaining?: number;
}

export type ProgressReport = { stage: 'reading' } | { stage: 'card_error'; error: CardErrorReport };

/** An error body of the platform: `{"error":{code, message, message_ja, details?}}`. */
export interface PlatformErrorBody {
  code: string;
  message: string;
  message_ja?: string;
  details?: unknown;
}

// ---------------------------------------------------------------------------------------------
// Typed errors (each with a stable `code`).

export abstract class HolderError extends Error {
  abstract readonly code: string;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export function isHolderError(e: unknown): e is HolderError {
  return e instanceof HolderError;
}

/** Not a URL, or not a holder-protocol ceremony link (`…/holder/v1/ceremonies/<id>`). */
export class InvalidHolderUrl extends HolderError {
  readonly code = 'INVALID_HOLDER_URL';
  readonly url: string;
  constructor(url: string, why: string) {
    super(`"${url}" ${why}`);
    this.url = url;
  }
}

/** The platform could not be reached (network error, timeout). */
export class PlatformUnreachable extends HolderError {
  readonly code = 'PLATFORM_UNREACHABLE';
  readonly url: string;
  readonly reason: string;
  constructor(url: string, reason: string) {
    super(`cannot reach ${url}: ${reason}`);
    this.url = url;
    this.reason = reason;
  }
}

/** The answer is not a holder-protocol v1 ceremony (another protocol, missing fields, foreign response_url). */
export class NotAHolderCeremony extends HolderError {
  readonly code = 'NOT_A_HOLDER_CEREMONY';
}

/** The ceremony is no longer pending (completed or failed): it cannot be answered. */
export class CeremonyNotPending extends HolderError {
  readonly code = 'CEREMONY_FINISHED';
  readonly ceremonyId: string;
  readonly state: string;
  constructor(ceremonyId: string, state: string) {
    super(`ceremony ${ceremonyId} is already ${state}`);
    this.ceremonyId = ceremonyId;
    this.state = state;
  }
}

/** The ceremony's `expires_at` has passed (checked here, before any PIN try is used). */
export class CeremonyExpired extends HolderError {
  readonly code = 'CEREMONY_EXPIRED';
  readonly ceremonyId: string;
  readonly expiresAt: string;
  constructor(ceremonyId: string, expiresAt: string) {
    super(`ceremony ${ceremonyId} expired at ${expiresAt}`);
    this.ceremonyId = ceremonyId;
    this.expiresAt = expiresAt;
  }
}

/**
 * The platform answered with an error: `code` and `message` are the platform's (`REVOKED`,
 * `CEREMONY_NOT_FOUND`, …), or `HTTP_<status>` when the body carried none.
 */
export class PlatformRejected extends HolderError {
  readonly code: string;
  readonly messageJa: string | undefined;
  readonly details: unknown;
  readonly step: 'fetch' | 'progress' | 'response';
  readonly status: number;
  readonly platformError: PlatformErrorBody | undefined;
  constructor(
    /** Which request: fetching the ceremony, reporting progress, or posting the response. */
    step: 'fetch' | 'progress' | 'response',
    status: number,
    /** The platform's error body, when it sent one. */
    platformError: PlatformErrorBody | undefined,
  ) {
    super(platformError?.message ?? `HTTP ${status}`);
    this.step = step;
    this.status = status;
    this.platformError = platformError;
    this.code = platformError?.code ?? `HTTP_${status}`;
    this.messageJa = platformError?.message_ja;
    this.details = platformError?.details;
  }

  /** `message (CODE)`, or `HTTP 500` when the platform sent no error body. */
  describe(): string {
    return this.platformError ? `${this.platformError.message} (${this.platformError.code})` : `HTTP ${this.status}`;
  }
}

// ---------------------------------------------------------------------------------------------

const FETCH_TIMEOUT_MS = 15_000;
const PROGRESS_TIMEOUT_MS = 5_000;
const RESPONSE_TIMEOUT_MS = 30_000;

function reasonOf(e: unknown): string {
  const err = e as Error & { cause?: { message?: string; code?: string } };
  if (err?.name === 'TimeoutError') return 'timed out';
  return err?.cause?.message ?? err?.cause?.code ?? err?.message ?? String(e);
}

function platformErrorOf(body: unknown): PlatformErrorBody | undefined {
  const err = (body as { error?: Partial<PlatformErrorBody> } | undefined)?.error;
  if (!err || typeof err.code !== 'string') return undefined;
  return {
    code: err.code,
    message: typeof err.message === 'string' ? err.message : err.code,
    ...(typeof err.message_ja === 'string' ? { message_ja: err.message_ja } : {}),
    ...(err.details !== undefined ? { details: err.details } : {}),
  };
}

async function request(url: string, init: RequestInit, timeoutMs: number): Promise<{ status: number; body: unknown }> {
  let res: Response;
  try {
    res = await fetch(url, { redirect: 'error', ...init, signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    throw new PlatformUnreachable(url, reasonOf(e));
  }
  const text = await res.text().catch(() => '');
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  return { status: res.status, body };
}

/** Checks a ceremony link: an http(s) URL whose path ends in `/holder/v1/ceremonies/<id>`. */
export function parseHolderUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidHolderUrl(url, 'is not a URL');
  }
  if ((parsed.protocol !== 'https:' && parsed.protocol !== 'http:') || !HOLDER_PATH.test(parsed.pathname)) {
    throw new InvalidHolderUrl(url, 'is not a holder-protocol ceremony URL (…/holder/v1/ceremonies/<id>)');
  }
  return parsed;
}

/** Validates a ceremony view (protocol, fields); fills `pin` and `shares` when an older platform left them out. */
export function checkView(v: unknown, o: { ceremonyId?: string; origin?: string } = {}): HolderView {
  const view = v as Partial<HolderView> | undefined;
  if (!view || typeof view !== 'object' || view.protocol !== HOLDER_PROTOCOL) {
    throw new NotAHolderCeremony(
      `this is not a Kakunin holder-protocol v1 ceremony (protocol: ${String(view?.protocol)})`,
    );
  }
  for (const k of ['ceremony_id', 'state', 'nonce', 'to_be_signed', 'expires_at', 'response_url', 'purpose'] as const) {
    if (typeof view[k] !== 'string') throw new NotAHolderCeremony(`the ceremony has no ${k}`);
  }
  if (view.certificate !== 'auth' && view.certificate !== 'sign')
    throw new NotAHolderCeremony(`unknown certificate kind ${String(view.certificate)}`);
  if (view.kind !== 'login' && view.kind !== 'identity')
    throw new NotAHolderCeremony(`unknown ceremony kind ${String(view.kind)}`);
  if (!view.rp || typeof view.rp.name !== 'string' || typeof view.rp.client_id !== 'string')
    throw new NotAHolderCeremony('the ceremony names no relying party');
  if (view.statement !== undefined && typeof view.statement !== 'string')
    throw new NotAHolderCeremony('the statement is not text');
  if (view.kind === 'identity' && view.statement === undefined)
    throw new NotAHolderCeremony('an identity ceremony without the statement to be signed');
  if (Number.isNaN(Date.parse(view.expires_at!)))
    throw new NotAHolderCeremony(`expires_at "${view.expires_at}" is not a time`);
  if (o.ceremonyId !== undefined && view.ceremony_id !== o.ceremonyId)
    throw new NotAHolderCeremony(`the platform answered for ceremony ${view.ceremony_id}, not ${o.ceremonyId}`);
  let responseUrl: URL;
  try {
    responseUrl = new URL(view.response_url!);
  } catch {
    throw new NotAHolderCeremony(`response_url "${view.response_url}" is not a URL`);
  }
  if (responseUrl.protocol !== 'https:' && responseUrl.protocol !== 'http:')
    throw new NotAHolderCeremony(`response_url "${view.response_url}" is not http(s)`);
  if (o.origin !== undefined && responseUrl.origin !== o.origin)
    throw new NotAHolderCeremony(`response_url ${responseUrl.origin} is not on the ceremony's origin ${o.origin}`);
  const shares = Array.isArray(view.shares)
    ? view.shares.filter((s): s is SharedItem => !!s && typeof s.ja === 'string' && typeof s.en === 'string')
    : [];
  const pin =
    view.pin && typeof view.pin.label_ja === 'string' && typeof view.pin.label_en === 'string'
      ? view.pin
      : view.certificate === 'auth'
        ? {
            kind: 'auth',
            label_ja: '利用者証明用電子証明書の暗証番号(数字4桁)',
            label_en: 'user authentication PIN (4 digits)',
          }
        : {
            kind: 'sign',
            label_ja: '署名用電子証明書の暗証番号(英数字6〜16文字)',
            label_en: 'signing password (6–16 letters and digits)',
          };
  return { ...(view as HolderView), shares, pin };
}

/** Throws CeremonyNotPending / CeremonyExpired unless the view can still be answered. */
export function assertAnswerable(view: HolderView, now = Date.now()): void {
  if (view.state !== 'pending') throw new CeremonyNotPending(view.ceremony_id, view.state);
  if (Date.parse(view.expires_at) <= now) throw new CeremonyExpired(view.ceremony_id, view.expires_at);
}

export interface FetchCeremonyOptions {
  /** Require `response_url` on the same origin as the link (the agent does). Default false. */
  sameOrigin?: boolean;
  /** Accept a ceremony that is no longer pending or has expired (to show it). Default false. */
  allowFinished?: boolean;
}

/**
 * `GET` the ceremony link and validate the answer: protocol `kakunin-holder/1`, the fields, state
 * `pending`, not expired. Throws InvalidHolderUrl, PlatformUnreachable, PlatformRejected (the
 * platform's error, e.g. CEREMONY_NOT_FOUND), NotAHolderCeremony, CeremonyNotPending, CeremonyExpired.
 */
export async function fetchCeremony(url: string, o: FetchCeremonyOptions = {}): Promise<HolderView> {
  const parsed = parseHolderUrl(url);
  const id = decodeURIComponent(HOLDER_PATH.exec(parsed.pathname)![1]!);
  // The agent follows no redirect: the link's origin is what it checked against the platform's.
  const got = await request(
    parsed.toString(),
    { headers: { accept: 'application/json' }, redirect: o.sameOrigin ? 'error' : 'follow' },
    FETCH_TIMEOUT_MS,
  );
  if (got.status !== 200) throw new PlatformRejected('fetch', got.status, platformErrorOf(got.body));
  const view = checkView(got.body, { ceremonyId: id, ...(o.sameOrigin ? { origin: parsed.origin } : {}) });
  if (!o.allowFinished) assertAnswerable(view);
  return view;
}

/** The progress endpoint of a ceremony (next to its response_url). */
export const progressUrl = (view: HolderView): string => new URL('progress', view.response_url).toString();

/**
 * `POST …/progress`: `{stage: 'reading'}` before the card is used, `{stage: 'card_error', error}`
 * when it refused. Throws PlatformUnreachable or PlatformRejected (409 finished, 410 expired, …).
 */
export async function reportProgress(view: HolderView, report: ProgressReport): Promise<void> {
  const body =
    report.stage === 'reading'
      ? { stage: 'reading' }
      : {
          stage: 'card_error',
          error: {
            code: report.error.code,
            ...(report.error.remaining !== undefined ? { remaining: report.error.remaining } : {}),
          },
        };
  const got = await request(
    progressUrl(view),
    {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
    },
    PROGRESS_TIMEOUT_MS,
  );
  if (got.status < 200 || got.status >= 300)
    throw new PlatformRejected('progress', got.status, platformErrorOf(got.body));
}

/** Card errors the ceremony page knows how to explain (reported through progress). */
const REPORTED_CARD_ERRORS: ReadonlySet<CardErrorCode> = new Set<CardErrorCode>([
  'WRONG_PIN',
  'PIN_BLOCKED',
  'CARD_REMOVED',
  'TIMEOUT',
  'NOT_A_MY_NUMBER_CARD',
  'READER_NOT_FOUND',
  'PCSC_UNAVAILABLE',
]);

/** The progress report for a card error (WRONG_PIN with the remaining tries, PIN_BLOCKED, …); undefined for anything else. */
export function cardErrorReport(e: unknown): CardErrorReport | undefined {
  if (!isCardError(e) || !REPORTED_CARD_ERRORS.has(e.code)) return undefined;
  if (e.code === 'WRONG_PIN') return { code: e.code, remaining: (e as unknown as { remaining: number }).remaining };
  if (e.code === 'PIN_BLOCKED') return { code: e.code, remaining: 0 };
  return { code: e.code };
}

/** Reports a card error to the ceremony page (best effort: never throws). Returns whether it was recorded. */
export async function reportCardError(view: HolderView, e: unknown): Promise<boolean> {
  const report = cardErrorReport(e);
  if (!report) return false;
  try {
    await reportProgress(view, { stage: 'card_error', error: report });
    return true;
  } catch {
    return false;
  }
}

/** The platform's answer to a verified response. */
export interface CompletedCeremony {
  state: string;
  ceremony_id: string;
}

/** `POST response_url` with `{nonce, certificate, signature}`. Throws PlatformUnreachable / PlatformRejected. */
export async function postResponse(
  view: HolderView,
  answer: { certificate: Uint8Array; signature: Uint8Array },
): Promise<CompletedCeremony> {
  const got = await request(
    view.response_url,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({
        nonce: view.nonce,
        certificate: Buffer.from(answer.certificate).toString('base64'),
        signature: Buffer.from(answer.signature).toString('base64'),
      }),
    },
    RESPONSE_TIMEOUT_MS,
  );
  if (got.status < 200 || got.status >= 300)
    throw new PlatformRejected('response', got.status, platformErrorOf(got.body));
  const body = (got.body ?? {}) as Partial<CompletedCeremony>;
  return {
    state: typeof body.state === 'string' ? body.state : 'completed',
    ceremony_id: typeof body.ceremony_id === 'string' ? body.ceremony_id : view.ceremony_id,
  };
}

/**
 * The holder's part of a ceremony: checks the secret's format and the ceremony's expiry (nothing is
 * sent to the card otherwise), reports `reading` (a 409/410 answer stops here, before any PIN try),
 * signs DigestInfo(SHA-256(to_be_signed)) with the key `view.certificate` names, reads that
 * certificate, and posts both. A card error is reported as `card_error` and rethrown (WrongPin with
 * `remaining`, PinBlocked, CardRemoved, …). Returns the platform's answer or throws PlatformRejected
 * with its `{code, message}` (e.g. REVOKED), PlatformUnreachable, CeremonyExpired.
 */
export async function completeCeremony(view: HolderView, card: HolderCard, secret: string): Promise<CompletedCeremony> {
  pinBytes(view.certificate, secret); // InvalidPinFormat before anything is sent anywhere
  if (Date.parse(view.expires_at) <= Date.now()) throw new CeremonyExpired(view.ceremony_id, view.expires_at);
  try {
    await reportProgress(view, { stage: 'reading' });
  } catch (e) {
    // Finished or expired meanwhile: do not spend a PIN try. Anything else (an older platform, a
    // network hiccup) only costs the browser its progress display.
    if (e instanceof PlatformRejected && (e.status === 409 || e.status === 410)) throw e;
  }
  let certificate: Uint8Array;
  let signature: Uint8Array;
  try {
    const digestInfo = sha256DigestInfo(Buffer.from(view.to_be_signed, 'base64url'));
    if (view.certificate === 'auth') {
      signature = await card.signWithAuthKey(secret, digestInfo);
      certificate = await card.readAuthCertificate(secret);
    } else {
      signature = await card.signWithSignKey(secret, digestInfo);
      certificate = await card.readSignCertificate(secret);
    }
  } catch (e) {
    await reportCardError(view, e);
    throw e;
  }
  return postResponse(view, { certificate, signature });
}
