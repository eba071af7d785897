// Typed errors of the platform. Each has a stable code (for clients and records), an HTTP status,
// and messages in English and Japanese. Verification failures from @kakunin/jpki keep their codes.

import { isJpkiError } from '@kakunin/jpki';
import type { PlatformErrorCode } from '@kakunin/web';

export class ServerError extends Error {
  readonly code: PlatformErrorCode;
  readonly status: number;
  readonly messageJa: string;
  readonly details: Record<string, unknown>;
  constructor(
    /** One of the closed list in @kakunin/web (error-codes.ts), so every code a page shows has advice. */
    code: PlatformErrorCode,
    status: number,
    message: string,
    messageJa: string,
    details: Record<string, unknown> = {},
  ) {
    super(message);
    this.code = code;
    this.status = status;
    this.messageJa = messageJa;
    this.details = details;
    this.name = new.target.name;
  }
}

export class InvalidRequest extends ServerError {
  constructor(message: string, messageJa = `リクエストが不正です: ${message}`) {
    super('INVALID_REQUEST', 400, message, messageJa);
  }
}
export class NotFound extends ServerError {
  constructor(message: string) {
    super('NOT_FOUND', 404, message, '見つかりません');
  }
}
export class Unauthorized extends ServerError {
  constructor(
    message = 'a valid admin token is required (Authorization: Bearer …)',
    messageJa = '管理者トークンが必要です',
  ) {
    super('UNAUTHORIZED', 401, message, messageJa);
  }
}
/** Too many failed sign-ins or client authentications from one address or for one client. */
export class TooManyAttempts extends ServerError {
  readonly retryAfterSeconds: number;
  constructor(retryAfterSeconds: number) {
    super(
      'TOO_MANY_ATTEMPTS',
      429,
      `too many failed attempts; try again in ${retryAfterSeconds} s`,
      `失敗が多すぎます。${retryAfterSeconds}秒後にお試しください`,
      { retryAfterSeconds },
    );
    this.retryAfterSeconds = retryAfterSeconds;
  }
}
export class CeremonyNotFound extends ServerError {
  constructor(id: string) {
    super('CEREMONY_NOT_FOUND', 404, `no ceremony ${id}`, 'この手続きは見つかりません', { ceremonyId: id });
  }
}
export class CeremonyExpired extends ServerError {
  constructor(id: string, expiredAt: Date) {
    super(
      'CEREMONY_EXPIRED',
      410,
      `ceremony ${id} expired at ${expiredAt.toISOString()}; start again from the service`,
      '手続きの有効期限が切れました。サービスの画面からやり直してください',
      { ceremonyId: id },
    );
  }
}
export class CeremonyFinished extends ServerError {
  constructor(id: string, state: string) {
    super('CEREMONY_FINISHED', 409, `ceremony ${id} is already ${state}`, 'この手続きは既に終了しています', {
      ceremonyId: id,
      state,
    });
  }
}
/** The operator has not allowed this RP to make credential offers (config credentialOfferClients). */
export class CredentialOffersNotAllowed extends ServerError {
  constructor(clientId: string) {
    super(
      'CREDENTIAL_OFFERS_NOT_ALLOWED',
      403,
      `relying party ${clientId} may not make credential offers: the operator allows it by name (credentialOfferClients / KAKUNIN_CREDENTIAL_OFFER_CLIENTS)`,
      'この事業者はデジタル身分証の発行を案内できません(運営者の設定 credentialOfferClients で許可されたものだけが案内できます)',
      { clientId },
    );
  }
}
export class CeremonyNotAllowed extends ServerError {
  constructor(kind: string, clientId: string) {
    super(
      'CEREMONY_NOT_ALLOWED',
      403,
      `relying party ${clientId} is not registered for ${kind} ceremonies`,
      `この事業者は${kind === 'identity' ? '本人確認' : 'ログイン'}を利用できません`,
      { kind, clientId },
    );
  }
}
export class NonceUnknown extends ServerError {
  constructor() {
    super('NONCE_UNKNOWN', 400, 'the nonce is not one this platform issued', 'チャレンジ値が不正です');
  }
}
export class NonceReplayed extends ServerError {
  constructor() {
    super(
      'NONCE_REPLAYED',
      409,
      'the nonce has already been used (replay)',
      'このチャレンジ値は使用済みです(再送攻撃の可能性)',
    );
  }
}
export class NonceExpired extends ServerError {
  constructor() {
    super('NONCE_EXPIRED', 410, 'the nonce has expired', 'チャレンジ値の有効期限が切れています');
  }
}
export class NonceCeremonyMismatch extends ServerError {
  constructor() {
    super(
      'NONCE_CEREMONY_MISMATCH',
      400,
      'the nonce belongs to another ceremony',
      'チャレンジ値が別の手続きのものです',
    );
  }
}
export class NonceAudienceMismatch extends ServerError {
  constructor() {
    super(
      'NONCE_AUDIENCE_MISMATCH',
      400,
      'the nonce was issued for another relying party',
      'チャレンジ値が別の事業者向けのものです',
    );
  }
}
export class MalformedSubmission extends ServerError {
  constructor(message: string) {
    super('MALFORMED_SUBMISSION', 400, message, `送信内容が不正です: ${message}`);
  }
}

export function isServerError(e: unknown): e is ServerError {
  return e instanceof ServerError;
}

/** The JSON error body every endpoint answers with. */
export interface ErrorBody {
  error: { code: string; message: string; message_ja: string; details?: Record<string, unknown> };
}

// PostgreSQL going away (admin shutdown, crash recovery, cannot connect) or a lost connection.
const DATABASE_DOWN_CODES = new Set([
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08001',
  '08003',
  '08006',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
]);

/** The database is unreachable for now: a retryable condition, not a bug. */
export function isDatabaseUnavailable(e: unknown): boolean {
  const err = e as { code?: unknown; message?: unknown } | undefined;
  return (
    (typeof err?.code === 'string' && DATABASE_DOWN_CODES.has(err.code)) ||
    (typeof err?.message === 'string' &&
      /Connection terminated|connection timeout|Client was closed|Cannot use a pool after calling end/i.test(
        err.message,
      ))
  );
}

/** Any thrown value → status + body; unknown errors become a 500 without internals. */
export function toErrorBody(e: unknown): { status: number; body: ErrorBody } {
  if (isDatabaseUnavailable(e)) {
    return {
      status: 503,
      body: {
        error: {
          code: 'TEMPORARILY_UNAVAILABLE',
          message: 'the platform database is unavailable; try again shortly',
          message_ja: '一時的に利用できません。しばらくしてからお試しください',
        },
      },
    };
  }
  if (isServerError(e))
    return {
      status: e.status,
      body: {
        error: {
          code: e.code,
          message: e.message,
          message_ja: e.messageJa,
          ...(Object.keys(e.details).length ? { details: e.details } : {}),
        },
      },
    };
  if (isJpkiError(e)) {
    const status = e.code === 'REVOCATION_UNAVAILABLE' ? 503 : 422;
    return {
      status,
      body: { error: { code: e.code, message: e.message, message_ja: e.messageJa, details: sanitise(e.details) } },
    };
  }
  const v = e as { statusCode?: number; validation?: unknown; message?: string; code?: string };
  if (typeof v?.statusCode === 'number' && v.statusCode < 500) {
    return {
      status: v.statusCode,
      body: {
        error: {
          code: v.validation ? 'INVALID_REQUEST' : (v.code ?? 'BAD_REQUEST'),
          message: v.message ?? 'bad request',
          message_ja: 'リクエストが不正です',
        },
      },
    };
  }
  return {
    status: 500,
    body: { error: { code: 'INTERNAL', message: 'internal error', message_ja: '内部エラーが発生しました' } },
  };
}

function sanitise(details: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(
    JSON.stringify(details, (_k, v: unknown) =>
      v instanceof Date ? v.toISOString() : typeof v === 'bigint' ? v.toString() : v,
    ),
  ) as Record<string, unknown>;
}

/** An inclusion proof asked for a record the sequencer has not integrated yet (within about a second). */
export class RecordNotIntegrated extends ServerError {
  constructor(id: string) {
    super(
      'RECORD_NOT_INTEGRATED',
      409,
      `record ${id} is not in a signed checkpoint yet; retry in a second`,
      'この記録はまだ署名済みチェックポイントに含まれていません。少し待ってから再度お試しください',
      { recordId: id },
    );
  }
}
/** A tree size for which the log has no signed checkpoint (or beyond the latest). */
export class NoSuchCheckpoint extends ServerError {
  constructor(size: number, latest: number) {
    super(
      'NO_SUCH_CHECKPOINT',
      404,
      `the log has no checkpoint of tree size ${size} (the latest is ${latest}); ask for a size a checkpoint was signed at`,
      '指定の木のサイズのチェックポイントはありません',
      { treeSize: size, latest },
    );
  }
}
