// Adversarial catalogue — the digital ID credential's issuer (A90–A99): the credential endpoint of
// OpenID4VCI against a real sandbox platform. Holder-key proofs that are replayed, stale, meant for
// another issuer, mistyped, not signed by their own key or carrying a private key; requests without a
// proof or with two; bearer tokens that are missing, unknown, expired, a relying party's, or already
// spent on a credential. Each is refused with its OpenID4VCI error, and no credential is issued.

import * as oidc from 'openid-client';
import { SignJWT, generateKeyPair, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CONFIGURATION_ID,
  BATCH_SIZE,
  CREDENTIAL_SCOPE,
  PROOF_TYP,
  cNonce,
  credentialRequest,
  holderKey,
  proofJwt,
  requestCredential,
  walletAuthorization,
  mintNonce,
  nonceKey,
  NONCE_SECONDS,
  type CredentialAnswer,
  type HolderKey,
} from '@kakunin/server/testing';
import { expected, title } from './catalogue.js';
import { finishFlow, holderLinkOf, holderRespond, startFlow, startHarness, type Harness } from './support/platform.js';

let h: Harness;
let base: string;
/** A wallet's access token of a completed identity verification, never spent: every refusal below uses it. */
let token: string;
let key: HolderKey;
beforeAll(async () => {
  h = await startHarness();
  base = h.p.server.url;
  token = (await walletAuthorization(h.p, h.signers[0]!)).access_token;
  key = await holderKey();
}, 180_000);
afterAll(async () => h?.close());

const issued = async (): Promise<number> =>
  Number((await h.p.server.platform.db.query<{ n: string }>('SELECT count(*)::text AS n FROM credentials'))[0]!.n);

const request = (proofs: unknown[], bearer: string | undefined = token): Promise<CredentialAnswer> =>
  credentialRequest(base, bearer, { credential_configuration_id: CONFIGURATION_ID, proofs: { jwt: proofs } });

/** The refusal as the catalogue names it: the OpenID4VCI error, its HTTP status, and nothing issued. */
async function expectRefused(id: string, answer: Promise<CredentialAnswer>): Promise<void> {
  const before = await issued();
  const { status, body, headers } = await answer;
  expect(expected(id).split('|'), JSON.stringify(body)).toContain(body.error);
  expect(body.error_description).toEqual(expect.any(String));
  expect(body.credentials).toBeUndefined();
  expect(status).toBe(body.error === 'invalid_token' ? 401 : body.error === 'credential_request_denied' ? 403 : 400);
  if (status === 401) expect(headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
  expect(headers.get('cache-control')).toBe('no-store');
  expect(await issued()).toBe(before);
}

/** A compact JWT from a header and a payload as given, with `signature` (no signing library would make these). */
const compact = (header: Record<string, unknown>, payload: Record<string, unknown>, signature = ''): string =>
  `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${signature}`;

describe('the credential endpoint', () => {
  it(title('A90'), async () => {
    // A genuine issuance with a c_nonce, on another verification of the same wallet…
    const other = (await walletAuthorization(h.p, h.signers[1]!)).access_token;
    const nonce = await cNonce(base);
    const proof = await proofJwt(key, base, nonce);
    const first = await request([proof], other);
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    // …then the same proof, and a fresh proof with the same c_nonce, for the unspent token.
    await expectRefused('A90', request([proof]));
    await expectRefused('A90', request([await proofJwt(await holderKey(), base, nonce)]));
  });

  it(title('A91'), async () => {
    await expectRefused('A91', request([await proofJwt(key, base, 'n'.repeat(32))]));
    await expectRefused('A91', request([await proofJwt(key, base, undefined)]));
    // A nonce of ours (the platform's key), issued just longer ago than it lives.
    const { db, masterKey } = h.p.server.platform;
    const stale = mintNonce(await nonceKey(db, masterKey), new Date(Date.now() - (NONCE_SECONDS + 1) * 1000));
    await expectRefused('A91', request([await proofJwt(key, base, stale)]));
    // And one under another key: not ours, whatever it looks like.
    await expectRefused('A91', request([await proofJwt(key, base, mintNonce(Buffer.alloc(32, 7)))]));
  });

  it(title('A92'), async () => {
    for (const aud of ['https://issuer.example', `${base}/`, `${base}/credentials/v1/credential`])
      await expectRefused('A92', request([await proofJwt(key, aud, await cNonce(base))]));
  });

  it(title('A93'), async () => {
    for (const typ of [undefined, 'JWT', 'dc+sd-jwt', 'kb+jwt', 'openid4vci-proof']) {
      const header = { alg: 'ES256', jwk: key.publicJwk, ...(typ ? { typ } : {}) };
      await expectRefused('A93', request([await proofJwt(key, base, await cNonce(base), { header })]));
    }
  });

  it(title('A94'), async () => {
    // Signed by another key than the one in the header (the attacker's key binds the victim's jwk).
    const attacker = await holderKey();
    await expectRefused(
      'A94',
      request([await proofJwt(key, base, await cNonce(base), { signer: attacker.privateKey })]),
    );
    // alg none, and an HMAC "signature" keyed with the public key's bytes.
    const payload = { aud: base, nonce: await cNonce(base), iat: Math.floor(Date.now() / 1000) };
    await expectRefused('A94', request([compact({ alg: 'none', typ: PROOF_TYP, jwk: key.publicJwk }, payload)]));
    const hs = await new SignJWT(payload)
      .setProtectedHeader({ alg: 'HS256', typ: PROOF_TYP, jwk: key.publicJwk } as { alg: string })
      .sign(new TextEncoder().encode(JSON.stringify(key.publicJwk)));
    await expectRefused('A94', request([hs]));
    // A header without any key, and one with a key of another type than its alg.
    await expectRefused(
      'A94',
      request([await proofJwt(key, base, await cNonce(base), { header: { alg: 'ES256', typ: PROOF_TYP } })]),
    );
    const rsa = await generateKeyPair('RS256', { extractable: true });
    const { exportJWK } = await import('jose');
    await expectRefused(
      'A94',
      request([
        await new SignJWT({ aud: base, nonce: await cNonce(base) })
          .setProtectedHeader({ alg: 'RS256', typ: PROOF_TYP, jwk: await exportJWK(rsa.publicKey) })
          .setIssuedAt()
          .sign(rsa.privateKey),
      ]),
    );
  });

  it(title('A95'), async () => {
    const header = { alg: 'ES256', typ: PROOF_TYP, jwk: key.privateJwk as JWK };
    await expectRefused('A95', request([await proofJwt(key, base, await cNonce(base), { header })]));
  });

  it(title('A96'), async () => {
    await expectRefused('A96', credentialRequest(base, token, { credential_configuration_id: CONFIGURATION_ID }));
    await expectRefused('A96', request([]));
    // A batch (batch_credential_issuance) takes up to its size of proofs, one c_nonce, a key each.
    const nonce = await cNonce(base);
    const keys = await Promise.all(Array.from({ length: BATCH_SIZE + 1 }, () => holderKey()));
    const tooMany = await Promise.all(keys.map((k) => proofJwt(k, base, nonce)));
    await expectRefused('A96', request(tooMany));
    const twoNonces = [
      await proofJwt(keys[0]!, base, await cNonce(base)),
      await proofJwt(keys[1]!, base, await cNonce(base)),
    ];
    await expectRefused('A96', request(twoNonces));
    const sameNonce = await cNonce(base);
    await expectRefused('A96', request([await proofJwt(key, base, sameNonce), await proofJwt(key, base, sameNonce)]));
    await expectRefused(
      'A96',
      credentialRequest(base, token, {
        credential_configuration_id: CONFIGURATION_ID,
        proofs: { jwt: [await proofJwt(key, base, await cNonce(base))] },
        proof: { proof_type: 'jwt', jwt: await proofJwt(key, base, await cNonce(base)) },
      }),
    );
  });

  it(title('A97'), async () => {
    const proof = async () => [await proofJwt(key, base, await cNonce(base))];
    await expectRefused(
      'A97',
      credentialRequest(base, undefined, {
        credential_configuration_id: CONFIGURATION_ID,
        proofs: { jwt: await proof() },
      }),
    );
    await expectRefused('A97', request(await proof(), 'x'.repeat(43)));
    // A token of the wallet that expired (its row's expiry moved into the past).
    const expiring = (await walletAuthorization(h.p, h.signers[2]!)).access_token;
    await h.p.server.platform.db.query(
      "UPDATE oidc_store SET expires_at = now() - interval '1 second' WHERE model = 'AccessToken' AND id = $1",
      [expiring],
    );
    await expectRefused('A97', request(await proof(), expiring));
    // Not a bearer token at all.
    const basicAuth = await fetch(`${base}/credentials/v1/credential`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from('a:b').toString('base64')}` },
      body: JSON.stringify({ credential_configuration_id: CONFIGURATION_ID, proofs: { jwt: await proof() } }),
    });
    expect(basicAuth.status).toBe(401);
    expect(((await basicAuth.json()) as { error: string }).error).toBe('invalid_token');
  });

  it(title('A98'), async () => {
    // An RP's own authorizations: identity only, and one that asked for the credential scope itself.
    for (const scope of ['openid identity', `openid identity ${CREDENTIAL_SCOPE}`, `openid ${CREDENTIAL_SCOPE}`]) {
      const flow = await startFlow(h.p, h.rpA.clientId, h.rpA.clientSecret, { scope });
      expect((await holderRespond(h.p.sandbox, holderLinkOf(flow.page.body), { person: h.signers[3]! })).status).toBe(
        200,
      );
      const tokens = await oidc.authorizationCodeGrant(flow.config, await finishFlow(h.p, flow), {
        pkceCodeVerifier: flow.verifier,
        expectedState: flow.state,
      });
      // The RP proves a key of its own, naming itself as the proof's issuer (as a wallet client would).
      const proof = await proofJwt(key, base, await cNonce(base), { payload: { iss: h.rpA.clientId } });
      await expectRefused('A98', request([proof], tokens.access_token));
    }
  });

  it(title('A99'), async () => {
    const once = (await walletAuthorization(h.p, h.signers[4]!)).access_token;
    expect((await requestCredential(base, once, key)).status).toBe(200);
    await expectRefused('A99', requestCredential(base, once, key));
    await expectRefused('A99', requestCredential(base, once, await holderKey()));
  });
});
