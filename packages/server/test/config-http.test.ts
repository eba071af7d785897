// The HTTP edge's settings: trusted proxies (file and environment, refused when not an address or
// range), timeouts and the connection limit, and how a proxy list matches addresses.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { httpServerOptions, proxyMatcher } from '../src/http-hardening.js';

const dir = mkdtempSync(join(tmpdir(), 'kakunin-config-http-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sandbox = { mode: 'sandbox' as const };

describe('HTTP edge configuration', () => {
  it('defaults: no trusted proxy, 30 s per request, 10 s for headers, 72 s keep-alive, 100 connections per address', () => {
    const c = loadConfig(sandbox, {});
    expect(c).toMatchObject({
      trustedProxies: [],
      requestTimeoutSeconds: 30,
      headersTimeoutSeconds: 10,
      keepAliveTimeoutSeconds: 72,
      maxConnectionsPerAddress: 100,
    });
    expect(httpServerOptions(c)).toMatchObject({
      requestTimeout: 30_000,
      keepAliveTimeout: 72000,
      connectionTimeout: 0,
      http: { requestTimeout: 30_000, headersTimeout: 10_000 },
    });
  });

  it('trusted proxies from the JSON file (a list) or KAKUNIN_TRUSTED_PROXIES (commas or spaces); the environment wins', () => {
    const path = join(dir, 'proxies.json');
    writeFileSync(path, JSON.stringify({ trustedProxies: ['10.0.0.5', 'fd00::/8'] }));
    expect(loadConfig(sandbox, { KAKUNIN_CONFIG: path }).trustedProxies).toEqual(['10.0.0.5', 'fd00::/8']);
    expect(
      loadConfig(sandbox, { KAKUNIN_CONFIG: path, KAKUNIN_TRUSTED_PROXIES: '10.0.0.0/24, 127.0.0.1 ::1' })
        .trustedProxies,
    ).toEqual(['10.0.0.0/24', '127.0.0.1', '::1']);
  });

  it('refuses what is not an address or range, timeouts of 0, headers allowed longer than the request', () => {
    for (const bad of ['proxy.example', '10.0.0.0/33', '::/129', '10.0.0.1/8/1', '10.0.0.256', 'loopback']) {
      expect(() => loadConfig(sandbox, { KAKUNIN_TRUSTED_PROXIES: bad }), bad).toThrow(
        /trustedProxies: ".+" is not an IP address or CIDR range/,
      );
    }
    expect(() => loadConfig({ ...sandbox, trustedProxies: '10.0.0.5' as unknown as string[] }, {})).not.toThrow();
    expect(() => loadConfig({ ...sandbox, trustedProxies: { a: 1 } as unknown as string[] }, {})).toThrow(ConfigError);
    expect(() => loadConfig(sandbox, { KAKUNIN_REQUEST_TIMEOUT_SECONDS: '0' })).toThrow(
      /requestTimeoutSeconds must be at least 1/,
    );
    expect(() => loadConfig(sandbox, { KAKUNIN_KEEP_ALIVE_TIMEOUT_SECONDS: '0' })).toThrow(
      /keepAliveTimeoutSeconds must be at least 1/,
    );
    expect(() =>
      loadConfig(sandbox, { KAKUNIN_REQUEST_TIMEOUT_SECONDS: '5', KAKUNIN_HEADERS_TIMEOUT_SECONDS: '6' }),
    ).toThrow(/headersTimeoutSeconds \(6\) must not exceed requestTimeoutSeconds \(5\)/);
    expect(loadConfig(sandbox, { KAKUNIN_MAX_CONNECTIONS_PER_ADDRESS: '0' }).maxConnectionsPerAddress).toBe(0);
  });

  it('a proxy list matches its addresses and ranges, IPv4-mapped IPv6 included, and nothing else', () => {
    const trusted = proxyMatcher(['10.0.0.5', '192.168.1.0/24', 'fd00::/8']);
    for (const a of ['10.0.0.5', '::ffff:10.0.0.5', '192.168.1.77', 'fd00::1']) expect(trusted(a), a).toBe(true);
    for (const a of ['10.0.0.6', '192.168.2.1', 'fe80::1', 'evil', '', undefined])
      expect(trusted(a), String(a)).toBe(false);
    expect(proxyMatcher([])('127.0.0.1')).toBe(false);
  });
});
