// C2SP tlog-checkpoint (c2sp.org/tlog-checkpoint): a signed note whose text is
//
//   <origin>\n<tree size, decimal>\n<base64 root hash>\n[<extension line>\n ...]

import { CheckpointError, NoteError } from './errors.js';
import { HASH_SIZE } from './hashing.js';
import { openNote, parseVerifierKey, signNote, type NoteSigner, type VerifierKey } from './note.js';
import { isCount } from './numbers.js';
import { decodeBase64, hasControl, isWellFormed } from './text.js';

export interface Checkpoint {
  origin: string;
  size: number;
  root: Buffer;
  extensions: string[];
}

const malformed = (why: string): CheckpointError =>
  new CheckpointError('CHECKPOINT_MALFORMED', `malformed checkpoint: ${why}`);

function checkLine(line: unknown, what: string): asserts line is string {
  if (typeof line !== 'string' || line.length === 0) throw malformed(`the ${what} is empty`);
  if (line.includes('\n') || hasControl(line) || !isWellFormed(line))
    throw malformed(`the ${what} has a newline, a control character or invalid UTF-8`);
}

export function formatCheckpoint(c: Checkpoint): string {
  checkLine(c.origin, 'origin');
  if (!isCount(c.size)) throw malformed(`the tree size ${String(c.size)} is not a whole number from 0 to 2^53`);
  if (!(c.root instanceof Uint8Array) || c.root.length !== HASH_SIZE)
    throw malformed(`the root is not a ${HASH_SIZE}-byte hash`);
  const extensions = c.extensions ?? [];
  extensions.forEach((e) => checkLine(e, 'extension line'));
  return `${c.origin}\n${c.size}\n${Buffer.from(c.root).toString('base64')}\n${extensions.map((e) => `${e}\n`).join('')}`;
}

/** Parses a checkpoint body; CheckpointError('CHECKPOINT_MALFORMED') for anything not exactly per the spec. */
export function parseCheckpoint(text: string): Checkpoint {
  if (typeof text !== 'string' || !text.endsWith('\n')) throw malformed('the text does not end with a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) throw malformed('fewer than three lines (origin, size, root)');
  const [origin, sizeLine, rootLine, ...extensions] = lines as [string, string, string, ...string[]];
  checkLine(origin, 'origin');
  if (!/^(0|[1-9][0-9]*)$/.test(sizeLine))
    throw malformed(`the tree size ${JSON.stringify(sizeLine.slice(0, 30))} is not decimal without leading zeros`);
  const size = Number(sizeLine);
  if (!Number.isSafeInteger(size)) throw malformed(`the tree size ${sizeLine.slice(0, 30)} is beyond 2^53`);
  const root = decodeBase64(rootLine);
  if (!root || root.length !== HASH_SIZE) throw malformed(`the root hash is not the base64 of ${HASH_SIZE} bytes`);
  extensions.forEach((e) => checkLine(e, 'extension line'));
  return { origin, size, root, extensions };
}

export function signCheckpoint(c: Checkpoint, signer: NoteSigner): string {
  return signNote(formatCheckpoint(c), [signer]);
}

/**
 * Verifies a signed checkpoint with the log's key (a verifier key string or a parsed one) and, when
 * given, that it is of the expected origin. NoteError (signature, key) or CheckpointError (body, origin).
 */
export function openCheckpoint(
  note: string,
  key: string | VerifierKey,
  expectedOrigin?: string,
): Checkpoint & { note: string } {
  const k = typeof key === 'string' ? parseVerifierKey(key) : key;
  if (!k || typeof k !== 'object') throw new NoteError('KEY_MALFORMED', 'no verifier key');
  const { text } = openNote(note, [k]);
  const checkpoint = parseCheckpoint(text);
  if (expectedOrigin !== undefined && checkpoint.origin !== expectedOrigin) {
    throw new CheckpointError(
      'CHECKPOINT_ORIGIN_MISMATCH',
      `the checkpoint is of log ${JSON.stringify(checkpoint.origin)}, not ${JSON.stringify(expectedOrigin)}`,
    );
  }
  return { ...checkpoint, note };
}
