// The relying-party registry: who may ask for which ceremony, under which trust framework, for
// what purpose, and where revocation webhooks go. Each RP is an OIDC client of the provider.

import { randomBytes } from 'node:crypto';
import type { Queryable } from './db/sql.js';
import { InvalidRequest, NotFound } from './errors.js';
import { isSealed, type MasterKey } from './master-key.js';
import { hashSecret, isVerifier, verifySecret } from './secret-verifier.js';
import { ACR, CEREMONY_KINDS, DEFAULT_TRUST_FRAMEWORK, type CeremonyKind } from './ceremony-domain.js';

export type TokenAuthMethod = 'client_secret_basic' | 'client_secret_post';
export const TOKEN_AUTH_METHODS: readonly TokenAuthMethod[] = ['client_secret_basic', 'client_secret_post'];

export interface RelyingParty {
  clientId: string;
  /** scrypt verifier of the client secret (the secret itself is shown once, at registration). */
  clientSecretVerifier: string;
  name: string;
  redirectUris: string[];
  ceremonies: CeremonyKind[];
  /** OIDC4IDA trust framework: jp_aml (犯収法), jp_mpiupa (携帯法), or a municipal value. */
  framework: string;
  /** Purpose shown to the holder and written into records (Japanese). */
  purpose: string;
  purposeEn: string | null;
  webhookUrl: string | null;
  /** The webhook signing secret sealed under the master key (`webhookSecretOf` opens it). */
  webhookSecretSealed: string;
  tokenEndpointAuthMethod: TokenAuthMethod;
  createdAt: Date;
  disabledAt: Date | null;
}

/** A relying party just registered, with its secrets in clear: the only time they exist outside the RP. */
export interface RegisteredRelyingParty extends RelyingParty {
  clientSecret: string;
  webhookSecret: string;
}

/** Where registrations are written: the database, and the master key that seals webhook secrets. */
export interface RegistryStore {
  readonly db: Queryable;
  readonly masterKey: MasterKey;
}

export interface NewRelyingParty {
  name: string;
  redirectUris: string[];
  ceremonies?: CeremonyKind[];
  framework?: string;
  purpose?: string;
  purposeEn?: string;
  webhookUrl?: string;
  tokenEndpointAuthMethod?: TokenAuthMethod;
  /** Fixed credentials (demo RPs); generated when absent. */
  clientId?: string;
  clientSecret?: string;
}

const FRAMEWORK = /^[a-z][a-z0-9_.:-]{1,63}$/;

/** A relying_parties row as both drivers return it (also as `to_jsonb(rp.*)`). */
export interface RelyingPartyRow {
  client_id: string;
  client_secret: string;
  name: string;
  redirect_uris: string[];
  ceremonies: CeremonyKind[];
  framework: string;
  purpose: string;
  purpose_en: string | null;
  webhook_url: string | null;
  webhook_secret: string;
  token_endpoint_auth_method: TokenAuthMethod;
  created_at: Date;
  disabled_at: Date | null;
}

export const relyingPartyFromRow = (r: RelyingPartyRow): RelyingParty => ({
  clientId: r.client_id,
  clientSecretVerifier: r.client_secret,
  name: r.name,
  redirectUris: r.redirect_uris,
  ceremonies: r.ceremonies,
  framework: r.framework,
  purpose: r.purpose,
  purposeEn: r.purpose_en,
  webhookUrl: r.webhook_url,
  webhookSecretSealed: r.webhook_secret,
  tokenEndpointAuthMethod: r.token_endpoint_auth_method,
  createdAt: new Date(r.created_at),
  disabledAt: r.disabled_at ? new Date(r.disabled_at) : null,
});

function checkUri(uri: string, what: string): string {
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    throw new InvalidRequest(`${what} "${uri}" is not an absolute URL`);
  }
  if (u.hash) throw new InvalidRequest(`${what} "${uri}" must not have a fragment`);
  // The authority as written: the URL parser would hide userinfo and Unicode in what it returns.
  const authority = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(uri)?.[1] ?? '';
  if (authority.includes('@') || u.username || u.password)
    throw new InvalidRequest(
      `${what} "${uri}" must not contain userinfo (user@host): it makes a URL look like another host`,
    );
  if (u.hostname.includes('*'))
    throw new InvalidRequest(`${what} "${uri}" must name one host: wildcards are not allowed`);
  const loopback = u.hostname === '127.0.0.1' || u.hostname === 'localhost' || u.hostname === '[::1]';
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && loopback))
    throw new InvalidRequest(`${what} "${uri}" must use https (http only on the loopback interface)`);
  // A Unicode (IDN) host is kept in its ASCII form (punycode), the form browsers send and compare:
  // a look-alike host is then visible as what it is. The rest of the URI stays as registered.
  // eslint-disable-next-line no-control-regex -- any code point past ASCII
  return /[^\u0000-\u007f]/.test(authority) ? uri.replace(authority, u.host) : uri;
}

/** Checks a registration and fills in the defaults; throws InvalidRequest with the reason. */
export function normaliseRelyingParty(
  input: NewRelyingParty,
): Required<Omit<NewRelyingParty, 'webhookUrl' | 'purposeEn' | 'clientId' | 'clientSecret'>> &
  Pick<NewRelyingParty, 'webhookUrl' | 'purposeEn'> {
  const name = input.name?.trim();
  if (!name) throw new InvalidRequest('a relying party needs a name');
  if (!input.redirectUris?.length) throw new InvalidRequest('a relying party needs at least one redirect URI');
  const redirectUris = input.redirectUris.map((u) => checkUri(u, 'redirect URI'));
  // Pairwise subjects are computed per RP; OIDC asks all redirect URIs of a pairwise client to share a host.
  if (new Set(redirectUris.map((u) => new URL(u).host)).size > 1)
    throw new InvalidRequest('all redirect URIs of one relying party must share one host (register one RP per host)');
  const ceremonies = input.ceremonies?.length ? [...new Set(input.ceremonies)] : [...CEREMONY_KINDS];
  for (const c of ceremonies)
    if (!CEREMONY_KINDS.includes(c as CeremonyKind))
      throw new InvalidRequest(`unknown ceremony "${c}" (login or identity)`);
  const framework = input.framework ?? DEFAULT_TRUST_FRAMEWORK;
  if (!FRAMEWORK.test(framework))
    throw new InvalidRequest(
      `trust framework "${framework}" must be a lower-case identifier such as jp_aml, jp_mpiupa or jp_municipal`,
    );
  const method = input.tokenEndpointAuthMethod ?? 'client_secret_basic';
  if (!TOKEN_AUTH_METHODS.includes(method))
    throw new InvalidRequest(
      `token endpoint auth method "${method}" is not supported (${TOKEN_AUTH_METHODS.join(', ')})`,
    );
  return {
    name,
    redirectUris,
    ceremonies: ceremonies as CeremonyKind[],
    framework,
    purpose: input.purpose?.trim() || `${name}の利用者の本人確認`,
    tokenEndpointAuthMethod: method,
    ...(input.purposeEn ? { purposeEn: input.purposeEn } : {}),
    ...(input.webhookUrl ? { webhookUrl: checkUri(input.webhookUrl, 'webhook URL') } : {}),
  };
}

const token = (bytes: number): string => randomBytes(bytes).toString('base64url');

const webhookContext = (clientId: string): string => `relying_parties/${clientId}/webhook_secret`;

export async function createRelyingParty(
  store: RegistryStore,
  input: NewRelyingParty,
): Promise<RegisteredRelyingParty> {
  const { db, masterKey } = store;
  const rp = normaliseRelyingParty(input);
  const clientId = input.clientId ?? `rp_${token(12)}`;
  if (!/^[A-Za-z0-9._~-]{3,128}$/.test(clientId))
    throw new InvalidRequest(`client id "${clientId}" may only use A-Z a-z 0-9 . _ ~ -`);
  const clientSecret = input.clientSecret ?? token(32);
  const webhookSecret = `whsec_${token(32)}`;
  const [row] = await db.query<RelyingPartyRow>(
    `INSERT INTO relying_parties (client_id, client_secret, name, redirect_uris, ceremonies, framework, purpose, purpose_en, webhook_url, webhook_secret, token_endpoint_auth_method)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (client_id) DO NOTHING RETURNING *`,
    [
      clientId,
      await hashSecret(clientSecret),
      rp.name,
      rp.redirectUris,
      rp.ceremonies,
      rp.framework,
      rp.purpose,
      rp.purposeEn ?? null,
      rp.webhookUrl ?? null,
      masterKey.seal(webhookSecret, webhookContext(clientId)),
      rp.tokenEndpointAuthMethod,
    ],
  );
  if (!row) throw new InvalidRequest(`a relying party with client id "${clientId}" already exists`);
  return { ...relyingPartyFromRow(row), clientSecret, webhookSecret };
}

/** Whether `secret` is this RP's client secret (slow hash; successes are remembered per process). */
export const checkClientSecret = (rp: RelyingParty, secret: string): Promise<boolean> =>
  verifySecret(secret, rp.clientSecretVerifier);

/** The webhook signing secret in clear, for signing a delivery. */
export const webhookSecretOf = (rp: RelyingParty, masterKey: MasterKey): string =>
  masterKey.open(rp.webhookSecretSealed, webhookContext(rp.clientId));

/**
 * Rows written before secrets were protected: the client secret becomes its verifier and the
 * webhook secret is sealed, in place (each UPDATE only if the row still holds what was read).
 */
export async function sealRelyingPartySecrets(db: Queryable, masterKey: MasterKey): Promise<number> {
  const rows = await db.query<Pick<RelyingPartyRow, 'client_id' | 'client_secret' | 'webhook_secret'>>(
    `SELECT client_id, client_secret, webhook_secret FROM relying_parties WHERE client_secret NOT LIKE 'scrypt$%' OR webhook_secret NOT LIKE 'sealed:v1:%'`,
  );
  for (const r of rows) {
    const verifier = isVerifier(r.client_secret) ? r.client_secret : await hashSecret(r.client_secret);
    const sealed = isSealed(r.webhook_secret)
      ? r.webhook_secret
      : masterKey.seal(r.webhook_secret, webhookContext(r.client_id));
    await db.query(
      'UPDATE relying_parties SET client_secret = $4, webhook_secret = $5 WHERE client_id = $1 AND client_secret = $2 AND webhook_secret = $3',
      [r.client_id, r.client_secret, r.webhook_secret, verifier, sealed],
    );
  }
  return rows.length;
}

/** Re-seals every webhook secret under `to` (master key rotation, inside its transaction). */
export async function resealRelyingPartySecrets(tx: Queryable, from: MasterKey, to: MasterKey): Promise<number> {
  const rows = await tx.query<Pick<RelyingPartyRow, 'client_id' | 'webhook_secret'>>(
    'SELECT client_id, webhook_secret FROM relying_parties ORDER BY client_id FOR UPDATE',
  );
  for (const r of rows) {
    const context = webhookContext(r.client_id);
    await tx.query('UPDATE relying_parties SET webhook_secret = $2 WHERE client_id = $1', [
      r.client_id,
      to.seal(from.open(r.webhook_secret, context), context),
    ]);
  }
  return rows.length;
}

export async function findRelyingParty(db: Queryable, clientId: string): Promise<RelyingParty | undefined> {
  const [row] = await db.query<RelyingPartyRow>('SELECT * FROM relying_parties WHERE client_id = $1', [clientId]);
  return row ? relyingPartyFromRow(row) : undefined;
}

export async function getRelyingParty(db: Queryable, clientId: string): Promise<RelyingParty> {
  const rp = await findRelyingParty(db, clientId);
  if (!rp) throw new NotFound(`no relying party with client id "${clientId}"`);
  return rp;
}

export async function listRelyingParties(db: Queryable): Promise<RelyingParty[]> {
  return (await db.query<RelyingPartyRow>('SELECT * FROM relying_parties ORDER BY created_at, client_id')).map(
    relyingPartyFromRow,
  );
}

export async function updateRelyingParty(
  db: Queryable,
  clientId: string,
  patch: Partial<NewRelyingParty> & { disabled?: boolean },
): Promise<RelyingParty> {
  const current = await getRelyingParty(db, clientId);
  const next = normaliseRelyingParty({
    name: patch.name ?? current.name,
    redirectUris: patch.redirectUris ?? current.redirectUris,
    ceremonies: patch.ceremonies ?? current.ceremonies,
    framework: patch.framework ?? current.framework,
    purpose: patch.purpose ?? current.purpose,
    tokenEndpointAuthMethod: patch.tokenEndpointAuthMethod ?? current.tokenEndpointAuthMethod,
    ...((patch.purposeEn ?? current.purposeEn) ? { purposeEn: (patch.purposeEn ?? current.purposeEn)! } : {}),
    ...((patch.webhookUrl ?? current.webhookUrl) ? { webhookUrl: (patch.webhookUrl ?? current.webhookUrl)! } : {}),
  });
  const disabledAt =
    patch.disabled === undefined ? current.disabledAt : patch.disabled ? (current.disabledAt ?? new Date()) : null;
  const [row] = await db.query<RelyingPartyRow>(
    `UPDATE relying_parties SET name = $2, redirect_uris = $3, ceremonies = $4, framework = $5, purpose = $6, purpose_en = $7,
       webhook_url = $8, token_endpoint_auth_method = $9, disabled_at = $10 WHERE client_id = $1 RETURNING *`,
    [
      clientId,
      next.name,
      next.redirectUris,
      next.ceremonies,
      next.framework,
      next.purpose,
      next.purposeEn ?? null,
      next.webhookUrl ?? null,
      next.tokenEndpointAuthMethod,
      disabledAt,
    ],
  );
  return relyingPartyFromRow(row!);
}

/**
 * The RP as oidc-provider client metadata. `clientSecret` is what oidc-provider compares: not the
 * RP's secret (only its verifier is stored) but a per-process one that the client authentication
 * layer (oidc/client-auth.ts) presents after it has checked the RP's secret against the verifier.
 */
export function clientMetadata(rp: RelyingParty, clientSecret: string): Record<string, unknown> {
  return {
    client_id: rp.clientId,
    client_secret: clientSecret,
    client_name: rp.name,
    redirect_uris: rp.redirectUris,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: rp.tokenEndpointAuthMethod,
    subject_type: 'pairwise',
    // So that every ID token says which ceremony authenticated the holder (auth or signing certificate).
    default_acr_values: [ACR.identity, ACR.login],
  };
}

/** The RP as shown by the admin API and `kakunin rp list` (no secrets); its type is checked against the API's RpView. */
export function publicView(rp: RelyingParty) {
  return {
    client_id: rp.clientId,
    name: rp.name,
    redirect_uris: rp.redirectUris,
    ceremonies: rp.ceremonies,
    framework: rp.framework,
    purpose: rp.purpose,
    purpose_en: rp.purposeEn,
    webhook_url: rp.webhookUrl,
    token_endpoint_auth_method: rp.tokenEndpointAuthMethod,
    created_at: rp.createdAt.toISOString(),
    disabled: rp.disabledAt !== null,
  };
}
