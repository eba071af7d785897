// Adversarial catalogue — secrets at rest (A84). Whoever can read the platform database (a dump, a
// backup, a read-only DBA) must not find anything that mints ID tokens, signs webhooks or
// authenticates as a relying party or the admin: client secrets and the admin token are verifiers,
// the signing keys, cookie keys, pairwise salt and webhook secrets are sealed under the master key,
// which is not in the database. Rows an older version wrote in plaintext are converted at start.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MasterKey, SealedSecretError, findRelyingParty, webhookSecretOf } from '@kakunin/server';
import { sealRelyingPartySecrets, loadAdminToken, platformSecrets } from '@kakunin/server/testing';
import { title } from './catalogue.js';
import {
  REDIRECT,
  finishFlow,
  holderLinkOf,
  holderRespond,
  startFlow,
  startHarness,
  type Harness,
} from './support/platform.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
}, 180_000);
afterAll(async () => h?.close());

const TABLES = ['relying_parties', 'kv_secrets', 'auth_failures'] as const;

describe('secrets at rest', () => {
  it(title('A84'), async () => {
    const { db, masterKey, config } = h.p.server.platform;
    // What a version before sealing left behind: an RP, the admin token and a signing key in plaintext.
    const legacy = {
      clientId: 'rp_legacy',
      secret: `legacy-${randomBytes(24).toString('base64url')}`,
      webhook: `whsec_${randomBytes(32).toString('base64url')}`,
    };
    await db.query(
      `INSERT INTO relying_parties (client_id, client_secret, name, redirect_uris, ceremonies, framework, purpose, webhook_secret) VALUES ($1, $2, 'Legacy RP', $3, $4, 'jp_aml', '本人確認', $5)`,
      [legacy.clientId, legacy.secret, [REDIRECT], ['login', 'identity'], legacy.webhook],
    );
    const legacyJwk: Record<string, string> = {
      ...(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }) as Record<
        string,
        string
      >),
      kid: 'k-legacy',
      use: 'sig',
      alg: 'RS256',
    };
    await db.query(`INSERT INTO kv_secrets (name, value) VALUES ('oidc.signing-key', $1)`, [{ v: legacyJwk }]);
    await db.query(`UPDATE kv_secrets SET value = $1 WHERE name = 'admin.token'`, [{ v: h.p.server.adminToken }]);
    // The start-up steps of startServer that convert them.
    await platformSecrets(db, masterKey);
    await sealRelyingPartySecrets(db, masterKey);
    expect(await loadAdminToken(db, { file: join(config.dataDir, 'admin-token') })).toBe(h.p.server.adminToken);

    // A stock OIDC client completes the flow; its ID token verifies against /jwks.
    const flow = await startFlow(h.p, h.rpA.clientId, h.rpA.clientSecret);
    expect((await holderRespond(h.p.sandbox, holderLinkOf(flow.page.body), { person: h.signers[0]! })).status).toBe(
      200,
    );
    const tokens = await oidc.authorizationCodeGrant(flow.config, await finishFlow(h.p, flow), {
      pkceCodeVerifier: flow.verifier,
      expectedState: flow.state,
    });
    const jwks = createRemoteJWKSet(new URL(`${h.p.server.url}/jwks`));
    expect(
      (await jwtVerify(tokens.id_token!, jwks, { issuer: h.p.server.url, audience: h.rpA.clientId })).payload.sub,
    ).toBe(tokens.claims()!.sub);
    expect(decodeProtectedHeader(tokens.id_token!).kid).not.toBe('k-legacy');
    // The legacy RP still authenticates with its secret (only the made-up code fails) and its webhook secret still opens.
    const legacyAuth = await fetch(`${h.p.server.url}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${legacy.clientId}:${legacy.secret}`).toString('base64')}`,
      },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: 'made-up',
        redirect_uri: REDIRECT,
        code_verifier: 'v'.repeat(43),
      }).toString(),
    });
    expect(((await legacyAuth.json()) as { error: string }).error).toBe('invalid_grant');
    expect(webhookSecretOf((await findRelyingParty(db, legacy.clientId))!, masterKey)).toBe(legacy.webhook);

    // The dump.
    const dump = (
      await Promise.all(TABLES.map(async (t) => JSON.stringify(await db.query(`SELECT * FROM ${t}`))))
    ).join('\n');
    for (const [what, secret] of Object.entries({
      'client secret': h.rpA.clientSecret,
      'webhook secret': h.rpA.webhookSecret,
      'legacy client secret': legacy.secret,
      'legacy webhook secret': legacy.webhook,
      'admin token': h.p.server.adminToken,
      'legacy private key': legacyJwk.d!,
    })) {
      expect(dump.includes(secret), what).toBe(false);
    }
    expect(dump).not.toMatch(/"d"\s*:|PRIVATE KEY/);
    expect(dump).not.toContain('oidc.signing-key"'); // the plaintext row is gone, its key moved into the sealed list

    // Not vacuous: the sealed rows hold the keys, and open only under the master key.
    const sealed = (
      await db.query<{ value: { sealed: string } }>(`SELECT value FROM kv_secrets WHERE name = 'oidc.signing-keys'`)
    )[0]!.value.sealed;
    expect(masterKey.open(sealed, 'kv_secrets/oidc.signing-keys')).toContain(legacyJwk.d);
    expect(() => MasterKey.generate().open(sealed, 'kv_secrets/oidc.signing-keys')).toThrow(SealedSecretError);
    // A sealed value moved onto another row does not open there.
    expect(() => masterKey.open(sealed, 'kv_secrets/oidc.cookie-keys')).toThrow(SealedSecretError);
  });
});
