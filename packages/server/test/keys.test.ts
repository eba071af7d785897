// Key management: the master key (required in production, never in the database), ID token and credential signing
// key rotation (new key signs after a restart, both published, old tokens verify during the overlap,
// then the old key is retired) and master key rotation (every sealed secret re-sealed), on both engines.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, type JWK } from 'jose';
import { verifySdJwtVc, verifyStatusListToken } from '@kakunin/sd-jwt';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulatedJlis } from '@kakunin/sim';
import { startServer, type RunningPlatform } from '../src/app.js';
import { ConfigError, loadConfig } from '../src/config.js';
import { MasterKey, SealedSecretError, loadMasterKey } from '../src/master-key.js';
import { openPlatformDatabase } from '../src/db/open.js';
import {
  createRelyingParty,
  findRelyingParty,
  webhookSecretOf,
  type RegisteredRelyingParty,
} from '../src/relying-parties.js';
import { listSigningKeys, retireSigningKey, rotateMasterKey, rotateSigningKey } from '../src/secrets.js';
import { createPostgresDatabase, ENGINES } from './support/databases.js';
import { holderKey, requestCredential, walletAuthorization } from './support/credentials.js';
import {
  createTestSandbox,
  finishFlow,
  holderLinkOf,
  holderRespond,
  startFlow,
  type TestPlatform,
} from './support/platform.js';

let sim: Awaited<ReturnType<typeof createTestSandbox>>;
beforeAll(async () => {
  sim = await createTestSandbox();
}, 120_000);
afterAll(() => sim?.remove());

describe('the master key', () => {
  it('production refuses to start without one; sandbox creates DATA_DIR/master-key (0600) once', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'kakunin-mk-'));
    try {
      expect(() => loadMasterKey({ mode: 'production', dataDir }, { create: true })).toThrow(ConfigError);
      expect(() => loadMasterKey({ mode: 'production', dataDir })).toThrow(
        /production mode refuses to start without a master key: set KAKUNIN_MASTER_KEY/,
      );
      expect(() => loadMasterKey({ mode: 'production', dataDir, masterKey: 'short' })).toThrow(
        /KAKUNIN_MASTER_KEY is not a master key/,
      );
      const created = loadMasterKey({ mode: 'sandbox', dataDir }, { create: true });
      expect(loadMasterKey({ mode: 'sandbox', dataDir }, { create: true }).id).toBe(created.id);
      expect(loadMasterKey({ mode: 'production', dataDir }).id).toBe(created.id);
      const fromEnv = MasterKey.generate();
      expect(loadMasterKey({ mode: 'production', dataDir, masterKey: fromEnv.export() }).id).toBe(fromEnv.id);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe.each(ENGINES)('key rotation (%s)', (engine) => {
  let dataDir: string;
  let pg: Awaited<ReturnType<typeof createPostgresDatabase>> | undefined;
  let server: RunningPlatform | undefined;
  let rp: RegisteredRelyingParty;

  const config = (env: NodeJS.ProcessEnv = {}) =>
    loadConfig(
      { mode: 'sandbox', port: 0, dataDir, logLevel: 'silent', agentUrl: '', ...(pg ? { databaseUrl: pg.url } : {}) },
      env,
    );
  const start = async (env?: NodeJS.ProcessEnv): Promise<TestPlatform> => {
    await server?.close();
    server = await startServer(config(env), { simulatedJlis: startSimulatedJlis, simDir: sim.dir, noJobs: true });
    return { server, sandbox: server.sandbox!.sandbox, dataDir, close: () => server!.close() };
  };
  /** A whole login; the ID token it returns. */
  const idToken = async (p: TestPlatform): Promise<string> => {
    const flow = await startFlow(p, rp.clientId, rp.clientSecret);
    expect((await holderRespond(p.sandbox, holderLinkOf(flow.page.body), { person: 'p001' })).status).toBe(200);
    return (
      await oidc.authorizationCodeGrant(flow.config, await finishFlow(p, flow), {
        pkceCodeVerifier: flow.verifier,
        expectedState: flow.state,
      })
    ).id_token!;
  };
  // The signature against this server's /jwks (each restart listens on another port, so the issuer differs).
  const verify = (p: TestPlatform, token: string) =>
    jwtVerify(token, createRemoteJWKSet(new URL(`${p.server.url}/jwks`)), { audience: rp.clientId });
  const published = async (p: TestPlatform): Promise<string[]> =>
    ((await (await fetch(`${p.server.url}/jwks`)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), `kakunin-keys-${engine}-`));
    pg = engine === 'postgres' ? await createPostgresDatabase() : undefined;
  });
  afterAll(async () => {
    await server?.close();
    await pg?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('rotate: the new key signs after a restart, both are published, the old token verifies; retire: it no longer does', async () => {
    let p = await start();
    rp = await createRelyingParty(p.server.platform, {
      name: 'Keys RP',
      redirectUris: ['http://127.0.0.1:9/callback'],
    });
    const before = await idToken(p);
    const [first] = await listSigningKeys(p.server.platform.db, p.server.platform.masterKey);
    expect(decodeProtectedHeader(before).kid).toBe(first!.kid);

    const rotated = await rotateSigningKey(p.server.platform.db, p.server.platform.masterKey);
    expect(rotated.map((k) => k.signing)).toEqual([true, false]);
    p = await start();
    const after = await idToken(p);
    expect(decodeProtectedHeader(after).kid).toBe(rotated[0]!.kid);
    expect((await published(p)).sort()).toEqual([first!.kid, rotated[0]!.kid].sort());
    await verify(p, before);
    await verify(p, after);

    await expect(retireSigningKey(p.server.platform.db, p.server.platform.masterKey, rotated[0]!.kid)).rejects.toThrow(
      /is the one in use/,
    );
    await retireSigningKey(p.server.platform.db, p.server.platform.masterKey, first!.kid);
    p = await start();
    expect(await published(p)).toEqual([rotated[0]!.kid]);
    await expect(verify(p, before)).rejects.toThrow();
    await verify(p, await idToken(p));
  }, 180_000);

  it('credential keys rotate the same way: new credentials and status lists signed by the new key, both published at /.well-known/jwt-vc-issuer, then the old one retired', async () => {
    let p = await start();
    const { db, masterKey } = p.server.platform;
    const credential = async (person: string): Promise<string> => {
      const token = await walletAuthorization(p, person);
      const answer = await requestCredential(p.server.url, token.access_token, await holderKey());
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      return answer.body.credentials![0]!.credential;
    };
    const issuerKeys = async (): Promise<{ keys: JWK[] }> =>
      ((await (await fetch(`${p.server.url}/.well-known/jwt-vc-issuer`)).json()) as { jwks: { keys: JWK[] } }).jwks;
    const kidOf = (sdJwt: string): string => String(decodeProtectedHeader(sdJwt.split('~')[0]!).kid);

    const before = await credential('p001');
    const [first] = await listSigningKeys(db, masterKey, 'credential');
    expect(kidOf(before)).toBe(first!.kid);
    // The ID token keys are another ring: rotating one leaves the other as it was.
    const idKeys = await listSigningKeys(db, masterKey);
    const rotated = await rotateSigningKey(db, masterKey, 'credential');
    expect(await listSigningKeys(db, masterKey)).toEqual(idKeys);
    p = await start();
    const after = await credential('p002');
    expect(kidOf(after)).toBe(rotated[0]!.kid);
    expect((await issuerKeys()).keys.map((k) => k.kid).sort()).toEqual([first!.kid, rotated[0]!.kid].sort());
    for (const c of [before, after]) await verifySdJwtVc(c, { keys: await issuerKeys() });
    // Each key has its own status list; both are served and verify with the published keys.
    for (const c of [before, after]) {
      const uri = String((decodeJwt(c.split('~')[0]!).status as { status_list: { uri: string } }).status_list.uri);
      expect(uri).toMatch(new RegExp(`/credentials/v1/status/(${first!.kid}|${rotated[0]!.kid})$`));
      const current = uri.replace(/^http:\/\/[^/]+/, p.server.url);
      const res = await fetch(current);
      expect(res.status).toBe(200);
      await verifyStatusListToken(await res.text(), { keys: await issuerKeys(), uri: current });
    }

    await expect(
      retireSigningKey(p.server.platform.db, p.server.platform.masterKey, rotated[0]!.kid, 'credential'),
    ).rejects.toThrow(/is the one in use/);
    await retireSigningKey(p.server.platform.db, p.server.platform.masterKey, first!.kid, 'credential');
    p = await start();
    expect((await issuerKeys()).keys.map((k) => k.kid)).toEqual([rotated[0]!.kid]);
    await expect(verifySdJwtVc(before, { keys: await issuerKeys() })).rejects.toThrow();
    await verifySdJwtVc(after, { keys: await issuerKeys() });
  }, 180_000);

  it('master key rotation re-seals everything: the new key starts the platform, the old one no longer opens it', async () => {
    let p = await start();
    const old = p.server.platform.masterKey;
    await server!.close();
    server = undefined;
    const next = MasterKey.generate();
    // With the servers stopped, as `kakunin keys rotate-master` runs.
    const db = await openPlatformDatabase({ dataDir, ...(pg ? { databaseUrl: pg.url } : {}) });
    try {
      expect((await rotateMasterKey(db, old, next)).resealed).toBeGreaterThanOrEqual(4);
    } finally {
      await db.close();
    }
    await expect(start()).rejects.toThrow(SealedSecretError);
    writeFileSync(join(dataDir, 'master-key'), `${next.export()}\n`, { mode: 0o600 });
    p = await start();
    expect(p.server.platform.masterKey.id).toBe(next.id);
    await verify(p, await idToken(p));
    expect(webhookSecretOf((await findRelyingParty(p.server.platform.db, rp.clientId))!, next)).toBe(rp.webhookSecret);
  }, 180_000);
});
