// Typed errors: every refusal of bad input carries a stable `code`, so callers (server answers, CLI
// exit codes) never parse messages. All share TlogError, to catch "anything this package refused".

export abstract class TlogError extends Error {
  abstract readonly code: string;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A proof that cannot be parsed (MALFORMED) or that does not prove the claim (INVALID). */
export class ProofError extends TlogError {
  readonly code: 'PROOF_INVALID' | 'PROOF_MALFORMED';
  constructor(code: 'PROOF_INVALID' | 'PROOF_MALFORMED', message: string) {
    super(message);
    this.code = code;
  }
}

/** A signed note that is malformed, that no given key verifies, or a malformed verifier key. */
export class NoteError extends TlogError {
  readonly code: 'NOTE_MALFORMED' | 'NOTE_UNVERIFIED' | 'KEY_MALFORMED';
  constructor(code: 'NOTE_MALFORMED' | 'NOTE_UNVERIFIED' | 'KEY_MALFORMED', message: string) {
    super(message);
    this.code = code;
  }
}

/** A checkpoint body not exactly per c2sp.org/tlog-checkpoint, or of another log than expected. */
export class CheckpointError extends TlogError {
  readonly code: 'CHECKPOINT_MALFORMED' | 'CHECKPOINT_ORIGIN_MISMATCH';
  constructor(code: 'CHECKPOINT_MALFORMED' | 'CHECKPOINT_ORIGIN_MISMATCH', message: string) {
    super(message);
    this.code = code;
  }
}

/** Tree arguments that name nothing: an index or size out of range, a hash or edge of the wrong shape. */
export class TreeError extends TlogError {
  readonly code: 'INDEX_OUT_OF_RANGE' | 'HASH_MALFORMED' | 'EDGE_MALFORMED';
  constructor(code: 'INDEX_OUT_OF_RANGE' | 'HASH_MALFORMED' | 'EDGE_MALFORMED', message: string) {
    super(message);
    this.code = code;
  }
}
