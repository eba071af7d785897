// How a relying party authenticates to the platform's own APIs (not the OpenID Provider's token
// endpoint, which client-auth.ts guards): its client credentials by HTTP Basic, under the same
// failure limits as the token endpoint. Used by the records log (/records/v1, which also takes the
// admin token) and the RP API (/rp/v1).

import type { FastifyReply, FastifyRequest } from 'fastify';
import { TooManyAttempts, Unauthorized } from '../errors.js';
import { presentedCredentials } from '../oidc/client-auth.js';
import type { Platform } from '../platform.js';
import { checkClientSecret, findRelyingParty } from '../relying-parties.js';

/** What a refusal says: the realm of its WWW-Authenticate header and the message in both languages. */
export interface Refusal {
  realm: string;
  message: string;
  messageJa: string;
}

/** A 401 with `WWW-Authenticate: Basic realm="…"`. */
export function refuse(reply: FastifyReply, r: Refusal): never {
  void reply.header('www-authenticate', `Basic realm="${r.realm}"`);
  throw new Unauthorized(r.message, r.messageJa);
}

/**
 * The client id of the enabled relying party whose client credentials (HTTP Basic,
 * client_id:client_secret) the request carries; otherwise a 401 (or a 429 after too many failures
 * from the address or for the client).
 */
export async function authenticatedClient(
  platform: Platform,
  req: FastifyRequest,
  reply: FastifyReply,
  r: Refusal,
): Promise<string> {
  let presented;
  try {
    presented = presentedCredentials(req.headers.authorization, new URLSearchParams());
  } catch {
    return refuse(reply, r);
  }
  if (!presented) return refuse(reply, r);
  const { clientId, secret } = presented;
  const keys = platform.authThrottle.keys('token', req.ip, clientId);
  const { ok, retryAfter } = await platform.authThrottle.attempt(keys, async () => {
    const rp = await findRelyingParty(platform.db, clientId);
    return !!rp && !rp.disabledAt && (await checkClientSecret(rp, secret));
  });
  if (ok) return clientId;
  if (retryAfter) throw new TooManyAttempts(retryAfter);
  return refuse(reply, r);
}
