// C2SP signed-note. The PeterNeumann and EnochRoot keys, the signed note and the malformed inputs are
// the test vectors of golang.org/x/mod/sumdb/note (note_test.go); the signed tree heads are real ones
// served by sum.golang.org (go.sum database), checked with its published verifier key.

import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ed25519PrivateKeyFromSeed,
  ed25519Signer,
  NoteError,
  openNote,
  parseVerifierKey,
  signNote,
  verifierKey,
} from '../src/index.js';

const PETER_SKEY_B64 = 'AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz'; // from "PRIVATE+KEY+PeterNeumann+c74f20a3+…": 0x01 || seed
const PETER_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const ENOCH_VKEY = 'EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop';
const TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const PETER_SIG =
  '— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n';
const ENOCH_SIG =
  '— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n';

const peterPrivate = ed25519PrivateKeyFromSeed(Buffer.from(PETER_SKEY_B64, 'base64').subarray(1));
const peter = parseVerifierKey(PETER_VKEY);
const enoch = parseVerifierKey(ENOCH_VKEY);

/** Go's byte-offset splice (peterSig[:60] + "ABCD" + peterSig[60:]): the em dash is 3 bytes in UTF-8. */
const spliceBytes = (s: string, at: number, insert: string): string => {
  const b = Buffer.from(s, 'utf8');
  return Buffer.concat([b.subarray(0, at), Buffer.from(insert), b.subarray(at)]).toString('utf8');
};

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

const code = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (e) {
    if (e instanceof NoteError) return e.code;
    throw e;
  }
  return undefined;
};

describe('verifier keys', () => {
  it('derive the Go vectors from the PeterNeumann seed', () => {
    const signer = ed25519Signer('PeterNeumann', peterPrivate);
    expect(signer.keyId.toString('hex')).toBe('c74f20a3');
    expect(verifierKey('PeterNeumann', peterPrivate)).toBe(PETER_VKEY);
    expect(peter.name).toBe('PeterNeumann');
    expect(peter.keyId.toString('hex')).toBe('c74f20a3');
    expect(enoch.keyId.toString('hex')).toBe('af0cfe78');
  });

  it('refuse every substring and every one-character change of a key (as Go’s TestNewVerifier)', () => {
    const accepted: string[] = [];
    for (let i = 0; i <= PETER_VKEY.length; i++) {
      for (let j = i + 1; j <= PETER_VKEY.length; j++) {
        if (i === 0 && j === PETER_VKEY.length) continue;
        if (code(() => parseVerifierKey(PETER_VKEY.slice(i, j))) !== 'KEY_MALFORMED')
          accepted.push(PETER_VKEY.slice(i, j));
      }
    }
    for (let i = 0; i < PETER_VKEY.length; i++) {
      const changed =
        PETER_VKEY.slice(0, i) + String.fromCharCode(PETER_VKEY.charCodeAt(i) + 1) + PETER_VKEY.slice(i + 1);
      if (code(() => parseVerifierKey(changed)) !== 'KEY_MALFORMED') accepted.push(changed);
    }
    expect(accepted).toEqual([]);
  });

  it('refuse a key of the wrong length and an unknown algorithm, even with a matching key ID', () => {
    expect(
      code(() => parseVerifierKey('PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==')),
    ).toBe('KEY_MALFORMED');
    expect(code(() => parseVerifierKey('PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'))).toBe(
      'KEY_MALFORMED',
    );
  });

  it('refuse junk', () => {
    for (const junk of [
      '',
      '+',
      '++',
      'a+b+c',
      ' PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW',
      `${PETER_VKEY}\n`,
      `${PETER_VKEY} `,
      42,
      null,
      undefined,
      {},
    ]) {
      expect(
        code(() => parseVerifierKey(junk as string)),
        String(junk),
      ).toBe('KEY_MALFORMED');
    }
  });

  it('refuse bad names and keys that are not Ed25519', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    for (const name of ['', 'a b', 'a+b', 'tab\there', 'nbsp\u00a0', 'ideographic\u3000space']) {
      expect(
        code(() => ed25519Signer(name, privateKey)),
        name,
      ).toBe('KEY_MALFORMED');
      expect(
        code(() => verifierKey(name, publicKey)),
        name,
      ).toBe('KEY_MALFORMED');
    }
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(code(() => ed25519Signer('x', ec.privateKey))).toBe('KEY_MALFORMED');
    expect(code(() => ed25519Signer('x', publicKey))).toBe('KEY_MALFORMED');
    expect(code(() => verifierKey('x', ec.publicKey))).toBe('KEY_MALFORMED');
    // A verifier key of a public key equals that of its private key.
    expect(verifierKey('example.com/log', publicKey)).toBe(verifierKey('example.com/log', privateKey));
  });
});

describe('signNote', () => {
  it('gives Go’s signed note exactly (Ed25519 is deterministic)', () => {
    expect(signNote(TEXT, [ed25519Signer('PeterNeumann', peterPrivate)])).toBe(`${TEXT}\n${PETER_SIG}`);
  });

  it('refuses text that does not end in a newline or has control characters, and no signers', () => {
    const s = ed25519Signer('PeterNeumann', peterPrivate);
    expect(code(() => signNote('abc', [s]))).toBe('NOTE_MALFORMED');
    expect(code(() => signNote('', [s]))).toBe('NOTE_MALFORMED');
    expect(code(() => signNote('a\rb\n', [s]))).toBe('NOTE_MALFORMED');
    expect(code(() => signNote('a\u0000\n', [s]))).toBe('NOTE_MALFORMED');
    expect(code(() => signNote('lone \ud800\n', [s]))).toBe('NOTE_MALFORMED');
    expect(code(() => signNote(TEXT, []))).toBe('NOTE_MALFORMED');
  });

  it('signs with several keys and round-trips', () => {
    const a = generateKeyPairSync('ed25519');
    const b = generateKeyPairSync('ed25519');
    const text = 'example.com/log\nsome text\n\nwith a blank line and ünïcödé 確認\n';
    const note = signNote(text, [
      ed25519Signer('example.com/log', a.privateKey),
      ed25519Signer('witness.example/w1', b.privateKey),
    ]);
    const ka = parseVerifierKey(verifierKey('example.com/log', a.publicKey));
    const kb = parseVerifierKey(verifierKey('witness.example/w1', b.publicKey));
    expect(openNote(note, [ka, kb])).toEqual({ text, verifiedBy: ['example.com/log', 'witness.example/w1'] });
    expect(openNote(note, [kb])).toEqual({ text, verifiedBy: ['witness.example/w1'] });
  });
});

describe('openNote (Go’s TestOpen)', () => {
  const both = `${TEXT}\n${PETER_SIG}${ENOCH_SIG}`;

  it('verifies with the known key and ignores the unknown one', () => {
    expect(openNote(both, [peter])).toEqual({ text: TEXT, verifiedBy: ['PeterNeumann'] });
    expect(openNote(both, [peter, enoch])).toEqual({ text: TEXT, verifiedBy: ['PeterNeumann', 'EnochRoot'] });
    expect(openNote(both, [enoch])).toEqual({ text: TEXT, verifiedBy: ['EnochRoot'] });
  });

  it('refuses a note no given key signed (NOTE_UNVERIFIED)', () => {
    expect(code(() => openNote(both, []))).toBe('NOTE_UNVERIFIED');
    const other = parseVerifierKey(verifierKey('PeterNeumann', generateKeyPairSync('ed25519').publicKey));
    expect(code(() => openNote(`${TEXT}\n${PETER_SIG}`, [other]))).toBe('NOTE_UNVERIFIED'); // same name, another key ID: unknown
  });

  it('accepts the same key listed twice, and refuses two different keys with one name and key ID', () => {
    expect(openNote(`${TEXT}\n${ENOCH_SIG}`, [enoch, peter, enoch]).verifiedBy).toEqual(['EnochRoot']);
    const impostor = { ...peter, publicKey: enoch.publicKey };
    expect(code(() => openNote(`${TEXT}\n${PETER_SIG}`, [peter, impostor]))).toBe('KEY_MALFORMED');
    expect(openNote(`${TEXT}\n${ENOCH_SIG}`, [peter, impostor, enoch]).verifiedBy).toEqual(['EnochRoot']); // unused: no matter
  });

  it('refuses more than 100 signatures', () => {
    expect(code(() => openNote(`${TEXT}\n${PETER_SIG.repeat(101)}`, [peter]))).toBe('NOTE_MALFORMED');
    expect(code(() => openNote(`${TEXT}\n${PETER_SIG.repeat(101)}`, []))).toBe('NOTE_MALFORMED');
    expect(openNote(`${TEXT}\n${PETER_SIG.repeat(16)}`, [peter]).verifiedBy).toEqual(['PeterNeumann']);
  });

  it('refuses a bad signature by a known key even beside a good one', () => {
    const bad = spliceBytes(PETER_SIG, 60, 'ABCD');
    expect(code(() => openNote(`${TEXT}\n${bad}`, [peter]))).toBe('NOTE_UNVERIFIED');
    expect(code(() => openNote(`${TEXT}\n${ENOCH_SIG}${bad}`, [peter, enoch]))).toBe('NOTE_UNVERIFIED');
    // Duplicated signatures and a bad one by an unknown key are ignored.
    const badEnoch = spliceBytes(ENOCH_SIG, 60, 'ABCD');
    expect(openNote(`${TEXT}\n${PETER_SIG}${PETER_SIG}${ENOCH_SIG}${ENOCH_SIG}${badEnoch}`, [peter])).toEqual({
      text: TEXT,
      verifiedBy: ['PeterNeumann'],
    });
  });

  it('refuses an altered text', () => {
    expect(code(() => openNote(`${TEXT.replace('cryptography', 'cryptographY')}\n${PETER_SIG}`, [peter]))).toBe(
      'NOTE_UNVERIFIED',
    );
    expect(code(() => openNote(`extra line\n${TEXT}\n${PETER_SIG}`, [peter]))).toBe('NOTE_UNVERIFIED');
  });

  it('ignores a signature whose name or key ID does not match the key', () => {
    expect(code(() => openNote(`${TEXT}\n${PETER_SIG.replace('PeterNeumann', 'CarmenSandiego')}`, [peter]))).toBe(
      'NOTE_UNVERIFIED',
    );
    expect(code(() => openNote(`${TEXT}\n${PETER_SIG.replace('x08g', 'xxxx')}`, [peter]))).toBe('NOTE_UNVERIFIED');
  });

  it('refuses malformed notes (NOTE_MALFORMED)', () => {
    const bad = [
      TEXT, // no blank line, no signature
      `${TEXT}\n`, // no signature
      `${TEXT}\n${PETER_SIG.slice(0, -1)}`, // no final newline
      `\u0001${TEXT}\n${PETER_SIG}`,
      `\ud800${TEXT}\n${PETER_SIG}`, // not encodable as UTF-8
      `${TEXT}\n— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=`,
      `${TEXT}\n${PETER_SIG}Unexpected line.\n`,
      `${TEXT}${PETER_SIG}`, // the blank line is missing
      `${TEXT}\n${PETER_SIG.replace('x08go/', 'x08go!')}`, // bad base64
      `${TEXT}\n${PETER_SIG.replace('=\n', '\n')}`, // base64 without its padding
      `${TEXT}\n${PETER_SIG.replace('— ', '-- ')}`,
      `${TEXT}\n${PETER_SIG.replace('— ', '—')}`,
      `${TEXT}\n— PeterNeumann  x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`,
      `${TEXT}\n— PeterNeumann x08g\n`, // a key ID and no signature
      `${TEXT.replace('\n', '\r\n')}\n${PETER_SIG}`,
      `${TEXT}\n${PETER_SIG}\n`,
    ];
    for (const note of bad)
      expect(
        code(() => openNote(note, [peter])),
        JSON.stringify(note),
      ).toBe('NOTE_MALFORMED');
    expect(code(() => openNote(42 as unknown as string, [peter]))).toBe('NOTE_MALFORMED');
  });

  it('refuses every one-character deletion or change of a signed note', () => {
    const note = `${TEXT}\n${PETER_SIG}`;
    const accepted: string[] = [];
    for (let i = 0; i < note.length; i++) {
      for (const changed of [
        note.slice(0, i) + note.slice(i + 1),
        note.slice(0, i) + (note[i] === 'A' ? 'B' : 'A') + note.slice(i + 1),
      ]) {
        if (code(() => openNote(changed, [peter])) === undefined) accepted.push(changed);
      }
    }
    expect(accepted).toEqual([]);
  });

  it('never throws anything but NoteError on random input', () => {
    fc.assert(
      fc.property(hostile(200), fc.string({ maxLength: 40 }), (junk, tail) => {
        for (const note of [
          junk,
          `${TEXT}\n${junk}`,
          `${junk}\n\n— PeterNeumann ${tail}\n`,
          `${TEXT}\n${PETER_SIG}${junk}`,
        ]) {
          const c = code(() => openNote(note, [peter]));
          if (c === undefined)
            expect(note).toBe(`${TEXT}\n${PETER_SIG}`); // junk = ''
          else expect(['NOTE_MALFORMED', 'NOTE_UNVERIFIED']).toContain(c);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('real signed tree heads of sum.golang.org', () => {
  const SUMDB_KEY = 'sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8';
  const heads = [
    'go.sum database tree\n3784599\n7uvxIZ67TZygcq/AehTD8iHYt81Ih+Zl2Y7vXZbfszQ=\n\n— sum.golang.org Az3grn972wXskjQrsZhVGc93fTU2uOsmSTiId1Wn1lxDCup5z4ggl1/4gaUqOkMa6cMbYvjB7hn7yemNr7Zqanol/go=\n',
    'go.sum database tree\n15368405\n/g9am3I6YWNKaZX/jkne1fqd9zEyjss+JXyPXG0WfkY=\n\n— sum.golang.org Az3grqJGUaSGukG9p8nI2vKgiFn7qGHxn0W+mrwyI6Gz3F0t1J3LzmWk/p96Ybf295EjwdSwlzgijq5WA9d1Ded7owM=\n',
    'go.sum database tree\n63512409\nF7eHRPqN/cqPtqti14NKdGGaI1Giw8coWP3KxihFZbg=\n\n— sum.golang.org Az3gri1OBHKT87Xj8UXU8zjoHGy/X+7Nl94f8TZkELVaasolmGApUsWqwVG9vE6hgqYb/ph/w2vdkLIVRH7bMB/FPQ4=\n',
  ];

  it('verify with the published key', () => {
    const key = parseVerifierKey(SUMDB_KEY);
    for (const head of heads)
      expect(openNote(head, [key])).toEqual({
        text: head.slice(0, head.indexOf('\n\n') + 1),
        verifiedBy: ['sum.golang.org'],
      });
    expect(code(() => openNote(heads[0]!.replace('3784599', '3784598'), [key]))).toBe('NOTE_UNVERIFIED');
  });
});
