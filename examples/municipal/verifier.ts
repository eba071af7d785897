// The portal's OpenID4VP 1.0 verifier: the library and the on-demand taxi ask a wallet for two facts
// of the platform's digital ID credential (SD-JWT VC) — prefecture code 18 (福井県) and 18 or over —
// and nothing else. The request goes by value (QR code or same-device link) with the `redirect_uri:`
// client identifier prefix (OpenID4VP 1.0 §5.9.3: no signed request object, the client_id is the
// response URI), response_mode direct_post. Each request's nonce is answered once.

import { randomBytes } from 'node:crypto';
import {
  SdJwtError,
  checkDcqlResponse,
  parseSdJwt,
  resolveStatus,
  selectDisclosures,
  verifySdJwtVc,
  type DcqlQuery,
  type Jwks,
} from '@kakunin/sd-jwt';

/** The services that ask for the credential instead of a login. */
export const VERIFYING_SERVICES = ['library', 'taxi'] as const;
export type VerifyingService = (typeof VERIFYING_SERVICES)[number];
export const isVerifyingService = (s: string): s is VerifyingService =>
  (VERIFYING_SERVICES as readonly string[]).includes(s);

/** The DCQL credential query id of the one credential asked for. */
export const CREDENTIAL_QUERY_ID = 'resident';
/** What is asked: each path, with the only value accepted. */
export const ASKED = [
  { path: ['address', 'prefecture_code'], values: ['18'] },
  { path: ['age_equal_or_over', '18'], values: [true] },
] as const;

/** How long a request can be answered. */
export const REQUEST_SECONDS = 600;
/** How old the key binding JWT may be when it arrives. */
const KB_MAX_AGE_SECONDS = 300;
const FETCH_TIMEOUT_MS = 5_000;
const MAX_REQUESTS = 10_000;
/** Registered claims of an SD-JWT VC: never a disclosed value. */
const REGISTERED = new Set(['iss', 'iat', 'exp', 'nbf', 'vct', 'cnf', 'status', 'sub', 'vct#integrity']);

/** The platform's credential type (`vct`) for an issuer. */
export const vctOf = (platformUrl: string): string => `${platformUrl}/credentials/types/jp-resident`;

export function residentQuery(platformUrl: string): DcqlQuery {
  return {
    credentials: [
      {
        id: CREDENTIAL_QUERY_ID,
        format: 'dc+sd-jwt',
        meta: { vct_values: [vctOf(platformUrl)] },
        claims: ASKED.map((a) => ({ path: [...a.path], values: [...a.values] })),
      },
    ],
  };
}

/** The verifier's own refusal codes; an SdJwtError's code is kept as it is. */
export type VerifierCode =
  | 'UNKNOWN_REQUEST'
  | 'REQUEST_EXPIRED'
  | 'NONCE_ALREADY_USED'
  | 'WALLET_ERROR'
  | 'MALFORMED_RESPONSE'
  | 'UNTRUSTED_ISSUER'
  | 'ISSUER_UNREACHABLE'
  | 'OVER_DISCLOSED'
  | 'NO_STATUS'
  | 'STATUS_UNAVAILABLE'
  | 'REVOKED';

/** A presentation the verifier does not accept: a stable code, a message for logs and wallets. */
export class PresentationRefused extends Error {
  readonly code: string;
  constructor(code: VerifierCode | SdJwtError['code'], message: string) {
    super(message);
    this.name = 'PresentationRefused';
    this.code = code;
  }
}

/** What a person reads for each refusal: [ja, en]. */
export function refusalWords(code: string): [string, string] {
  switch (code) {
    case 'REQUEST_EXPIRED':
      return ['確認の依頼の有効期限が切れました。', 'The request expired.'];
    case 'NONCE_ALREADY_USED':
    case 'KB_NONCE_MISMATCH':
      return [
        'この確認の依頼に対して作られた提示ではありません (再送された提示です)。',
        'The presentation was not made for this request (it was replayed).',
      ];
    case 'KB_AUDIENCE_MISMATCH':
      return ['別のサービスに宛てた提示です。', 'The presentation was made for another service.'];
    case 'KB_BAD_SIGNATURE':
    case 'KB_MISSING':
    case 'NO_HOLDER_KEY':
      return [
        'デジタル身分証の持ち主の鍵で署名されていません。',
        'The presentation is not signed with the key the credential belongs to.',
      ];
    case 'KB_STALE':
      return ['提示が古すぎます。もう一度お試しください。', 'The presentation is too old. Please try again.'];
    case 'KB_SD_HASH_MISMATCH':
    case 'DISCLOSURE_NOT_REFERENCED':
    case 'DISCLOSURE_MALFORMED':
    case 'DISCLOSURE_DUPLICATE':
    case 'CLAIM_OVERWRITE':
    case 'REGISTERED_CLAIM_DISCLOSED':
      return [
        '提示された情報が、発行されたデジタル身分証の内容と一致しません (改ざんされています)。',
        'The information presented does not match the credential as issued (it was altered).',
      ];
    case 'BAD_SIGNATURE':
    case 'UNKNOWN_KEY':
    case 'WRONG_TYP':
    case 'UNSUPPORTED_ALG':
    case 'UNTRUSTED_ISSUER':
      return [
        'Kakunin が発行したデジタル身分証であることを確認できません。',
        'The credential could not be confirmed as issued by Kakunin.',
      ];
    case 'EXPIRED':
    case 'NOT_YET_VALID':
      return ['デジタル身分証の有効期限外です。', 'The credential is not within its validity period.'];
    case 'REVOKED':
      return [
        'このデジタル身分証は失効しています (電子証明書の失効)。新しいデジタル身分証を取得してください。',
        'This credential has been revoked (its certificate was revoked). Get a new one.',
      ];
    case 'STATUS_LIST_BAD_SIGNATURE':
    case 'STATUS_LIST_WRONG_SUBJECT':
    case 'STATUS_LIST_EXPIRED':
    case 'STATUS_INDEX_OUT_OF_RANGE':
    case 'STATUS_UNAVAILABLE':
    case 'NO_STATUS':
      return [
        'デジタル身分証が失効していないことを確認できませんでした。',
        'Could not confirm that the credential is not revoked.',
      ];
    case 'ISSUER_UNREACHABLE':
      return [
        '発行元に接続できず、確認できませんでした。しばらくしてからお試しください。',
        'The issuer could not be reached. Please try again later.',
      ];
    case 'DCQL_NOT_SATISFIED':
      return [
        '依頼した情報 (福井県在住・18歳以上) が含まれていないか、条件を満たしていません。',
        'The presentation does not show what was asked (living in Fukui, 18 or over), or does not meet it.',
      ];
    case 'OVER_DISCLOSED':
      return [
        '依頼していない情報まで提示されたため、受け取りませんでした。',
        'More than what was asked was presented, so it was not accepted.',
      ];
    case 'WALLET_ERROR':
      return ['ウォレットで提示が中止されました。', 'The wallet did not present the credential.'];
    default:
      return ['提示を確認できませんでした。', 'The presentation could not be verified.'];
  }
}

export interface PresentationRequest {
  /** In the page's URL (`/presentations/<id>`). */
  id: string;
  service: VerifyingService;
  /** The browser session that started it: only it (or the same-device response code) sees the outcome. */
  sessionId: string;
  state: string;
  nonce: string;
  createdAt: number;
  expiresAt: number;
  /** Set by the first answer (its nonce is spent), before it is verified. */
  answered?: true;
  outcome?:
    | { ok: true; at: string; responseCode: string; disclosed: Record<string, unknown> }
    | { ok: false; at: string; code: string; message: string };
}

/** What a successful presentation gave: only the asked claims (the credential had no more disclosed). */
export interface Accepted {
  request: PresentationRequest;
  redirectUri: string;
  disclosed: Record<string, unknown>;
}

const random = (): string => randomBytes(24).toString('base64url');

export class Verifier {
  private readonly requests = new Map<string, PresentationRequest>();
  private readonly byState = new Map<string, string>();
  private readonly platformUrl: string;
  private readonly baseUrl: () => string;
  private readonly now: () => Date;

  constructor(o: { platformUrl: string; baseUrl: () => string; now?: () => Date }) {
    this.platformUrl = o.platformUrl.replace(/\/+$/, '');
    this.baseUrl = o.baseUrl;
    this.now = o.now ?? (() => new Date());
  }

  /** Where the wallet posts (direct_post). */
  get responseUri(): string {
    return `${this.baseUrl()}/openid4vp/response`;
  }

  /** `redirect_uri:` + the response URI: the KB-JWT's audience. */
  get clientId(): string {
    return `redirect_uri:${this.responseUri}`;
  }

  get query(): DcqlQuery {
    return residentQuery(this.platformUrl);
  }

  /** A new request of a browser session for a service. */
  create(service: VerifyingService, sessionId: string): PresentationRequest {
    const now = this.now().getTime();
    for (const [id, r] of this.requests)
      if (r.expiresAt + REQUEST_SECONDS * 1000 < now) {
        this.requests.delete(id);
        this.byState.delete(r.state);
      }
    // A bound on what a flood of started requests can hold in memory: the oldest go first.
    while (this.requests.size >= MAX_REQUESTS) {
      const [oldest] = this.requests.values();
      if (!oldest) break;
      this.requests.delete(oldest.id);
      this.byState.delete(oldest.state);
    }
    const r: PresentationRequest = {
      id: random(),
      service,
      sessionId,
      state: random(),
      nonce: random(),
      createdAt: now,
      expiresAt: now + REQUEST_SECONDS * 1000,
    };
    this.requests.set(r.id, r);
    this.byState.set(r.state, r.id);
    return r;
  }

  get(id: string): PresentationRequest | undefined {
    return this.requests.get(id);
  }

  expired(r: PresentationRequest): boolean {
    return !r.answered && this.now().getTime() > r.expiresAt;
  }

  /** The authorization request by value: `openid4vp://?…` (the QR code and the same-device link). */
  requestUrl(r: PresentationRequest): string {
    const params = new URLSearchParams({
      client_id: this.clientId,
      response_type: 'vp_token',
      response_mode: 'direct_post',
      response_uri: this.responseUri,
      nonce: r.nonce,
      state: r.state,
      dcql_query: JSON.stringify(this.query),
      client_metadata: JSON.stringify({
        vp_formats_supported: { 'dc+sd-jwt': { 'sd-jwt_alg_values': ['ES256'], 'kb-jwt_alg_values': ['ES256'] } },
      }),
    });
    return `openid4vp://?${params.toString()}`;
  }

  /**
   * The wallet's direct_post (form fields `vp_token`, `state`, or `error`). The request's nonce is spent
   * by the first answer whatever it holds; the outcome is kept on the request for its page.
   */
  async receive(form: URLSearchParams): Promise<Accepted> {
    const state = form.get('state') ?? '';
    const id = this.byState.get(state);
    const r = id ? this.requests.get(id) : undefined;
    if (!r) throw new PresentationRefused('UNKNOWN_REQUEST', 'no presentation request has this state');
    if (r.answered) throw new PresentationRefused('NONCE_ALREADY_USED', 'this request has already been answered');
    const at = this.now().toISOString();
    if (this.expired(r)) throw new PresentationRefused('REQUEST_EXPIRED', 'the request expired');
    // Spent now, before any await: a second answer racing this one is refused.
    r.answered = true;
    try {
      const disclosed = await this.verify(form, r);
      const responseCode = random();
      r.outcome = { ok: true, at, responseCode, disclosed };
      return {
        request: r,
        disclosed,
        redirectUri: `${this.baseUrl()}/presentations/${r.id}?response_code=${responseCode}`,
      };
    } catch (e) {
      const refused =
        e instanceof PresentationRefused
          ? e
          : e instanceof SdJwtError
            ? new PresentationRefused(e.code, e.message)
            : new PresentationRefused('MALFORMED_RESPONSE', (e as Error).message);
      r.outcome = { ok: false, at, code: refused.code, message: refused.message };
      throw refused;
    }
  }

  private async verify(form: URLSearchParams, r: PresentationRequest): Promise<Record<string, unknown>> {
    const error = form.get('error');
    if (error)
      throw new PresentationRefused(
        'WALLET_ERROR',
        `the wallet answered ${error}${form.get('error_description') ? `: ${form.get('error_description')}` : ''}`,
      );
    const presentation = onePresentation(form.get('vp_token'));
    // The issuer first: only the platform we rely on, its keys from its SD-JWT VC issuer metadata.
    const parsed = parseSdJwt(presentation);
    if (parsed.payload.iss !== this.platformUrl)
      throw new PresentationRefused(
        'UNTRUSTED_ISSUER',
        `the credential's issuer ${JSON.stringify(parsed.payload.iss)} is not ${this.platformUrl}`,
      );
    const keys = await this.issuerKeys();
    const verified = await verifySdJwtVc(presentation, {
      keys,
      now: this.now(),
      keyBinding: { audience: this.clientId, nonce: r.nonce, maxAgeSeconds: KB_MAX_AGE_SECONDS },
    });
    if (typeof verified.payload.exp !== 'number')
      throw new PresentationRefused('MALFORMED_RESPONSE', 'the credential has no expiry (exp)');
    const answered = checkDcqlResponse(this.query, { [CREDENTIAL_QUERY_ID]: [verified] });
    // Exactly what was asked: any disclosure the asked paths do not need is refused, not ignored.
    const needed = new Set(
      selectDisclosures(
        parsed,
        ASKED.map((a) => [...a.path]),
      ).map((d) => d.digest),
    );
    const extra = verified.disclosures.filter((d) => !needed.has(d.digest));
    if (extra.length)
      throw new PresentationRefused(
        'OVER_DISCLOSED',
        `the presentation discloses claims that were not asked for (${extra.map((d) => d.name ?? '[array element]').join(', ')})`,
      );
    await this.checkStatus(verified.status, keys);
    const disclosed = Object.fromEntries(Object.entries(verified.claims).filter(([k]) => !REGISTERED.has(k)));
    const asked = answered[CREDENTIAL_QUERY_ID]?.[0]?.claims ?? {};
    if (canonical(disclosed) !== canonical(asked))
      throw new PresentationRefused('OVER_DISCLOSED', 'the disclosed claims are not exactly the asked ones');
    return disclosed;
  }

  private async issuerKeys(): Promise<Jwks> {
    const url = `${this.platformUrl}/.well-known/jwt-vc-issuer`;
    let meta: { issuer?: unknown; jwks?: { keys?: unknown } };
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      meta = (await res.json()) as typeof meta;
    } catch (e) {
      throw new PresentationRefused('ISSUER_UNREACHABLE', `cannot read ${url}: ${(e as Error).message}`);
    }
    if (meta.issuer !== this.platformUrl || !Array.isArray(meta.jwks?.keys))
      throw new PresentationRefused('UNTRUSTED_ISSUER', `${url} does not name ${this.platformUrl} with its keys`);
    return { keys: meta.jwks.keys as Jwks['keys'] };
  }

  /** The credential's entry in its issuer's status list (Token Status List), signed by the same keys. */
  private async checkStatus(status: { idx: number; uri: string } | undefined, keys: Jwks): Promise<void> {
    if (!status) throw new PresentationRefused('NO_STATUS', 'the credential has no status list entry');
    const uri = new URL(status.uri);
    if (uri.protocol !== 'https:' && uri.protocol !== 'http:')
      throw new PresentationRefused('STATUS_UNAVAILABLE', `cannot fetch a status list from ${uri.protocol}`);
    let token: string;
    try {
      const res = await fetch(uri, {
        headers: { accept: 'application/statuslist+jwt' },
        signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
      });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      token = (await res.text()).trim();
    } catch (e) {
      throw new PresentationRefused(
        'STATUS_UNAVAILABLE',
        `cannot read the status list ${uri.href}: ${(e as Error).message}`,
      );
    }
    const { status: value } = await resolveStatus(status, token, { keys, now: this.now() });
    if (value !== 0)
      throw new PresentationRefused(
        'REVOKED',
        `the status list says ${value === 2 ? 'suspended' : 'invalid'} (${value}) for this credential`,
      );
  }
}

/** JSON with object keys sorted, to compare claim trees whatever their order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object' && value !== null)
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

/** `vp_token`: a JSON object with the one credential query id, whose value is one presentation. */
function onePresentation(vpToken: string | null): string {
  let token: unknown;
  try {
    token = JSON.parse(vpToken ?? '');
  } catch {
    throw new PresentationRefused('MALFORMED_RESPONSE', 'vp_token is missing or not JSON');
  }
  if (typeof token !== 'object' || token === null || Array.isArray(token))
    throw new PresentationRefused('MALFORMED_RESPONSE', 'vp_token must be a JSON object keyed by credential query id');
  const keys = Object.keys(token);
  const list = (token as Record<string, unknown>)[CREDENTIAL_QUERY_ID];
  if (keys.length !== 1 || !Array.isArray(list) || list.length !== 1 || typeof list[0] !== 'string')
    throw new PresentationRefused(
      'MALFORMED_RESPONSE',
      `vp_token must be {"${CREDENTIAL_QUERY_ID}": ["<one SD-JWT presentation>"]}`,
    );
  return list[0];
}
