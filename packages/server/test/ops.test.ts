// Operations surface: health, readiness, Prometheus metrics, the OpenAPI document, the admin API's
// authentication, and production mode refusing to start half-configured.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { createCeremony } from '../src/ceremonies.js';
import { createRelyingParty } from '../src/relying-parties.js';
import {
  REDIRECT,
  createTestSandbox,
  holderRespond,
  startTestPlatform,
  type TestPlatform,
} from './support/platform.js';

let sim: Awaited<ReturnType<typeof createTestSandbox>>;
let p: TestPlatform;
beforeAll(async () => {
  sim = await createTestSandbox();
  p = await startTestPlatform('pglite', sim.dir);
}, 120_000);
afterAll(async () => {
  await p?.close();
  sim?.remove();
});

describe('operations', () => {
  it('healthz and readyz', async () => {
    expect(await (await fetch(`${p.server.url}/healthz`)).json()).toEqual({ ok: true });
    expect(await (await fetch(`${p.server.url}/readyz`)).json()).toMatchObject({
      ready: true,
      mode: 'sandbox',
      database: 'pglite',
    });
  });

  it('metrics count ceremonies by outcome and time verifications, with no personal data', async () => {
    const rp = await createRelyingParty(p.server.platform, { name: 'Metrics RP', redirectUris: [REDIRECT] });
    const person = p.sandbox.people()[0]!.id;
    const c = await createCeremony(p.server.platform, { kind: 'login', rpClientId: rp.clientId });
    expect((await holderRespond(p.sandbox, `${p.server.url}/holder/v1/ceremonies/${c.id}`, { person })).status).toBe(
      200,
    );
    const text = await (await fetch(`${p.server.url}/metrics`)).text();
    expect(text).toMatch(/kakunin_ceremonies_total\{kind="login",outcome="verified"\} 1/);
    expect(text).toMatch(/kakunin_verification_seconds_count\{kind="login"\} 1/);
    expect(text).toMatch(/kakunin_revocation_source_age_seconds\{source="ocsp"\}/);
    const who = p.sandbox.person(person);
    expect(text).not.toContain(who.name);
    expect(text).not.toContain(rp.clientId);
  });

  it('serves an OpenAPI document generated from the route schemas', async () => {
    const doc = (await (await fetch(`${p.server.url}/openapi.json`)).json()) as {
      openapi: string;
      paths: Record<string, Record<string, { requestBody?: unknown; responses?: Record<string, unknown> }>>;
    };
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.paths['/holder/v1/ceremonies/{id}']?.get?.responses?.['200']).toBeDefined();
    expect(doc.paths['/holder/v1/ceremonies/{id}/response']?.post?.requestBody).toBeDefined();
    expect(doc.paths['/admin/v1/relying-parties']?.post).toBeDefined();
    expect(Object.keys(doc.paths).some((k) => k.startsWith('/interaction'))).toBe(false);
  });

  it('the admin API needs the admin token', async () => {
    expect((await fetch(`${p.server.url}/admin/v1/relying-parties`)).status).toBe(401);
    expect(
      (await fetch(`${p.server.url}/admin/v1/relying-parties`, { headers: { authorization: 'Bearer wrong' } })).status,
    ).toBe(401);
    const ok = await fetch(`${p.server.url}/admin/v1/relying-parties`, {
      headers: { authorization: `Bearer ${p.server.adminToken}` },
    });
    expect(ok.status).toBe(200);
    const bad = await fetch(`${p.server.url}/admin/v1/relying-parties`, {
      method: 'POST',
      headers: { authorization: `Bearer ${p.server.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'x', redirect_uris: ['ftp://nope'] }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/https/);
  });

  it('production mode refuses to start without its revocation sources and database', () => {
    expect(() => loadConfig({ mode: 'production' }, {})).toThrow(ConfigError);
    expect(() => loadConfig({ mode: 'production' }, {})).toThrow(
      /DATABASE_URL.*KAKUNIN_OCSP_URL or KAKUNIN_CRL_DIR.*KAKUNIN_LINKAGE_URL/,
    );
    expect(
      loadConfig(
        { mode: 'production' },
        {
          DATABASE_URL: 'postgres://x/y',
          KAKUNIN_OCSP_URL: 'http://ocsp',
          KAKUNIN_LINKAGE_URL: 'http://l',
          KAKUNIN_PUBLIC_URL: 'https://id.example.jp',
        },
      ).mode,
    ).toBe('production');
    expect(() => loadConfig({ port: 70000 }, {})).toThrow(/out of range/);
  });
});
