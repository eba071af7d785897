// The closed list of error codes against the advice table, at run time: a code that reached a class
// through an `as` cast, or a table entry for a code nobody raises, fails here even if it compiles.
import { describe, expect, it } from 'vitest';
import * as card from '@kakunin/card';
import * as jpki from '@kakunin/jpki';
import { ERROR_ADVICE, ERROR_CODES, adviceFor, isErrorCode } from '../src/index.js';

/** A value every typed error's constructor accepts: a Date (toISOString) that reads as text. */
const anything = Object.assign(new Date(0), { toString: () => 'x' });

type Coded = Error & { code: string };

/** One instance of every error class a package exports whose prototype `isBase` recognises. */
function instancesOf(exports: Record<string, unknown>, isBase: (prototype: unknown) => boolean): Coded[] {
  return Object.values(exports)
    .filter((v) => typeof v === 'function' && isBase(v.prototype))
    .map((C) => Reflect.construct(C as () => void, Array(6).fill(anything)) as Coded);
}

describe('error codes and their advice', () => {
  it('every code has advice in both languages, and the table has no code outside the list', () => {
    expect(new Set(ERROR_CODES).size).toBe(ERROR_CODES.length);
    for (const code of ERROR_CODES) {
      const a = ERROR_ADVICE[code];
      expect(a, code).toBeDefined();
      expect(
        [...a.title, ...a.next].every((t) => t.length > 0),
        code,
      ).toBe(true);
      expect(adviceFor(code)).toBe(a);
    }
    expect(Object.keys(ERROR_ADVICE).sort()).toEqual([...ERROR_CODES].sort());
  });

  it('the code of every JPKI and card error class is on the list, so none falls back to generic words', () => {
    const errors = [...instancesOf(jpki, jpki.isJpkiError), ...instancesOf(card, card.isCardError)];
    expect(errors.length).toBe(jpki.JPKI_ERROR_CODES.length + card.CARD_ERROR_CODES.length);
    for (const e of errors) expect(isErrorCode(e.code), e.name).toBe(true);
    expect(new Set(errors.map((e) => e.code)).size).toBe(errors.length);
  });

  it('codes from outside that are not ours get the generic advice', () => {
    expect(isErrorCode('FST_ERR_CTP_INVALID_MEDIA_TYPE')).toBe(false);
    expect(adviceFor('FST_ERR_CTP_INVALID_MEDIA_TYPE').title).toEqual(['確認できませんでした', 'Verification failed']);
    expect(adviceFor('OCSP_NONCE_MISMATCH').title[1]).toBe('The revocation answer could not be trusted');
  });
});
