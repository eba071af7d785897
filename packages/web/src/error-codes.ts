// Every error code a page can show a holder, a relying party or an administrator: one closed union,
// so the advice table (errors.ts) is checked by the compiler to cover each. The card and JPKI codes
// come from their packages; the platform's, the agent's and the OpenID Connect codes are listed here
// because @kakunin/web sits below @kakunin/server and @kakunin/agent (both import these lists).

import { CARD_ERROR_CODES } from '@kakunin/card';
import { JPKI_ERROR_CODES } from '@kakunin/jpki';

/** The platform's codes: its ServerError classes and the bodies of toErrorBody (@kakunin/server). */
export const PLATFORM_ERROR_CODES = [
  'INVALID_REQUEST',
  'BAD_REQUEST',
  'MALFORMED_SUBMISSION',
  'NOT_FOUND',
  'UNAUTHORIZED',
  'TOO_MANY_ATTEMPTS',
  'CEREMONY_NOT_FOUND',
  'CEREMONY_EXPIRED',
  'CEREMONY_FINISHED',
  'CEREMONY_NOT_ALLOWED',
  'NONCE_UNKNOWN',
  'NONCE_REPLAYED',
  'NONCE_EXPIRED',
  'NONCE_CEREMONY_MISMATCH',
  'NONCE_AUDIENCE_MISMATCH',
  'RECORD_NOT_INTEGRATED',
  'NO_SUCH_CHECKPOINT',
  'TOO_MANY_STREAMS',
  'NO_SUCH_RELATIONSHIP',
  'CREDENTIAL_OFFERS_NOT_ALLOWED',
  'TEMPORARILY_UNAVAILABLE',
  'INTERNAL',
] as const;

/**
 * What the holder's side reports of its own: the local agent's failures (its pages), the sandbox
 * card's (UNKNOWN_PERSON, NO_SUCH_CERTIFICATE from @kakunin/sim), and the ceremony page's script
 * when the agent does not answer (AGENT_UNAVAILABLE).
 */
export const AGENT_ERROR_CODES = [
  'AGENT_UNAVAILABLE',
  'AGENT_ERROR',
  'PLATFORM_UNREACHABLE',
  'NOT_A_HOLDER_CEREMONY',
  'PIN_CANCELLED',
  'BUSY',
  'UNKNOWN_PERSON',
  'NO_SUCH_CERTIFICATE',
] as const;

/** The OpenID Connect errors (RFC 6749 §4.1.2.1, OIDC Core §3.1.2.6) oidc-provider renders as a page. */
export const OIDC_ERROR_CODES = [
  'access_denied',
  'invalid_request',
  'invalid_request_object',
  'request_not_supported',
  'request_uri_not_supported',
  'unsupported_response_type',
  'unsupported_response_mode',
  'invalid_scope',
  'invalid_client',
  'unauthorized_client',
  'invalid_redirect_uri',
  'login_required',
  'consent_required',
  'interaction_required',
  'server_error',
  'temporarily_unavailable',
] as const;

export const ERROR_CODES = [
  ...JPKI_ERROR_CODES,
  ...CARD_ERROR_CODES,
  ...PLATFORM_ERROR_CODES,
  ...AGENT_ERROR_CODES,
  ...OIDC_ERROR_CODES,
] as const;

export type PlatformErrorCode = (typeof PLATFORM_ERROR_CODES)[number];
export type AgentErrorCode = (typeof AGENT_ERROR_CODES)[number];
export type OidcErrorCode = (typeof OIDC_ERROR_CODES)[number];
export type ErrorCode = (typeof ERROR_CODES)[number];

const KNOWN: ReadonlySet<string> = new Set(ERROR_CODES);

/** Whether a code from outside (a JSON body, a stored ceremony, oidc-provider) is one of ours. */
export const isErrorCode = (code: string): code is ErrorCode => KNOWN.has(code);
