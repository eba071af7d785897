// Life events: what each revokes (reason, time), issues and links, how they persist, and that a
// process killed in the middle of an event leaves a sandbox that opens and stays consistent.

import 'reflect-metadata';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CertKind, Medium } from '@kakunin/jpki/oids';
import {
  certificateStatus,
  initSandbox,
  InvalidEvent,
  NoSuchCertificate,
  openSandbox,
  UnknownPerson,
  type CertRef,
  type Person,
  type Sandbox,
  type SimEvent,
} from '../src/index.js';
import { opensslVerify, parseCert, sanOtherNames, tempDir } from './helpers.js';

const MEDIA: readonly Medium[] = ['card', 'android', 'iphone'];
const tmp = tempDir('events');
const dir = join(tmp.path, 'sb');
let sb: Sandbox;

beforeAll(async () => {
  sb = await initSandbox({ dir });
});
afterAll(() => tmp.cleanup());

const ref = (personId: string, kind: CertKind, medium: Medium = 'card'): CertRef => {
  const r = sb.currentCertificateRecord(personId, kind, medium);
  return { issuerId: r.issuerId, serial: r.serial, kind: r.kind, medium: r.medium };
};
const rootPem = (issuerId: string): string => sb.roots().find((r) => r.id === issuerId)!.pem;
const verifies = (personId: string, kind: CertKind, medium: Medium = 'card', extra: string[] = []): boolean => {
  const r = sb.currentCertificateRecord(personId, kind, medium);
  return opensslVerify(tmp.path, rootPem(r.issuerId), [sb.currentCertificate(personId, kind, medium)], extra).ok[0]!;
};
const status = (c: CertRef) => certificateStatus(sb.certificateRecord(c.issuerId, c.serial));
const san = (personId: string, medium: Medium = 'card') =>
  new Map(sanOtherNames(parseCert(sb.currentCertificate(personId, 'sign', medium))));
const revokedOf = (e: SimEvent) => e.revoked.map((r) => [r.kind, r.medium, r.serial, r.reason, r.revokedAt]);
/** A person by a property of the seeded cast (robust to the seed's picks). */
const who = (pred: (p: Person) => boolean): Person => {
  const p = sb.people().find(pred);
  if (!p) throw new Error('no such person in the cast');
  return p;
};

describe('renew', () => {
  it('replaces both card certificates: old superseded, new linked and paired', async () => {
    const p = sb.people()[0]!;
    const [oldAuth, oldSign, android] = [ref(p.id, 'auth'), ref(p.id, 'sign'), ref(p.id, 'sign', 'android')];
    const e = await sb.applyEvent(p.id, 'renew');
    expect(e.type).toBe('renew');
    expect(revokedOf(e)).toEqual([
      ['auth', 'card', oldAuth.serial, 'superseded', e.at],
      ['sign', 'card', oldSign.serial, 'superseded', e.at],
    ]);
    const [newAuth, newSign] = [ref(p.id, 'auth'), ref(p.id, 'sign')];
    expect(e.issued).toEqual([newAuth, newSign]);
    expect(e.links).toEqual([
      { old: oldAuth, new: newAuth },
      { old: oldSign, new: newSign },
    ]);
    expect(e.pairs).toEqual([{ personId: p.id, medium: 'card', auth: newAuth, sign: newSign }]);
    expect(status(oldAuth)).toBe('revoked');
    expect(sb.certificateRecord(oldSign.issuerId, oldSign.serial).successor).toEqual({
      issuerId: newSign.issuerId,
      serial: newSign.serial,
    });
    expect(newAuth.issuerId).toBe('sim-authca02');
    expect(verifies(p.id, 'auth') && verifies(p.id, 'sign')).toBe(true);
    // Smartphone certificates are not touched by a card renewal.
    expect(ref(p.id, 'sign', 'android')).toEqual(android);
    expect(status(android)).toBe('valid');
  });

  it('moves a generation-1 holder to the current generation', async () => {
    const p = who((x) => sb.currentCertificateRecord(x.id, 'auth').issuerId === 'sim-authca01');
    const old = ref(p.id, 'sign');
    const e = await sb.applyEvent(p.id, 'renew');
    expect(old.issuerId).toBe('sim-signca01');
    expect(ref(p.id, 'sign').issuerId).toBe('sim-signca02');
    expect(e.links.find((l) => l.old.kind === 'sign')).toEqual({ old, new: ref(p.id, 'sign') });
    expect(opensslVerify(tmp.path, rootPem('sim-signca01'), [sb.currentCertificate(p.id, 'sign')]).ok).toEqual([false]);
    expect(verifies(p.id, 'sign')).toBe(true);
  });

  it('renews smartphone certificates when asked', async () => {
    const p = sb.people()[0]!;
    const old = [ref(p.id, 'auth', 'iphone'), ref(p.id, 'sign', 'iphone')];
    const e = await sb.applyEvent(p.id, 'renew', { media: ['iphone'] });
    expect(e.revoked.map((r) => [r.serial, r.reason])).toEqual(old.map((o) => [o.serial, 'superseded']));
    expect(e.issued.every((c) => c.medium === 'iphone')).toBe(true);
    expect(e.pairs).toEqual([
      { personId: p.id, medium: 'iphone', auth: ref(p.id, 'auth', 'iphone'), sign: ref(p.id, 'sign', 'iphone') },
    ]);
    expect(verifies(p.id, 'sign', 'iphone')).toBe(true);
  });
});

describe('move', () => {
  it('revokes the signing certificates (affiliationChanged), re-issues the card one with the new address and keeps the auth certificates', async () => {
    const p = who((x) => x.municipalityCode === '13221' && x.sex === '2' && x.birthDate >= '1989');
    const auth = MEDIA.map((m) => ref(p.id, 'auth', m));
    const oldSign = MEDIA.map((m) => ref(p.id, 'sign', m));
    const e = await sb.applyEvent(p.id, 'move', { address: '福井県福井市大手３－１０－１' });
    expect(e.revoked.map((r) => [r.kind, r.medium, r.serial, r.reason])).toEqual(
      oldSign.map((o) => ['sign', o.medium, o.serial, 'affiliationChanged']),
    );
    const newSign = ref(p.id, 'sign');
    expect(e.issued).toEqual([newSign]);
    expect(e.links).toEqual([{ old: oldSign[0], new: newSign }]);
    expect(e.pairs).toEqual([{ personId: p.id, medium: 'card', auth: auth[0], sign: newSign }]);
    expect(e.changes).toEqual({
      trueAddress: { from: p.trueAddress, to: '福井県福井市大手３－１０－１' },
      municipalityCode: { from: '13221', to: '18201' },
    });
    // The auth certificates survive a move (spec §7.5).
    for (const a of auth) expect(status(a)).toBe('valid');
    expect(MEDIA.map((m) => ref(p.id, 'auth', m))).toEqual(auth);
    // Smartphone signing certificates stay revoked until the holder re-applies on the phone.
    expect(ref(p.id, 'sign', 'android')).toEqual(oldSign[1]);
    expect(status(oldSign[1]!)).toBe('revoked');
    const moved = sb.person(p.id);
    expect([moved.address, moved.municipalityCode, moved.prefecture, moved.municipality]).toEqual([
      '福井県福井市大手３－１０－１',
      '18201',
      '福井県',
      '福井市',
    ]);
    expect(san(p.id).get('1.2.392.200149.8.5.5.5')).toBe('福井県福井市大手３－１０－１');
    expect(sb.currentCertificateRecord(p.id, 'sign').municipalityCode).toBe('18201');
    const subject = parseCert(sb.currentCertificate(p.id, 'sign')).tbsCertificate.subject.map((rdn) =>
      rdn[0]!.value.toString(),
    );
    expect(subject.slice(0, 3)).toEqual(['JP', 'Fukui', 'Fukui-shi']);
    expect(verifies(p.id, 'sign')).toBe(true);
  });

  it('generates an address in another municipality and can re-issue smartphone certificates', async () => {
    const p = who((x) => x.sex === '9');
    const oldSign = MEDIA.map((m) => ref(p.id, 'sign', m));
    const e = await sb.applyEvent(p.id, 'move', { reissueSmartphone: true });
    const moved = sb.person(p.id);
    expect(moved.municipalityCode).not.toBe(p.municipalityCode);
    expect(moved.trueAddress.startsWith(moved.prefecture + moved.municipality)).toBe(true);
    expect(e.revoked).toHaveLength(3);
    expect(e.links.map((l) => l.old)).toEqual(oldSign);
    expect(e.links.map((l) => l.new)).toEqual(MEDIA.map((m) => ref(p.id, 'sign', m)));
    expect(e.pairs.map((x) => x.medium)).toEqual(MEDIA);
    for (const m of MEDIA) {
      expect(san(p.id, m).get('1.2.392.200149.8.5.5.5')).toBe(moved.address);
      expect(verifies(p.id, 'sign', m)).toBe(true);
    }
  });
});

describe('rename', () => {
  it('re-issues the signing certificate with the new name and its substitute flags', async () => {
    const p = who((x) => x.municipalityCode === '13221' && x.birthDate < '1989');
    const old = ref(p.id, 'sign');
    const e = await sb.applyEvent(p.id, 'rename', { name: '髙橋　愛' });
    expect(e.revoked.map((r) => [r.medium, r.reason])).toEqual([
      ['card', 'affiliationChanged'],
      ['android', 'affiliationChanged'],
      ['iphone', 'affiliationChanged'],
    ]);
    expect(e.links).toEqual([{ old, new: ref(p.id, 'sign') }]);
    expect(e.changes).toEqual({ trueName: { from: p.trueName, to: '髙橋　愛' } });
    expect(sb.person(p.id)).toMatchObject({ trueName: '髙橋　愛', name: '高橋　愛', nameSubstitute: '1000' });
    expect(san(p.id).get('1.2.392.200149.8.5.5.1')).toBe('高橋　愛');
    expect(san(p.id).get('1.2.392.200149.8.5.5.2')).toBe('1000');
  });

  it('picks another family name by default and keeps the given name', async () => {
    const p = sb.people()[10]!;
    await sb.applyEvent(p.id, 'rename');
    const [family, given] = sb.person(p.id).trueName.split('\u3000');
    expect(given).toBe(p.trueName.split('\u3000')[1]);
    expect(family).not.toBe(p.trueName.split('\u3000')[0]);
  });
});

describe('lose', () => {
  it('revokes both card certificates for key compromise; renew then re-issues and links', async () => {
    const p = who(
      (x) =>
        sb.certificates({ personId: x.id, medium: 'card' }).some((c) => c.issuerId === 'sim-authca01') &&
        sb.events().filter((e) => e.personId === x.id).length === 3,
    );
    const old = [ref(p.id, 'auth'), ref(p.id, 'sign')];
    const phone = ref(p.id, 'sign', 'android');
    const lost = await sb.applyEvent(p.id, 'lose');
    expect(revokedOf(lost)).toEqual(old.map((o) => [o.kind, 'card', o.serial, 'keyCompromise', lost.at]));
    expect(lost.issued).toEqual([]);
    expect(status(phone)).toBe('valid');
    // Nothing left to lose.
    await expect(sb.applyEvent(p.id, 'lose')).rejects.toBeInstanceOf(InvalidEvent);
    // A move while the card is lost: only the still-valid smartphone signing certificates are revoked.
    const moved = await sb.applyEvent(p.id, 'move', { municipalityCode: '18207' });
    expect(moved.revoked.map((r) => r.medium)).toEqual(['android', 'iphone']);
    expect(moved.issued).toEqual([]);
    const renewed = await sb.applyEvent(p.id, 'renew');
    expect(renewed.revoked).toEqual([]);
    expect(renewed.links.map((l) => l.old)).toEqual(old);
    expect(san(p.id).get('1.2.392.200149.8.5.5.5')).toBe(sb.person(p.id).address);
    expect(sb.person(p.id).municipalityCode).toBe('18207');
    expect(verifies(p.id, 'auth')).toBe(true);
  });
});

describe('expire', () => {
  it('replaces the card certificates by ones that ended on the last birthday before the event', async () => {
    const p = who((x) => x.municipalityCode === '18207' && x.sex === '2');
    const old = [ref(p.id, 'auth'), ref(p.id, 'sign')];
    const e = await sb.applyEvent(p.id, 'expire');
    const at = Date.parse(e.at);
    expect(e.revoked.map((r) => [r.serial, r.reason])).toEqual(old.map((o) => [o.serial, 'superseded']));
    expect(e.links.map((l) => l.old)).toEqual(old);
    for (const kind of ['auth', 'sign'] as const) {
      const r = sb.currentCertificateRecord(p.id, kind);
      expect(Date.parse(r.notAfter)).toBeLessThan(at);
      expect(at - Date.parse(r.notAfter)).toBeLessThan(367 * 86_400_000);
      expect(r.notAfter.slice(5, 10)).toBe(p.birthDate.slice(5) === '02-29' ? '02-28' : p.birthDate.slice(5));
      expect(r.notAfter).toMatch(/T14:59:59\.000Z$/);
      expect(certificateStatus(r, new Date(at))).toBe('expired');
      expect(verifies(p.id, kind)).toBe(false);
      const during = String(Math.floor(Date.parse(r.notBefore) / 1000) + 86_400);
      expect(verifies(p.id, kind, 'card', ['-attime', during])).toBe(true);
    }
    const r = opensslVerify(tmp.path, rootPem(ref(p.id, 'auth').issuerId), [sb.currentCertificate(p.id, 'auth')]);
    expect(r.output).toMatch(/certificate has expired/);
  });
});

describe('the minor', () => {
  it('has no signing certificate to revoke on a move, and renew re-issues the auth certificate only', async () => {
    const minor = who((x) => x.birthDate >= '2019-05-01');
    const auth = ref(minor.id, 'auth');
    const moved = await sb.applyEvent(minor.id, 'move');
    expect([moved.revoked, moved.issued, moved.links]).toEqual([[], [], []]);
    expect(ref(minor.id, 'auth')).toEqual(auth);
    const renewed = await sb.applyEvent(minor.id, 'renew');
    expect(renewed.issued.map((c) => c.kind)).toEqual(['auth']);
    expect(renewed.pairs).toEqual([]);
    expect(() => sb.currentCertificate(minor.id, 'sign')).toThrow(NoSuchCertificate);
    await expect(sb.applyEvent(minor.id, 'renew', { media: ['android'] })).rejects.toBeInstanceOf(InvalidEvent);
  });
});

describe('invalid events', () => {
  it('are rejected with typed errors and leave the state file untouched', async () => {
    const before = readFileSync(join(dir, 'state.json'));
    const p = sb.people()[0]!;
    await expect(sb.applyEvent('p999', 'renew')).rejects.toBeInstanceOf(UnknownPerson);
    await expect(sb.applyEvent(p.id, 'renew', { at: new Date('2020-01-01T00:00:00Z') })).rejects.toBeInstanceOf(
      InvalidEvent,
    );
    await expect(sb.applyEvent(p.id, 'move', { address: p.trueAddress })).rejects.toBeInstanceOf(InvalidEvent);
    await expect(sb.applyEvent(p.id, 'move', { address: '火星のどこか１－２－３' })).rejects.toBeInstanceOf(
      InvalidEvent,
    );
    await expect(sb.applyEvent(p.id, 'rename', { name: p.trueName })).rejects.toBeInstanceOf(InvalidEvent);
    await expect(sb.applyEvent(p.id, 'explode' as 'renew')).rejects.toBeInstanceOf(InvalidEvent);
    await expect(sb.applyEvent(p.id, 'renew', { media: ['pager' as Medium] })).rejects.toBeInstanceOf(InvalidEvent);
    expect(readFileSync(join(dir, 'state.json')).equals(before)).toBe(true);
    expect(sb.person(p.id)).toEqual(p);
    try {
      await sb.applyEvent(p.id, 'move', { address: p.trueAddress });
    } catch (e) {
      expect((e as InvalidEvent).code).toBe('INVALID_EVENT');
    }
  });
});

describe('persistence of events', () => {
  it('survives reopening: events, revocations, links and people', () => {
    const again = openSandbox(dir);
    expect(again.events()).toEqual(sb.events());
    expect(again.revocations()).toEqual(sb.revocations());
    expect(again.links()).toEqual(sb.links());
    expect(again.people()).toEqual(sb.people());
    expect(again.revision).toBe(sb.revision);
    const reasons = new Set(sb.revocations().map((r) => r.reason));
    expect(reasons).toEqual(new Set(['superseded', 'affiliationChanged', 'keyCompromise']));
    for (const r of sb.revocations())
      expect(sb.certificateRecord(r.issuerId, r.serial).revocation).toEqual({
        reason: r.reason,
        revokedAt: r.revokedAt,
        eventId: r.eventId,
      });
    expect(sb.events().map((e) => e.id)).toEqual(sb.events().map((_, i) => `e${String(i + 1).padStart(4, '0')}`));
  });

  it('serialises concurrent writers and lets readers pick up changes', async () => {
    const a = openSandbox(dir);
    const b = openSandbox(dir);
    const n = sb.events().length;
    const [ea, eb] = await Promise.all([a.applyEvent('p001', 'renew'), b.applyEvent('p006', 'renew')]);
    expect(sb.reload()).toBe(true);
    expect(sb.events()).toHaveLength(n + 2);
    expect(
      sb
        .events()
        .slice(-2)
        .map((e) => e.id)
        .sort(),
    ).toEqual([ea.id, eb.id].sort());
    expect(sb.reload()).toBe(false);
  });

  it('stays consistent when a process is killed in the middle of events', async () => {
    const script = join(tmp.path, 'churn.mts');
    const entry = resolve(fileURLToPath(new URL('../src/index.ts', import.meta.url)));
    writeFileSync(
      script,
      `import { openSandbox } from ${JSON.stringify(entry)};\nconst sb = openSandbox(${JSON.stringify(dir)});\nfor (;;) { await sb.applyEvent('p009', 'renew'); process.stdout.write('.'); }\n`,
    );
    for (const delayMs of [0, 90, 170]) {
      const child = spawn(process.execPath, ['--import', 'tsx', script], {
        cwd: resolve(fileURLToPath(new URL('../../..', import.meta.url))),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      await new Promise<void>((done, fail) => {
        const timer = setTimeout(() => fail(new Error(`child made no progress: ${err}`)), 30_000);
        child.once('exit', () => fail(new Error(`child exited early: ${err}`)));
        const poll = setInterval(() => {
          if (out.length >= 2) {
            clearInterval(poll);
            clearTimeout(timer);
            setTimeout(done, delayMs);
          }
        }, 10);
      });
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;

      const after = openSandbox(dir);
      for (const c of after.certificates()) {
        expect(existsSync(join(dir, c.file)), c.file).toBe(true);
        expect(parseCert(readFileSync(join(dir, c.file))).tbsCertificate.serialNumber.byteLength).toBe(4);
        expect(existsSync(join(dir, c.keyFile)), c.keyFile).toBe(true);
      }
      const renewals = after.events().filter((e) => e.personId === 'p009' && e.type === 'renew');
      expect(renewals.length).toBeGreaterThanOrEqual(out.length);
      // A lock left by the killed process is taken over.
      const e = await after.applyEvent('p009', 'renew');
      expect(e.issued).toHaveLength(2);
      expect(
        opensslVerify(tmp.path, rootPem(e.issued[0]!.issuerId), [after.currentCertificate('p009', 'auth')]).ok,
      ).toEqual([true]);
    }
  });
});
