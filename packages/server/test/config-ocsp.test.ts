// OCSP settings and answer-reuse windows from the configuration: defaults, JSON file, environment,
// errors; the responder chosen per issuer generation; production's revocation-source requirement.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TrustStore, type X509Certificate } from '@kakunin/jpki';
import { ConfigError, DEFAULTS, loadConfig } from '../src/config.js';
import { configuredOcspClient } from '../src/verifier.js';

const dir = mkdtempSync(join(tmpdir(), 'kakunin-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (o: unknown): string => {
  const path = join(dir, `${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, JSON.stringify(o));
  return path;
};
const sandbox = { mode: 'sandbox' as const };

describe('OCSP configuration', () => {
  it('defaults: 5 s timeout, a day of response age, nonce required; reuse 0 s for identity, 300 s for login', () => {
    const c = loadConfig(sandbox, {});
    expect(c.ocsp).toEqual({ responders: {}, timeoutMs: 5000, maxResponseAgeSeconds: 86_400, requireNonce: true });
    expect(c.ocspReuseSeconds).toEqual({ identity: 0, login: 300 });
  });

  it('a JSON file sets some keys and keeps the defaults of the others; the environment wins over the file', () => {
    const config = file({
      ocsp: {
        responders: { authca03: 'http://ocsp.example/a3', signca03: 'https://ocsp.example/s3' },
        requireNonce: false,
      },
      ocspReuseSeconds: { login: 60 },
    });
    const c = loadConfig(sandbox, { KAKUNIN_CONFIG: config });
    expect(c.ocsp).toEqual({
      responders: { authca03: 'http://ocsp.example/a3', signca03: 'https://ocsp.example/s3' },
      timeoutMs: 5000,
      maxResponseAgeSeconds: 86_400,
      requireNonce: false,
    });
    expect(c.ocspReuseSeconds).toEqual({ identity: 0, login: 60 });
    const e = loadConfig(sandbox, {
      KAKUNIN_CONFIG: config,
      KAKUNIN_OCSP_RESPONDERS: 'authca02=http://ocsp.example/a2, signca02=http://ocsp.example/s2',
      KAKUNIN_OCSP_TIMEOUT_MS: '1500',
      KAKUNIN_OCSP_MAX_RESPONSE_AGE_SECONDS: '3600',
      KAKUNIN_OCSP_REQUIRE_NONCE: 'true',
      KAKUNIN_OCSP_REUSE_LOGIN_SECONDS: '120',
      KAKUNIN_OCSP_REUSE_IDENTITY_SECONDS: '0',
    });
    expect(e.ocsp).toEqual({
      responders: { authca02: 'http://ocsp.example/a2', signca02: 'http://ocsp.example/s2' },
      timeoutMs: 1500,
      maxResponseAgeSeconds: 3600,
      requireNonce: true,
    });
    expect(e.ocspReuseSeconds).toEqual({ identity: 0, login: 120 });
  });

  it.each([
    [{ ocsp: { responders: { authca03: 'ftp://x' } } }, /ocsp.responders.authca03 must be an http\(s\) URL/],
    [{ ocsp: { responders: ['http://x'] } }, /ocsp.responders must map issuer labels to URLs/],
    [{ ocsp: { timeoutMs: 0 } }, /ocsp.timeoutMs must be a whole number from 1/],
    [{ ocsp: { maxResponseAgeSeconds: 1.5 } }, /ocsp.maxResponseAgeSeconds must be a whole number/],
    [{ ocsp: { requireNonce: 'sometimes' } }, /ocsp.requireNonce must be true or false/],
    [{ ocsp: { reuseSeconds: 5 } }, /ocsp has an unknown key "reuseSeconds"/],
    [{ ocspReuseSeconds: { login: -1 } }, /ocspReuseSeconds.login must be a whole number from 0 to 86400/],
    [{ ocspReuseSeconds: { login: 86_401 } }, /ocspReuseSeconds.login must be a whole number from 0 to 86400/],
    [{ ocspReuseSeconds: { signup: 5 } }, /ocspReuseSeconds has an unknown key "signup"/],
  ])('refuses %j', (content, message) => {
    expect(() => loadConfig(sandbox, { KAKUNIN_CONFIG: file(content) })).toThrow(ConfigError);
    expect(() => loadConfig(sandbox, { KAKUNIN_CONFIG: file(content) })).toThrow(message);
  });

  it('refuses a KAKUNIN_OCSP_RESPONDERS item that is not label=URL', () => {
    expect(() => loadConfig(sandbox, { KAKUNIN_OCSP_RESPONDERS: 'http://ocsp.example/' })).toThrow(
      /not <issuer label>=<URL>/,
    );
  });

  it('production needs a revocation source: KAKUNIN_OCSP_URL, ocsp.responders or a CRL source', () => {
    const base = { DATABASE_URL: 'postgres://x', KAKUNIN_LINKAGE_URL: 'http://l', KAKUNIN_PUBLIC_URL: 'https://p' };
    expect(() => loadConfig({}, base)).toThrow(
      /refuses to start without KAKUNIN_OCSP_URL or KAKUNIN_CRL_DIR \(or ocsp.responders, crlSources/,
    );
    expect(loadConfig({}, { ...base, KAKUNIN_OCSP_URL: 'http://ocsp.example/' }).ocspUrl).toBe('http://ocsp.example/');
    expect(
      Object.keys(
        loadConfig({}, { ...base, KAKUNIN_OCSP_RESPONDERS: 'authca03=http://ocsp.example/a3' }).ocsp.responders,
      ),
    ).toEqual(['authca03']);
  });
});

describe('the responder of each issuer generation', () => {
  const store = TrustStore.jlis();
  const anchor = (label: string): X509Certificate => store.list().find((a) => a.label === label)!.certificate.x509;

  it('the configured responder of the anchor’s label, else KAKUNIN_OCSP_URL, else (neither) the certificate’s AIA URL', async () => {
    const asked: string[] = [];
    const ocsp = { ...DEFAULTS.ocsp, responders: { authca03: 'http://a3.example/', signca03: 'http://s3.example/' } };
    const fetcher = (url: string): Promise<Uint8Array> => (asked.push(url), Promise.reject(new Error('offline')));
    const options = { ocsp, trustStore: store, fetcher };
    const ask = async (
      client: ReturnType<typeof configuredOcspClient>,
      issuer: X509Certificate,
      aia: string[] = [],
    ): Promise<void> => {
      await expect(
        client.check({ serial: '01', ocspUrls: aia, crlDistributionPoints: [] }, issuer, new Date()),
      ).rejects.toThrow(/offline/);
    };
    await ask(configuredOcspClient(options), anchor('authca03'));
    await ask(configuredOcspClient(options), anchor('signca03'));
    await ask(configuredOcspClient({ ...options, fallbackUrl: 'http://one.example/' }), anchor('authca01'));
    await ask(configuredOcspClient(options), anchor('authca01'), ['http://aia.example/']);
    expect(asked).toEqual(['http://a3.example/', 'http://s3.example/', 'http://one.example/', 'http://aia.example/']);
  });
});
