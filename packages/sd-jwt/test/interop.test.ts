// Cross-check against an independent implementation, the OpenWallet Foundation's sd-jwt-js
// (@sd-jwt/*): each side verifies what the other issues and presents, and reads the other's status list.
import { describe, it, expect, beforeAll } from 'vitest';
import { createHash, createPublicKey, KeyObject, randomBytes, randomInt, sign, verify } from 'node:crypto';
import type { JsonWebKey } from 'node:crypto';
import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc';
import { getListFromStatusListJWT, StatusList as TheirStatusList } from '@sd-jwt/jwt-status-list';
import type { BitsPerStatus } from '@sd-jwt/jwt-status-list';
import type { CryptoKey } from 'jose';
import {
  parseSdJwt,
  presentSdJwt,
  signStatusListToken,
  StatusList,
  STATUS_INVALID,
  verifySdJwtVc,
} from '@kakunin/sd-jwt';
import type { StatusBits } from '@kakunin/sd-jwt';
import { CLAIMS, fixture, ISSUER, NOW, STATUS_URI, VCT } from './helpers.js';
import type { Fixture } from './helpers.js';

let f: Fixture;
beforeAll(async () => {
  f = await fixture();
});

const T = NOW.getTime() / 1000;
const KB = { audience: 'https://rp.example', nonce: 'interop-nonce' };

// The callbacks sd-jwt-js leaves to its user, written with node:crypto: ES256 JWS signatures are
// r||s (IEEE P1363), not DER.
function signer(key: CryptoKey) {
  const keyObject = KeyObject.from(key);
  return (data: string) =>
    sign('sha256', Buffer.from(data), { key: keyObject, dsaEncoding: 'ieee-p1363' }).toString('base64url');
}
function verifyWith(jwk: unknown, data: string, signature: string): boolean {
  const key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
  return verify('sha256', Buffer.from(data), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(signature, 'base64url'));
}

function theirs(statusListJwt?: () => string): SDJwtVcInstance {
  return new SDJwtVcInstance({
    hasher: (data: string | ArrayBuffer, alg: string) => {
      if (alg !== 'sha-256') throw new Error(`unexpected ${alg}`);
      return createHash('sha256')
        .update(typeof data === 'string' ? data : Buffer.from(data))
        .digest();
    },
    hashAlg: 'sha-256',
    saltGenerator: (length: number) => randomBytes(length).toString('base64url'),
    signer: signer(f.issuer.privateKey),
    signAlg: 'ES256',
    verifier: (data: string, sig: string) => verifyWith(f.issuer.jwk, data, sig),
    kbSigner: signer(f.holder.privateKey),
    kbSignAlg: 'ES256',
    kbVerifier: (data: string, sig: string, payload: { cnf?: { jwk?: unknown } }) =>
      verifyWith(payload.cnf?.jwk, data, sig),
    statusListFetcher: async (uri: string) => {
      expect(uri).toBe(STATUS_URI);
      if (!statusListJwt) throw new Error('no status list');
      return statusListJwt();
    },
  });
}

async function ourStatusList(revoked: number[] = []): Promise<string> {
  const list = new StatusList(128, 1);
  for (const i of revoked) list.set(i, STATUS_INVALID);
  return signStatusListToken({ uri: STATUS_URI, list, signingKey: f.issuer.privateKey, kid: 'issuer-1', iat: NOW });
}

describe('ours → sd-jwt-js', () => {
  it('verifies our credential (signature, digests, status list) and decodes our claims, nested ones included', async () => {
    const token = await ourStatusList();
    const result = await theirs(() => token).verify(f.issued.sdJwt, { currentDate: T });
    expect(result.header).toMatchObject({ typ: 'dc+sd-jwt', alg: 'ES256', kid: 'issuer-1' });
    expect(result.payload).toMatchObject({ iss: ISSUER, vct: VCT, ...CLAIMS });
    expect(await theirs().getClaims(f.issued.sdJwt)).toMatchObject(CLAIMS);
  });

  it('sees a credential revoked in our status list as revoked', async () => {
    const token = await ourStatusList([7]);
    await expect(theirs(() => token).verify(f.issued.sdJwt, { currentDate: T })).rejects.toThrow(/status/i);
  });

  it('verifies our selective presentation with its KB-JWT and sd_hash', async () => {
    const token = await ourStatusList();
    const presentation = await presentSdJwt(f.issued.sdJwt, {
      disclose: [['address', 'prefecture_code'], ['age_equal_or_over', '18'], ['given_name']],
      holderKey: f.holder.privateKey,
      ...KB,
      iat: NOW,
    });
    const result = await theirs(() => token).verify(presentation, { currentDate: T, keyBindingNonce: KB.nonce });
    expect(result.payload.address).toEqual({ prefecture_code: '13' });
    expect(result.payload.age_equal_or_over).toEqual({ '18': true });
    expect(result.payload.given_name).toBe('太郎');
    expect(result.payload).not.toHaveProperty('family_name');
    expect(result.kb?.payload).toMatchObject({ aud: KB.audience, nonce: KB.nonce });
    expect(result.kb?.payload.sd_hash).toBe(
      createHash('sha256')
        .update(presentation.slice(0, presentation.lastIndexOf('~') + 1))
        .digest('base64url'),
    );
    // A disclosure dropped after signing: their sd_hash check refuses it too.
    const parts = presentation.split('~');
    const dropped = [...parts.slice(0, 2), ...parts.slice(3)].join('~');
    await expect(theirs(() => token).verify(dropped, { currentDate: T, keyBindingNonce: KB.nonce })).rejects.toThrow();
  });

  it('lets sd-jwt-js present from our credential, and we verify its presentation', async () => {
    const presentation = await theirs().present(
      f.issued.sdJwt,
      { address: { municipality_code: true } },
      { kb: { payload: { iat: T, aud: KB.audience, nonce: KB.nonce } } },
    );
    const v = await verifySdJwtVc(presentation, { keys: f.issuer.jwk, now: NOW, keyBinding: KB });
    expect(v.claims.address).toEqual({ municipality_code: '131016' });
    expect(v.claims).not.toHaveProperty('given_name');
  });
});

describe('sd-jwt-js → ours', () => {
  async function theirCredential(): Promise<string> {
    const payload = {
      iss: ISSUER,
      iat: T,
      exp: T + 86400,
      vct: VCT,
      cnf: { jwk: f.holder.jwk },
      status: { status_list: { idx: 3, uri: STATUS_URI } },
      ...CLAIMS,
      nationalities: ['JP', 'FR'],
    };
    return theirs().issue(
      payload,
      {
        _sd: ['given_name', 'family_name', 'birthdate', 'address', 'age_equal_or_over', 'nationalities'],
        address: { _sd: ['formatted', 'prefecture_code', 'municipality_code'] },
        age_equal_or_over: { _sd: ['18', '20', '65'] },
        nationalities: { _sd: [0, 1] },
        _sd_decoy: 3,
      },
      { header: { kid: 'issuer-1' } },
    );
  }

  it('verifies a credential issued by sd-jwt-js, with nested, array element and decoy digests', async () => {
    const issued = await theirCredential();
    const v = await verifySdJwtVc(issued, { keys: { keys: [f.issuer.jwk] }, now: NOW });
    expect(v.header).toMatchObject({ typ: 'dc+sd-jwt', kid: 'issuer-1' });
    expect(v.claims).toMatchObject({ ...CLAIMS, nationalities: ['JP', 'FR'] });
    expect(v.status).toEqual({ idx: 3, uri: STATUS_URI });
    expect(parseSdJwt(issued).disclosures).toHaveLength(14);
  });

  it('verifies a presentation sd-jwt-js makes, and sd-jwt-js verifies ours of its credential', async () => {
    const issued = await theirCredential();
    const theirPresentation = await theirs().present(
      issued,
      { address: { prefecture_code: true }, nationalities: { 1: true } },
      { kb: { payload: { iat: T, aud: KB.audience, nonce: KB.nonce } } },
    );
    const v = await verifySdJwtVc(theirPresentation, { keys: f.issuer.jwk, now: NOW, keyBinding: KB });
    expect(v.claims.address).toEqual({ prefecture_code: '13' });
    expect(v.claims.nationalities).toEqual(['FR']);
    expect(v.claims).not.toHaveProperty('age_equal_or_over');
    await expect(
      verifySdJwtVc(theirPresentation, { keys: f.issuer.jwk, now: NOW, keyBinding: { ...KB, nonce: 'other' } }),
    ).rejects.toMatchObject({ code: 'KB_NONCE_MISMATCH' });

    const ourPresentation = await presentSdJwt(issued, {
      disclose: [['age_equal_or_over', '18']],
      holderKey: f.holder.privateKey,
      ...KB,
      iat: NOW,
    });
    const token = await ourStatusList();
    const result = await theirs(() => token).verify(ourPresentation, { currentDate: T, keyBindingNonce: KB.nonce });
    expect(result.payload.age_equal_or_over).toEqual({ '18': true });
  });
});

describe('status lists both ways', () => {
  it('reads their lst as they do and they read ours as we do, for 1, 2, 4 and 8 bits', async () => {
    for (const bits of [1, 2, 4, 8] as const) {
      const statuses = Array.from({ length: 333 }, () => randomInt(0, 2 ** bits));
      const theirList = new TheirStatusList(statuses, bits as BitsPerStatus);
      const ours = StatusList.decode(theirList.compressStatusList(), bits);
      expect(statuses.map((_, i) => ours.get(i))).toEqual(statuses);

      const mine = new StatusList(statuses.length, bits as StatusBits);
      statuses.forEach((s, i) => mine.set(i, s));
      const back = TheirStatusList.decompressStatusList(mine.encode(), bits as BitsPerStatus);
      expect(statuses.map((_, i) => back.getStatus(i))).toEqual(statuses);
      expect(Buffer.from(theirList.encodeStatusList())).toEqual(Buffer.from(mine.toBytes()));
    }
  });

  it('reads our signed Status List Token', async () => {
    const token = await ourStatusList([5, 9]);
    const list = getListFromStatusListJWT(token);
    expect([list.getStatus(4), list.getStatus(5), list.getStatus(9)]).toEqual([0, 1, 1]);
  });
});
