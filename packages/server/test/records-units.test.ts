// The pure parts of the record store: citations by date, retention arithmetic, canonical JSON and
// the My Number guard, CSV cells, and the 確認記録 payload.
import { describe, expect, it } from 'vitest';
import { myNumberCheckDigit } from '@kakunin/card';
import {
  canonicalJson,
  citationFor,
  csvCell,
  guardPayload,
  maskMyNumbers,
  recordHash,
  retentionCutoff,
  retentionEnd,
  verificationPayload,
  CITATIONS,
  GENESIS_HASH,
  type VerificationRecordInput,
} from '../src/records/index.js';
import { view } from './support/records.js';

const jst = (s: string): Date => new Date(`${s}+09:00`);

describe('citations', () => {
  it('jpki_signature under jp_aml: ワ until 2027-03-31 (JST), the unconfirmed post-amendment letter from 2027-04-01', () => {
    const before = citationFor('jpki_signature', 'jp_aml', jst('2027-03-31T23:59:59'));
    expect(before).toMatchObject({
      article: '第6条第1項第1号',
      item: 'ワ',
      confidence: 'confirmed',
      effectiveFrom: '2020-04-01',
      effectiveTo: '2027-04-01',
    });
    const after = citationFor('jpki_signature', 'jp_aml', jst('2027-04-01T00:00:00'));
    expect(after).toMatchObject({
      article: '第6条第1項第1号',
      confidence: 'unconfirmed',
      effectiveFrom: '2027-04-01',
      effectiveTo: null,
    });
    expect(after.item).not.toBe('ワ');
    // 2027-03-31T15:00Z is already 1 April in Japan.
    expect(citationFor('jpki_signature', 'jp_aml', new Date('2027-03-31T15:00:00Z')).effectiveFrom).toBe('2027-04-01');
    expect(citationFor('jpki_signature', 'jp_aml', new Date('2027-03-31T14:59:59Z')).item).toBe('ワ');
  });

  it('authentication is never a 犯収法 KYC method; 携帯法 and municipal frameworks get their own citations', () => {
    for (const fw of ['jp_aml', 'jp_mpiupa', 'jp_municipal']) {
      const c = citationFor('jpki_user_authentication', fw, jst('2026-06-01T12:00:00'));
      expect(c.law).toContain('公的個人認証法');
      expect(c.textJa).toContain('利用者証明用電子証明書');
    }
    expect(citationFor('jpki_signature', 'jp_mpiupa', jst('2026-06-01T12:00:00'))).toMatchObject({
      framework: 'jp_mpiupa',
      article: '第3条第1項',
    });
    expect(citationFor('jpki_signature', 'jp_municipal', jst('2026-06-01T12:00:00')).law).toContain('公的個人認証法');
  });

  it('never throws: unknown frameworks, dates before the first row and invalid dates fall back to the generic citation', () => {
    expect(citationFor('jpki_signature', 'xx_unknown', new Date()).law).toContain('公的個人認証法');
    expect(citationFor('jpki_signature', 'jp_aml', jst('2019-01-01T00:00:00')).law).toContain('公的個人認証法');
    expect(citationFor('jpki_signature', 'jp_aml', new Date(Number.NaN)).law).toBeTruthy();
  });

  it('rows of one method and framework never overlap', () => {
    for (const a of CITATIONS) {
      for (const b of CITATIONS) {
        if (a === b || a.method !== b.method || a.framework !== b.framework) continue;
        const overlap = a.effectiveFrom < (b.effectiveTo ?? '9999') && b.effectiveFrom < (a.effectiveTo ?? '9999');
        expect(overlap, `${a.method}/${a.framework} ${a.effectiveFrom} vs ${b.effectiveFrom}`).toBe(false);
      }
    }
  });
});

describe('retention arithmetic (Japan time, 民法140条・143条)', () => {
  it('ends at the end of the day before the corresponding day', () => {
    expect(retentionEnd(jst('2026-03-31T10:00:00'), 7)).toEqual(jst('2033-04-01T00:00:00'));
    expect(retentionEnd(jst('2026-03-31T23:59:59'), 7)).toEqual(jst('2033-04-01T00:00:00'));
    expect(retentionEnd(jst('2026-04-01T00:00:00'), 3)).toEqual(jst('2029-04-02T00:00:00'));
    // A UTC instant late on 31 March is already 1 April in Japan.
    expect(retentionEnd(new Date('2026-03-31T16:00:00Z'), 1)).toEqual(jst('2027-04-02T00:00:00'));
  });

  it('handles 29 February: the period ends with the last day of February', () => {
    expect(retentionEnd(jst('2024-02-28T12:00:00'), 7)).toEqual(jst('2031-03-01T00:00:00'));
    expect(retentionEnd(jst('2024-02-29T12:00:00'), 7)).toEqual(jst('2031-03-01T00:00:00'));
    expect(retentionEnd(jst('2023-02-28T12:00:00'), 1)).toEqual(jst('2024-03-01T00:00:00'));
  });

  it('the cutoff agrees with retentionEnd for any start', () => {
    const now = jst('2031-03-01T09:30:00');
    for (const years of [1, 3, 7]) {
      const cutoff = retentionCutoff(now, years);
      for (let h = -24 * 40; h <= 24 * 40; h += 7) {
        const start = new Date(cutoff.getTime() + h * 3600_000);
        expect(start < cutoff, `${years}y ${start.toISOString()}`).toBe(retentionEnd(start, years) <= now);
      }
    }
  });
});

describe('canonical JSON and the My Number guard', () => {
  const myNumber = `98765432101${myNumberCheckDigit('98765432101')}`;

  it('sorts keys, drops undefined, keeps no whitespace', () => {
    expect(canonicalJson({ b: [1, 'x', null, { d: true, c: undefined, a: 1.5 }], a: '日本' })).toBe(
      '{"a":"日本","b":[1,"x",null,{"a":1.5,"d":true}]}',
    );
    expect(() => canonicalJson({ x: Number.NaN })).toThrow(TypeError);
    expect(() => canonicalJson(new Map())).toThrow(TypeError);
  });

  it('the row hash covers every fixed column', () => {
    const base = {
      id: 'rec_a',
      seq: '1',
      createdAt: new Date(0),
      rpClientId: 'rp',
      ceremonyId: null,
      subjectId: 's',
      framework: 'jp_aml',
      outcome: 'verified',
      payloadHash: 'ab',
    };
    const h = recordHash(GENESIS_HASH, base);
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    for (const [k, v] of Object.entries({
      id: 'rec_b',
      seq: '2',
      createdAt: new Date(1),
      rpClientId: null,
      ceremonyId: 'c',
      subjectId: 't',
      framework: 'jp_mpiupa',
      outcome: 'rejected',
      payloadHash: 'ac',
    })) {
      expect(recordHash(GENESIS_HASH, { ...base, [k]: v }), k).not.toBe(h);
    }
    expect(recordHash('1'.repeat(64), base)).not.toBe(h);
  });

  it('masks only runs of exactly 12 digits with a valid check digit, ASCII or full-width', () => {
    const wide = myNumber.replace(/[0-9]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));
    expect(maskMyNumbers(`A${myNumber}B`)).toEqual({ text: 'A************B', masked: 1 });
    expect(maskMyNumbers(wide).masked).toBe(1);
    expect(maskMyNumbers(`${myNumber.slice(0, 4)}-${myNumber.slice(4, 8)}-${myNumber.slice(8)}`).masked).toBe(1);
    expect(maskMyNumbers(`${myNumber.slice(0, 4)} ${myNumber.slice(4, 8)}-${myNumber.slice(8)}`).masked).toBe(0); // mixed separators
    expect(maskMyNumbers(`1${myNumber}`).masked).toBe(0);
    const wrong = `${myNumber.slice(0, 11)}${(Number(myNumber[11]) + 1) % 10}`;
    expect(maskMyNumbers(wrong).masked).toBe(0);
    expect(maskMyNumbers('2026-11-25T09:00:00.000Z').masked).toBe(0);
  });

  it('refuses bytes (a raw certificate never goes into a record) and makes strings jsonb-safe', () => {
    expect(() => guardPayload({ cert: new Uint8Array(3) })).toThrow(/not a JSON value/);
    expect(guardPayload({ s: 'a\u0000b\uD800', d: new Date(0), n: 10n }).payload).toEqual({
      s: 'a\uFFFDb\uFFFD',
      d: '1970-01-01T00:00:00.000Z',
      n: '10',
    });
  });
});

describe('CSV cells', () => {
  it('quotes per RFC 4180 and neutralises formulas', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell(null)).toBe('');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell('=1+1')).toBe("'=1+1");
    expect(csvCell('+81')).toBe("'+81");
    expect(csvCell('-2')).toBe("'-2");
    expect(csvCell('@cmd')).toBe("'@cmd");
    expect(csvCell('\t=x')).toBe("'\t=x");
    expect(csvCell('=HYPERLINK("x","y")')).toBe(`"'=HYPERLINK(""x"",""y"")"`);
    expect(csvCell('福井県 = 18')).toBe('福井県 = 18');
  });
});

describe('verification payload', () => {
  const input: VerificationRecordInput = {
    at: jst('2026-05-01T10:00:00'),
    receivedAt: jst('2026-05-01T09:59:59'),
    ceremony: { id: 'cer_x', kind: 'identity' },
    rp: { clientId: 'rp_mvno', name: 'テストモバイル', framework: 'jp_mpiupa', purpose: '音声SIM契約の本人確認' },
    subjectId: 'sub_x',
    outcome: 'verified',
    certificate: {
      kind: 'sign',
      issuer: 'CN=x',
      issuerId: 'signca01',
      serial: '0A1B2C3D',
      notBefore: jst('2025-01-01T00:00:00'),
      notAfter: jst('2030-01-01T00:00:00'),
      medium: 'android',
      environment: 'production',
    },
    basic4: {
      name: '福井 花子',
      nameSubstitute: '',
      address: '福井県坂井市',
      addressSubstitute: '',
      birthDate: '1990-02-03',
      sex: '女',
      sexCode: '2',
    },
    revocation: { source: 'ocsp', status: 'good', checkedAt: jst('2026-05-01T09:59:59') },
  };

  it('names the method, the citation in force, who verified and recorded, dates, certificate and 本人特定事項', () => {
    const p = view(verificationPayload(input));
    expect(p.recordType.code).toBe('jp_mpiupa_identification_record');
    expect(p.method.id).toBe('jpki_signature');
    expect(p.citation.article).toBe('第3条第1項');
    expect(p.verifiedBy.system).toMatch(/^Kakunin \d+\.\d+\.\d+/);
    expect(p.verifiedBy.onBehalfOf).toEqual({ clientId: 'rp_mvno', name: 'テストモバイル', framework: 'jp_mpiupa' });
    expect(p.recordedBy.system).toBe(p.verifiedBy.system);
    expect(p.dates).toEqual({ received: '2026-05-01T00:59:59.000Z', verified: '2026-05-01T01:00:00.000Z' });
    expect(p.certificate).toMatchObject({
      serial: '0A1B2C3D',
      kindJa: '移動端末設備用署名用電子証明書',
      notAfter: '2029-12-31T15:00:00.000Z',
    });
    expect(p.identity).toMatchObject({ name: '福井 花子', birthDate: '1990-02-03' });
    expect(p.revocation).toEqual({
      source: 'ocsp',
      status: 'good',
      thisUpdate: null,
      nextUpdate: null,
      checkedAt: '2026-05-01T00:59:59.000Z',
    });
    expect(p.purpose).toBe('音声SIM契約の本人確認');
    expect(p.outcome).toBe('verified');
    expect(p.error).toBeUndefined();
    expect(JSON.parse(JSON.stringify(p))).toEqual(p); // plain JSON only
  });

  it('login ceremonies are authentication records with no 本人特定事項; errors are kept', () => {
    const p = view(
      verificationPayload({
        ...input,
        ceremony: { id: 'cer_y', kind: 'login' },
        outcome: 'rejected',
        error: { code: 'CERTIFICATE_REVOKED', message: 'revoked' },
      }),
    );
    expect(p.recordType.code).toBe('authentication_record');
    expect(p.method.id).toBe('jpki_user_authentication');
    expect(p.identity).toBeUndefined();
    expect(p.error).toEqual({ code: 'CERTIFICATE_REVOKED', message: 'revoked' });
  });
});
