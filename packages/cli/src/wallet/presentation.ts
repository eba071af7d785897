// The wallet side of OpenID4VP 1.0 for SD-JWT VCs: read an authorization request (by value, or by
// request_uri with an unsigned request object), check what this wallet can honour (response_type
// vp_token, response_mode direct_post, a nonce, a DCQL query, the `redirect_uri:` client identifier
// prefix), pick the held credential that answers the DCQL query, build a presentation with exactly
// the disclosures the query needs and a key binding JWT (aud = client_id, nonce, sd_hash), and post
// it to the verifier's response URI.

import { importJWK } from 'jose';
import {
  SdJwtError,
  matchDcqlQuery,
  parseSdJwt,
  presentSdJwt,
  validateDcqlQuery,
  type DcqlClaimResult,
  type DcqlCredentialMatch,
  type DcqlQuery,
  type PrivateKey,
} from '@kakunin/sd-jwt';
import { WalletError, nextCopy, type StoredCredential } from './store.js';

export type PresentationErrorCode =
  | 'NOT_A_REQUEST'
  | 'REQUEST_URI_FAILED'
  | 'UNSUPPORTED_RESPONSE_TYPE'
  | 'UNSUPPORTED_RESPONSE_MODE'
  | 'UNSUPPORTED_CLIENT_ID'
  | 'NO_NONCE'
  | 'NO_DCQL_QUERY'
  | 'INVALID_DCQL_QUERY'
  | 'INSECURE_RESPONSE_URI'
  | 'NO_CREDENTIALS'
  | 'NO_MATCHING_CREDENTIAL'
  | 'CREDENTIAL_EXPIRED'
  | 'VERIFIER_UNREACHABLE'
  | 'VERIFIER_REFUSED';

/** A presentation this wallet will not (or could not) make, with a stable code. */
export class PresentationError extends WalletError {
  readonly code: PresentationErrorCode;
  constructor(code: PresentationErrorCode, message: string) {
    super(`${message} [${code}]`);
    this.name = 'PresentationError';
    this.code = code;
  }
}

/** An OpenID4VP authorization request this wallet can answer. */
export interface PresentationRequest {
  clientId: string;
  responseUri: string;
  nonce: string;
  state?: string;
  query: DcqlQuery;
}

const REQUEST_OBJECT_TYPES = 'application/oauth-authz-req+jwt';

const fail = (code: PresentationErrorCode, message: string): PresentationError => new PresentationError(code, message);

/** `openid4vp://?…`, or an https URL with the same query (a verifier's own link). */
export async function resolveRequest(text: string): Promise<PresentationRequest> {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw fail('NOT_A_REQUEST', 'not an OpenID4VP request (expected openid4vp://?… or an https link with its query)');
  }
  let params: Record<string, string> = Object.fromEntries(url.searchParams);
  if (params.request !== undefined)
    throw fail('UNSUPPORTED_CLIENT_ID', 'signed request objects (request=…) are not supported by this wallet');
  if (params.request_uri !== undefined) params = { ...(await fetchRequestObject(params)) };
  return checkRequest(params);
}

/** request_uri: an unsigned request object (the `redirect_uri:` prefix forbids a signed one). */
async function fetchRequestObject(params: Record<string, string>): Promise<Record<string, string>> {
  const uri = params.request_uri!;
  if (params.request_uri_method !== undefined && params.request_uri_method !== 'get')
    throw fail('REQUEST_URI_FAILED', `request_uri_method ${params.request_uri_method} is not supported (only get)`);
  let body: string;
  try {
    const res = await fetch(uri, { headers: { accept: REQUEST_OBJECT_TYPES }, signal: AbortSignal.timeout(10_000) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    body = (await res.text()).trim();
  } catch (e) {
    throw fail('REQUEST_URI_FAILED', `cannot fetch the request at ${uri}: ${(e as Error).message}`);
  }
  const [header, payload, signature] = body.split('.');
  let decoded: { header: Record<string, unknown>; payload: Record<string, unknown> };
  try {
    decoded = {
      header: JSON.parse(Buffer.from(header ?? '', 'base64url').toString('utf8')) as Record<string, unknown>,
      payload: JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')) as Record<string, unknown>,
    };
  } catch {
    throw fail('REQUEST_URI_FAILED', `the request at ${uri} is not a request object (JWT)`);
  }
  if (decoded.header.alg !== 'none' || signature)
    throw fail('UNSUPPORTED_CLIENT_ID', 'signed request objects are not supported by this wallet (only redirect_uri:)');
  if (params.client_id !== undefined && decoded.payload.client_id !== params.client_id)
    throw fail('UNSUPPORTED_CLIENT_ID', 'the request object names another client_id than the link');
  // Objects (dcql_query, client_metadata) come back as the JSON text a query parameter would carry.
  return Object.fromEntries(
    Object.entries(decoded.payload).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]),
  );
}

function checkRequest(p: Record<string, string>): PresentationRequest {
  if (p.response_type !== 'vp_token')
    throw fail('UNSUPPORTED_RESPONSE_TYPE', `response_type ${JSON.stringify(p.response_type)} is not vp_token`);
  if (p.response_mode !== 'direct_post')
    throw fail(
      'UNSUPPORTED_RESPONSE_MODE',
      `response_mode ${JSON.stringify(p.response_mode)} is not supported (this wallet posts with direct_post)`,
    );
  const clientId = p.client_id ?? '';
  const responseUri = p.response_uri ?? '';
  // redirect_uri: (OpenID4VP 1.0 §5.9.3) — the client is its response URI; anything else needs a
  // signed request or a registration this wallet does not have.
  if (!clientId.startsWith('redirect_uri:'))
    throw fail(
      'UNSUPPORTED_CLIENT_ID',
      `client_id ${JSON.stringify(clientId)}: only the redirect_uri: client identifier prefix is supported`,
    );
  if (clientId.slice('redirect_uri:'.length) !== responseUri)
    throw fail('UNSUPPORTED_CLIENT_ID', 'the client_id is not redirect_uri: followed by the response_uri');
  let response: URL;
  try {
    response = new URL(responseUri);
  } catch {
    throw fail('INSECURE_RESPONSE_URI', `response_uri ${JSON.stringify(responseUri)} is not a URL`);
  }
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(response.hostname);
  if (response.protocol !== 'https:' && !(response.protocol === 'http:' && loopback))
    throw fail('INSECURE_RESPONSE_URI', `response_uri ${responseUri} is neither https nor a loopback address`);
  if (!p.nonce) throw fail('NO_NONCE', 'the request has no nonce: a presentation would be replayable');
  if (p.dcql_query === undefined)
    throw fail(
      'NO_DCQL_QUERY',
      p.presentation_definition !== undefined || p.scope !== undefined
        ? 'the request asks with presentation_definition or scope; this wallet answers DCQL queries only'
        : 'the request has no dcql_query',
    );
  let query: DcqlQuery;
  try {
    query = validateDcqlQuery(JSON.parse(p.dcql_query));
  } catch (e) {
    throw fail('INVALID_DCQL_QUERY', e instanceof SdJwtError ? e.message : 'dcql_query is not JSON');
  }
  return { clientId, responseUri, nonce: p.nonce, ...(p.state ? { state: p.state } : {}), query };
}

/** One credential chosen for one credential query, and what it will reveal. */
export interface Answer {
  credentialQueryId: string;
  credential: StoredCredential;
  match: DcqlCredentialMatch;
}

const expired = (c: StoredCredential, now: Date): boolean =>
  !!c.expires_at && Date.parse(c.expires_at) <= now.getTime();

/**
 * The credential queries to answer (every one, or the first satisfiable option of each required
 * credential set) and, for each, the held credential: `credentialId` when given, else the first valid.
 */
export function chooseCredentials(
  request: PresentationRequest,
  held: readonly StoredCredential[],
  o: { credentialId?: string; now?: Date } = {},
): Answer[] {
  const now = o.now ?? new Date();
  if (held.length === 0) throw fail('NO_CREDENTIALS', 'the wallet holds no credential');
  const pool = o.credentialId ? held.filter((c) => c.id === o.credentialId) : [...held];
  if (o.credentialId && pool.length === 0)
    throw fail('NO_MATCHING_CREDENTIAL', `no credential ${o.credentialId} in the wallet`);
  const usable = pool.filter((c) => !expired(c, now));
  const result = matchDcqlQuery(
    request.query,
    usable.map((c) => parseSdJwt(c.sd_jwt)),
  );
  if (!result.satisfied) {
    // Say why: an expired credential would have answered, or nothing held does.
    const withExpired = matchDcqlQuery(
      request.query,
      pool.map((c) => parseSdJwt(c.sd_jwt)),
    );
    if (withExpired.satisfied)
      throw fail('CREDENTIAL_EXPIRED', 'the only credentials that answer this request have expired: get a new one');
    throw fail(
      'NO_MATCHING_CREDENTIAL',
      `no credential ${o.credentialId ? `${o.credentialId} ` : 'in the wallet '}answers what the verifier asks (${describeQuery(request.query)})`,
    );
  }
  const ids = result.credentialSets
    ? (request.query.credential_sets ?? []).flatMap((set, i) => {
        const option = result.credentialSets?.[i]?.option;
        return (set.required ?? true) && option !== undefined ? (set.options[option] ?? []) : [];
      })
    : request.query.credentials.map((cq) => cq.id);
  return [...new Set(ids)].map((id) => {
    const match = result.matches[id]![0]!;
    return { credentialQueryId: id, credential: usable[match.credentialIndex]!, match };
  });
}

/** The asked claims of a query, in words for the holder. */
function describeQuery(query: DcqlQuery): string {
  return query.credentials
    .map(
      (cq) =>
        `${cq.id}: ${(cq.claims ?? []).map((c) => `${c.path.join('.')}${c.values ? ` ∈ ${JSON.stringify(c.values)}` : ''}`).join(', ') || 'the credential'}`,
    )
    .join('; ');
}

/** What the holder reads before agreeing. */
export function disclosureSummary(request: PresentationRequest, answers: readonly Answer[]): string {
  const to = new URL(request.responseUri);
  const lines = [`The verifier ${to.origin} (client_id ${request.clientId}) asks to see:`];
  for (const a of answers) {
    lines.push(`  from ${a.credential.id} (${a.credential.vct}, issued by ${a.credential.issuer}):`);
    for (const c of a.match.claims) lines.push(`    - ${c.path.join('.')} = ${JSON.stringify(c.value)}`);
  }
  lines.push('Nothing else of the credential is disclosed.');
  return lines.join('\n');
}

export interface Presented {
  /** The verifier's redirect_uri, when it returned one. */
  redirectUri?: string;
  disclosed: { credential_query_id: string; credential_id: string; claims: DcqlClaimResult[] }[];
}

/** Builds each presentation (only the matched disclosures, a KB-JWT) and posts vp_token with direct_post. */
export async function present(request: PresentationRequest, answers: readonly Answer[]): Promise<Presented> {
  const vpToken: Record<string, string[]> = {};
  for (const a of answers) {
    // The next copy (batch issuance): its own key and salts, so that this verifier and the last
    // cannot link the two presentations. The same claims, chosen by path in this copy.
    const copy = nextCopy(a.credential);
    const holderKey = (await importJWK(copy.holder_key, 'ES256')) as PrivateKey;
    const presentation = await presentSdJwt(copy.sd_jwt, {
      disclose: a.match.claims.map((c) => c.path),
      holderKey,
      audience: request.clientId,
      nonce: request.nonce,
    });
    (vpToken[a.credentialQueryId] ??= []).push(presentation);
  }
  const body = new URLSearchParams({ vp_token: JSON.stringify(vpToken) });
  if (request.state) body.set('state', request.state);
  let res: Response;
  try {
    res = await fetch(request.responseUri, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: body.toString(),
      redirect: 'manual',
      signal: AbortSignal.timeout(20_000),
    });
  } catch (e) {
    throw fail('VERIFIER_UNREACHABLE', `cannot reach the verifier at ${request.responseUri}: ${(e as Error).message}`);
  }
  const answer = (await res.json().catch(() => ({}))) as {
    redirect_uri?: unknown;
    error?: unknown;
    error_description?: unknown;
  };
  if (!res.ok) {
    const why = [answer.error, answer.error_description].filter((x) => typeof x === 'string').join(': ');
    throw fail(
      'VERIFIER_REFUSED',
      `the verifier refused the presentation (HTTP ${res.status}${why ? `, ${why}` : ''})`,
    );
  }
  return {
    ...(typeof answer.redirect_uri === 'string' ? { redirectUri: answer.redirect_uri } : {}),
    disclosed: answers.map((a) => ({
      credential_query_id: a.credentialQueryId,
      credential_id: a.credential.id,
      claims: a.match.claims,
    })),
  };
}
