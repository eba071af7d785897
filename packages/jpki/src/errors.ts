// Typed verification errors: one class per failure, each with a stable code and a message in
// English and Japanese, so callers (CLI exit codes, ceremony pages, records) never parse text.

/** Every code a JpkiError can carry (a run-time list, so pages can prove each has advice). */
export const JPKI_ERROR_CODES = [
  'MALFORMED',
  'UNTRUSTED_ISSUER',
  'UNKNOWN_ISSUER_GENERATION',
  'BAD_SIGNATURE',
  'EXPIRED',
  'NOT_YET_VALID',
  'WRONG_KEY_USAGE',
  'WRONG_POLICY',
  'WRONG_KIND',
  'UNKNOWN_CRITICAL_EXTENSION',
  'INVALID_BASIC_CONSTRAINTS',
  'WEAK_KEY',
  'REVOKED',
  'OCSP_NONCE_MISMATCH',
  'OCSP_CERT_ID_MISMATCH',
  'REVOCATION_UNAVAILABLE',
  'PIN_MISMATCH',
  'TRUST_ANCHOR_REJECTED',
] as const;

export type JpkiErrorCode = (typeof JPKI_ERROR_CODES)[number];

export abstract class JpkiError extends Error {
  abstract readonly code: JpkiErrorCode;
  /** The same message in Japanese, for pages shown to holders. */
  readonly messageJa: string;
  readonly details: Readonly<Record<string, unknown>>;

  protected constructor(message: string, messageJa: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = new.target.name;
    this.messageJa = messageJa;
    this.details = details;
  }

  toJSON(): {
    code: JpkiErrorCode;
    error: string;
    message: string;
    messageJa: string;
    details: Readonly<Record<string, unknown>>;
  } {
    return {
      code: this.code,
      error: this.name,
      message: this.message,
      messageJa: this.messageJa,
      details: this.details,
    };
  }
}

export class Malformed extends JpkiError {
  readonly code = 'MALFORMED';
  constructor(reason: string, details: Record<string, unknown> = {}) {
    super(`malformed certificate data: ${reason}`, `証明書データの形式が不正です: ${reason}`, { reason, ...details });
  }
}

export class UntrustedIssuer extends JpkiError {
  readonly code = 'UNTRUSTED_ISSUER';
  constructor(issuer: string, why: string) {
    super(`untrusted issuer ${issuer}: ${why}`, `発行者 ${issuer} は信頼されていません: ${why}`, { issuer, why });
  }
}

export class UnknownIssuerGeneration extends JpkiError {
  readonly code = 'UNKNOWN_ISSUER_GENERATION';
  constructor(issuer: string, akiSerial: string | undefined, akiKeyId: string | undefined, knownAs?: string) {
    const which = akiSerial ? `serial ${akiSerial}` : `key id ${akiKeyId ?? '(none)'}`;
    const named = knownAs ? ` (J-LIS ${knownAs})` : '';
    super(
      `the issuing CA generation with ${which}${named} of ${issuer} is not in the trust store`,
      `発行者 ${issuer} の世代 (${which}${named}) はトラストストアにありません`,
      { issuer, akiSerial, akiKeyId, knownAs },
    );
  }
}

export class BadSignature extends JpkiError {
  readonly code = 'BAD_SIGNATURE';
  constructor(what: string) {
    super(`bad signature: ${what}`, `署名の検証に失敗しました: ${what}`, { what });
  }
}

export class Expired extends JpkiError {
  readonly code = 'EXPIRED';
  constructor(subject: string, notAfter: Date, at: Date) {
    super(
      `${subject} expired at ${notAfter.toISOString()} (checked at ${at.toISOString()})`,
      `${subject} は ${notAfter.toISOString()} に有効期限が切れています`,
      { subject, notAfter: notAfter.toISOString(), at: at.toISOString() },
    );
  }
}

export class NotYetValid extends JpkiError {
  readonly code = 'NOT_YET_VALID';
  constructor(subject: string, notBefore: Date, at: Date) {
    super(
      `${subject} is not valid before ${notBefore.toISOString()} (checked at ${at.toISOString()})`,
      `${subject} は ${notBefore.toISOString()} より前には有効ではありません`,
      { subject, notBefore: notBefore.toISOString(), at: at.toISOString() },
    );
  }
}

export class WrongKeyUsage extends JpkiError {
  readonly code = 'WRONG_KEY_USAGE';
  constructor(expected: string, found: string) {
    super(
      `wrong key usage: expected ${expected}, found ${found}`,
      `鍵用途が不正です: ${expected} が必要ですが ${found} です`,
      { expected, found },
    );
  }
}

export class WrongPolicy extends JpkiError {
  readonly code = 'WRONG_POLICY';
  constructor(reason: string, details: Record<string, unknown> = {}) {
    super(`wrong certificate policy: ${reason}`, `証明書ポリシーが不正です: ${reason}`, { reason, ...details });
  }
}

export class WrongKind extends JpkiError {
  readonly code = 'WRONG_KIND';
  constructor(expected: string, found: string) {
    super(
      `a ${expected} certificate is required, but this is a ${found} certificate`,
      `${expected === 'sign' ? '署名用' : '利用者証明用'}電子証明書が必要ですが、${found === 'sign' ? '署名用' : found === 'auth' ? '利用者証明用' : '不明な種類の'}証明書です`,
      { expected, found },
    );
  }
}

export class UnknownCriticalExtension extends JpkiError {
  readonly code = 'UNKNOWN_CRITICAL_EXTENSION';
  constructor(oid: string) {
    super(`unknown critical extension ${oid}`, `未知の重要拡張 ${oid} があります`, { oid });
  }
}

export class InvalidBasicConstraints extends JpkiError {
  readonly code = 'INVALID_BASIC_CONSTRAINTS';
  constructor(reason: string) {
    super(`invalid basic constraints: ${reason}`, `基本制約が不正です: ${reason}`, { reason });
  }
}

export class WeakKey extends JpkiError {
  readonly code = 'WEAK_KEY';
  constructor(reason: string) {
    super(`key too weak: ${reason}`, `鍵が弱すぎます: ${reason}`, { reason });
  }
}

export class Revoked extends JpkiError {
  readonly code = 'REVOKED';
  constructor(serial: string, reason: string, revokedAt: Date, meaning: string, meaningJa: string, source: string) {
    super(
      `certificate ${serial} was revoked at ${revokedAt.toISOString()} (${reason}): ${meaning}`,
      `証明書 ${serial} は ${revokedAt.toISOString()} に失効しています (${reason}): ${meaningJa}`,
      { serial, reason, revokedAt: revokedAt.toISOString(), source },
    );
  }
}

export class RevocationUnavailable extends JpkiError {
  readonly code = 'REVOCATION_UNAVAILABLE';
  constructor(reason: string) {
    super(
      `revocation status unavailable (failing closed): ${reason}`,
      `失効情報を確認できません (安全側で拒否します): ${reason}`,
      { reason },
    );
  }
}

export class OcspNonceMismatch extends JpkiError {
  readonly code = 'OCSP_NONCE_MISMATCH';
  constructor() {
    super(
      'the OCSP response does not echo the request nonce (possible replay)',
      'OCSPレスポンスのナンスが要求と一致しません (リプレイの可能性)',
    );
  }
}

export class OcspCertIdMismatch extends JpkiError {
  readonly code = 'OCSP_CERT_ID_MISMATCH';
  constructor(serial: string) {
    super(
      `the OCSP response does not answer for certificate ${serial}`,
      `OCSPレスポンスに証明書 ${serial} の状態が含まれていません`,
      { serial },
    );
  }
}

/** A root offered as a pinned trust anchor whose DER does not hash to the SHA-256 it was pinned with. */
export class PinMismatch extends JpkiError {
  readonly code = 'PIN_MISMATCH';
  constructor(label: string, expected: string, actual: string) {
    super(
      `trust anchor ${label}: its SHA-256 is ${actual}, but it is pinned as ${expected}; refusing it`,
      `トラストアンカー ${label} の SHA-256 ${actual} が指定値 ${expected} と一致しないため使用しません`,
      { label, expected, actual },
    );
  }
}

/** A root offered as a pinned trust anchor that cannot be one: no usable pin, or not a production J-LIS-shaped CA. */
export class TrustAnchorRejected extends JpkiError {
  readonly code = 'TRUST_ANCHOR_REJECTED';
  constructor(label: string, reason: string) {
    super(`trust anchor ${label} rejected: ${reason}`, `トラストアンカー ${label} は使用できません: ${reason}`, {
      label,
      reason,
    });
  }
}

export function isJpkiError(e: unknown): e is JpkiError {
  return e instanceof JpkiError;
}
