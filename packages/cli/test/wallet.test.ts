// The reference wallet's command-line contract (issue 21), against a real `kakunin serve --sandbox`:
// `echo PASSWORD | kakunin wallet get --issuer URL --sim P --dir D --pin-stdin --yes --wallet W`,
// then `kakunin wallet list --wallet W --json` gives the SD-JWT VC (issuer JWT and every disclosure,
// no key binding) that verifies against the issuer's keys and carries the resident's attributes; after
// `kakunin sim event --person P move` the running server's monitor marks its status list entry
// invalid. Also: no consent without a terminal or --yes, a wrong password, `wallet accept` of an RP's
// offer with a transaction code, and the wallet at rest (encrypted; a wrong passphrase is told).

import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as oidc from 'openid-client';
import type { JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifySdJwtVc, verifyStatusListToken } from '@kakunin/sd-jwt';
import { authorizationRequest, Browser, holderLinkOf } from '@kakunin/server/testing';
import { serve, type ServeProcess } from './support/servers.js';

const BIN = fileURLToPath(new URL('../bin/kakunin.js', import.meta.url));
const REDIRECT = 'http://127.0.0.1:9/cb';

interface Person {
  id: string;
  name: string;
  birthDate: string;
  address: string;
  hasSignCert: boolean;
  pins: { auth: string; sign: string };
}

interface Listed {
  id: string;
  issuer: string;
  format: string;
  vct: string;
  expires_at: string | null;
  claims: Record<string, unknown>;
  sd_jwt: string;
  copies: number;
  presented: number;
}

/** The real bin with standard input and environment as given (never the test's own passphrase). */
function kakunin(args: string[], o: { input?: string; env?: Record<string, string> } = {}) {
  const env = { ...process.env, ...o.env };
  if (!o.env?.KAKUNIN_WALLET_PASSPHRASE) delete env.KAKUNIN_WALLET_PASSPHRASE;
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    input: o.input ?? '',
    env,
    timeout: 60_000,
  });
  if (r.error) throw r.error;
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** The same, without blocking this process (a server of the test answers the command). */
function kakuninAsync(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env = { ...process.env };
  delete env.KAKUNIN_WALLET_PASSPHRASE;
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}

/** Every file under a directory, recursively. */
const filesUnder = (dir: string): string[] =>
  readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? filesUnder(join(dir, f)) : [join(dir, f)]));

const credentialFiles = (wallet: string): string[] => {
  try {
    return readdirSync(join(wallet, 'credentials')).filter((f) => f.endsWith('.enc'));
  } catch {
    return [];
  }
};

let root: string;
let server: ServeProcess;
let url: string;
let simDir: string;
let people: Person[];
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'kakunin-wallet-test-'));
  server = await serve(['--data-dir', join(root, 'data')]);
  url = server.url;
  simDir = join(root, 'data', 'sim');
  const r = kakunin(['sim', 'people', '--dir', simDir, '--json']);
  expect(r.code, r.stderr).toBe(0);
  people = (JSON.parse(r.stdout) as Person[]).filter((p) => p.hasSignCert);
  expect(people.length).toBeGreaterThanOrEqual(4);
}, 120_000);
afterAll(async () => {
  await server?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

/** `wallet get` with a sandbox card and the password on standard input, as the acceptance check runs it. */
const getArgs = (person: string, wallet: string, ...more: string[]): string[] => [
  'wallet',
  'get',
  '--issuer',
  url,
  '--sim',
  person,
  '--dir',
  simDir,
  '--pin-stdin',
  ...more,
  '--wallet',
  wallet,
];

const issuerKeys = async (): Promise<{ keys: JWK[] }> =>
  ((await (await fetch(`${url}/.well-known/jwt-vc-issuer`)).json()) as { jwks: { keys: JWK[] } }).jwks;

describe('kakunin wallet (checked as written)', () => {
  let listed: Listed;
  let wallet: string;

  it('wallet get --sim --pin-stdin --yes, then wallet list --json: the SD-JWT VC of the resident', async () => {
    const person = people[0]!;
    wallet = join(root, 'w1');
    const got = kakunin(getArgs(person.id, wallet, '--yes'), { input: `${person.pins.sign}\n` });
    expect(got.code, got.stderr).toBe(0);
    expect(got.stderr).toMatch(/consent: yes \(--yes\)/);
    expect(got.stdout).toMatch(/^OK: credential saved/);

    const list = kakunin(['wallet', 'list', '--wallet', wallet, '--json']);
    expect(list.code, list.stderr).toBe(0);
    const entries = JSON.parse(list.stdout) as Listed[];
    expect(entries).toHaveLength(1);
    listed = entries[0]!;
    expect(listed).toMatchObject({ issuer: url, format: 'dc+sd-jwt', vct: `${url}/credentials/types/jp-resident` });

    // The issuer-signed JWT and every disclosure, ending with `~`: no key binding JWT.
    const parts = listed.sd_jwt.split('~');
    expect(listed.sd_jwt.endsWith('~')).toBe(true);
    expect(parts[0]!.split('.')).toHaveLength(3);
    const verified = await verifySdJwtVc(listed.sd_jwt, { keys: await issuerKeys(), keyBinding: 'forbidden' });
    expect(verified.disclosures).toHaveLength(parts.length - 2);
    expect(verified.keyBinding).toBeUndefined();
    expect(verified.claims).toMatchObject({
      iss: url,
      vct: `${url}/credentials/types/jp-resident`,
      name: person.name,
      birthdate: person.birthDate,
      address: { formatted: person.address },
    });
    expect(verified.holderJwk).toMatchObject({ kty: 'EC', crv: 'P-256' });
    const { status_list } = verified.payload.status as { status_list: { idx: number; uri: string } };
    expect(status_list).toEqual({
      idx: expect.any(Number),
      uri: expect.stringMatching(`^${url}/credentials/v1/status/`),
    });
    expect(listed.claims).toEqual(verified.claims);
    expect(listed.expires_at).toBe(new Date((verified.payload.exp as number) * 1000).toISOString());
  }, 60_000);

  it('the wallet files are encrypted: no claim, no credential text in them', () => {
    const person = people[0]!;
    const claims = listed.claims as { address: { formatted: string } };
    const files = filesUnder(wallet);
    expect(files.some((f) => f.endsWith('.enc'))).toBe(true);
    for (const f of files) {
      const bytes = readFileSync(f);
      for (const text of [person.name, person.birthDate, claims.address.formatted, listed.sd_jwt.slice(0, 40)])
        expect(bytes.includes(Buffer.from(text)), `${text} in ${f}`).toBe(false);
      expect(bytes.includes(Buffer.from('"sd_jwt"')), f).toBe(false);
      expect(statSync(f).mode & 0o077, f).toBe(0);
    }
  });

  it('batch issuance: the wallet keeps every copy and shows the next one to each verifier (nothing signed in common)', async () => {
    const entry = (JSON.parse(kakunin(['wallet', 'list', '--wallet', wallet, '--json']).stdout) as Listed[])[0]!;
    expect(entry).toMatchObject({ copies: 5, presented: 0 });
    // A verifier of this test: it takes the direct_post and keeps the vp_token.
    const posted: string[] = [];
    const verifier = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        posted.push(new URLSearchParams(body).get('vp_token')!);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => verifier.listen(0, '127.0.0.1', r));
    const responseUri = `http://127.0.0.1:${(verifier.address() as AddressInfo).port}/response`;
    const clientId = `redirect_uri:${responseUri}`;
    const query = {
      credentials: [
        {
          id: 'resident',
          format: 'dc+sd-jwt',
          meta: { vct_values: [`${url}/credentials/types/jp-resident`] },
          claims: [{ path: ['address', 'prefecture_code'] }],
        },
      ],
    };
    const request = (nonce: string) =>
      `openid4vp://?${new URLSearchParams({
        client_id: clientId,
        response_type: 'vp_token',
        response_mode: 'direct_post',
        response_uri: responseUri,
        nonce,
        state: nonce,
        dcql_query: JSON.stringify(query),
      }).toString()}`;
    try {
      for (const nonce of ['n-first-presentation', 'n-second-presentation']) {
        const r = await kakuninAsync(['wallet', 'present', request(nonce), '--wallet', wallet, '--yes']);
        expect(r.code, r.stderr).toBe(0);
      }
    } finally {
      verifier.close();
    }
    const shown = await Promise.all(
      posted.map(async (vp, i) => {
        const presentation = (JSON.parse(vp) as { resident: string[] }).resident[0]!;
        const nonce = i === 0 ? 'n-first-presentation' : 'n-second-presentation';
        return verifySdJwtVc(presentation, { keys: await issuerKeys(), keyBinding: { audience: clientId, nonce } });
      }),
    );
    expect(shown).toHaveLength(2);
    // The same answer, from two copies: another key, another status entry, other salts.
    const prefecture = (entry.claims.address as { prefecture_code: string }).prefecture_code;
    for (const v of shown) expect(v.claims.address).toEqual({ prefecture_code: prefecture });
    expect(shown[0]!.holderJwk!.x).not.toBe(shown[1]!.holderJwk!.x);
    expect(shown[0]!.status!.idx).not.toBe(shown[1]!.status!.idx);
    const salts = shown.flatMap((v) => v.disclosures.map((d) => d.salt));
    expect(new Set(salts).size).toBe(salts.length);
    expect((JSON.parse(kakunin(['wallet', 'list', '--wallet', wallet, '--json']).stdout) as Listed[])[0]).toMatchObject(
      {
        presented: 2,
      },
    );
  });

  it('a reading command never makes a wallet; a passphrase for a wallet made without one is refused', () => {
    const missing = join(root, 'no-such-wallet');
    const list = kakunin(['wallet', 'list', '--wallet', missing, '--json']);
    expect(list.code, list.stderr).toBe(1);
    expect(list.stderr).toContain(`no wallet in ${missing}`);
    expect(existsSync(missing)).toBe(false);
    const withPassphrase = kakunin(['wallet', 'list', '--wallet', wallet], {
      env: { KAKUNIN_WALLET_PASSPHRASE: 'correct horse battery staple' },
    });
    expect(withPassphrase.code).toBe(1);
    expect(withPassphrase.stderr).toMatch(/made without a passphrase.*unset KAKUNIN_WALLET_PASSPHRASE/);
  });

  it('sim event move → the running server revokes it: the status list marks the entry invalid', async () => {
    const person = people[0]!;
    const { status_list } = listed.claims.status as { status_list: { idx: number; uri: string } };
    const bit = async (): Promise<number> => {
      const res = await fetch(status_list.uri);
      expect(res.status).toBe(200);
      const token = await verifyStatusListToken(await res.text(), { keys: await issuerKeys(), uri: status_list.uri });
      return token.list.get(status_list.idx);
    };
    expect(await bit()).toBe(0);
    const moved = kakunin(['sim', 'event', '--person', person.id, 'move', '--dir', simDir]);
    expect(moved.code, moved.stderr).toBe(0);
    let value = 0;
    for (const end = Date.now() + 15_000; Date.now() < end && value === 0;) {
      value = await bit();
      if (value === 0) await new Promise((r) => setTimeout(r, 100));
    }
    expect(value).toBe(1);
  }, 30_000);

  it('without --yes and with standard input not a terminal: exit 2 before the card signs, nothing saved', () => {
    const person = people[1]!;
    const w = join(root, 'w-no-yes');
    const r = kakunin(getArgs(person.id, w), { input: `${person.pins.sign}\n` });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/consent/);
    expect(r.stderr).toMatch(/--yes/);
    expect(r.stderr).not.toMatch(/text to be signed/);
    expect(credentialFiles(w)).toEqual([]);
  });

  it('without --yes, the consent is asked: its answer may follow the password on standard input (no: nothing saved)', () => {
    const person = people[1]!;
    const args = (w: string) => getArgs(person.id, w);
    const declined = join(root, 'w-declined');
    const no = kakunin(args(declined), { input: `${person.pins.sign}\nno\n` });
    expect(no.code).toBe(1);
    expect(no.stderr).toMatch(/will put into your credential[\s\S]*Agree\? \[y\/N\] no/);
    expect(no.stderr).toMatch(/access_denied/);
    expect(credentialFiles(declined)).toEqual([]);
    const agreed = join(root, 'w-agreed');
    const yes = kakunin(args(agreed), { input: `${person.pins.sign}\nyes\n` });
    expect(yes.code, yes.stderr).toBe(0);
    expect(yes.stderr).toMatch(/Agree\? \[y\/N\] yes/);
    expect(credentialFiles(agreed)).toHaveLength(1);
  });

  it('a wrong signing password: exit 3 with the tries remaining, nothing saved', () => {
    const person = people[1]!;
    const w = join(root, 'w-wrong');
    const r = kakunin(getArgs(person.id, w, '--yes'), { input: 'WRONG123\n' });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/wrong signing password.*tries remaining/);
    expect(credentialFiles(w)).toEqual([]);
  });

  it("wallet accept of an RP's offer with a transaction code, into a wallet locked with a passphrase", async () => {
    const person = people[2]!;
    const added = kakunin([
      'rp',
      'add',
      '--name',
      '銀行デモ',
      '--redirect-uri',
      REDIRECT,
      '--json',
      '--data-dir',
      join(root, 'data'),
    ]);
    expect(added.code, added.stderr).toBe(0);
    const rp = JSON.parse(added.stdout) as { client_id: string; client_secret: string };
    // The RP verifies the resident's identity (the holder answers with `kakunin holder`).
    const auth = await authorizationRequest(url, rp.client_id, rp.client_secret, {
      redirectUri: REDIRECT,
      scope: 'openid identity',
    });
    const browser = new Browser();
    const page = await browser.go(auth.url.toString(), url);
    const holder = kakunin(['holder', holderLinkOf(page.body), '--sim', person.id, '--dir', simDir, '--pin-stdin'], {
      input: `${person.pins.sign}\n`,
    });
    expect(holder.code, holder.stderr).toBe(0);
    const uid = /\/interaction\/([^/?]+)/.exec(page.url)![1]!;
    const consent = await browser.go(`${url}/interaction/${uid}/continue`, url);
    const consentUid = /\/interaction\/([^/?]+)/.exec(consent.url)![1]!;
    const landed = await browser.go(`${url}/interaction/${consentUid}/consent`, url, { method: 'POST', form: {} });
    const tokens = await oidc.authorizationCodeGrant(auth.config, new URL(landed.url), {
      pkceCodeVerifier: auth.verifier,
      expectedState: auth.state,
    });
    const record = tokens.claims()!['urn:kakunin:record'] as string;

    const res = await fetch(`${url}/rp/v1/credential-offers`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Basic ${Buffer.from(`${rp.client_id}:${rp.client_secret}`).toString('base64')}`,
      },
      body: JSON.stringify({ record_id: record, tx_code: true }),
    });
    expect(res.status).toBe(200);
    const offer = (await res.json()) as { offer_uri: string; tx_code: string };

    const w = join(root, 'w-locked');
    const env = { KAKUNIN_WALLET_PASSPHRASE: 'correct horse battery staple' };
    const noCode = kakunin(['wallet', 'accept', offer.offer_uri, '--wallet', w], { env });
    expect(noCode.code).toBe(2);
    expect(noCode.stderr).toMatch(/transaction code.*--tx-code/);
    const accepted = kakunin(['wallet', 'accept', offer.offer_uri, '--tx-code', offer.tx_code, '--wallet', w], { env });
    expect(accepted.code, accepted.stderr).toBe(0);
    const list = kakunin(['wallet', 'list', '--wallet', w, '--json'], { env });
    expect(list.code, list.stderr).toBe(0);
    const [entry] = JSON.parse(list.stdout) as Listed[];
    const verified = await verifySdJwtVc(entry!.sd_jwt, { keys: await issuerKeys() });
    expect(verified.claims).toMatchObject({ name: person.name, birthdate: person.birthDate });
    // The offer is spent.
    const again = kakunin(['wallet', 'accept', offer.offer_uri, '--tx-code', offer.tx_code, '--wallet', w], { env });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/invalid_grant/);

    for (const f of filesUnder(w)) expect(readFileSync(f).includes(Buffer.from(person.name)), f).toBe(false);
    // A wrong passphrase, or none, is told plainly (and nothing is written with the wrong key).
    const wrong = kakunin(['wallet', 'list', '--wallet', w, '--json'], { env: { KAKUNIN_WALLET_PASSPHRASE: 'wrong' } });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/wrong passphrase.*KAKUNIN_WALLET_PASSPHRASE/);
    expect(wrong.stdout).toBe('');
    const before = credentialFiles(w);
    const intoWrong = kakunin(getArgs(people[3]!.id, w, '--yes'), {
      input: `${people[3]!.pins.sign}\n`,
      env: { KAKUNIN_WALLET_PASSPHRASE: 'wrong' },
    });
    expect(intoWrong.code).toBe(1);
    expect(intoWrong.stderr).toMatch(/wrong passphrase/);
    expect(intoWrong.stderr).not.toMatch(/text to be signed/);
    expect(credentialFiles(w)).toEqual(before);
    const none = kakunin(['wallet', 'list', '--wallet', w]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/locked with a passphrase.*KAKUNIN_WALLET_PASSPHRASE/);
  }, 60_000);
});
