// The platform's command-line contract, as written in the platform issue: `kakunin serve` prints its
// base URL first, `kakunin rp add --json` registers an RP against the same data dir (through the
// running server), `kakunin holder URL --sim PERSON --dir DIR --pin-stdin` completes a ceremony, and
// a stock OIDC client gets verified_claims. Ctrl-C stops the server cleanly.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizationRequest, Browser, holderLinkOf } from '@kakunin/server/testing';
import { kakunin } from './run.js';

const BIN = fileURLToPath(new URL('../bin/kakunin.js', import.meta.url));
const REDIRECT = 'http://127.0.0.1:9/cb';

let dataDir: string;
let server: ChildProcess;
let url: string;
let stderr = '';

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'kakunin-serve-'));
  server = spawn(
    process.execPath,
    [BIN, 'serve', '--sandbox', '--port', '0', '--data-dir', dataDir, '--log-level', 'warn'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  server.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: server.stdout! });
    lines.once('line', resolve);
    server.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
  });
}, 120_000);

afterAll(async () => {
  if (server.exitCode === null) {
    server.kill('SIGKILL');
    await new Promise((r) => server.once('exit', r));
  }
  rmSync(dataDir, { recursive: true, force: true });
});

interface Person {
  id: string;
  hasSignCert: boolean;
  pins: { auth: string; sign: string };
}

describe('kakunin serve / rp add / holder (checked as written)', () => {
  let client: { client_id: string; client_secret: string };
  let person: Person;

  it('prints the base URL on the first line of standard output', async () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const d = (await (await fetch(`${url}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(d.issuer).toBe(url);
    expect(d.verified_claims_supported).toBe(true);
  });

  it('rp add --json registers against the same data dir while the server runs', () => {
    const r = kakunin([
      'rp',
      'add',
      '--name',
      '銀行デモ',
      '--redirect-uri',
      REDIRECT,
      '--framework',
      'jp_aml',
      '--json',
      '--data-dir',
      dataDir,
    ]);
    expect(r.stderr).not.toMatch(/Unsupported runtime/);
    expect(r.code).toBe(0);
    client = JSON.parse(r.stdout) as typeof client;
    expect(client.client_id).toBeTruthy();
    expect(client.client_secret.length).toBeGreaterThanOrEqual(32);
    const list = kakunin(['rp', 'list', '--json', '--data-dir', dataDir]);
    expect((JSON.parse(list.stdout) as { client_id: string }[]).map((c) => c.client_id)).toContain(client.client_id);
  });

  it('the simulator people are in DATA_DIR/sim', () => {
    const r = kakunin(['sim', 'people', '--dir', join(dataDir, 'sim'), '--json']);
    expect(r.code).toBe(0);
    person = (JSON.parse(r.stdout) as Person[]).find((p) => p.hasSignCert)!;
    expect(person).toBeDefined();
  });

  it('holder --sim --pin-stdin completes an identity ceremony; the RP gets verified_claims', async () => {
    const {
      config,
      verifier,
      state,
      url: auth,
    } = await authorizationRequest(url, client.client_id, client.client_secret, {
      redirectUri: REDIRECT,
      scope: 'openid identity',
    });
    const browser = new Browser();
    const page = await browser.go(auth.toString(), url);
    const link = holderLinkOf(page.body);
    expect(link.startsWith(`${url}/holder/v1/ceremonies/`)).toBe(true);

    const wrong = kakunin(['holder', link, '--sim', person.id, '--dir', join(dataDir, 'sim'), '--pin-stdin'], {
      input: 'WRONG123\n',
    });
    expect(wrong.code).toBe(3);
    expect(wrong.stderr).toMatch(/WRONG_PIN|remaining/i);

    const r = kakunin(['holder', link, '--sim', person.id, '--dir', join(dataDir, 'sim'), '--pin-stdin'], {
      input: `${person.pins.sign}\n`,
    });
    expect(r.stderr).toMatch(/銀行デモ/);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/completed/);

    const again = kakunin(['holder', link, '--sim', person.id, '--dir', join(dataDir, 'sim'), '--pin-stdin'], {
      input: `${person.pins.sign}\n`,
    });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/completed/);

    const uid = /\/interaction\/([^/?]+)/.exec(page.url)![1]!;
    const consent = await browser.go(`${url}/interaction/${uid}/continue`, url);
    const consentUid = /\/interaction\/([^/?]+)/.exec(consent.url)![1]!;
    const landed = await browser.go(`${url}/interaction/${consentUid}/consent`, url, { method: 'POST', form: {} });
    const tokens = await oidc.authorizationCodeGrant(config, new URL(landed.url), {
      pkceCodeVerifier: verifier,
      expectedState: state,
    });
    const info = await oidc.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub);
    expect((info.verified_claims as { verification: { trust_framework: string } }).verification.trust_framework).toBe(
      'jp_aml',
    );
  }, 60_000);

  it('records verify and export work through the running server (it holds the embedded database)', () => {
    const verify = kakunin(['records', 'verify', '--data-dir', dataDir]);
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/^OK: \d+ records, log intact: tree size \d+/);
    const csv = kakunin(['records', 'export', '--format', 'csv', '--data-dir', dataDir]);
    expect(csv.code, csv.stderr).toBe(0);
    const [header, ...rows] = csv.stdout.trim().split('\n');
    expect(header).toMatch(/seq/);
    expect(rows.some((r) => r.includes('jpki_signature') && r.includes(client.client_id))).toBe(true);
  });

  it('stops cleanly on SIGINT', async () => {
    expect(existsSync(join(dataDir, 'server.json'))).toBe(true);
    server.kill('SIGINT');
    const code = await new Promise<number | null>((r) => server.once('exit', r));
    expect(code).toBe(0);
    expect(existsSync(join(dataDir, 'server.json'))).toBe(false);
    expect(existsSync(join(dataDir, 'db.lock'))).toBe(false);
  }, 30_000);
});
