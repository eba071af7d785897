// Client authentication in front of oidc-provider. The database keeps only a verifier of each RP's
// client secret, while oidc-provider compares a client secret it is given in the client metadata.
// So this layer authenticates the RP itself — only the registered method (client_secret_basic or
// client_secret_post), the exact secret checked against the verifier, failed attempts limited per
// client and per address — and then hands oidc-provider, in the same method, a per-process secret
// (HMAC of the client id under a key that never leaves this process) that the adapter also puts in
// the client metadata. A request that does not pass never reaches oidc-provider.

import { createHmac, randomBytes } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { AuthThrottle } from '../auth-throttle.js';
import type { Queryable } from '../db/sql.js';
import { checkClientSecret, findRelyingParty, type TokenAuthMethod } from '../relying-parties.js';

/** oidc-provider endpoints where a client authenticates (token, revocation, introspection, PAR). */
export const CLIENT_AUTH_PATHS = /^\/(?:token(?:\/revocation|\/introspection)?|request)$/;

export interface OAuthRefusal {
  status: number;
  headers: Record<string, string>;
  body: { error: string; error_description: string };
}

interface Credentials {
  method: TokenAuthMethod;
  clientId: string;
  secret: string;
}

class Malformed extends Error {}

/** RFC 6749 §2.3.1: client id and secret are form-urlencoded before Basic encoding. */
function formDecode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, '%20'));
  } catch {
    throw new Malformed('the Basic credentials are not validly encoded');
  }
}

/** The credentials a request presents, undefined when it presents none of the two secret methods. */
export function presentedCredentials(
  authorization: string | undefined,
  params: URLSearchParams,
): Credentials | undefined {
  const basic = /^Basic(?:\s+(.*))?$/is.exec(authorization ?? '');
  if (basic) {
    if (params.has('client_secret')) throw new Malformed('client authentication must use one method only');
    const b64 = (basic[1] ?? '').trim();
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw new Malformed('the Basic credentials are not base64');
    const decoded = Buffer.from(b64, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new Malformed('the Basic credentials have no ":" between client id and secret');
    // The secret is everything after the first colon: "secret:junk" is not "secret".
    return {
      method: 'client_secret_basic',
      clientId: formDecode(decoded.slice(0, colon)),
      secret: formDecode(decoded.slice(colon + 1)),
    };
  }
  if (params.has('client_secret'))
    return {
      method: 'client_secret_post',
      clientId: params.get('client_id') ?? '',
      secret: params.get('client_secret')!,
    };
  return undefined;
}

export class ClientAuthentication {
  private readonly key = randomBytes(32);
  private readonly db: Queryable;
  private readonly throttle: AuthThrottle;

  constructor(db: Queryable, throttle: AuthThrottle) {
    this.db = db;
    this.throttle = throttle;
  }

  /** What oidc-provider knows as this client's secret: never stored, different in every process. */
  providerSecret(clientId: string): string {
    return createHmac('sha256', this.key).update(clientId).digest('base64url');
  }

  /**
   * Authenticates the client of a request to one of CLIENT_AUTH_PATHS and rewrites its credentials
   * for oidc-provider; or says how to refuse it. Requests without secret credentials pass as they
   * are (oidc-provider refuses them, as no client may use "none").
   */
  async authenticate(
    raw: { headers: Record<string, string | string[] | undefined>; body?: unknown },
    body: string,
    address: string,
    log: FastifyBaseLogger,
  ): Promise<OAuthRefusal | undefined> {
    const params = new URLSearchParams(body);
    const authorization = typeof raw.headers.authorization === 'string' ? raw.headers.authorization : undefined;
    let presented: Credentials | undefined;
    try {
      presented = presentedCredentials(authorization, params);
    } catch (e) {
      if (!(e instanceof Malformed)) throw e;
      return this.refuse(log, { reason: e.message, basic: true }, this.throttle.keys('token', address));
    }
    if (!presented) return undefined;
    const { method, clientId, secret } = presented;
    const wait = await this.throttle.retryAfter(this.throttle.keys('token', address, clientId));
    if (wait > 0) {
      log.info({ clientId, retryAfter: wait }, 'client authentication refused: too many failures');
      return {
        status: 429,
        headers: { 'retry-after': String(wait), 'cache-control': 'no-store' },
        body: {
          error: 'temporarily_unavailable',
          error_description: `too many failed client authentications; retry in ${wait} s`,
        },
      };
    }
    const rp = clientId ? await findRelyingParty(this.db, clientId) : undefined;
    const basic = method === 'client_secret_basic';
    if (!rp || rp.disabledAt)
      return this.refuse(
        log,
        { reason: rp ? 'disabled client' : 'unknown client', clientId, basic },
        this.throttle.keys('token', address),
      );
    const keys = this.throttle.keys('token', address, clientId);
    if (rp.tokenEndpointAuthMethod !== method)
      return this.refuse(
        log,
        { reason: `client registered for ${rp.tokenEndpointAuthMethod} used ${method}`, clientId, basic },
        keys,
        `this client authenticates with ${rp.tokenEndpointAuthMethod}`,
      );
    if (!(await checkClientSecret(rp, secret)))
      return this.refuse(log, { reason: 'wrong client secret', clientId, basic }, keys);

    const forProvider = this.providerSecret(clientId);
    if (basic) {
      raw.headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(forProvider)}`).toString('base64')}`;
    } else {
      params.set('client_secret', forProvider);
      raw.body = params.toString();
    }
    return undefined;
  }

  private async refuse(
    log: FastifyBaseLogger,
    why: { reason: string; clientId?: string; basic: boolean },
    keys: Parameters<AuthThrottle['failed']>[0],
    description = 'client authentication failed',
  ): Promise<OAuthRefusal> {
    await this.throttle.failed(keys);
    log.info({ clientId: why.clientId, reason: why.reason }, 'client authentication failed');
    return {
      status: 401,
      headers: { 'cache-control': 'no-store', ...(why.basic ? { 'www-authenticate': 'Basic realm="kakunin"' } : {}) },
      body: { error: 'invalid_client', error_description: description },
    };
  }
}
