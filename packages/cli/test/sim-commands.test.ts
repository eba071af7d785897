// The `kakunin sim …` and `kakunin cert …` contract, run as a user would, on one fresh sandbox.
import { execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kakunin } from './run.js';

const BIN = fileURLToPath(new URL('../bin/kakunin.js', import.meta.url));

interface PersonJson {
  id: string;
  name: string;
  birthDate: string;
  municipalityCode: string;
  hasSignCert: boolean;
  pins: { auth: string; sign: string; cardInfo: string };
}

let work: string;
let dir: string;
let roots: string;
let people: PersonJson[];

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'kakunin-cli-'));
  dir = join(work, 'sim');
  roots = join(work, 'roots');
  const init = kakunin(['sim', 'init', '--dir', dir]);
  expect(init.code, init.stderr).toBe(0);
  expect(init.stdout).toMatch(/sandbox ready/);
  const list = kakunin(['sim', 'people', '--dir', dir, '--json']);
  expect(list.code, list.stderr).toBe(0);
  people = JSON.parse(list.stdout);
  expect(kakunin(['sim', 'roots', '--out', roots, '--dir', dir]).code).toBe(0);
}, 120_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

const adult = (): PersonJson => people.find((p) => p.hasSignCert)!;

describe('kakunin sim', () => {
  it('people: a JSON array with ids, names, birth dates, municipality codes, sign-cert flag and sandbox PINs', () => {
    expect(people.length).toBeGreaterThanOrEqual(10);
    for (const p of people) {
      expect(p.id).toMatch(/^\S+$/);
      expect(p.birthDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(p.municipalityCode).toMatch(/^\d{5}$/);
      expect(p.pins.auth).toMatch(/^\d{4}$/);
      expect(p.pins.cardInfo).toMatch(/^\d{4}$/);
      expect(p.pins.sign).toMatch(/^[A-Z0-9]{6,16}$/);
    }
    expect(people.some((p) => !p.hasSignCert)).toBe(true); // the minor
    expect(people.some((p) => p.municipalityCode.startsWith('18'))).toBe(true); // Fukui
    // Without --json and not on a terminal it is still JSON.
    expect(JSON.parse(kakunin(['sim', 'people', '--dir', dir]).stdout)).toHaveLength(people.length);
  });

  it('roots: writes the simulator roots as PEM, two generations per card kind', () => {
    const files = readdirSync(roots);
    expect(files.filter((f) => /^sim-authca0\d\.pem$/.test(f)).length).toBeGreaterThanOrEqual(2);
    expect(files.filter((f) => /^sim-signca0\d\.pem$/.test(f)).length).toBeGreaterThanOrEqual(2);
    expect(readFileSync(join(roots, files[0]!), 'utf8')).toMatch(/^-----BEGIN CERTIFICATE-----/);
  });

  it.each([
    ['auth', 'card'],
    ['sign', 'card'],
    ['auth', 'android'],
    ['sign', 'android'],
    ['auth', 'iphone'],
    ['sign', 'iphone'],
  ])(
    'cert --kind %s --medium %s: verified by kakunin in sandbox mode and by openssl; rejected in production',
    (kind, medium) => {
      const p = adult();
      const out = join(work, `${p.id}-${kind}-${medium}.der`);
      const w = kakunin([
        'sim',
        'cert',
        '--person',
        p.id,
        '--kind',
        kind,
        '--medium',
        medium,
        '--out',
        out,
        '--dir',
        dir,
      ]);
      expect(w.code, w.stderr).toBe(0);

      const inspect = JSON.parse(kakunin(['cert', 'inspect', out, '--json', '--trust', roots]).stdout);
      expect(inspect).toMatchObject({ kind, environment: 'simulator', medium, isCA: false });
      if (kind === 'sign') expect(inspect.basic4).toMatchObject({ name: p.name, birthDate: p.birthDate });
      else expect(inspect.municipalityHint).toMatch(/^\d{5}$/);

      const ok = kakunin(['cert', 'verify', out, '--mode', 'sandbox', '--trust', roots, '--json']);
      expect(ok.code, ok.stderr).toBe(0);
      expect(JSON.parse(ok.stdout)).toMatchObject({ valid: true, kind, medium, environment: 'simulator' });
      expect(JSON.parse(ok.stdout).generation).toBe(inspect.issuerGeneration.label);

      const prod = kakunin(['cert', 'verify', out, '--mode', 'production', '--trust', roots]);
      expect(prod.code).toBe(1);
      expect(prod.stderr).toMatch(/UntrustedIssuer \(UNTRUSTED_ISSUER\)/);
      expect(kakunin(['cert', 'verify', out]).stderr).toMatch(/UntrustedIssuer/);

      const pem = execFileSync('openssl', ['x509', '-inform', 'DER', '-in', out], { encoding: 'utf8' });
      const rootPem = join(roots, `${inspect.issuerGeneration.label}.pem`);
      const verified = execFileSync('openssl', ['verify', '-CAfile', rootPem], { input: pem, encoding: 'utf8' });
      expect(verified.trim()).toMatch(/: OK$/);
    },
  );

  it("cert for the minor's signing certificate fails with a clear error", () => {
    const minor = people.find((p) => !p.hasSignCert)!;
    const r = kakunin([
      'sim',
      'cert',
      '--person',
      minor.id,
      '--kind',
      'sign',
      '--out',
      join(work, 'none.der'),
      '--dir',
      dir,
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/NO_SUCH_CERTIFICATE/);
  });

  it('event move: the current signing certificate changes serial and address; the auth certificate stays', () => {
    const p = adult();
    const before = { sign: join(work, 'before-sign.der'), auth: join(work, 'before-auth.der') };
    kakunin(['sim', 'cert', '--person', p.id, '--kind', 'sign', '--out', before.sign, '--dir', dir]);
    kakunin(['sim', 'cert', '--person', p.id, '--kind', 'auth', '--out', before.auth, '--dir', dir]);
    const move = kakunin(['sim', 'event', '--person', p.id, 'move', '--dir', dir, '--json']);
    expect(move.code, move.stderr).toBe(0);
    const event = JSON.parse(move.stdout);
    expect(
      event.revoked.some(
        (r: { kind: string; reason: string }) => r.kind === 'sign' && r.reason === 'affiliationChanged',
      ),
    ).toBe(true);
    const after = join(work, 'after-sign.der');
    kakunin(['sim', 'cert', '--person', p.id, '--kind', 'sign', '--out', after, '--dir', dir]);
    const inspect = (f: string) => JSON.parse(kakunin(['cert', 'inspect', f, '--json']).stdout);
    expect(inspect(after).serial).not.toBe(inspect(before.sign).serial);
    expect(inspect(after).basic4.address).not.toBe(inspect(before.sign).basic4.address);
    const authAfter = join(work, 'after-auth.der');
    kakunin(['sim', 'cert', '--person', p.id, '--kind', 'auth', '--out', authAfter, '--dir', dir]);
    expect(inspect(authAfter).serial).toBe(inspect(before.auth).serial);
  });

  it('bad input: unknown person, unknown event, missing sandbox — one clear line, no stack trace', () => {
    const unknown = kakunin([
      'sim',
      'cert',
      '--person',
      'nobody',
      '--kind',
      'auth',
      '--out',
      join(work, 'x.der'),
      '--dir',
      dir,
    ]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/UNKNOWN_PERSON/);
    const badEvent = kakunin(['sim', 'event', '--person', adult().id, 'explode', '--dir', dir]);
    expect(badEvent.code).toBe(2);
    const missing = kakunin(['sim', 'people', '--dir', join(work, 'nothing')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/SANDBOX_NOT_FOUND/);
    for (const r of [unknown, badEvent, missing]) expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('serve prints its base URL first; verify --revocation ocsp|crl and latest follow a move; Ctrl-C stops it', async () => {
    const p = adult();
    const before = join(work, 'serve-before.der');
    kakunin(['sim', 'cert', '--person', p.id, '--kind', 'sign', '--out', before, '--dir', dir]);
    expect(kakunin(['sim', 'event', '--person', p.id, 'move', '--dir', dir]).code).toBe(0);
    const after = join(work, 'serve-after.der');
    kakunin(['sim', 'cert', '--person', p.id, '--kind', 'sign', '--out', after, '--dir', dir]);

    const server = spawn(process.execPath, [BIN, 'sim', 'serve', '--dir', dir, '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        server.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('\n')) resolve(out.split('\n')[0]!);
        });
        server.once('exit', () => reject(new Error('sim serve exited early')));
      });
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

      const revoked = kakunin([
        'cert',
        'verify',
        before,
        '--trust',
        roots,
        '--revocation',
        'ocsp',
        '--ocsp-url',
        `${url}/ocsp`,
      ]);
      expect(revoked.code).toBe(1);
      expect(revoked.stderr).toMatch(/REVOKED/);
      expect(revoked.stderr).toMatch(/affiliationChanged/);
      expect(revoked.stderr).toMatch(/\d{4}-\d{2}-\d{2}T/);
      const good = kakunin([
        'cert',
        'verify',
        after,
        '--trust',
        roots,
        '--revocation',
        'ocsp',
        '--ocsp-url',
        `${url}/ocsp`,
        '--json',
      ]);
      expect(good.code, good.stderr).toBe(0);
      expect(JSON.parse(good.stdout).revocation).toMatchObject({ status: 'good', source: 'ocsp' });

      const crlFile = join(work, 'sign.crl');
      expect(kakunin(['sim', 'crl', '--kind', 'sign', '--out', crlFile, '--dir', dir]).code).toBe(0);
      const viaCrl = kakunin(['cert', 'verify', before, '--trust', roots, '--revocation', 'crl', '--crl', crlFile]);
      expect(viaCrl.code).toBe(1);
      expect(viaCrl.stderr).toMatch(/REVOKED.*affiliationChanged/);

      const newSerial = JSON.parse(kakunin(['cert', 'inspect', after, '--json']).stdout).serial;
      expect(kakunin(['cert', 'latest', before, '--dir', dir]).stdout.trim()).toBe(newSerial);
      expect(kakunin(['cert', 'latest', before, '--linkage-url', url]).stdout.trim()).toBe(newSerial);
    } finally {
      server.kill('SIGINT');
    }
    expect(await exited).toBe(0);
  });
});

describe('kakunin sim card reset-pin (the sandbox municipal counter)', () => {
  it('a PIN blocked by wrong tries works again after the reset; an unknown person is a clear error', async () => {
    const p = people[1]!;
    /** `card sign` of a file with the PIN on standard input. */
    const signArgs = (out: string): string[] => [
      'card',
      'sign',
      '--sim',
      p.id,
      '--dir',
      dir,
      '--data',
      join(dir, 'state.json'),
      '--out',
      join(work, out),
      '--pin-stdin',
    ];
    // Three wrong authentication PINs block it, as on a real card.
    for (let i = 0; i < 3; i++) kakunin(signArgs('sig'), { input: '0000\n' });
    expect(kakunin(['card', 'pin-status', '--sim', p.id, '--dir', dir]).stdout).toMatch(
      /auth PIN: (0 tries remaining|blocked)/i,
    );
    const reset = kakunin(['sim', 'card', 'reset-pin', '--person', p.id, '--dir', dir]);
    expect(reset.code, reset.stderr).toBe(0);
    expect(reset.stdout).toMatch(new RegExp(`${p.id}'s card PINs are reset.*auth 0 tries left \\(blocked\\)`));
    expect(kakunin(['card', 'pin-status', '--sim', p.id, '--dir', dir]).stdout).toMatch(/auth PIN: 3 tries remaining/);
    const signed = kakunin(signArgs('sig'), { input: `${p.pins.auth}\n` });
    expect(signed.code, signed.stderr).toBe(0);
    // --pin-stdin from a pipe its writer keeps open (a script that writes the PIN and waits): the
    // command ends when its work is done, not when the pipe closes.
    const child = spawn(process.execPath, [BIN, ...signArgs('sig2')], { stdio: ['pipe', 'ignore', 'pipe'] });
    child.stdin.write(`${p.pins.auth}\n`);
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => resolve(-1), 20_000);
      child.on('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    child.stdin.end();
    expect(code).toBe(0);
    const unknown = kakunin(['sim', 'card', 'reset-pin', '--person', 'p999', '--dir', dir]);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/no simulated person "p999"/);
  });
});
