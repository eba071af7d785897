// startServer leaves the process's console alone, and oidc-provider, mounted behind fastify (which
// reads every body first), has nothing to warn about: it reads the token request's form itself.

import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createRelyingParty } from '../src/relying-parties.js';
import {
  REDIRECT,
  createTestSandbox,
  finishFlow,
  holderLinkOf,
  holderRespond,
  startFlow,
  startTestPlatform,
  type TestPlatform,
} from './support/platform.js';

let sim: Awaited<ReturnType<typeof createTestSandbox>>;
let p: TestPlatform;
const warnBefore = console.warn;
let warnAfterStart: typeof console.warn;
beforeAll(async () => {
  sim = await createTestSandbox();
  p = await startTestPlatform('pglite', sim.dir);
  warnAfterStart = console.warn;
}, 120_000);
afterAll(async () => {
  await p?.close();
  sim?.remove();
});

describe('the console', () => {
  it('startServer does not replace console.warn', () => {
    expect(warnAfterStart).toBe(warnBefore);
  });

  it('token requests (client_secret_basic, and client_secret_post whose form is rewritten) print no oidc-provider warning', async () => {
    const warn = vi.spyOn(console, 'warn');
    try {
      const person = p.sandbox
        .people()
        .find((x) => p.sandbox.certificates({ personId: x.id, kind: 'auth', medium: 'card' }).length > 0)!.id;
      for (const auth of ['basic', 'post'] as const) {
        const client = await createRelyingParty(p.server.platform, {
          name: `RP ${auth}`,
          redirectUris: [REDIRECT],
          ...(auth === 'post' ? { tokenEndpointAuthMethod: 'client_secret_post' as const } : {}),
        });
        const flow = await startFlow(p, client.clientId, client.clientSecret, { auth });
        const answer = await holderRespond(p.sandbox, holderLinkOf(flow.page.body), { person });
        expect(answer).toMatchObject({ status: 200, body: { state: 'completed' } });
        const tokens = await oidc.authorizationCodeGrant(flow.config, await finishFlow(p, flow), {
          pkceCodeVerifier: flow.verifier,
          expectedState: flow.state,
        });
        expect(tokens.claims()!.acr).toBe('urn:kakunin:jpki:auth');
      }
      expect(warn.mock.calls.filter((c) => String(c[0]).includes('oidc-provider'))).toEqual([]);
    } finally {
      warn.mockRestore();
    }
  });
});
