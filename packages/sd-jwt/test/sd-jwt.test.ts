import { describe, it, expect, beforeAll } from 'vitest';
import { createHash } from 'node:crypto';
import {
  createDisclosure,
  decodeDisclosure,
  issueSdJwtVc,
  parseSdJwt,
  presentSdJwt,
  selectDisclosures,
  verifySdJwtVc,
} from '@kakunin/sd-jwt';
import { CLAIMS, fixture, ISSUER, NOW, STATUS_URI, VCT } from './helpers.js';
import type { Fixture } from './helpers.js';

let f: Fixture;
beforeAll(async () => {
  f = await fixture();
});

const KB = { audience: 'https://rp.example', nonce: 'n-0S6_WzA2Mj' };

describe('RFC 9901 vectors', () => {
  it('computes the digest of the §4.2.3 example disclosures', () => {
    const d = decodeDisclosure('WyI2cU1RdlJMNWhhaiIsICJmYW1pbHlfbmFtZSIsICJNw7ZiaXVzIl0');
    expect(d).toMatchObject({ salt: '6qMQvRL5haj', name: 'family_name', value: 'Möbius' });
    expect(d.digest).toBe('uutlBuYeMDyjLLTpf6Jxi7yNkEF35jdyWMn9U7b_RYY');
    const element = decodeDisclosure('WyJsa2x4RjVqTVlsR1RQVW92TU5JdkNBIiwgIkZSIl0');
    expect(element).toMatchObject({ salt: 'lklxF5jMYlGTPUovMNIvCA', value: 'FR' });
    expect(element.name).toBeUndefined();
    expect(element.digest).toBe('w0I8EKcdCtUPkGCNUrfwVp2xEgNjtoIDlOxc9-PlOhs');
  });

  it('encodes a disclosure as base64url of the compact UTF-8 JSON array', () => {
    const d = createDisclosure('family_name', 'Möbius', '_26bc4LT-ac6q2KI6cBW5es');
    expect(d.encoded).toBe('WyJfMjZiYzRMVC1hYzZxMktJNmNCVzVlcyIsImZhbWlseV9uYW1lIiwiTcO2Yml1cyJd');
    expect(d.digest).toBe(createHash('sha256').update(d.encoded, 'ascii').digest('base64url'));
    expect(decodeDisclosure(d.encoded)).toEqual(d);
  });
});

describe('issuance', () => {
  it('issues a dc+sd-jwt with registered claims in the clear and every other claim disclosable', () => {
    const parsed = parseSdJwt(f.issued.sdJwt);
    expect(f.issued.sdJwt.endsWith('~')).toBe(true);
    expect(parsed.kbJwt).toBeUndefined();
    expect(parsed.header).toEqual({ alg: 'ES256', typ: 'dc+sd-jwt', kid: 'issuer-1' });
    const p = parsed.payload;
    expect(p).toMatchObject({
      iss: ISSUER,
      vct: VCT,
      iat: NOW.getTime() / 1000,
      cnf: { jwk: f.holder.jwk },
      status: { status_list: { idx: 7, uri: STATUS_URI } },
      _sd_alg: 'sha-256',
    });
    expect(typeof p.exp).toBe('number');
    for (const name of Object.keys(CLAIMS)) expect(p).not.toHaveProperty(name);
    const sd = p._sd as string[];
    expect(sd).toHaveLength(Object.keys(CLAIMS).length);
    expect([...sd].sort()).toEqual(sd);
    // 6 top-level + 3 address + 3 age_equal_or_over
    expect(parsed.disclosures).toHaveLength(12);
    const address = parsed.disclosures.find((d) => d.name === 'address');
    expect(Object.keys(address?.value as object)).toEqual(['_sd']);
    expect((address?.value as { _sd: string[] })._sd).toHaveLength(3);
    for (const d of parsed.disclosures) expect(Buffer.from(d.salt, 'base64url').length).toBeGreaterThanOrEqual(16);
  });

  it('adds decoy digests on request and discloses only the chosen paths', async () => {
    const { payload, disclosures, issuerJwt } = await f.issue({
      decoys: 3,
      disclosable: [['given_name'], ['nationalities', null]],
    });
    expect(payload._sd).toHaveLength(4);
    expect(payload.family_name).toBe('山田');
    expect(payload.nationalities).toEqual([{ '...': disclosures[1]?.digest }]);
    expect(disclosures.map((d) => d.name)).toEqual(['given_name', undefined]);
    // The issuer-signed JWT alone: undisclosed elements and decoys vanish.
    const v = await verifySdJwtVc(`${issuerJwt}~`, { keys: f.issuer.jwk, now: NOW });
    expect(v.claims.nationalities).toEqual([]);
    expect(v.claims).not.toHaveProperty('given_name');
  });

  it('refuses registered claims inside claims, a private holder key and unknown paths', async () => {
    await expect(f.issue({ claims: { vct: 'x' } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(f.issue({ claims: { a: { _sd: [] } } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(f.issue({ holderJwk: { ...f.holder.jwk, d: 'secret' } })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(f.issue({ disclosable: [['nope']] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

describe('round trips', () => {
  it('verifies the credential as issued, every claim disclosed', async () => {
    const v = await verifySdJwtVc(f.issued.sdJwt, { keys: { keys: [f.other.jwk, f.issuer.jwk] }, now: NOW });
    expect(v.claims).toEqual({
      iss: ISSUER,
      iat: NOW.getTime() / 1000,
      exp: v.payload.exp,
      vct: VCT,
      cnf: { jwk: f.holder.jwk },
      status: { status_list: { idx: 7, uri: STATUS_URI } },
      ...CLAIMS,
    });
    expect(v.holderJwk).toEqual(f.holder.jwk);
    expect(v.status).toEqual({ idx: 7, uri: STATUS_URI });
    expect(v.keyBinding).toBeUndefined();
  });

  it('presents a subset with key binding; the verifier sees only the chosen claims', async () => {
    const presentation = await presentSdJwt(f.issued.sdJwt, {
      disclose: [['given_name'], ['birthdate']],
      holderKey: f.holder.privateKey,
      ...KB,
      iat: NOW,
    });
    expect(presentation.split('~')).toHaveLength(4);
    const v = await verifySdJwtVc(presentation, { keys: f.issuer.jwk, now: NOW, keyBinding: KB });
    expect(v.claims.given_name).toBe('太郎');
    expect(v.claims.birthdate).toBe('1990-04-01');
    for (const hidden of ['family_name', 'address', 'age_equal_or_over', 'nationalities']) {
      expect(v.claims).not.toHaveProperty(hidden);
    }
    expect(v.keyBinding?.header).toEqual({ alg: 'ES256', typ: 'kb+jwt' });
    expect(v.keyBinding?.payload).toMatchObject({ aud: KB.audience, nonce: KB.nonce, iat: NOW.getTime() / 1000 });
  });

  it('discloses address.prefecture_code alone: the address disclosure (digests only) and that sub-claim', async () => {
    const parsed = parseSdJwt(f.issued.sdJwt);
    const chosen = selectDisclosures(parsed, [['address', 'prefecture_code']]);
    expect(chosen.map((d) => d.name)).toEqual(['prefecture_code', 'address']);
    const presentation = await presentSdJwt(f.issued.sdJwt, {
      disclose: [['address', 'prefecture_code']],
      holderKey: f.holder.privateKey,
      ...KB,
      iat: NOW,
    });
    const v = await verifySdJwtVc(presentation, { keys: f.issuer.jwk, now: NOW, keyBinding: KB });
    expect(v.claims.address).toEqual({ prefecture_code: '13' });
    expect(v.claims).not.toHaveProperty('given_name');
  });

  it('discloses age_equal_or_over.18 alone', async () => {
    const presentation = await presentSdJwt(f.issued.sdJwt, {
      disclose: [['age_equal_or_over', '18']],
      holderKey: f.holder.privateKey,
      ...KB,
      iat: NOW,
    });
    const v = await verifySdJwtVc(presentation, { keys: f.issuer.jwk, now: NOW, keyBinding: KB });
    expect(v.claims.age_equal_or_over).toEqual({ '18': true });
    expect(v.disclosures).toHaveLength(2);
  });

  it('discloses a whole object with all its sub-claims when the path ends at it', async () => {
    const presentation = await presentSdJwt(f.issued.sdJwt, { disclose: [['address']] });
    expect(presentation.endsWith('~')).toBe(true);
    const v = await verifySdJwtVc(presentation, { keys: f.issuer.jwk, now: NOW });
    expect(v.claims.address).toEqual(CLAIMS.address);
  });

  it('handles array element disclosures ([salt, value]) and null paths', async () => {
    const issued = await issueSdJwtVc({
      issuer: ISSUER,
      vct: VCT,
      claims: { nationalities: ['JP', 'US', 'FR'] },
      disclosable: [['nationalities', null]],
      holderJwk: f.holder.jwk,
      exp: new Date(NOW.getTime() + 86400_000),
      iat: NOW,
      signingKey: f.issuer.privateKey,
      kid: 'issuer-1',
      decoys: 2,
    });
    const second = await presentSdJwt(issued.sdJwt, { disclose: [['nationalities', 1]] });
    expect((await verifySdJwtVc(second, { keys: f.issuer.jwk, now: NOW })).claims.nationalities).toEqual(['US']);
    const all = await presentSdJwt(issued.sdJwt, { disclose: [['nationalities', null]] });
    expect((await verifySdJwtVc(all, { keys: f.issuer.jwk, now: NOW })).claims.nationalities).toEqual([
      'JP',
      'US',
      'FR',
    ]);
  });

  it('presents with no disclosure and without key binding', async () => {
    const presentation = await presentSdJwt(f.issued.sdJwt, { disclose: 'none' });
    expect(presentation).toBe(`${f.issued.issuerJwt}~`);
    const v = await verifySdJwtVc(presentation, { keys: f.issuer.jwk, now: NOW, keyBinding: 'optional' });
    expect(Object.keys(v.claims).sort()).toEqual(['cnf', 'exp', 'iat', 'iss', 'status', 'vct']);
  });

  it('signs and verifies with ES384 and EdDSA too, the alg taken from the key (CryptoKey or KeyObject)', async () => {
    const { generateKeyPair, exportJWK } = await import('jose');
    const { KeyObject } = await import('node:crypto');
    for (const [alg, kind] of [
      ['ES384', 'ES384'],
      ['EdDSA', 'Ed25519'],
    ] as const) {
      const pair = await generateKeyPair(kind, { extractable: true });
      const holder = await generateKeyPair(kind, { extractable: true });
      const issued = await f.issue({
        signingKey: KeyObject.from(pair.privateKey),
        kid: alg,
        holderJwk: await exportJWK(holder.publicKey),
      });
      const presentation = await presentSdJwt(issued.sdJwt, {
        disclose: [['given_name']],
        holderKey: holder.privateKey,
        ...KB,
        iat: NOW,
      });
      const keys = { ...(await exportJWK(pair.publicKey)), kid: alg };
      const v = await verifySdJwtVc(presentation, { keys, now: NOW, keyBinding: KB });
      expect([v.header.alg, v.keyBinding?.header.alg]).toEqual([alg, alg]);
    }
  });
});
