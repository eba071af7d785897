import { describe, it, expect, beforeAll } from 'vitest';
import { inflateSync } from 'node:zlib';
import { CompactSign } from 'jose';
import {
  resolveStatus,
  signStatusListToken,
  StatusList,
  STATUS_INVALID,
  STATUS_SUSPENDED,
  STATUS_VALID,
  verifyStatusListToken,
} from '@kakunin/sd-jwt';
import { fixture, NOW, STATUS_URI } from './helpers.js';
import type { Fixture } from './helpers.js';

let f: Fixture;
beforeAll(async () => {
  f = await fixture();
});

// draft-ietf-oauth-status-list §4.1 and Appendix: the 1-bit and 2-bit examples.
const ONE_BIT = [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1];
const TWO_BIT = [1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3];

describe('StatusList', () => {
  it('reproduces the spec 1-bit example: bytes b9 a3, lst eNrbuRgAAhcBXQ', () => {
    const list = new StatusList(16, 1);
    ONE_BIT.forEach((v, i) => list.set(i, v));
    expect(Buffer.from(list.toBytes()).toString('hex')).toBe('b9a3');
    expect(list.encode()).toBe('eNrbuRgAAhcBXQ');
    const decoded = StatusList.decode('eNrbuRgAAhcBXQ', 1);
    expect(ONE_BIT.map((_, i) => decoded.get(i))).toEqual(ONE_BIT);
  });

  it('reproduces the spec 2-bit example: bytes c9 44 f9, lst eNo76fITAAPfAgc', () => {
    const list = new StatusList(12, 2);
    TWO_BIT.forEach((v, i) => list.set(i, v));
    expect(Buffer.from(list.toBytes()).toString('hex')).toBe('c944f9');
    expect(list.encode()).toBe('eNo76fITAAPfAgc');
    const decoded = StatusList.decode('eNo76fITAAPfAgc', 2);
    expect(TWO_BIT.map((_, i) => decoded.get(i))).toEqual(TWO_BIT);
  });

  it('uses ZLIB (RFC 1950), not raw deflate, and packs 4- and 8-bit entries from the low bits', () => {
    const list = new StatusList(4, 4);
    list.set(0, 0xa);
    list.set(1, 0x5);
    list.set(3, 0xf);
    expect(Buffer.from(list.toBytes()).toString('hex')).toBe('5af0');
    const compressed = Buffer.from(list.encode(), 'base64url');
    expect(compressed[0]).toBe(0x78);
    expect(inflateSync(compressed).toString('hex')).toBe('5af0');
    const bytes = new StatusList(3, 8);
    bytes.set(2, 200);
    expect(StatusList.decode(bytes.encode(), 8).get(2)).toBe(200);
  });

  it('refuses out-of-range indexes and values, bad bits and bad lst', () => {
    const list = new StatusList(16, 1);
    expect(() => list.get(16)).toThrow(expect.objectContaining({ code: 'STATUS_INDEX_OUT_OF_RANGE' }));
    expect(() => list.get(-1)).toThrow(expect.objectContaining({ code: 'STATUS_INDEX_OUT_OF_RANGE' }));
    expect(() => list.set(0, 2)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => new StatusList(8, 3 as 1)).toThrow(expect.objectContaining({ code: 'MALFORMED' }));
    expect(() => StatusList.decode('not zlib', 1)).toThrow(expect.objectContaining({ code: 'MALFORMED' }));
    expect(() => StatusList.decode(Buffer.from('raw').toString('base64url'), 1)).toThrow(
      expect.objectContaining({ code: 'MALFORMED' }),
    );
    const big = new StatusList(8 * 1024 * 1024, 8);
    expect(() => StatusList.decode(big.encode(), 8, { maxBytes: 1024 })).toThrow(
      expect.objectContaining({ code: 'MALFORMED' }),
    );
  });
});

describe('Status List Token', () => {
  async function token(over: Partial<Parameters<typeof signStatusListToken>[0]> = {}) {
    const list = new StatusList(1024, 2);
    list.set(7, STATUS_INVALID);
    list.set(8, STATUS_SUSPENDED);
    return signStatusListToken({
      uri: STATUS_URI,
      list,
      signingKey: f.issuer.privateKey,
      kid: 'issuer-1',
      iat: NOW,
      exp: new Date(NOW.getTime() + 86400_000),
      ttl: 3600,
      ...over,
    });
  }

  it('signs and verifies a statuslist+jwt and reads the referenced entry', async () => {
    const jwt = await token();
    const [header, payload] = jwt
      .split('.')
      .slice(0, 2)
      .map((p) => JSON.parse(Buffer.from(p, 'base64url').toString()));
    expect(header).toEqual({ alg: 'ES256', kid: 'issuer-1', typ: 'statuslist+jwt' });
    expect(payload).toMatchObject({ sub: STATUS_URI, iat: NOW.getTime() / 1000, ttl: 3600, status_list: { bits: 2 } });
    const { list } = await verifyStatusListToken(jwt, { keys: { keys: [f.issuer.jwk] }, uri: STATUS_URI, now: NOW });
    expect([list.get(6), list.get(7), list.get(8)]).toEqual([STATUS_VALID, STATUS_INVALID, STATUS_SUSPENDED]);
    const status = await resolveStatus({ idx: 7, uri: STATUS_URI }, jwt, { keys: f.issuer.jwk, now: NOW });
    expect(status.status).toBe(STATUS_INVALID);
  });

  it('refuses a bad signature, a wrong subject, an expired token, a wrong typ and an index out of range', async () => {
    const jwt = await token();
    const opts = { keys: f.issuer.jwk, uri: STATUS_URI, now: NOW };
    await expect(
      verifyStatusListToken(jwt, { ...opts, keys: { ...f.other.jwk, kid: 'issuer-1' } }),
    ).rejects.toMatchObject({
      code: 'STATUS_LIST_BAD_SIGNATURE',
    });
    await expect(verifyStatusListToken(jwt, { ...opts, keys: { keys: [f.other.jwk] } })).rejects.toMatchObject({
      code: 'UNKNOWN_KEY',
    });
    await expect(
      verifyStatusListToken(jwt, { ...opts, uri: 'https://kakunin.example/status/2' }),
    ).rejects.toMatchObject({
      code: 'STATUS_LIST_WRONG_SUBJECT',
    });
    await expect(
      verifyStatusListToken(jwt, { ...opts, now: new Date(NOW.getTime() + 2 * 86400_000) }),
    ).rejects.toMatchObject({ code: 'STATUS_LIST_EXPIRED' });
    const typJwt = await new CompactSign(Buffer.from(jwt.split('.')[1] ?? '', 'base64url'))
      .setProtectedHeader({ alg: 'ES256', kid: 'issuer-1', typ: 'JWT' })
      .sign(f.issuer.privateKey);
    await expect(verifyStatusListToken(typJwt, opts)).rejects.toMatchObject({ code: 'WRONG_TYP' });
    await expect(resolveStatus({ idx: 4096, uri: STATUS_URI }, jwt, opts)).rejects.toMatchObject({
      code: 'STATUS_INDEX_OUT_OF_RANGE',
    });
  });
});
