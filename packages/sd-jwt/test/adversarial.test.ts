import { describe, it, expect, beforeAll } from 'vitest';
import { CompactSign } from 'jose';
import type { CryptoKey } from 'jose';
import { createDisclosure, parseSdJwt, presentSdJwt, SD_JWT_ERROR_CODES, verifySdJwtVc } from '@kakunin/sd-jwt';
import type { SdJwtErrorCode, VerifySdJwtVcOptions } from '@kakunin/sd-jwt';
import { fixture, ISSUER, NOW, VCT } from './helpers.js';
import type { Fixture } from './helpers.js';

let f: Fixture;
beforeAll(async () => {
  f = await fixture();
});

const KB = { audience: 'https://rp.example', nonce: 'nonce-1' };
const T = NOW.getTime() / 1000;

function b64(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

/** An issuer-signed JWT with any header and payload (a faulty or malicious issuer). */
async function forge(payload: Record<string, unknown>, header: Record<string, unknown> = {}, key?: CryptoKey) {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg: 'ES256', typ: 'dc+sd-jwt', kid: 'issuer-1', ...header })
    .sign(key ?? f.issuer.privateKey);
}

function basePayload(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { iss: ISSUER, iat: T, exp: T + 3600, vct: VCT, cnf: { jwk: f.holder.jwk }, _sd_alg: 'sha-256', ...extra };
}

async function refused(compact: string, code: SdJwtErrorCode, options: Partial<VerifySdJwtVcOptions> = {}) {
  expect(SD_JWT_ERROR_CODES).toContain(code);
  await expect(verifySdJwtVc(compact, { keys: f.issuer.jwk, now: NOW, ...options })).rejects.toMatchObject({
    name: 'SdJwtError',
    code,
  });
}

async function present(disclose: Parameters<typeof presentSdJwt>[1]['disclose'], over: Record<string, unknown> = {}) {
  return presentSdJwt(f.issued.sdJwt, { disclose, holderKey: f.holder.privateKey, ...KB, iat: NOW, ...over });
}

describe('disclosures', () => {
  it('refuses a tampered disclosure (value changed, salt kept)', async () => {
    const d = f.issued.disclosures.find((x) => x.name === 'given_name');
    const tampered = b64([d?.salt, 'given_name', '花子']);
    await refused(`${f.issued.issuerJwt}~${tampered}~`, 'DISCLOSURE_NOT_REFERENCED');
  });

  it('refuses a disclosure swapped in from another credential', async () => {
    const other = await f.issue({ claims: { given_name: '花子' } });
    const foreign = other.disclosures[0]?.encoded;
    await refused(`${f.issued.issuerJwt}~${foreign}~`, 'DISCLOSURE_NOT_REFERENCED');
  });

  it('refuses a disclosure whose digest is in no _sd', async () => {
    await refused(`${f.issued.sdJwt}${createDisclosure('admin', true).encoded}~`, 'DISCLOSURE_NOT_REFERENCED');
  });

  it('refuses a nested disclosure presented without its parent', async () => {
    const child = f.issued.disclosures.find((x) => x.name === 'prefecture_code');
    await refused(`${f.issued.issuerJwt}~${child?.encoded}~`, 'DISCLOSURE_NOT_REFERENCED');
  });

  it('refuses a duplicated disclosure and a digest listed twice', async () => {
    const d = f.issued.disclosures[0]?.encoded;
    await refused(`${f.issued.issuerJwt}~${d}~${d}~`, 'DISCLOSURE_DUPLICATE');
    const x = createDisclosure('given_name', 'x');
    const jwt = await forge(basePayload({ _sd: [x.digest], nested: { _sd: [x.digest] } }));
    await refused(`${jwt}~${x.encoded}~`, 'DISCLOSURE_DUPLICATE');
  });

  it('refuses a disclosure that would overwrite a claim', async () => {
    const d = createDisclosure('given_name', 'Mallory');
    const jwt = await forge(basePayload({ given_name: '太郎', _sd: [d.digest] }));
    await refused(`${jwt}~${d.encoded}~`, 'CLAIM_OVERWRITE');
    const twice = [createDisclosure('a', 1), createDisclosure('a', 2)];
    const jwt2 = await forge(basePayload({ _sd: twice.map((x) => x.digest) }));
    await refused(`${jwt2}~${twice[0]?.encoded}~${twice[1]?.encoded}~`, 'CLAIM_OVERWRITE');
  });

  it('refuses registered claims in disclosures', async () => {
    const d = createDisclosure('exp', T + 10 ** 9);
    const payload = basePayload({ _sd: [d.digest] });
    delete payload.exp;
    await refused(`${await forge(payload)}~${d.encoded}~`, 'REGISTERED_CLAIM_DISCLOSED');
  });

  it('keeps a disclosed __proto__ claim an own property (no prototype pollution)', async () => {
    const d = createDisclosure('__proto__', { admin: true });
    const v = await verifySdJwtVc(`${await forge(basePayload({ _sd: [d.digest] }))}~${d.encoded}~`, {
      keys: f.issuer.jwk,
      now: NOW,
    });
    expect(Object.getPrototypeOf(v.claims)).toBe(Object.prototype);
    expect(Object.hasOwn(v.claims, '__proto__')).toBe(true);
    expect((v.claims as { admin?: unknown }).admin).toBeUndefined();
  });

  it('refuses malformed disclosures', async () => {
    await refused(`${f.issued.issuerJwt}~${b64('not json')}~`, 'DISCLOSURE_MALFORMED');
    await refused(`${f.issued.issuerJwt}~${b64(['salt', '_sd', 1])}~`, 'DISCLOSURE_MALFORMED');
    await refused(`${f.issued.issuerJwt}~${b64(['salt', '...', 1])}~`, 'DISCLOSURE_MALFORMED');
    await refused(`${f.issued.issuerJwt}~${b64([1, 'a', 1])}~`, 'DISCLOSURE_MALFORMED');
    await refused(`${f.issued.issuerJwt}~a+b/~`, 'DISCLOSURE_MALFORMED');
    // An array element disclosure referenced from _sd.
    const element = createDisclosure(undefined, 'JP');
    await refused(`${await forge(basePayload({ _sd: [element.digest] }))}~${element.encoded}~`, 'DISCLOSURE_MALFORMED');
  });

  it('refuses another _sd_alg and malformed SD-JWTs', async () => {
    await refused(`${await forge(basePayload({ _sd_alg: 'sha-512' }))}~`, 'UNSUPPORTED_ALG');
    await refused(f.issued.issuerJwt, 'MALFORMED');
    await refused('', 'MALFORMED');
    await refused('a.b.c~', 'MALFORMED');
    await refused(`${f.issued.issuerJwt}~~`, 'MALFORMED');
  });
});

describe('issuer-signed JWT', () => {
  it('refuses an expired or not yet valid credential', async () => {
    await refused(await present('all'), 'EXPIRED', { now: new Date(NOW.getTime() + 400 * 86400_000), keyBinding: KB });
    const jwt = await forge(basePayload({ nbf: T + 3600 }));
    await refused(`${jwt}~`, 'NOT_YET_VALID');
    await refused(`${await forge(basePayload({ iat: T + 3600 }))}~`, 'NOT_YET_VALID');
    // Within the clock skew.
    await expect(
      verifySdJwtVc(`${await forge(basePayload({ nbf: T + 30 }))}~`, { keys: f.issuer.jwk, now: NOW }),
    ).resolves.toBeTruthy();
  });

  it('refuses a wrong typ, and the legacy vc+sd-jwt unless allowed', async () => {
    await refused(`${await forge(basePayload(), { typ: 'JWT' })}~`, 'WRONG_TYP');
    const legacy = `${await forge(basePayload(), { typ: 'vc+sd-jwt' })}~`;
    await refused(legacy, 'WRONG_TYP');
    await expect(verifySdJwtVc(legacy, { keys: f.issuer.jwk, now: NOW, acceptLegacyTyp: true })).resolves.toBeTruthy();
  });

  it('refuses an unknown kid, a key of another issuer and a bad signature', async () => {
    await refused(f.issued.sdJwt, 'UNKNOWN_KEY', { keys: { keys: [f.other.jwk] } });
    await refused(f.issued.sdJwt, 'UNKNOWN_KEY', { keys: f.other.jwk });
    await refused(f.issued.sdJwt, 'BAD_SIGNATURE', { keys: { ...f.other.jwk, kid: 'issuer-1' } });
    const [h, p, s] = f.issued.issuerJwt.split('.');
    const flipped = `${h}.${p}.${s?.startsWith('A') ? 'B' : 'A'}${s?.slice(1)}~`;
    await refused(flipped, 'BAD_SIGNATURE');
    // The payload changed under the same signature.
    const payload = { ...parseSdJwt(f.issued.sdJwt).payload, exp: T + 10 ** 9 };
    await refused(`${h}.${b64(payload)}.${s}~`, 'BAD_SIGNATURE');
  });

  it('refuses alg none and HMAC', async () => {
    const none = `${b64({ alg: 'none', typ: 'dc+sd-jwt', kid: 'issuer-1' })}.${b64(basePayload())}.~`;
    await refused(none, 'UNSUPPORTED_ALG');
    const hs = `${b64({ alg: 'HS256', typ: 'dc+sd-jwt', kid: 'issuer-1' })}.${b64(basePayload())}.c2ln~`;
    await refused(hs, 'UNSUPPORTED_ALG');
  });
});

describe('key binding', () => {
  it('refuses a presentation replayed with another nonce or for another audience', async () => {
    const presentation = await present([['given_name']]);
    await refused(presentation, 'KB_NONCE_MISMATCH', { keyBinding: { ...KB, nonce: 'nonce-2' } });
    await refused(presentation, 'KB_AUDIENCE_MISMATCH', { keyBinding: { ...KB, audience: 'https://evil.example' } });
  });

  it('refuses a KB-JWT signed by another key than cnf', async () => {
    await refused(await present([['given_name']], { holderKey: f.other.privateKey }), 'KB_BAD_SIGNATURE', {
      keyBinding: KB,
    });
  });

  it('refuses a KB-JWT whose sd_hash does not match (a disclosure removed after signing)', async () => {
    const presentation = await present([['given_name'], ['family_name']]);
    const parts = presentation.split('~');
    const stripped = [parts[0], parts[1], parts[3]].join('~');
    await refused(stripped, 'KB_SD_HASH_MISMATCH', { keyBinding: KB });
    const added = [
      parts[0],
      parts[1],
      parts[2],
      f.issued.disclosures.find((d) => d.name === 'birthdate')?.encoded,
      parts[3],
    ];
    await refused(added.join('~'), 'KB_SD_HASH_MISMATCH', { keyBinding: KB });
  });

  it('requires a KB-JWT when asked, and refuses one by default', async () => {
    await refused(f.issued.sdJwt, 'KB_MISSING', { keyBinding: KB });
    await refused(await present([['given_name']]), 'KB_UNEXPECTED');
  });

  it('refuses a stale KB-JWT, a wrong typ and a credential without cnf', async () => {
    const old = await present([['given_name']], { iat: new Date(NOW.getTime() - 3600_000) });
    await refused(old, 'KB_STALE', { keyBinding: KB });
    await refused(old, 'KB_STALE', { keyBinding: { ...KB, maxAgeSeconds: 60 } });
    await expect(
      verifySdJwtVc(old, { keys: f.issuer.jwk, now: NOW, keyBinding: { ...KB, maxAgeSeconds: 7200 } }),
    ).resolves.toBeTruthy();

    const sdPart = `${f.issued.issuerJwt}~`;
    const { createHash } = await import('node:crypto');
    const sdHash = createHash('sha256').update(sdPart, 'ascii').digest('base64url');
    const kb = await new CompactSign(
      new TextEncoder().encode(JSON.stringify({ iat: T, ...KB, aud: KB.audience, sd_hash: sdHash })),
    )
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT' })
      .sign(f.holder.privateKey);
    await refused(sdPart + kb, 'KB_WRONG_TYP', { keyBinding: KB });

    const payload = basePayload();
    delete payload.cnf;
    const noCnf = `${await forge(payload)}~`;
    const presented = await presentSdJwt(noCnf, { disclose: 'all', holderKey: f.holder.privateKey, ...KB, iat: NOW });
    await refused(presented, 'NO_HOLDER_KEY', { keyBinding: KB });
  });
});
