// C2SP tlog-checkpoint. The golden body is golang.org/x/mod sumdb/tlog's TestFormatTree (a tree of
// 123456789012 records whose hash is RecordHash("hello world") = SHA-256(0x00 || "hello world")); the
// other example is the one of the spec (c2sp.org/tlog-checkpoint).

import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CheckpointError,
  ed25519Signer,
  formatCheckpoint,
  leafHash,
  NoteError,
  openCheckpoint,
  parseCheckpoint,
  parseVerifierKey,
  signCheckpoint,
  signNote,
  verifierKey,
} from '../src/index.js';

const GOLDEN = 'go.sum database tree\n123456789012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n';
const SPEC = 'example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n';

/** Hostile text: any UTF-16 code units (lone surrogates included), biased to the characters the formats use. */
const hostile = (maxLength: number): fc.Arbitrary<string> =>
  fc
    .array(
      fc.oneof(
        fc.constantFrom(
          '\n',
          '\n\n',
          '— ',
          ' ',
          '+',
          '=',
          'A',
          '0',
          '1',
          '9',
          '/',
          '\u2014',
          '\ud800',
          '\r',
          '\u0000',
          '\u00a0',
        ),
        fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
      ),
      { maxLength },
    )
    .map((parts) => parts.join(''));

const errorCode = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (e) {
    if (e instanceof CheckpointError || e instanceof NoteError) return e.code;
    throw e;
  }
  return undefined;
};

describe('checkpoint text', () => {
  it('formats and parses the golden body', () => {
    const c = {
      origin: 'go.sum database tree',
      size: 123456789012,
      root: leafHash(Buffer.from('hello world')),
      extensions: [],
    };
    expect(formatCheckpoint(c)).toBe(GOLDEN);
    expect(parseCheckpoint(GOLDEN)).toEqual(c);
    expect(parseCheckpoint(SPEC)).toMatchObject({
      origin: 'example.com/behind-the-sofa',
      size: 20852163,
      extensions: [],
    });
  });

  it('keeps extension lines', () => {
    const c = { origin: 'example.com/log', size: 0, root: Buffer.alloc(32), extensions: ['ext one', 'two'] };
    const text = formatCheckpoint(c);
    expect(text).toBe('example.com/log\n0\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\next one\ntwo\n');
    expect(parseCheckpoint(text)).toEqual(c);
  });

  it('refuses anything not exactly per the spec', () => {
    const root = 'TszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=';
    const bad = [
      '',
      'go.sum database tree\n123456789012\n' + root, // no final newline
      'go.sum database tree\n123456789012\n',
      '\n123456789012\n' + root + '\n', // empty origin
      'go.sum database tree\n0xabcdef\n' + root + '\n',
      'go.sum database tree\n0123\n' + root + '\n', // a leading zero
      'go.sum database tree\n00\n' + root + '\n',
      'go.sum database tree\n+5\n' + root + '\n',
      'go.sum database tree\n-5\n' + root + '\n',
      'go.sum database tree\n 5\n' + root + '\n',
      'go.sum database tree\n5.0\n' + root + '\n',
      'go.sum database tree\n1e3\n' + root + '\n',
      'go.sum database tree\n١٢\n' + root + '\n', // not ASCII digits
      'go.sum database tree\n9007199254740992\n' + root + '\n', // beyond 2^53
      'go.sum database tree\n123456789012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBTOOBIG=\n',
      'go.sum database tree\n123456789012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0\n', // no padding
      'go.sum database tree\n123456789012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb1=\n', // non-canonical
      'go.sum database tree\n123456789012\nTszzRgjTG6xce-z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n', // base64url
      'go.sum database tree\n123456789012\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n', // 30 bytes
      'go.sum database tree\n123456789012\n' + root + '\n\n', // an empty extension line
      'go.sum database tree\n123456789012\n' + root + '\next\n\n',
      'go.sum database tree\r\n123456789012\r\n' + root + '\r\n',
      'go.sum\u0000tree\n123456789012\n' + root + '\n',
    ];
    for (const text of bad)
      expect(
        errorCode(() => parseCheckpoint(text)),
        JSON.stringify(text),
      ).toBe('CHECKPOINT_MALFORMED');
    expect(errorCode(() => parseCheckpoint(undefined as unknown as string))).toBe('CHECKPOINT_MALFORMED');
  });

  it('refuses to format a checkpoint it could not parse back', () => {
    const ok = { origin: 'o', size: 1, root: Buffer.alloc(32), extensions: [] };
    for (const c of [
      { origin: '' },
      { origin: 'a\nb' },
      { size: -1 },
      { size: 1.5 },
      { size: 2 ** 53 },
      { root: Buffer.alloc(31) },
      { extensions: [''] },
      { extensions: ['a\nb'] },
    ]) {
      expect(
        errorCode(() => formatCheckpoint({ ...ok, ...c })),
        JSON.stringify(c),
      ).toBe('CHECKPOINT_MALFORMED');
    }
  });

  it('parses what it formats, and never throws anything but CheckpointError', () => {
    const line = fc.string({ minLength: 1, maxLength: 20 }).filter((s) => [...s].every((ch) => ch >= ' '));
    fc.assert(
      fc.property(
        line,
        fc.maxSafeNat(),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.array(line, { maxLength: 3 }),
        (origin, size, root, extensions) => {
          const c = { origin, size, root: Buffer.from(root), extensions };
          expect(parseCheckpoint(formatCheckpoint(c))).toEqual(c);
        },
      ),
    );
    fc.assert(
      fc.property(hostile(80), (junk) => {
        for (const text of [junk, `o\n${junk}\n`, `${GOLDEN}${junk}`]) {
          try {
            parseCheckpoint(text);
          } catch (e) {
            expect(e).toBeInstanceOf(CheckpointError);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('signed checkpoints', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const origin = 'kakunin.example/log';
  const key = verifierKey(origin, publicKey);
  const c = { origin, size: 42, root: leafHash(Buffer.from('x')), extensions: [] };
  const note = signCheckpoint(c, ed25519Signer(origin, privateKey));

  it('opens with the key (a string or parsed) and the expected origin', () => {
    expect(note.startsWith(formatCheckpoint(c) + '\n— kakunin.example/log ')).toBe(true);
    expect(openCheckpoint(note, key)).toEqual({ ...c, note });
    expect(openCheckpoint(note, parseVerifierKey(key), origin)).toEqual({ ...c, note });
  });

  it('refuses another origin, another key, an altered body and a malformed body', () => {
    expect(errorCode(() => openCheckpoint(note, key, 'other.example/log'))).toBe('CHECKPOINT_ORIGIN_MISMATCH');
    const other = generateKeyPairSync('ed25519');
    expect(errorCode(() => openCheckpoint(note, verifierKey(origin, other.publicKey)))).toBe('NOTE_UNVERIFIED');
    expect(errorCode(() => openCheckpoint(note.replace('\n42\n', '\n43\n'), key))).toBe('NOTE_UNVERIFIED');
    expect(errorCode(() => openCheckpoint(note, 'not a key'))).toBe('KEY_MALFORMED');
    // A validly signed note whose text is no checkpoint.
    const notCheckpoint = signNote(`${origin}\n042\n${c.root.toString('base64')}\n`, [
      ed25519Signer(origin, privateKey),
    ]);
    expect(errorCode(() => openCheckpoint(notCheckpoint, key))).toBe('CHECKPOINT_MALFORMED');
  });

  it('ignores a witness cosignature by an unknown key', () => {
    const witness = generateKeyPairSync('ed25519');
    const cosigned = signNote(formatCheckpoint(c), [
      ed25519Signer(origin, privateKey),
      ed25519Signer('witness.example', witness.privateKey),
    ]);
    expect(openCheckpoint(cosigned, key, origin).size).toBe(42);
  });
});
