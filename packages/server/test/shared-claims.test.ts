// What an authorization releases (issue 18 §1): the list computed when the ceremony is created from
// the claims parameter and scope (claimsToShare), what each use then releases within it
// (releaseVerifiedClaims, as findAccount does), and what the consent page lists (releasedClaims).

import fc from 'fast-check';
import type { Basic4Info } from '@kakunin/jpki';
import { describe, expect, it } from 'vitest';
import { BANK_CLAIMS } from '../../../examples/bank/kakunin.js';
import { MUNICIPAL_CLAIMS } from '../../../examples/municipal/kakunin.js';
import { MVNO_CLAIMS } from '../../../examples/mvno/kakunin.js';
import { WALLET_CLAIMS } from '../../../examples/wallet/kakunin.js';
import type { CeremonyResult } from '../src/ceremony-domain.js';
import {
  ALL_SHARED_CLAIMS,
  CLAIM_LABELS,
  JPKI_CLAIM,
  RECORD_CLAIM,
  SHARED_CLAIM_NAMES,
  VERIFIED_CLAIM_NAMES,
  buildVerifiedClaims,
  claimsToShare,
  filterVerifiedClaims,
  namesIn,
  releaseVerifiedClaims,
  releasedClaims,
  restrictVerifiedClaims,
  sharedItems,
  type SharedClaim,
} from '../src/oidc/claims.js';

const SEX: Record<string, Basic4Info['sex']> = { '1': 'male', '2': 'female', '9': 'notApplicable', '0': 'unknown' };
const resultOf = (sexCode = '1'): CeremonyResult => ({
  certificate: { kind: 'sign', issuer: 'CN=JPKI-SIM Sign CA', issuerId: 'sign01', serial: '0A1B2C', medium: 'card' },
  basic4: {
    name: '山田 太郎',
    nameSubstitute: '00000',
    sex: SEX[sexCode]!,
    sexCode,
    birthDate: '1980-04-01',
    era: { code: '3', name: 'showa', nameJa: '昭和', year: 55 },
    address: '福井県福井市大手3丁目10番1号',
    addressSubstitute: '0000000000000',
  },
  revocation: { source: 'ocsp', checkedAt: '2026-01-01T00:00:00.000Z' },
  verifiedAt: '2026-01-01T00:00:00.000Z',
});
const RECORD = 'rec_test';
const vcOf = (framework: string, sexCode = '1') =>
  buildVerifiedClaims({ framework, recordId: RECORD, result: resultOf(sexCode) })!;

const identity = (claims: unknown, scope = 'openid', framework = 'jp_aml'): SharedClaim[] =>
  claimsToShare({ kind: 'identity', framework, claims, scope });
/** What findAccount releases for both uses together, as names (the RP's view). */
const received = (o: {
  claims: unknown;
  scope?: string;
  framework?: string;
  sexCode?: string;
  shares?: readonly SharedClaim[];
}): SharedClaim[] => {
  const framework = o.framework ?? 'jp_aml';
  const shares = o.shares ?? identity(o.claims, o.scope, framework);
  const c = (o.claims ?? {}) as Record<string, Record<string, unknown> | undefined>;
  const vc = vcOf(framework, o.sexCode);
  const names = new Set<string>(['sub', RECORD_CLAIM]);
  for (const use of ['id_token', 'userinfo'] as const) {
    const forUse = c[use];
    const asked = forUse && Object.hasOwn(forUse, 'verified_claims');
    // oidc-provider: the claims parameter's request, else (userinfo, identity scope) the scope's claim, requested with nothing.
    if (!asked && !(use === 'userinfo' && o.scope?.split(' ').includes('identity'))) continue;
    for (const n of namesIn(releaseVerifiedClaims(vc, asked ? forUse.verified_claims : undefined, shares)))
      names.add(n);
  }
  return SHARED_CLAIM_NAMES.filter((n) => names.has(n));
};

describe('claimsToShare: what each request shape releases', () => {
  it('the demo relying parties: the claims they ask for, the certificate evidence, the subject and the record', () => {
    const three = ['name', 'address', 'birthdate', 'evidence', 'sub', RECORD_CLAIM];
    expect(identity(BANK_CLAIMS, 'openid', 'jp_aml')).toEqual(three);
    expect(identity(MVNO_CLAIMS, 'openid', 'jp_mpiupa')).toEqual(three);
    expect(identity(MUNICIPAL_CLAIMS, 'openid', 'jp_municipal')).toEqual(three);
    expect(identity(WALLET_CLAIMS, 'openid', 'jp_municipal')).toEqual(three);
    for (const [claims, framework] of [
      [BANK_CLAIMS, 'jp_aml'],
      [MVNO_CLAIMS, 'jp_mpiupa'],
      [MUNICIPAL_CLAIMS, 'jp_municipal'],
      [WALLET_CLAIMS, 'jp_municipal'],
    ] as const) {
      expect(received({ claims, framework })).toEqual(identity(claims, 'openid', framework));
    }
  });

  it('a login releases the pairwise subject and the record id only, whatever it asks for', () => {
    expect(claimsToShare({ kind: 'login', framework: 'jp_aml', scope: 'openid' })).toEqual(['sub', RECORD_CLAIM]);
    expect(
      claimsToShare({ kind: 'login', framework: 'jp_aml', claims: BANK_CLAIMS, scope: 'openid identity' }),
    ).toEqual(['sub', RECORD_CLAIM]);
  });

  it('only the address: the address (no evidence, not asked for)', () => {
    const claims = {
      userinfo: { verified_claims: { verification: { trust_framework: null }, claims: { address: null } } },
    };
    expect(identity(claims)).toEqual(['address', 'sub', RECORD_CLAIM]);
    expect(received({ claims })).toEqual(['address', 'sub', RECORD_CLAIM]);
  });

  it('the identity scope without a claims parameter: everything (userinfo)', () => {
    expect(identity(undefined, 'openid identity')).toEqual([...ALL_SHARED_CLAIMS]);
    expect(received({ claims: undefined, scope: 'openid identity' })).toEqual([...ALL_SHARED_CLAIMS]);
  });

  it('the identity scope with a userinfo request: that request (the scope adds nothing to it)', () => {
    const claims = { userinfo: { verified_claims: { claims: { birthdate: null } } } };
    expect(identity(claims, 'openid identity')).toEqual(['birthdate', 'sub', RECORD_CLAIM]);
    expect(received({ claims, scope: 'openid identity' })).toEqual(['birthdate', 'sub', RECORD_CLAIM]);
  });

  it('the identity scope with an ID-token request only: userinfo still gets everything', () => {
    const claims = { id_token: { verified_claims: { claims: { birthdate: null } } } };
    expect(identity(claims, 'openid identity')).toEqual([...ALL_SHARED_CLAIMS]);
  });

  it('ID token and userinfo asking for different claims: both, together', () => {
    const claims = {
      id_token: { verified_claims: { verification: { trust_framework: null }, claims: { birthdate: null } } },
      userinfo: { verified_claims: { verification: { evidence: null }, claims: { name: null } } },
    };
    expect(identity(claims)).toEqual(['name', 'birthdate', 'evidence', 'sub', RECORD_CLAIM]);
    expect(received({ claims })).toEqual(['name', 'birthdate', 'evidence', 'sub', RECORD_CLAIM]);
  });

  it('verified_claims null or true: everything; an array: each element', () => {
    expect(identity({ userinfo: { verified_claims: null } })).toEqual([...ALL_SHARED_CLAIMS]);
    expect(identity({ id_token: { verified_claims: true } })).toEqual([...ALL_SHARED_CLAIMS]);
    const array = {
      userinfo: {
        verified_claims: [
          { verification: { trust_framework: { value: 'jp_mpiupa' } }, claims: { gender: null } },
          { verification: { trust_framework: { value: 'jp_aml' }, evidence: null }, claims: { [JPKI_CLAIM]: null } },
        ],
      },
    };
    expect(identity(array)).toEqual([JPKI_CLAIM, 'evidence', 'sub', RECORD_CLAIM]);
    expect(received({ claims: array })).toEqual([JPKI_CLAIM, 'evidence', 'sub', RECORD_CLAIM]);
  });

  it('a trust_framework constraint the RP does not meet releases nothing of it', () => {
    const claims = {
      userinfo: {
        verified_claims: {
          verification: { trust_framework: { value: 'jp_mpiupa' }, evidence: null },
          claims: { name: null },
        },
      },
    };
    expect(identity(claims, 'openid', 'jp_aml')).toEqual(['sub', RECORD_CLAIM]);
    expect(identity(claims, 'openid', 'jp_mpiupa')).toEqual(['name', 'evidence', 'sub', RECORD_CLAIM]);
    const values = {
      userinfo: {
        verified_claims: {
          verification: { trust_framework: { values: ['jp_aml', 'jp_municipal'] } },
          claims: { name: null },
        },
      },
    };
    expect(identity(values, 'openid', 'jp_municipal')).toEqual(['name', 'sub', RECORD_CLAIM]);
    expect(identity(values, 'openid', 'jp_mpiupa')).toEqual(['sub', RECORD_CLAIM]);
  });

  it('malformed or empty requests release no verified claims', () => {
    for (const vc of [
      'all',
      1,
      false,
      [],
      [null],
      ['x'],
      {},
      { claims: null },
      { claims: 'name' },
      { claims: ['name'] },
      { claims: {} },
      { claims: { email: null, constructor: null, toString: null, __proto__: null } },
      { verification: 'x', claims: { unknown: null } },
    ]) {
      expect(identity({ userinfo: { verified_claims: vc } }), JSON.stringify(vc)).toEqual(['sub', RECORD_CLAIM]);
      expect(received({ claims: { userinfo: { verified_claims: vc } } }), JSON.stringify(vc)).toEqual([
        'sub',
        RECORD_CLAIM,
      ]);
    }
    for (const claims of [
      undefined,
      null,
      'x',
      5,
      [],
      { userinfo: 'x' },
      { userinfo: [] },
      { id_token: { name: null } },
      { userinfo: { address: null } },
    ]) {
      expect(identity(claims), JSON.stringify(claims)).toEqual(['sub', RECORD_CLAIM]);
    }
    // A verification that is no object constrains nothing: the claims are still asked for.
    expect(identity({ userinfo: { verified_claims: { verification: 'x', claims: { name: null } } } })).toEqual([
      'name',
      'sub',
      RECORD_CLAIM,
    ]);
  });

  it('top-level claims outside verified_claims are not released (the provider has none of them)', () => {
    expect(
      identity({ userinfo: { name: null, address: null, verified_claims: { claims: { birthdate: null } } } }),
    ).toEqual(['birthdate', 'sub', RECORD_CLAIM]);
  });
});

describe('the release never exceeds the list; the consent page lists exactly the release', () => {
  it('restrictVerifiedClaims drops claims and evidence not listed, and elements left empty', () => {
    const vc = vcOf('jp_aml');
    expect(restrictVerifiedClaims(vc, ['address', 'sub', RECORD_CLAIM])).toEqual({
      verification: { trust_framework: 'jp_aml', time: vc.verification.time, verification_process: RECORD },
      claims: { address: vc.claims.address },
    });
    expect(restrictVerifiedClaims(vc, ['sub', RECORD_CLAIM])).toBeUndefined();
    expect(restrictVerifiedClaims([vc, { ...vc, claims: { gender: 'male' } }], ['name', 'evidence'])).toEqual([
      { verification: vc.verification, claims: { name: vc.claims.name } },
    ]);
    // A token request asking for more than the ceremony listed gets what was listed.
    expect(namesIn(releaseVerifiedClaims(vc, null, ['address', 'sub', RECORD_CLAIM]))).toEqual(['address']);
  });

  it('the sex of a certificate with sex code 0 or 9 is not released, and the consent page does not list it', () => {
    const claims = {
      userinfo: {
        verified_claims: {
          verification: { evidence: null },
          claims: { name: null, birthdate: null, address: null, gender: null },
        },
      },
    };
    const shares = identity(claims, 'openid', 'jp_municipal');
    expect(shares).toContain('gender');
    for (const sexCode of ['0', '9']) {
      const consent = releasedClaims({
        kind: 'identity',
        shares,
        framework: 'jp_municipal',
        recordId: RECORD,
        result: resultOf(sexCode),
        claims,
        scope: 'openid',
      });
      expect(consent).toEqual(['name', 'address', 'birthdate', 'evidence', 'sub', RECORD_CLAIM]);
      expect(consent).toEqual(received({ claims, framework: 'jp_municipal', sexCode, shares }));
    }
  });

  it('a value constraint: listed beforehand, released and listed on consent only when it matches', () => {
    const claims = { userinfo: { verified_claims: { claims: { gender: { value: 'female' }, address: null } } } };
    const shares = identity(claims);
    expect(shares).toEqual(['address', 'gender', 'sub', RECORD_CLAIM]);
    expect(
      releasedClaims({
        kind: 'identity',
        shares,
        framework: 'jp_aml',
        recordId: RECORD,
        result: resultOf('1'),
        claims,
        scope: 'openid',
      }),
    ).toEqual(['address', 'sub', RECORD_CLAIM]);
    expect(
      releasedClaims({
        kind: 'identity',
        shares,
        framework: 'jp_aml',
        recordId: RECORD,
        result: resultOf('2'),
        claims,
        scope: 'openid',
      }),
    ).toEqual(['address', 'gender', 'sub', RECORD_CLAIM]);
  });

  it('a login ceremony: the consent page lists the subject and the record', () => {
    expect(
      releasedClaims({
        kind: 'login',
        shares: ['sub', RECORD_CLAIM],
        framework: 'jp_aml',
        recordId: RECORD,
        result: null,
        claims: BANK_CLAIMS,
        scope: 'openid',
      }),
    ).toEqual(['sub', RECORD_CLAIM]);
  });

  // Requests built from the parts a request can have, well-formed or not.
  const claimRequest = fc.oneof(
    fc.constant(null),
    fc.constant({ essential: true }),
    fc.record({ value: fc.constantFrom('male', 'female', '1980-04-01', 'x') }),
    fc.record({ values: fc.array(fc.constantFrom('male', 'female', 'x')) }),
    fc.constant('junk'),
  );
  const claimName = fc.constantFrom(...VERIFIED_CLAIM_NAMES, 'email', 'constructor', 'toString');
  const one = fc.oneof(
    {
      weight: 6,
      arbitrary: fc.record(
        {
          verification: fc.option(
            fc.record(
              {
                trust_framework: fc.option(
                  fc.oneof(
                    fc.record({ value: fc.constantFrom('jp_aml', 'jp_mpiupa') }),
                    fc.record({ values: fc.array(fc.constantFrom('jp_aml', 'jp_municipal')) }),
                  ),
                ),
                time: fc.constant(null),
                evidence: fc.constant(null),
              },
              { requiredKeys: [] },
            ),
          ),
          claims: fc.option(fc.dictionary(claimName, claimRequest, { maxKeys: 6 })),
        },
        { requiredKeys: [] },
      ),
    },
    { weight: 1, arbitrary: fc.constantFrom(null, true, false, 'x', 3, [] as unknown[]) },
  );
  const request = fc.oneof({ weight: 4, arbitrary: one }, { weight: 1, arbitrary: fc.array(one, { maxLength: 3 }) });
  const param = fc.record(
    {
      id_token: fc.record({ verified_claims: request }, { requiredKeys: [] }),
      userinfo: fc.record({ verified_claims: request }, { requiredKeys: [] }),
    },
    { requiredKeys: [] },
  );
  const scope = fc.constantFrom('openid', 'openid identity');
  const framework = fc.constantFrom('jp_aml', 'jp_mpiupa', 'jp_municipal');
  const sexCode = fc.constantFrom('1', '2', '9', '0');

  /** Does any claim of any verified_claims request carry a value or values constraint? */
  const valueConstrained = (claims: Record<string, { verified_claims?: unknown } | undefined>): boolean =>
    Object.values(claims).some((forUse) =>
      [forUse?.verified_claims].flat().some((r) => {
        const c = (r as { claims?: unknown } | null)?.claims;
        return (
          typeof c === 'object' &&
          c !== null &&
          Object.values(c).some((x) => typeof x === 'object' && x !== null && ('value' in x || 'values' in x))
        );
      }),
    );

  it('property: the consent list is exactly the release, which is within the list signed (and equal to it without value constraints, for a known sex)', () => {
    fc.assert(
      fc.property(param, scope, framework, sexCode, (claims, s, fw, sex) => {
        const shares = identity(claims, s, fw);
        const got = received({ claims, scope: s, framework: fw, sexCode: sex, shares });
        expect(
          releasedClaims({
            kind: 'identity',
            shares,
            framework: fw,
            recordId: RECORD,
            result: resultOf(sex),
            claims,
            scope: s,
          }),
        ).toEqual(got);
        expect(got.every((n) => shares.includes(n))).toBe(true);
        // Without the restriction the release is the same: the list is what the request selects.
        const unrestricted = new Set<string>(['sub', RECORD_CLAIM]);
        for (const use of ['id_token', 'userinfo'] as const) {
          const forUse = claims[use];
          if (forUse && Object.hasOwn(forUse, 'verified_claims'))
            for (const n of namesIn(filterVerifiedClaims(vcOf(fw, sex), forUse.verified_claims))) unrestricted.add(n);
          else if (use === 'userinfo' && s.includes('identity'))
            for (const n of namesIn(filterVerifiedClaims(vcOf(fw, sex), undefined))) unrestricted.add(n);
        }
        expect(SHARED_CLAIM_NAMES.filter((n) => unrestricted.has(n))).toEqual(got);
        if (!valueConstrained(claims) && (sex === '1' || sex === '2')) expect(got).toEqual(shares);
      }),
      { numRuns: 500 },
    );
  });

  it('property: whatever a use asks for, nothing outside the ceremony list is released', () => {
    const anyShares = fc.subarray([...SHARED_CLAIM_NAMES]);
    fc.assert(
      fc.property(request, anyShares, framework, (r, shares, fw) => {
        const out = namesIn(releaseVerifiedClaims(vcOf(fw), r, shares));
        expect(out.every((n) => shares.includes(n))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

describe('labels', () => {
  it('every shared claim has a Japanese and an English label; the holder view items carry the name', () => {
    for (const n of SHARED_CLAIM_NAMES) expect(CLAIM_LABELS[n].ja && CLAIM_LABELS[n].en).toBeTruthy();
    expect(sharedItems(['address', 'sub'])).toEqual([
      { claim: 'address', ja: '住所', en: 'address' },
      { claim: 'sub', ...CLAIM_LABELS.sub },
    ]);
    expect(CLAIM_LABELS[JPKI_CLAIM].ja).toMatch(/代替文字/);
  });
});
