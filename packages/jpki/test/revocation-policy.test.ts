// Combining sources: OCSP first with CRL fallback, fail closed, and no fallback on a forged answer.
import 'reflect-metadata';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  BadSignature,
  CrlChecker,
  CrlIndex,
  OcspClient,
  RevocationPolicy,
  RevocationUnavailable,
  Revoked,
  assertNotRevoked,
  parseCertificate,
  type RevocationChecker,
  type X509Certificate,
} from '@kakunin/jpki';
import { SimCa } from '@kakunin/sim';
import { buildCrl } from '../../../test/support/crl.js';

const HOUR = 3_600_000;
const now = new Date();
let issuer: X509Certificate;
let good: X509Certificate;
let moved: X509Certificate;
let crl: CrlChecker;

beforeAll(async () => {
  const Y = 365 * 24 * HOUR;
  const ca = await SimCa.create(
    [
      {
        id: 'p-signca01',
        kind: 'sign',
        medium: 'card',
        generation: 1,
        notBefore: new Date(now.getTime() - Y),
        notAfter: new Date(now.getTime() + 5 * Y),
      },
    ],
    'http://127.0.0.1:9',
  );
  const root = ca.root('p-signca01');
  issuer = parseCertificate(root.der).x509;
  const person = {
    name: '試験　太郎',
    sex: '1',
    birthDate: '1970-01-01',
    address: '福井県福井市大手１－１－１',
  } as const;
  const a = await ca.issueSign(person);
  good = parseCertificate(a.der).x509;
  moved = parseCertificate((await ca.issueSign(person, { publicKey: a.publicKey })).der).x509;
  const der = buildCrl({
    issuerName: issuer.subject.der,
    key: root.privateKey,
    thisUpdate: new Date(now.getTime() - HOUR),
    nextUpdate: new Date(now.getTime() + 23 * HOUR),
    entries: [{ serial: moved.serial, revokedAt: new Date(now.getTime() - 2 * HOUR), reason: 3 }],
  });
  crl = new CrlChecker([CrlIndex.load(der, { issuer })]);
});

const ocspDown = new OcspClient({ fetcher: async () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:9')) });
const ocspForged: RevocationChecker = { check: async () => Promise.reject(new BadSignature('forged OCSP response')) };

describe('revocation policy', () => {
  it('CRL source: good and revoked with reason, time, source and freshness', async () => {
    expect(await crl.check(good, issuer, now)).toMatchObject({ status: 'good', source: 'crl' });
    const r = await crl.check(moved, issuer, now);
    expect(r).toMatchObject({ status: 'revoked', reason: 'affiliationChanged', source: 'crl' });
    expect(r.nextUpdate!.getTime()).toBeGreaterThan(now.getTime());
  });

  it('a loaded CRL that has gone stale by the time of the check: RevocationUnavailable', async () => {
    await expect(crl.check(good, issuer, new Date(now.getTime() + 48 * HOUR))).rejects.toThrow(RevocationUnavailable);
  });

  it('no CRL for the issuer: RevocationUnavailable', async () => {
    await expect(new CrlChecker().check(good, issuer, now)).rejects.toThrow(/no CRL is loaded/);
  });

  it('OCSP first, responder down: falls back to the CRL and says so', async () => {
    const policy = new RevocationPolicy({ mode: 'ocsp-then-crl', ocsp: ocspDown, crl });
    expect(await policy.check(moved, issuer, now)).toMatchObject({ status: 'revoked', source: 'crl' });
  });

  it('no fresh source at all: fails closed naming every source', async () => {
    const policy = new RevocationPolicy({ mode: 'ocsp-then-crl', ocsp: ocspDown, crl: new CrlChecker() });
    const e = await policy.check(good, issuer, now).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RevocationUnavailable);
    expect(String((e as Error).message)).toMatch(/ocsp: .*ECONNREFUSED.*; crl: no CRL/);
  });

  it('a forged OCSP answer is not papered over by the CRL', async () => {
    const policy = new RevocationPolicy({ mode: 'ocsp-then-crl', ocsp: ocspForged, crl });
    await expect(policy.check(good, issuer, now)).rejects.toThrow(BadSignature);
  });

  it('assertNotRevoked: Revoked with the reason, date and its plain meaning', async () => {
    const e = (await assertNotRevoked(crl, moved, issuer, now).catch((x: unknown) => x)) as Revoked;
    expect(e).toBeInstanceOf(Revoked);
    expect(e.code).toBe('REVOKED');
    expect(e.message).toMatch(/affiliationChanged/);
    expect(e.message).toMatch(/sign again with the new certificate/);
    expect(e.messageJa).toMatch(/住所/);
    expect((await assertNotRevoked(crl, good, issuer, now)).status).toBe('good');
  });
});
