import { describe, it, expect, beforeAll } from 'vitest';
import {
  checkDcqlPresentation,
  checkDcqlResponse,
  matchDcqlQuery,
  parseSdJwt,
  presentSdJwt,
  validateDcqlQuery,
  verifySdJwtVc,
} from '@kakunin/sd-jwt';
import type { DcqlCredentialQuery, DcqlQuery, VerifiedSdJwtVc } from '@kakunin/sd-jwt';
import { fixture, NOW, VCT } from './helpers.js';
import type { Fixture } from './helpers.js';

let f: Fixture;
beforeAll(async () => {
  f = await fixture();
});

const KB = { audience: 'x509_san_dns:city.example', nonce: 'dcql-nonce' };

function query(over: Partial<DcqlCredentialQuery> = {}): DcqlQuery {
  return {
    credentials: [
      {
        id: 'pid',
        format: 'dc+sd-jwt',
        meta: { vct_values: [VCT] },
        claims: [{ path: ['address', 'prefecture_code'], values: ['13'] }, { path: ['age_equal_or_over', '18'] }],
        ...over,
      },
    ],
  };
}

async function answer(q: DcqlQuery): Promise<{ presentation: string; verified: VerifiedSdJwtVc }> {
  const match = matchDcqlQuery(q, [parseSdJwt(f.issued.sdJwt)]);
  const first = match.matches[q.credentials[0]?.id ?? '']?.[0];
  if (!first) throw new Error('no match');
  const presentation = await presentSdJwt(f.issued.sdJwt, {
    disclose: first.disclosures,
    holderKey: f.holder.privateKey,
    ...KB,
    iat: NOW,
  });
  return {
    presentation,
    verified: await verifySdJwtVc(presentation, { keys: f.issuer.jwk, now: NOW, keyBinding: KB }),
  };
}

describe('matchDcqlQuery (wallet)', () => {
  it('picks exactly the disclosures the requested paths need, parents included', () => {
    const other = parseSdJwt(f.issued.sdJwt);
    const wrongVct = { ...other, payload: { ...other.payload, vct: 'urn:other' } };
    const result = matchDcqlQuery(query(), [wrongVct, other]);
    expect(result.satisfied).toBe(true);
    const [m] = result.matches.pid ?? [];
    expect(result.matches.pid).toHaveLength(1);
    expect(m?.credentialIndex).toBe(1);
    expect(m?.disclosures.map((d) => d.name).sort()).toEqual(['18', 'address', 'age_equal_or_over', 'prefecture_code']);
    expect(m?.claims).toEqual([
      { path: ['address', 'prefecture_code'], value: '13' },
      { path: ['age_equal_or_over', '18'], value: true },
    ]);
  });

  it('does not match when a claim is absent or its value is not among values', () => {
    const parsed = [parseSdJwt(f.issued.sdJwt)];
    expect(matchDcqlQuery(query({ claims: [{ path: ['passport_number'] }] }), parsed).satisfied).toBe(false);
    const wrongValue = query({ claims: [{ path: ['address', 'prefecture_code'], values: ['27'] }] });
    expect(matchDcqlQuery(wrongValue, parsed)).toMatchObject({ satisfied: false, matches: { pid: [] } });
    expect(matchDcqlQuery(query({ format: 'mso_mdoc', meta: { doctype_value: 'x' } }), parsed).satisfied).toBe(false);
  });

  it('uses the first satisfiable claim set', () => {
    const q = query({
      claims: [
        { id: 'a', path: ['passport_number'] },
        { id: 'b', path: ['given_name'] },
        { id: 'c', path: ['family_name'] },
      ],
      claim_sets: [['a', 'b'], ['b', 'c'], ['b']],
    });
    const m = matchDcqlQuery(q, [parseSdJwt(f.issued.sdJwt)]).matches.pid?.[0];
    expect(m?.claimSetIndex).toBe(1);
    expect(m?.disclosures.map((d) => d.name)).toEqual(['given_name', 'family_name']);
  });

  it('honours credential_sets', () => {
    const q: DcqlQuery = {
      credentials: [
        { id: 'pid', format: 'dc+sd-jwt', meta: { vct_values: [VCT] } },
        { id: 'mdl', format: 'dc+sd-jwt', meta: { vct_values: ['urn:mdl'] } },
      ],
      credential_sets: [{ options: [['mdl'], ['pid']] }, { options: [['mdl']], required: false }],
    };
    const result = matchDcqlQuery(q, [parseSdJwt(f.issued.sdJwt)]);
    expect(result.satisfied).toBe(true);
    expect(result.credentialSets).toEqual([{ required: true, option: 1 }, { required: false }]);
    expect(result.matches.pid?.[0]?.disclosures).toEqual([]);
  });

  it('validates the query shape with typed errors', () => {
    const invalid = [
      null,
      { credentials: [] },
      { credentials: [{ id: 'a b', format: 'dc+sd-jwt', meta: { vct_values: [VCT] } }] },
      { credentials: [{ id: 'a', format: 'dc+sd-jwt' }] },
      { credentials: [{ id: 'a', format: 'dc+sd-jwt', meta: {} }] },
      { credentials: [{ id: 'a', format: 'dc+sd-jwt', meta: { vct_values: [VCT] }, claims: [{ path: [] }] }] },
      { credentials: [{ id: 'a', format: 'dc+sd-jwt', meta: { vct_values: [VCT] }, claims: [{ path: [-1] }] }] },
      {
        credentials: [
          { id: 'a', format: 'dc+sd-jwt', meta: { vct_values: [VCT] }, claims: [{ path: ['x'], values: [] }] },
        ],
      },
      {
        credentials: [
          { id: 'a', format: 'dc+sd-jwt', meta: { vct_values: [VCT] }, claims: [{ path: ['x'] }], claim_sets: [['x']] },
        ],
      },
      {
        credentials: [{ id: 'a', format: 'dc+sd-jwt', meta: { vct_values: [VCT] } }],
        credential_sets: [{ options: [['b']] }],
      },
      {
        credentials: [
          { id: 'a', format: 'dc+sd-jwt', meta: { vct_values: [VCT] } },
          { id: 'a', format: 'dc+sd-jwt', meta: { vct_values: [VCT] } },
        ],
      },
    ];
    for (const q of invalid) {
      expect(() => validateDcqlQuery(q), JSON.stringify(q)).toThrow(
        expect.objectContaining({ code: 'DCQL_INVALID_QUERY' }),
      );
    }
    expect(validateDcqlQuery(query())).toEqual(query());
  });
});

describe('checkDcqlPresentation (verifier)', () => {
  it('returns only the requested claims of a matching presentation', async () => {
    const q = query();
    const { verified } = await answer(q);
    const result = checkDcqlPresentation(q.credentials[0] as DcqlCredentialQuery, verified);
    expect(result.claims).toEqual({ address: { prefecture_code: '13' }, age_equal_or_over: { '18': true } });
    expect(result.values).toHaveLength(2);
    expect(checkDcqlResponse(q, { pid: [verified] }).pid?.[0]?.claims).toEqual(result.claims);
  });

  it('refuses a presentation that lacks a requested claim or value, or key binding', async () => {
    const { verified } = await answer(query({ claims: [{ path: ['given_name'] }] }));
    const cq = query().credentials[0] as DcqlCredentialQuery;
    expect(() => checkDcqlPresentation(cq, verified)).toThrow(expect.objectContaining({ code: 'DCQL_NOT_SATISFIED' }));
    const valueQuery = query({ claims: [{ path: ['given_name'], values: ['花子'] }] }).credentials[0];
    expect(() => checkDcqlPresentation(valueQuery as DcqlCredentialQuery, verified)).toThrow(
      expect.objectContaining({ code: 'DCQL_NOT_SATISFIED' }),
    );
    const unbound = { ...verified, keyBinding: undefined };
    const nameQuery = query({ claims: [{ path: ['given_name'] }] }).credentials[0] as DcqlCredentialQuery;
    expect(() => checkDcqlPresentation(nameQuery, unbound)).toThrow(
      expect.objectContaining({ code: 'DCQL_NOT_SATISFIED' }),
    );
    expect(
      checkDcqlPresentation({ ...nameQuery, require_cryptographic_holder_binding: false }, unbound).claims,
    ).toEqual({
      given_name: '太郎',
    });
    expect(() => checkDcqlPresentation({ ...nameQuery, meta: { vct_values: ['urn:other'] } }, verified)).toThrow(
      expect.objectContaining({ code: 'DCQL_NOT_SATISFIED' }),
    );
    expect(() => checkDcqlResponse(query(), { other: [verified] })).toThrow(
      expect.objectContaining({ code: 'DCQL_NOT_SATISFIED' }),
    );
    expect(() => checkDcqlResponse(query(), {})).toThrow(expect.objectContaining({ code: 'DCQL_NOT_SATISFIED' }));
  });
});
