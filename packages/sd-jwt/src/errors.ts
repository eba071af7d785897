// One typed error for the whole package: callers (issuer, wallet, verifier) switch on `code`, never
// on the message text.

/** Every code an SdJwtError can carry (a run-time list, so callers can map each to advice). */
export const SD_JWT_ERROR_CODES = [
  'MALFORMED',
  'INVALID_ARGUMENT',
  'UNSUPPORTED_ALG',
  'WRONG_TYP',
  'BAD_SIGNATURE',
  'UNKNOWN_KEY',
  'DISCLOSURE_MALFORMED',
  'DISCLOSURE_NOT_REFERENCED',
  'DISCLOSURE_DUPLICATE',
  'CLAIM_OVERWRITE',
  'REGISTERED_CLAIM_DISCLOSED',
  'EXPIRED',
  'NOT_YET_VALID',
  'NO_HOLDER_KEY',
  'KB_MISSING',
  'KB_UNEXPECTED',
  'KB_MALFORMED',
  'KB_WRONG_TYP',
  'KB_BAD_SIGNATURE',
  'KB_NONCE_MISMATCH',
  'KB_AUDIENCE_MISMATCH',
  'KB_SD_HASH_MISMATCH',
  'KB_STALE',
  'PATH_NOT_FOUND',
  'STATUS_LIST_BAD_SIGNATURE',
  'STATUS_LIST_WRONG_SUBJECT',
  'STATUS_LIST_EXPIRED',
  'STATUS_INDEX_OUT_OF_RANGE',
  'DCQL_INVALID_QUERY',
  'DCQL_NOT_SATISFIED',
] as const;

export type SdJwtErrorCode = (typeof SD_JWT_ERROR_CODES)[number];

export class SdJwtError extends Error {
  readonly code: SdJwtErrorCode;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: SdJwtErrorCode, message: string, details: Record<string, unknown> = {}, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SdJwtError';
    this.code = code;
    this.details = details;
  }

  toJSON(): { code: SdJwtErrorCode; error: string; message: string; details: Readonly<Record<string, unknown>> } {
    return { code: this.code, error: this.name, message: this.message, details: this.details };
  }
}

export function isSdJwtError(e: unknown, code?: SdJwtErrorCode): e is SdJwtError {
  return e instanceof SdJwtError && (code === undefined || e.code === code);
}
