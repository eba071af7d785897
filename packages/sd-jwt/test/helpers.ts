// Keys and a sample credential shared by the tests (ES256 keys: fast to make).
import { exportJWK, generateKeyPair } from 'jose';
import type { CryptoKey, JWK } from 'jose';
import { issueSdJwtVc } from '@kakunin/sd-jwt';
import type { IssueSdJwtVcOptions, IssuedSdJwtVc } from '@kakunin/sd-jwt';

export interface TestKey {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  jwk: JWK;
}

export async function makeKey(kid?: string): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = await exportJWK(publicKey);
  return { privateKey, publicKey, jwk: kid ? { ...jwk, kid, alg: 'ES256', use: 'sig' } : jwk };
}

export const ISSUER = 'https://kakunin.example';
export const VCT = 'https://kakunin.example/credentials/identity';
export const STATUS_URI = 'https://kakunin.example/status/1';
export const NOW = new Date('2026-06-01T00:00:00Z');

export const CLAIMS = {
  given_name: '太郎',
  family_name: '山田',
  birthdate: '1990-04-01',
  address: { formatted: '東京都千代田区千代田1-1', prefecture_code: '13', municipality_code: '131016' },
  age_equal_or_over: { '18': true, '20': true, '65': false },
  nationalities: ['JP'],
};

export interface Fixture {
  issuer: TestKey;
  holder: TestKey;
  other: TestKey;
  issued: IssuedSdJwtVc;
  issue: (overrides?: Partial<IssueSdJwtVcOptions>) => Promise<IssuedSdJwtVc>;
}

export async function fixture(): Promise<Fixture> {
  const [issuer, holder, other] = await Promise.all([makeKey('issuer-1'), makeKey(), makeKey('other-1')]);
  const issue = (overrides: Partial<IssueSdJwtVcOptions> = {}): Promise<IssuedSdJwtVc> =>
    issueSdJwtVc({
      issuer: ISSUER,
      vct: VCT,
      claims: CLAIMS,
      holderJwk: holder.jwk,
      status: { idx: 7, uri: STATUS_URI },
      iat: NOW,
      exp: new Date(NOW.getTime() + 365 * 86400_000),
      signingKey: issuer.privateKey,
      kid: 'issuer-1',
      ...overrides,
    });
  return { issuer, holder, other, issued: await issue(), issue };
}
