// Typed simulator errors: one class per failure with a stable `code`, so the CLI and tests never
// match on message text.

export type SimErrorCode =
  | 'SANDBOX_NOT_FOUND'
  | 'SANDBOX_CORRUPT'
  | 'SANDBOX_EXISTS'
  | 'SANDBOX_LOCKED'
  | 'UNKNOWN_PERSON'
  | 'UNKNOWN_ISSUER'
  | 'NO_SUCH_CERTIFICATE'
  | 'INVALID_EVENT'
  | 'INVALID_INPUT';

export abstract class SimError extends Error {
  abstract readonly code: SimErrorCode;
  readonly details: Readonly<Record<string, unknown>>;

  protected constructor(message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = new.target.name;
    this.details = details;
  }
}

export class SandboxNotFound extends SimError {
  readonly code = 'SANDBOX_NOT_FOUND';
  constructor(dir: string) {
    super(`no simulator sandbox at ${dir} (create one with initSandbox / "kakunin sim init")`, { dir });
  }
}

export class SandboxCorrupt extends SimError {
  readonly code = 'SANDBOX_CORRUPT';
  constructor(dir: string, reason: string) {
    super(`the simulator sandbox at ${dir} is unreadable: ${reason}`, { dir, reason });
  }
}

export class SandboxExists extends SimError {
  readonly code = 'SANDBOX_EXISTS';
  constructor(dir: string) {
    super(`a simulator sandbox already exists at ${dir} (pass force to replace it)`, { dir });
  }
}

export class SandboxLocked extends SimError {
  readonly code = 'SANDBOX_LOCKED';
  constructor(dir: string, holder: string) {
    super(`the simulator sandbox at ${dir} is being changed by another process (${holder})`, { dir, holder });
  }
}

export class UnknownPerson extends SimError {
  readonly code = 'UNKNOWN_PERSON';
  constructor(personId: string) {
    super(`no simulated person "${personId}"`, { personId });
  }
}

export class UnknownIssuer extends SimError {
  readonly code = 'UNKNOWN_ISSUER';
  constructor(what: string) {
    super(`no simulator CA matches ${what}`, { what });
  }
}

export class NoSuchCertificate extends SimError {
  readonly code = 'NO_SUCH_CERTIFICATE';
  constructor(what: string, why: string) {
    super(`no certificate ${what}: ${why}`, { what, why });
  }
}

export class InvalidEvent extends SimError {
  readonly code = 'INVALID_EVENT';
  constructor(reason: string, details: Record<string, unknown> = {}) {
    super(`invalid life event: ${reason}`, { reason, ...details });
  }
}

export class InvalidInput extends SimError {
  readonly code = 'INVALID_INPUT';
  constructor(reason: string, details: Record<string, unknown> = {}) {
    super(`invalid input: ${reason}`, { reason, ...details });
  }
}

export function isSimError(e: unknown): e is SimError {
  return e instanceof SimError;
}
