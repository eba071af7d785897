// Typed card errors: one class per failure with a stable `code` and an English message, so the CLI
// (exit codes 3 / 4), ceremony pages and logs never parse text. No error ever carries a PIN.

/** Every code a CardError can carry (a run-time list, so pages can prove each has advice). */
export const CARD_ERROR_CODES = [
  'WRONG_PIN',
  'PIN_BLOCKED',
  'SECURITY_STATUS_NOT_SATISFIED',
  'FILE_NOT_FOUND',
  'NOT_A_MY_NUMBER_CARD',
  'CARD_REMOVED',
  'READER_NOT_FOUND',
  'PCSC_UNAVAILABLE',
  'TIMEOUT',
  'UNEXPECTED_STATUS',
  'INVALID_PIN_FORMAT',
  'TRUNCATED_RESPONSE',
  'INTEGRITY_CHECK_FAILED',
  'INVALID_INPUT',
  'MY_NUMBER_REFUSED',
] as const;

export type CardErrorCode = (typeof CARD_ERROR_CODES)[number];

/** Which credential a PIN error is about. */
export type PinKind = 'auth' | 'sign' | 'cardInfo';

export const PIN_LABEL: Record<PinKind, string> = {
  auth: 'auth PIN (利用者証明用暗証番号)',
  sign: 'signing password (署名用暗証番号)',
  cardInfo: 'card-info PIN (券面事項入力補助用暗証番号)',
};

export abstract class CardError extends Error {
  abstract readonly code: CardErrorCode;
  readonly details: Readonly<Record<string, unknown>>;

  protected constructor(message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = new.target.name;
    this.details = details;
  }

  toJSON(): { code: CardErrorCode; error: string; message: string; details: Readonly<Record<string, unknown>> } {
    return { code: this.code, error: this.name, message: this.message, details: this.details };
  }
}

export function isCardError(e: unknown): e is CardError {
  return e instanceof CardError;
}

const tries = (n: number): string => `${n} ${n === 1 ? 'try' : 'tries'} remaining`;

/** VERIFY answered `63 Cx` with x > 0: the PIN was wrong, `remaining` tries are left. Never retried automatically. */
export class WrongPin extends CardError {
  readonly code = 'WRONG_PIN';
  readonly pin: PinKind;
  readonly remaining: number;
  constructor(pin: PinKind, remaining: number) {
    super(`wrong ${PIN_LABEL[pin]}: ${tries(remaining)}`, {
      pin,
      remaining,
      sw: `63C${remaining.toString(16).toUpperCase()}`,
    });
    this.pin = pin;
    this.remaining = remaining;
  }
}

/**
 * The PIN is blocked: VERIFY answered `63 C0` (this wrong attempt used the last try) or `69 84`
 * (already blocked; `69 83` is treated the same). Only the municipal office can reset it.
 */
export class PinBlocked extends CardError {
  readonly code = 'PIN_BLOCKED';
  readonly pin: PinKind;
  readonly justBlocked: boolean;
  constructor(
    pin: PinKind,
    /** True when this attempt was the one that used the last try (`63 C0`). */
    justBlocked: boolean,
    sw: string,
  ) {
    super(
      justBlocked
        ? `wrong ${PIN_LABEL[pin]}: 0 tries remaining, the PIN is now blocked; only the municipal office can reset it`
        : `the ${PIN_LABEL[pin]} is blocked (0 tries remaining); only the municipal office can reset it`,
      { pin, remaining: 0, justBlocked, sw },
    );
    this.pin = pin;
    this.justBlocked = justBlocked;
  }

  get remaining(): 0 {
    return 0;
  }
}

/** `69 82`: the EF or key needs a PIN that has not been verified in this session. */
export class SecurityStatusNotSatisfied extends CardError {
  readonly code = 'SECURITY_STATUS_NOT_SATISFIED';
  constructor(what: string, hint = '') {
    super(`security status not satisfied for ${what}${hint ? `: ${hint}` : ''}`, { what, sw: '6982' });
  }
}

/** `6A 82`: no such EF (or key) in the selected application. */
export class FileNotFound extends CardError {
  readonly code = 'FILE_NOT_FOUND';
  constructor(what: string) {
    super(`file not found on the card: ${what}`, { what, sw: '6A82' });
  }
}

/** The JPKI application is missing, or the token label is not one of the known JPKI tokens. */
export class NotAMyNumberCard extends CardError {
  readonly code = 'NOT_A_MY_NUMBER_CARD';
  constructor(why: string) {
    super(`not a My Number Card or JPKI smartphone token: ${why}`, { why });
  }
}

/** The card left the reader (or was never there) during an operation. */
export class CardRemoved extends CardError {
  readonly code = 'CARD_REMOVED';
  constructor(why = 'the card was removed') {
    super(why, { why });
  }
}

/** No such reader, no reader at all, or no PC/SC service. */
export class ReaderNotFound extends CardError {
  readonly code = 'READER_NOT_FOUND';
  constructor(why: string) {
    super(why, { why });
  }
}

/** The debian packages a PC/SC reader needs here: the service and the library the binding is built against. */
export const PCSC_PACKAGES = ['pcscd', 'libpcsclite-dev', 'g++', 'make', 'python3'] as const;

/**
 * This installation has no PC/SC support: the optional `smartcard` binding was not built (no
 * libpcsclite-dev or compiler when npm installed it) or does not load. Everything but a real card
 * reader works without it; `repair` is the command line that brings it.
 */
export class PcscUnavailable extends CardError {
  readonly code = 'PCSC_UNAVAILABLE';
  readonly repair: string;
  constructor(cause: string, bindingInstalled: boolean) {
    // npm removes an optional dependency whose build failed: then only an install brings it back.
    const npm = bindingInstalled ? 'npm rebuild smartcard' : 'npm install';
    const repair = `sudo apt-get install ${PCSC_PACKAGES.join(' ')} && ${npm}`;
    super(
      `PC/SC support is not installed (${cause}); to use a card reader, install Debian's ${PCSC_PACKAGES.join(', ')} and rebuild the binding: ${repair}`,
      { cause, repair },
    );
    this.repair = repair;
  }
}

export class Timeout extends CardError {
  readonly code = 'TIMEOUT';
  constructor(what: string) {
    super(`timed out: ${what}`, { what });
  }
}

/** Any status word the operation does not expect, with the command it answered. */
export class UnexpectedStatus extends CardError {
  readonly code = 'UNEXPECTED_STATUS';
  readonly sw: string;
  constructor(sw: string, command: string) {
    super(`the card answered ${sw} to ${command}`, { sw, command });
    this.sw = sw;
  }
}

/** The PIN does not have the format the card expects; refused before anything was sent. */
export class InvalidPinFormat extends CardError {
  readonly code = 'INVALID_PIN_FORMAT';
  readonly pin: PinKind;
  constructor(pin: PinKind, rule: string) {
    super(`the ${PIN_LABEL[pin]} must be ${rule}; nothing was sent to the card`, { pin, rule });
    this.pin = pin;
  }
}

/** A response shorter than its status word or longer than any response APDU, or data that ends before its declared length. */
export class TruncatedResponse extends CardError {
  readonly code = 'TRUNCATED_RESPONSE';
  constructor(what: string, details: Record<string, unknown> = {}) {
    super(`truncated or malformed card response: ${what}`, { what, ...details });
  }
}

/** The card-info AP's data failed its integrity check (CVC, DF33 signature, DF32 digest). */
export class IntegrityCheckFailed extends CardError {
  readonly code = 'INTEGRITY_CHECK_FAILED';
  constructor(why: string, details: Record<string, unknown> = {}) {
    super(`card-info integrity check failed: ${why}`, { why, ...details });
  }
}

/** A caller argument the card layer refuses before touching the card (e.g. a DigestInfo of 300 bytes). */
export class InvalidInput extends CardError {
  readonly code = 'INVALID_INPUT';
  constructor(why: string) {
    super(why, { why });
  }
}

/**
 * A command that would select or read the card-info AP's EF 0001 (the My Number), refused before it
 * is sent: Kakunin never reads the My Number, whatever a caller asks.
 */
export class MyNumberRefused extends CardError {
  readonly code = 'MY_NUMBER_REFUSED';
  constructor(command: 'SELECT EF 0001' | 'READ BINARY of SFI 1') {
    super(`refused: Kakunin never selects or reads the My Number EF (card-info AP EF 0001): ${command}`, { command });
  }
}
