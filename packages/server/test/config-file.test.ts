// The JSON configuration file (KAKUNIN_CONFIG) is checked against its schema: an unknown key at any
// level, or a value of the wrong JSON type, refuses to load, naming the key and its path.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, ConfigFileSchema, DEFAULTS, loadConfig, parseConfigFile } from '../src/config.js';

const dir = mkdtempSync(join(tmpdir(), 'kakunin-config-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (text: string): string => {
  const path = join(dir, `${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, text);
  return path;
};
const load = (content: unknown) => loadConfig({ mode: 'sandbox' }, { KAKUNIN_CONFIG: file(JSON.stringify(content)) });

describe('configuration file schema', () => {
  it.each([
    [{ prot: 8080 }, /the configuration has an unknown key "prot" \(did you mean "port"\?\)/],
    [{ publicURL: 'https://x' }, /unknown key "publicURL" \(did you mean "publicUrl"\?\)/],
    [{ colour: 'blue' }, /the configuration has an unknown key "colour" \(known: mode, host, port, /],
  ])('refuses an unknown top-level key: %j', (content, message) => {
    expect(() => load(content)).toThrow(ConfigError);
    expect(() => load(content)).toThrow(message);
  });

  it.each([
    [{ ocsp: { timeoutMS: 100 } }, /ocsp has an unknown key "timeoutMS" \(did you mean "timeoutMs"\?\)/],
    [
      { crlSources: [{ url: 'https://crl.example/a.crl', isuser: 'authca03' }] },
      /crlSources\[0\] has an unknown key "isuser"/,
    ],
    [{ trustAnchors: [{ file: '/x.pem', sha: 'AB' }] }, /trustAnchors\[0\] has an unknown key "sha"/],
    [{ ocspReuseSeconds: { logins: 5 } }, /ocspReuseSeconds has an unknown key "logins" \(did you mean "login"\?\)/],
  ])('refuses an unknown nested key: %j', (content, message) => {
    expect(() => load(content)).toThrow(ConfigError);
    expect(() => load(content)).toThrow(message);
  });

  it.each([
    [{ port: '8080' }, /port must be a number \(got "8080"\)/],
    [{ trustedProxies: '10.0.0.5' }, /trustedProxies must be a list/],
    [{ trustedProxies: [5] }, /trustedProxies\[0\] must be a string \(got 5\)/],
    [{ ocsp: { requireNonce: 'yes' } }, /ocsp.requireNonce must be true or false/],
    [{ ocsp: { responders: { authca03: 5 } } }, /ocsp.responders.authca03 must be a string/],
    [{ crlSources: { url: 'https://crl.example/a.crl' } }, /crlSources must be a list/],
    [[], /the configuration must be an object/],
  ])('refuses a value of the wrong type: %j', (content, message) => {
    expect(() => load(content)).toThrow(ConfigError);
    expect(() => load(content)).toThrow(message);
  });

  it('names the file, and refuses a file that is not JSON', () => {
    const path = file('{ "port": 8080, }');
    expect(() => loadConfig({ mode: 'sandbox' }, { KAKUNIN_CONFIG: path })).toThrow(ConfigError);
    expect(() => loadConfig({ mode: 'sandbox' }, { KAKUNIN_CONFIG: path })).toThrow(`${path} is not JSON`);
    expect(() => load({ prot: 1 })).toThrow(dir);
  });

  it("accepts the README's example and a file that sets every setting", () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const examples = [...readme.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]!);
    expect(examples.length).toBeGreaterThan(0);
    for (const text of examples) expect(() => parseConfigFile(text, 'README.md')).not.toThrow();
    const every = {
      ...DEFAULTS,
      publicUrl: 'https://kakunin.example.jp',
      databaseUrl: 'postgres://localhost/kakunin',
      adminToken: 'a'.repeat(32),
      masterKey: 'b'.repeat(64),
      masterKeyFile: '/etc/kakunin/master-key',
      ocspUrl: 'http://ocsp.example.jp',
      crlDir: '/var/lib/kakunin/crl',
      municipalityCodesFile: '/etc/kakunin/municipalities.csv',
      credentialOfferClients: ['rp_city_portal'],
      crlSources: [{ url: 'https://crl.example.jp/a.crl', issuer: 'authca03' }, { file: '/x.crl' }],
      linkageUrl: 'https://linkage.example.jp',
      trustAnchors: [{ file: '/etc/kakunin/authca04.pem', sha256: 'AB'.repeat(32), label: 'authca04' }],
      simServicesUrl: 'http://127.0.0.1:9000',
      monitorMode: 'crl',
      trustedProxies: ['10.0.0.0/24'],
      recordsLogOrigin: 'kakunin.example.jp/records',
    };
    expect(Object.keys(every).sort()).toEqual(Object.keys(ConfigFileSchema.properties).sort());
    expect(parseConfigFile(JSON.stringify(every), 'every.json')).toEqual(every);
    expect(load({ port: 9090, ocsp: { requireNonce: false } })).toMatchObject({ port: 9090 });
  });
});
