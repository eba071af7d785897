// C2SP signed-note (c2sp.org/signed-note) with Ed25519 signatures (signature type 0x01):
//
//   <text ending in "\n">
//   <blank line>
//   — <key name> base64(4-byte key ID || signature)
//
// Key ID = SHA-256(name || "\n" || 0x01 || 32-byte public key)[:4]. A verifier key is written
// "<name>+<8 hex key ID>+<base64(0x01 || public key)>" (the golang.org/x/mod/sumdb/note format).

import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { NoteError } from './errors.js';
import { decodeBase64, hasControl, isWellFormed } from './text.js';

const ED25519 = 0x01;
const SIG_PREFIX = '\u2014 ';
// The spec asks verifiers to accept at least 16 signatures and to cap them; 100 as Go does.
const MAX_SIGNATURES = 100;
// Checkpoints are a few hundred bytes; a cap keeps hostile input cheap.
const MAX_NOTE_LENGTH = 1 << 20;

export interface NoteSigner {
  name: string;
  /** 4 bytes. */
  keyId: Buffer;
  sign(message: Buffer): Buffer;
}

export interface VerifierKey {
  name: string;
  keyId: Buffer;
  publicKey: KeyObject;
}

/** Key names: non-empty, no Unicode space, no '+' (which separates the parts of a verifier key). */
export function isValidKeyName(name: unknown): name is string {
  return (
    typeof name === 'string' && name.length > 0 && !/[\s\u0085+]/u.test(name) && !hasControl(name) && isWellFormed(name)
  );
}

function ed25519Raw(key: KeyObject): Buffer {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  const x = pub.export({ format: 'jwk' }).x;
  if (typeof x !== 'string') throw new NoteError('KEY_MALFORMED', 'not an Ed25519 key');
  return Buffer.from(x, 'base64url');
}

function checkEd25519(key: unknown, types: readonly string[]): asserts key is KeyObject {
  const k = key as KeyObject | undefined;
  if (!k || typeof k !== 'object' || k.asymmetricKeyType !== 'ed25519' || !types.includes(k.type)) {
    throw new NoteError('KEY_MALFORMED', `not an Ed25519 ${types.join(' or ')} key`);
  }
}

function checkName(name: unknown): asserts name is string {
  if (!isValidKeyName(name))
    throw new NoteError('KEY_MALFORMED', `key name ${JSON.stringify(name)} is empty or has a space or '+'`);
}

export function ed25519KeyId(name: string, publicKey: Uint8Array): Buffer {
  const digest = createHash('sha256')
    .update(name, 'utf8')
    .update('\n')
    .update(Buffer.from([ED25519]))
    .update(publicKey)
    .digest();
  return Buffer.from(digest.subarray(0, 4));
}

export function ed25519Signer(name: string, privateKey: KeyObject): NoteSigner {
  checkName(name);
  checkEd25519(privateKey, ['private']);
  const keyId = ed25519KeyId(name, ed25519Raw(privateKey));
  return { name, keyId, sign: (message) => sign(null, message, privateKey) };
}

/** "<name>+<8 hex key ID>+<base64(0x01 || 32-byte key)>"; a private key gives its public half's. */
export function verifierKey(name: string, publicKey: KeyObject): string {
  checkName(name);
  checkEd25519(publicKey, ['public', 'private']);
  const raw = ed25519Raw(publicKey);
  return `${name}+${ed25519KeyId(name, raw).toString('hex')}+${Buffer.concat([Buffer.from([ED25519]), raw]).toString('base64')}`;
}

/** Parses a verifier key; NoteError('KEY_MALFORMED') for anything malformed, including a key ID that is not the key's. */
export function parseVerifierKey(text: string): VerifierKey {
  const bad = (why: string): NoteError => new NoteError('KEY_MALFORMED', `malformed verifier key: ${why}`);
  if (typeof text !== 'string' || text.length > 1000) throw bad('not a short string');
  // The name has no '+', the key ID is 8 hex digits; the base64 after them may itself contain '+'.
  const m = /^([^+]*)\+([0-9a-fA-F]{8})\+(.*)$/s.exec(text);
  if (!m) throw bad('not <name>+<key id>+<key>');
  const [, name, hex, b64] = m as unknown as [string, string, string, string];
  if (!isValidKeyName(name)) throw bad('the name is empty or has a space');
  const bytes = decodeBase64(b64);
  if (!bytes) throw bad('the key is not base64');
  if (bytes.length !== 33 || bytes[0] !== ED25519) throw bad('not an Ed25519 key (0x01 and 32 bytes)');
  const raw = bytes.subarray(1);
  const keyId = ed25519KeyId(name, raw);
  if (keyId.toString('hex') !== hex.toLowerCase())
    throw bad(`the key ID ${hex} is not this key's (${keyId.toString('hex')})`);
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
  } catch {
    throw bad('not a usable Ed25519 public key');
  }
  return { name, keyId, publicKey };
}

function checkText(text: unknown, err: (why: string) => NoteError): asserts text is string {
  if (typeof text !== 'string' || text.length === 0 || !text.endsWith('\n'))
    throw err('the text must end with a newline');
  if (hasControl(text)) throw err('control characters other than newline');
  if (!isWellFormed(text)) throw err('not valid UTF-8 (a lone surrogate)');
}

/** Signs `text` (which must end with "\n") with each signer: text, a blank line, one signature line each. */
export function signNote(text: string, signers: readonly NoteSigner[]): string {
  checkText(text, (why) => new NoteError('NOTE_MALFORMED', `cannot sign: ${why}`));
  if (!Array.isArray(signers) || signers.length === 0) throw new NoteError('NOTE_MALFORMED', 'cannot sign: no signer');
  const message = Buffer.from(text, 'utf8');
  const lines = signers.map((s) => {
    checkName(s.name);
    if (!(s.keyId instanceof Uint8Array) || s.keyId.length !== 4)
      throw new NoteError('KEY_MALFORMED', `signer ${s.name}: the key ID is not 4 bytes`);
    const sig = Buffer.concat([s.keyId, s.sign(message)]).toString('base64');
    return `${SIG_PREFIX}${s.name} ${sig}\n`;
  });
  return `${text}\n${lines.join('')}`;
}

/**
 * Opens a signed note with trusted keys: returns its text and the names of the keys that verified it.
 * Signatures by unknown keys (name and key ID not both matching a given key) are ignored, as the spec
 * says; a signature by a known key that does not verify rejects the whole note (NOTE_UNVERIFIED), as
 * does a note with no verifying signature. NOTE_MALFORMED for anything not exactly per the spec.
 */
export function openNote(note: string, keys: readonly VerifierKey[]): { text: string; verifiedBy: string[] } {
  const malformed = (why: string): NoteError => new NoteError('NOTE_MALFORMED', `malformed note: ${why}`);
  if (typeof note !== 'string') throw malformed('not a string');
  if (note.length > MAX_NOTE_LENGTH) throw malformed(`longer than ${MAX_NOTE_LENGTH} characters`);
  if (!Array.isArray(keys)) throw new NoteError('KEY_MALFORMED', 'the keys are not an array');
  // The text is separated from the signatures by the last blank line (the text may hold blank lines).
  const split = note.lastIndexOf('\n\n');
  if (split < 0) throw malformed('no blank line before the signatures');
  const text = note.slice(0, split + 1);
  const sigBlock = note.slice(split + 2);
  checkText(text, malformed);
  if (hasControl(sigBlock) || !isWellFormed(sigBlock))
    throw malformed('control characters or invalid UTF-8 in the signatures');
  if (sigBlock.length === 0 || !sigBlock.endsWith('\n'))
    throw malformed('no signature lines, or the last one does not end with a newline');
  const lines = sigBlock.slice(0, -1).split('\n');
  if (lines.length > MAX_SIGNATURES) throw malformed(`more than ${MAX_SIGNATURES} signatures`);

  const message = Buffer.from(text, 'utf8');
  const verifiedBy: string[] = [];
  for (const line of lines) {
    if (!line.startsWith(SIG_PREFIX))
      throw malformed(`a signature line does not start with "— ": ${JSON.stringify(line.slice(0, 40))}`);
    const rest = line.slice(SIG_PREFIX.length);
    const space = rest.indexOf(' ');
    const name = space < 0 ? '' : rest.slice(0, space);
    if (!isValidKeyName(name)) throw malformed(`bad key name in signature line ${JSON.stringify(line.slice(0, 40))}`);
    const sig = decodeBase64(rest.slice(space + 1));
    if (!sig || sig.length < 5) throw malformed(`the signature of ${name} is not base64 of a key ID and a signature`);
    const keyId = sig.subarray(0, 4);
    const matching = keys.filter((k) => k.name === name && Buffer.compare(k.keyId, keyId) === 0);
    if (matching.length === 0) continue;
    const distinct = new Set(matching.map((k) => ed25519Raw(k.publicKey).toString('hex')));
    if (distinct.size > 1)
      throw new NoteError(
        'KEY_MALFORMED',
        `ambiguous key ${name}+${keyId.toString('hex')}: two different keys have this name and key ID`,
      );
    if (!verifyEd25519(matching[0]!.publicKey, message, sig.subarray(4))) {
      throw new NoteError('NOTE_UNVERIFIED', `invalid signature for key ${name}+${keyId.toString('hex')}`);
    }
    if (!verifiedBy.includes(name)) verifiedBy.push(name);
  }
  if (verifiedBy.length === 0)
    throw new NoteError(
      'NOTE_UNVERIFIED',
      `the note has no signature by a given key (${keys.map((k) => k.name).join(', ') || 'none given'})`,
    );
  return { text, verifiedBy };
}

function verifyEd25519(publicKey: KeyObject, message: Buffer, signature: Buffer): boolean {
  if (signature.length !== 64) return false;
  try {
    return verify(null, message, publicKey, signature);
  } catch {
    return false;
  }
}

/** An Ed25519 private key from its 32-byte seed (RFC 8032), e.g. as stored by golang.org/x/mod/sumdb/note. */
export function ed25519PrivateKeyFromSeed(seed: Uint8Array): KeyObject {
  if (!(seed instanceof Uint8Array) || seed.length !== 32)
    throw new NoteError('KEY_MALFORMED', 'an Ed25519 seed is 32 bytes');
  // PKCS#8 PrivateKeyInfo for id-Ed25519 (1.3.101.112) wrapping the seed.
  const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
}
