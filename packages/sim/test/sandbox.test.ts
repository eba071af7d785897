// A freshly initialised sandbox: the people registry, every issued certificate checked with the
// real openssl binary and an independent ASN.1 parse, persistence and its typed errors.

import 'reflect-metadata';
import { createPublicKey, sign, verify, X509Certificate } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KIND_OU, simPolicyOid, type CertKind, type Medium } from '@kakunin/jpki/oids';
import {
  certificateStatus,
  InvalidInput,
  initSandbox,
  jpkiBirthDate,
  MUNICIPALITIES,
  municipality,
  NoSuchCertificate,
  openSandbox,
  SandboxCorrupt,
  SandboxExists,
  SandboxNotFound,
  UnknownPerson,
  type CertificateRecord,
  type Sandbox,
} from '../src/index.js';
import { generatePeople } from '../src/people.js';
import {
  AUTH_EXTENSIONS,
  extensions,
  opensslText,
  SIGN_EXTENSIONS,
  opensslVerify,
  parseCert,
  sanOtherNames,
  tempDir,
} from './helpers.js';

const BASE_URL = 'http://127.0.0.1:18901';
const tmp = tempDir('sandbox');
const dir = join(tmp.path, 'sb');
let sb: Sandbox;
let initMs = 0;

beforeAll(async () => {
  const t0 = Date.now();
  sb = await initSandbox({ dir, baseUrl: BASE_URL });
  initMs = Date.now() - t0;
});
afterAll(() => tmp.cleanup());

const MEDIA: readonly Medium[] = ['card', 'android', 'iphone'];
const KINDS: readonly CertKind[] = ['auth', 'sign'];

function held(): { record: CertificateRecord; der: Buffer }[] {
  return sb.people().flatMap((p) =>
    MEDIA.flatMap((medium) =>
      KINDS.flatMap((kind) => {
        try {
          return [
            { record: sb.currentCertificateRecord(p.id, kind, medium), der: sb.currentCertificate(p.id, kind, medium) },
          ];
        } catch (e) {
          if (e instanceof NoSuchCertificate) return [];
          throw e;
        }
      }),
    ),
  );
}

describe('people registry', () => {
  it('initialises in reasonable time', () => {
    console.log(
      `initSandbox: ${initMs} ms for ${sb.certificates().length} certificates and ${sb.roots().length} roots`,
    );
    expect(initMs).toBeLessThan(60_000);
  });

  it('has a dozen people with every sex code, births from 大正 to 令和 and addresses across prefectures', () => {
    const people = sb.people();
    expect(people.length).toBe(12);
    expect(people.map((p) => p.id)).toEqual(people.map((_, i) => `p${String(i + 1).padStart(3, '0')}`));
    expect(new Set(people.map((p) => p.sex))).toEqual(new Set(['0', '1', '2', '9']));
    expect(new Set(people.map((p) => jpkiBirthDate(p.birthDate)[0]))).toEqual(new Set(['2', '3', '4', '5']));
    const fukui = people.filter((p) => p.prefecture === '福井県');
    expect(new Set(fukui.map((p) => p.municipalityCode))).toEqual(new Set(['18201', '18207', '18209']));
    expect(new Set(people.map((p) => p.prefecture)).size).toBeGreaterThanOrEqual(6);
    for (const p of people) {
      const m = municipality(p.municipalityCode);
      expect(p.trueAddress.startsWith(`${m.prefecture}${m.name}`)).toBe(true);
      expect(p.prefecture).toBe(m.prefecture);
      expect(p.municipality).toBe(m.name);
      // Full-width digits and hyphens, as in the register: no ASCII at all.
      expect(p.address).toMatch(/^[^\p{ASCII}]+[０-９]+－[０-９]+－[０-９]+$/u);
      expect(p.pins.auth).toMatch(/^\d{4}$/);
      expect(p.pins.cardInfo).toMatch(/^\d{4}$/);
      expect(p.pins.sign).toMatch(/^(?=.*[A-Z])(?=.*\d)[A-Z0-9]{6,16}$/);
      expect(p.nameSubstitute.length).toBe([...p.name].length);
      expect(p.addressSubstitute.length).toBe([...p.address].length);
    }
  });

  it('records true names apart from certificate names, flagging substitutes per code point', () => {
    const substituted = sb.people().filter((p) => p.trueName !== p.name);
    expect(substituted.length).toBeGreaterThanOrEqual(3);
    for (const p of substituted) {
      expect(p.nameSubstitute).toContain('1');
      const flagged = [...p.trueName].filter((_, i) => p.nameSubstitute[i] === '1');
      expect(flagged.every((ch) => ![...p.name].includes(ch))).toBe(true);
    }
    expect(substituted.some((p) => [...p.trueName].some((ch) => ch.codePointAt(0)! > 0xffff))).toBe(true);
    expect(sb.people().some((p) => p.addressSubstitute.includes('1') && p.trueAddress !== p.address)).toBe(true);
  });

  it('is deterministic for a seed', () => {
    const specs = sb.roots();
    const gen2 = specs.find((r) => r.id === 'sim-authca02')!.notBefore;
    const phone = specs.find((r) => r.medium === 'android')!.notBefore;
    const a = generatePeople(sb.seed, sb.now, gen2, phone).map((p) => p.person);
    expect(a).toEqual(sb.people());
    expect(generatePeople('another seed', sb.now, gen2, phone).map((p) => p.person)).not.toEqual(a);
  });

  it('gives the minor an authentication certificate only', () => {
    const minors = sb
      .people()
      .filter((p) => p.birthDate > new Date(sb.now.getTime() - 15 * 365.25 * 86_400_000).toISOString().slice(0, 10));
    expect(minors).toHaveLength(1);
    const minor = minors[0]!;
    expect(sb.currentCertificateRecord(minor.id, 'auth').kind).toBe('auth');
    expect(() => sb.currentCertificate(minor.id, 'sign')).toThrow(NoSuchCertificate);
    for (const medium of ['android', 'iphone'] as const)
      for (const kind of KINDS) expect(() => sb.currentCertificate(minor.id, kind, medium)).toThrow(NoSuchCertificate);
    try {
      sb.currentCertificate(minor.id, 'sign');
    } catch (e) {
      expect((e as NoSuchCertificate).code).toBe('NO_SUCH_CERTIFICATE');
    }
    expect(() => sb.person('p999')).toThrow(UnknownPerson);
  });

  it('issued some card certificates from generation 1 before generation 2 began, the rest from generation 2', () => {
    const gen2Start = sb.roots().find((r) => r.id === 'sim-authca02')!.notBefore;
    const card = sb.certificates({ medium: 'card' });
    const gen1 = card.filter((c) => c.issuerId.endsWith('ca01'));
    expect(new Set(gen1.map((c) => c.personId)).size).toBeGreaterThanOrEqual(1);
    for (const c of gen1) expect(Date.parse(c.notBefore)).toBeLessThan(gen2Start.getTime());
    expect(card.filter((c) => c.issuerId.endsWith('ca02')).length).toBeGreaterThan(gen1.length);
    for (const c of card) expect(certificateStatus(c, sb.now)).toBe('valid');
  });
});

describe('issued certificates', () => {
  it('all verify with openssl against their own root and fail against the other generation', () => {
    const certs = held();
    expect(certs.length).toBe(11 * 6 + 1);
    const roots = sb.roots();
    for (const root of roots) {
      const mine = certs.filter((c) => c.record.issuerId === root.id).map((c) => c.der);
      expect(mine.length, root.id).toBeGreaterThan(0);
      const good = opensslVerify(tmp.path, root.pem, mine, ['-x509_strict']);
      expect(good.ok.every(Boolean), good.output).toBe(true);
      // Same DN, other key: the other card generation; smartphone roots against the card root of their kind.
      const other = roots.find(
        (r) =>
          r.kind === root.kind &&
          r.id !== root.id &&
          (root.medium === 'card' ? r.medium === 'card' : r.medium === 'card' && r.generation === 2),
      )!;
      const bad = opensslVerify(tmp.path, other.pem, mine);
      expect(bad.ok.some(Boolean), bad.output).toBe(false);
      expect(bad.output).toMatch(/unable to get local issuer certificate/);
    }
    expect(new Set(certs.map((c) => c.record.issuerId))).toEqual(new Set(roots.map((r) => r.id)));
  });

  it('show the profile in openssl x509 -text', () => {
    for (const { record, der } of held().filter(
      (c, i, all) => all.findIndex((x) => x.record.kind === c.record.kind && x.record.medium === c.record.medium) === i,
    )) {
      const text = opensslText(der);
      const m = municipality(record.municipalityCode);
      expect(text).toMatch(
        record.kind === 'auth'
          ? /X509v3 Key Usage: critical\n\s+Digital Signature\n/
          : /X509v3 Key Usage: critical\n\s+Digital Signature, Non Repudiation\n/,
      );
      expect(text).toMatch(
        new RegExp(
          `X509v3 Certificate Policies: critical\\n\\s+Policy: ${simPolicyOid(record.kind, record.medium).replace(/\./g, '\\.')}\\n\\s+CPS: http://www\\.jpki\\.go\\.jp/cps\\.html`,
        ),
      );
      const mediumOu =
        record.medium === 'card' ? '' : `OU = Smartphone ${record.medium === 'android' ? 'Android' : 'iPhone'}, `;
      expect(text).toContain(
        `DirName:C = JP, O = JPKI-SIM, OU = ${KIND_OU[record.kind]}, ${mediumOu}OU = CRL Distribution Points, OU = ${m.prefectureRomaji}, CN = ${m.romaji} CRLDP`,
      );
      expect(text).toContain(`OCSP - URI:${BASE_URL}/ocsp`);
      const root = sb.roots().find((r) => r.id === record.issuerId)!;
      expect(text).toMatch(
        new RegExp(
          `Authority Key Identifier: \\n\\s+keyid:[0-9A-F:]+\\n\\s+DirName:/C=JP/O=JPKI-SIM/OU=${KIND_OU[record.kind]}/`,
        ),
      );
      expect(text).toContain(`serial:${root.serial.match(/../g)!.join(':')}`);
      expect(text).toMatch(/Subject Key Identifier: \n/);
      if (record.kind === 'auth') {
        expect(text).toContain('X509v3 Extended Key Usage: \n                TLS Web Client Authentication');
        expect(text).toMatch(/Subject: C=JP, CN=[0-9A-F]{8}[A-Z]{6}\d{5}003A\n/);
      } else {
        expect(text).toContain(`Subject: C=JP, L=${m.prefectureRomaji}, L=${m.romaji}, CN=`);
        expect(text).toContain('othername: 1.2.392.200149.8.5.5.1::');
      }
    }
  });

  it('keep the §7.2 extension order and criticality on every certificate', () => {
    for (const { record, der } of held()) {
      expect(extensions(parseCert(der)).map((e) => [e.extnID, e.critical])).toEqual(
        record.kind === 'auth' ? AUTH_EXTENSIONS : SIGN_EXTENSIONS,
      );
    }
  });

  it('carry the person’s basic 4 info in every signing certificate', () => {
    for (const { record, der } of held().filter((c) => c.record.kind === 'sign')) {
      const p = sb.person(record.personId);
      expect(sanOtherNames(parseCert(der))).toEqual([
        ['1.2.392.200149.8.5.5.1', p.name],
        ['1.2.392.200149.8.5.5.4', jpkiBirthDate(p.birthDate)],
        ['1.2.392.200149.8.5.5.3', p.sex],
        ['1.2.392.200149.8.5.5.5', p.address],
        ['1.2.392.200149.8.5.5.2', p.nameSubstitute],
        ['1.2.392.200149.8.5.5.6', p.addressSubstitute],
      ]);
    }
  });

  it('match their private keys and records; validity follows §7.5', () => {
    const data = Buffer.from('kakunin challenge');
    for (const { record, der } of held()) {
      const x = new X509Certificate(der);
      const key = sb.privateKey(record.personId, record.kind, record.medium);
      expect(verify('sha256', data, x.publicKey, sign('sha256', data, key))).toBe(true);
      expect(x.serialNumber).toBe(record.serial);
      expect(new Date(x.validTo).toISOString()).toBe(record.notAfter);
      expect(record.notAfter).toMatch(/T14:59:59\.000Z$/);
      const root = sb.roots().find((r) => r.id === record.issuerId)!;
      expect(Date.parse(record.notAfter)).toBeLessThanOrEqual(root.notAfter.getTime());
      expect(Date.parse(record.notBefore)).toBeGreaterThanOrEqual(root.notBefore.getTime());
    }
  });

  it('pair each adult’s auth and sign certificates per medium in the issue events', () => {
    const issues = sb.events();
    expect(issues.every((e) => e.type === 'issue' && e.revoked.length === 0)).toBe(true);
    expect([...issues.map((e) => e.at)]).toEqual([...issues.map((e) => e.at)].sort());
    expect(sb.pairs()).toHaveLength(11 * 3);
    for (const pair of sb.pairs()) {
      expect(sb.currentCertificateRecord(pair.personId, 'auth', pair.medium).serial).toBe(pair.auth.serial);
      expect(sb.currentCertificateRecord(pair.personId, 'sign', pair.medium).serial).toBe(pair.sign.serial);
    }
  });
});

describe('persistence', () => {
  it('lays out state.json, DER certificates, PEM roots and private keys readable only by the owner', () => {
    expect(existsSync(join(dir, 'state.json'))).toBe(true);
    for (const r of sb.roots()) {
      expect(readFileSync(join(dir, 'certs/roots', `${r.id}.der`)).equals(r.der)).toBe(true);
      expect(readFileSync(join(dir, 'certs/roots', `${r.id}.pem`), 'utf8')).toBe(r.pem);
      expect(statSync(join(dir, 'keys/ca', `${r.id}.pem`)).mode & 0o077).toBe(0);
    }
    for (const c of sb.certificates()) {
      expect(readFileSync(join(dir, c.file)).subarray(0, 2).toString('hex')).toBe('3082');
      expect(readFileSync(join(dir, c.keyFile), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
      expect(statSync(join(dir, c.keyFile)).mode & 0o077).toBe(0);
    }
    const walk = (d: string): string[] =>
      readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : [e.name]));
    expect(walk(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
    expect(readdirSync(tmp.path).filter((f) => f.includes('.init-'))).toEqual([]);
  });

  it('reopens to the same sandbox', () => {
    const again = openSandbox(dir);
    expect(again.people()).toEqual(sb.people());
    expect(again.certificates()).toEqual(sb.certificates());
    expect(again.events()).toEqual(sb.events());
    expect(again.roots().map((r) => r.der.toString('hex'))).toEqual(sb.roots().map((r) => r.der.toString('hex')));
    expect(again.baseUrl).toBe(BASE_URL);
    const p = sb.people()[0]!.id;
    expect(
      again
        .privateKey(p, 'sign')
        .export({ type: 'pkcs8', format: 'der' })
        .equals(sb.privateKey(p, 'sign').export({ type: 'pkcs8', format: 'der' })),
    ).toBe(true);
    // The reopened CA continues with the same root keys.
    const root = again.ca.root('sim-signca02');
    expect(
      createPublicKey(root.privateKey)
        .export({ type: 'spki', format: 'der' })
        .equals(
          new X509Certificate(sb.roots().find((r) => r.id === 'sim-signca02')!.der).publicKey.export({
            type: 'spki',
            format: 'der',
          }),
        ),
    ).toBe(true);
  });

  it('reports a missing or corrupt sandbox with typed errors', () => {
    expect(() => openSandbox(join(tmp.path, 'nothing-here'))).toThrow(SandboxNotFound);
    const bad = join(tmp.path, 'corrupt');
    mkdirSync(bad);
    writeFileSync(join(bad, 'state.json'), '{"format": "kakunin-sim/1", "roots": [');
    expect(() => openSandbox(bad)).toThrow(SandboxCorrupt);
    writeFileSync(join(bad, 'state.json'), '{"format": "something-else"}');
    expect(() => openSandbox(bad)).toThrow(SandboxCorrupt);
    const noKeys = join(tmp.path, 'no-keys');
    cpSync(dir, noKeys, { recursive: true });
    writeFileSync(join(noKeys, 'keys/ca/sim-authca01.pem'), 'garbage');
    expect(() => openSandbox(noKeys)).toThrow(SandboxCorrupt);
    try {
      openSandbox(join(tmp.path, 'nothing-here'));
    } catch (e) {
      expect((e as SandboxNotFound).code).toBe('SANDBOX_NOT_FOUND');
    }
  });

  it('refuses to overwrite a sandbox without force, or anything that is not a sandbox', async () => {
    await expect(initSandbox({ dir })).rejects.toBeInstanceOf(SandboxExists);
    const other = join(tmp.path, 'not-a-sandbox');
    mkdirSync(other);
    writeFileSync(join(other, 'precious.txt'), 'keep me');
    await expect(initSandbox({ dir: other, force: true })).rejects.toBeInstanceOf(InvalidInput);
    expect(readFileSync(join(other, 'precious.txt'), 'utf8')).toBe('keep me');
    await expect(initSandbox({ dir: join(tmp.path, 'bad-url'), baseUrl: 'ftp://x' })).rejects.toBeInstanceOf(
      InvalidInput,
    );
    expect(existsSync(join(tmp.path, 'bad-url'))).toBe(false);
  });

  it('replaces a sandbox with force: same people for the same seed, new keys', async () => {
    const copy = join(tmp.path, 'copy');
    cpSync(dir, copy, { recursive: true });
    const stale = openSandbox(copy);
    const fresh = await initSandbox({ dir: copy, force: true, now: sb.now, baseUrl: BASE_URL });
    // A reader that had the old sandbox open picks up the new roots and keys.
    expect(stale.reload()).toBe(true);
    expect(stale.roots()[0]!.der.equals(fresh.roots()[0]!.der)).toBe(true);
    expect(stale.ca.root('sim-authca01').der.equals(fresh.roots()[0]!.der)).toBe(true);
    expect(fresh.people()).toEqual(sb.people());
    expect(fresh.roots().map((r) => r.id)).toEqual(sb.roots().map((r) => r.id));
    expect(fresh.roots()[0]!.der.equals(sb.roots()[0]!.der)).toBe(false);
    expect(openSandbox(copy).certificates()).toEqual(fresh.certificates());
    expect(readdirSync(tmp.path).filter((f) => f.includes('.init-'))).toEqual([]);
    expect(MUNICIPALITIES.length).toBeGreaterThan(5);
  });
});
