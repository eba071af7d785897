// The wallet side of OpenID4VCI 1.0: discover the issuer, obtain an access token (authorization
// code flow with PKCE through the platform's pages and a JPKI ceremony, or a credential offer's
// pre-authorized code), prove possession of a fresh holder key with a c_nonce, receive the SD-JWT VC.

import { createHash, randomBytes } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair, type JWK } from 'jose';
import { verifySdJwtVc } from '@kakunin/sd-jwt';
import { WalletError, type StoredCredential } from './store.js';
import { UserAgent, htmlText } from './user-agent.js';

/** The platform's public client for wallets and its loopback redirect (RFC 8252). */
export const WALLET_CLIENT_ID = 'kakunin-wallet';
export const WALLET_REDIRECT_URI = 'http://127.0.0.1/callback';
export const PRE_AUTHORIZED_GRANT = 'urn:ietf:params:oauth:grant-type:pre-authorized_code';

interface CredentialConfiguration {
  format: string;
  scope?: string;
  vct?: string;
  proof_types_supported?: { jwt?: { proof_signing_alg_values_supported?: string[] } };
}

export interface IssuerInfo {
  issuer: string;
  credentialEndpoint: string;
  nonceEndpoint: string;
  configurationId: string;
  configuration: CredentialConfiguration;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  /** Copies one request may ask for (batch_credential_issuance.batch_size; 1 without). */
  batchSize: number;
}

/** At most this many copies of one credential, whatever the issuer offers. */
const MAX_COPIES = 10;

async function getJson(url: string, what: string): Promise<Record<string, unknown>> {
  let res: Response;
  try {
    res = await fetch(url, { headers: { accept: 'application/json' } });
  } catch (e) {
    throw new WalletError(`cannot reach ${what} at ${url}: ${(e as Error).message}`);
  }
  if (!res.ok) throw new WalletError(`${what} at ${url} answered HTTP ${res.status}`);
  return (await res.json()) as Record<string, unknown>;
}

async function postJson(
  url: string,
  body: Record<string, unknown> | URLSearchParams,
  o: { bearer?: string; what: string },
): Promise<Record<string, unknown>> {
  const form = body instanceof URLSearchParams;
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      accept: 'application/json',
      'content-type': form ? 'application/x-www-form-urlencoded' : 'application/json',
      ...(o.bearer ? { authorization: `Bearer ${o.bearer}` } : {}),
    },
    body: form ? body.toString() : JSON.stringify(body),
  }).catch((e: unknown) => {
    throw new WalletError(`cannot reach the ${o.what} at ${url}: ${(e as Error).message}`);
  });
  const answer = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok) {
    const why = [answer.error, answer.error_description].filter(Boolean).join(': ');
    throw new WalletError(`the ${o.what} refused (HTTP ${res.status}${why ? `, ${why}` : ''})`);
  }
  return answer;
}

/** Reads the issuer's metadata and its authorization server's; picks the SD-JWT VC configuration. */
export async function discoverIssuer(issuerUrl: string, configurationId?: string): Promise<IssuerInfo> {
  const issuer = issuerUrl.replace(/\/+$/, '');
  const meta = await getJson(`${issuer}/.well-known/openid-credential-issuer`, 'the credential issuer metadata');
  if (meta.credential_issuer !== issuer)
    throw new WalletError(`the metadata at ${issuer} names another issuer (${String(meta.credential_issuer)})`);
  const configurations = (meta.credential_configurations_supported ?? {}) as Record<string, CredentialConfiguration>;
  const id = configurationId ?? Object.keys(configurations).find((k) => configurations[k]?.format === 'dc+sd-jwt');
  const configuration = id ? configurations[id] : undefined;
  if (!id || !configuration) throw new WalletError(`${issuer} offers no dc+sd-jwt credential${id ? ` ${id}` : ''}`);
  const as = (meta.authorization_servers as string[] | undefined)?.[0] ?? issuer;
  const asMeta = await getJson(
    `${as.replace(/\/+$/, '')}/.well-known/openid-configuration`,
    'the authorization server metadata',
  );
  return {
    issuer,
    credentialEndpoint: String(meta.credential_endpoint),
    nonceEndpoint: String(meta.nonce_endpoint),
    configurationId: id,
    configuration,
    authorizationEndpoint: String(asMeta.authorization_endpoint),
    tokenEndpoint: String(asMeta.token_endpoint),
    batchSize: Math.max(
      1,
      Math.min(
        MAX_COPIES,
        Number((meta.batch_credential_issuance as { batch_size?: unknown } | undefined)?.batch_size) || 1,
      ),
    ),
  };
}

/** What the platform's consent page lists, and for whom. */
export interface Consent {
  rpName: string;
  items: string[];
}

export interface AuthorizationSteps {
  /** Completes the JPKI ceremony behind the holder link (a card or a sandbox virtual card). */
  holder: (holderUrl: string) => Promise<void>;
  /** Shows the consent; true to agree. */
  consent: (c: Consent) => Promise<boolean>;
  lang?: 'ja' | 'en';
}

/** An authorization request of the wallet client (PKCE S256) and what its answer is checked against. */
export interface AuthorizationRequest {
  url: string;
  verifier: string;
  state: string;
}

/** The authorization request for the credential's scope, answered at `redirectUri`. */
export function authorizationRequest(
  info: IssuerInfo,
  o: { redirectUri: string; lang?: 'ja' | 'en' | undefined },
): AuthorizationRequest {
  const scope = info.configuration.scope;
  if (!scope) throw new WalletError(`credential ${info.configurationId} has no scope to ask for`);
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(16).toString('base64url');
  const url = new URL(info.authorizationEndpoint);
  for (const [k, v] of Object.entries({
    response_type: 'code',
    client_id: WALLET_CLIENT_ID,
    redirect_uri: o.redirectUri,
    scope: `openid ${scope}`,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    state,
    ui_locales: o.lang ?? 'ja',
  }))
    url.searchParams.set(k, v);
  return { url: url.href, verifier, state };
}

/**
 * The authorization code flow as the wallet's own user agent: the authorization request, the JPKI
 * ceremony of the platform's page (holder link), the consent, the code at the loopback redirect.
 */
export async function authorizeWithCard(
  info: IssuerInfo,
  steps: AuthorizationSteps,
): Promise<{ code: string; verifier: string }> {
  const ua = new UserAgent();
  const { url, verifier, state } = authorizationRequest(info, { redirectUri: WALLET_REDIRECT_URI, lang: steps.lang });
  const toWallet = (u: URL): boolean =>
    u.origin === new URL(WALLET_REDIRECT_URI).origin || (u.protocol !== 'http:' && u.protocol !== 'https:');
  const codeOf = (page: { url: string; status: number; body: string }): string => {
    const u = new URL(page.url);
    if (!toWallet(u))
      throw new WalletError(`the platform stopped at ${u.pathname} (HTTP ${page.status}): ${pageError(page.body)}`);
    if (u.searchParams.get('state') !== state) throw new WalletError('the authorization response has another state');
    const error = u.searchParams.get('error');
    if (error)
      throw new WalletError(`authorization refused: ${error} ${u.searchParams.get('error_description') ?? ''}`.trim());
    const code = u.searchParams.get('code');
    if (!code) throw new WalletError('the authorization response has no code');
    return code;
  };

  let page = await ua.go(url, { stopAt: toWallet });
  const holderUrl = /https?:\/\/[^"'<>\s]+\/holder\/v1\/ceremonies\/[A-Za-z0-9_-]+/.exec(page.body)?.[0];
  if (!holderUrl) return { code: codeOf(page), verifier };
  const base = /\/interaction\/[^/?#]+/.exec(new URL(page.url).pathname)?.[0];
  if (!base) throw new WalletError(`unexpected page ${page.url}`);
  const origin = new URL(page.url).origin;
  await steps.holder(holderUrl.replace(/&amp;/g, '&'));
  page = await ua.go(`${origin}${base}/continue`, { stopAt: toWallet });
  const list = /<ul id="shared">([\s\S]*?)<\/ul>/.exec(page.body)?.[1];
  if (list === undefined) return { code: codeOf(page), verifier };
  const items = [...list.matchAll(/<li[^>]*>([\s\S]*?)<\/li>/g)].map((m) => htmlText(m[1] ?? ''));
  const rpName = htmlText(/<strong id="rp-name">([\s\S]*?)<\/strong>/.exec(page.body)?.[1] ?? '');
  const agreed = await steps.consent({ rpName, items });
  page = await ua.go(`${origin}${base}/${agreed ? 'consent' : 'abort'}`, {
    method: 'POST',
    form: {},
    stopAt: toWallet,
  });
  return { code: codeOf(page), verifier };
}

function pageError(body: string): string {
  const h1 = /<h1[^>]*>([\s\S]*?)<\/h1>/.exec(body)?.[1];
  const code = /<code[^>]*>([\s\S]*?)<\/code>/.exec(body)?.[1];
  return [h1 && htmlText(h1), code && htmlText(code)].filter(Boolean).join(' — ') || 'no further detail';
}

/** The token request of either flow. */
export async function requestToken(info: IssuerInfo, grant: Record<string, string>): Promise<string> {
  const answer = await postJson(info.tokenEndpoint, new URLSearchParams({ client_id: WALLET_CLIENT_ID, ...grant }), {
    what: 'token endpoint',
  });
  if (typeof answer.access_token !== 'string') throw new WalletError('the token endpoint gave no access token');
  return answer.access_token;
}

export const codeGrant = (
  code: string,
  verifier: string,
  redirectUri = WALLET_REDIRECT_URI,
): Record<string, string> => ({
  grant_type: 'authorization_code',
  code,
  redirect_uri: redirectUri,
  code_verifier: verifier,
});

/**
 * Fresh ES256 holder keys, one per copy (batch issuance: two copies share nothing a verifier could
 * link), their proofs of possession with one c_nonce, and the copies, each checked against the
 * issuer's keys and its own holder key before any is kept.
 */
export async function receiveCredential(info: IssuerInfo, accessToken: string): Promise<StoredCredential> {
  const holders = await Promise.all(
    Array.from({ length: info.batchSize }, async () => {
      const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
      return { privateKey, publicJwk: await exportJWK(publicKey) };
    }),
  );
  const nonce = await postJson(info.nonceEndpoint, {}, { what: 'nonce endpoint' });
  if (typeof nonce.c_nonce !== 'string') throw new WalletError('the nonce endpoint gave no c_nonce');
  const proofs = await Promise.all(
    holders.map((h) =>
      new SignJWT({ nonce: nonce.c_nonce })
        .setProtectedHeader({ alg: 'ES256', typ: 'openid4vci-proof+jwt', jwk: h.publicJwk })
        .setAudience(info.issuer)
        .setIssuer(WALLET_CLIENT_ID)
        .setIssuedAt()
        .sign(h.privateKey),
    ),
  );
  const answer = await postJson(
    info.credentialEndpoint,
    { credential_configuration_id: info.configurationId, proofs: { jwt: proofs } },
    { bearer: accessToken, what: 'credential endpoint' },
  );
  const credentials = ((answer.credentials as { credential?: unknown }[] | undefined) ?? []).map((c) => c.credential);
  if (credentials.length === 0 || credentials.some((c) => typeof c !== 'string'))
    throw new WalletError('the credential endpoint gave no credential');
  if (credentials.length > holders.length)
    throw new WalletError(
      `the credential endpoint gave ${credentials.length} credentials for ${holders.length} proofs`,
    );
  const keys = (await getJson(`${info.issuer}/.well-known/jwt-vc-issuer`, "the issuer's keys")).jwks as { keys: JWK[] };
  const copies: { sd_jwt: string; holder_key: JWK }[] = [];
  let first: Awaited<ReturnType<typeof verifySdJwtVc>> | undefined;
  for (const [i, credential] of (credentials as string[]).entries()) {
    const verified = await verifySdJwtVc(credential, { keys, keyBinding: 'forbidden' });
    const payload = verified.payload as Record<string, unknown>;
    if (payload.iss !== info.issuer)
      throw new WalletError(`the credential names another issuer (${String(payload.iss)})`);
    // The issuer answers the proofs in order (OpenID4VCI): copy i is bound to key i.
    const cnf = (payload.cnf as { jwk?: JWK } | undefined)?.jwk;
    const holder = holders[i]!;
    if (!cnf || cnf.x !== holder.publicJwk.x || cnf.y !== holder.publicJwk.y)
      throw new WalletError('the credential is not bound to the key this wallet proved');
    copies.push({ sd_jwt: credential, holder_key: await exportJWK(holder.privateKey) });
    first ??= verified;
  }
  const payload = first!.payload as Record<string, unknown>;
  return {
    id: `cred_${randomBytes(9).toString('base64url')}`,
    issuer: info.issuer,
    format: 'dc+sd-jwt',
    vct: String(payload.vct),
    configuration_id: info.configurationId,
    sd_jwt: copies[0]!.sd_jwt,
    holder_key: copies[0]!.holder_key,
    received_at: new Date().toISOString(),
    ...(typeof payload.exp === 'number' ? { expires_at: new Date(payload.exp * 1000).toISOString() } : {}),
    claims: first!.claims,
    copies,
    presented: 0,
  };
}

/** A credential offer: `openid-credential-offer://?credential_offer=…`, `…?credential_offer_uri=…`, or its JSON. */
export interface CredentialOffer {
  credential_issuer: string;
  credential_configuration_ids: string[];
  grants?: {
    [PRE_AUTHORIZED_GRANT]?: { 'pre-authorized_code': string; tx_code?: { length?: number; description?: string } };
    authorization_code?: { issuer_state?: string };
  };
}

export async function readOffer(text: string): Promise<CredentialOffer> {
  const t = text.trim();
  if (t.startsWith('{')) return JSON.parse(t) as CredentialOffer;
  let url: URL;
  try {
    url = new URL(t);
  } catch {
    throw new WalletError('not a credential offer (expected openid-credential-offer://?credential_offer=…)');
  }
  const inline = url.searchParams.get('credential_offer');
  if (inline) return JSON.parse(inline) as CredentialOffer;
  const by = url.searchParams.get('credential_offer_uri');
  if (by) return (await getJson(by, 'the credential offer')) as unknown as CredentialOffer;
  throw new WalletError('the offer link has neither credential_offer nor credential_offer_uri');
}
