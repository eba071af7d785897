// CRL index: signature, freshness and issuer checks, and lookups.
import 'reflect-metadata';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  BadSignature,
  CrlIndex,
  Malformed,
  RevocationUnavailable,
  UntrustedIssuer,
  parseCertificate,
  type X509Certificate,
} from '@kakunin/jpki';
import { SimCa } from '@kakunin/sim';
import { buildCrl } from '../../../test/support/crl.js';

const HOUR = 3_600_000;
let ca: SimCa;
let issuer: X509Certificate;
let other: X509Certificate;
const now = new Date();

beforeAll(async () => {
  const Y = 365 * 24 * HOUR;
  ca = await SimCa.create(
    [
      {
        id: 'c-authca01',
        kind: 'auth',
        medium: 'card',
        generation: 1,
        notBefore: new Date(now.getTime() - Y),
        notAfter: new Date(now.getTime() + 5 * Y),
      },
      {
        id: 'c-authca02',
        kind: 'auth',
        medium: 'card',
        generation: 2,
        notBefore: new Date(now.getTime() - Y),
        notAfter: new Date(now.getTime() + 5 * Y),
      },
    ],
    'http://127.0.0.1:8900',
  );
  issuer = parseCertificate(ca.root('c-authca01').der).x509;
  other = parseCertificate(ca.root('c-authca02').der).x509;
});

const crl = (o: Partial<Parameters<typeof buildCrl>[0]> = {}): Buffer =>
  buildCrl({
    issuerName: issuer.subject.der,
    key: ca.root('c-authca01').privateKey,
    thisUpdate: new Date(now.getTime() - HOUR),
    nextUpdate: new Date(now.getTime() + 23 * HOUR),
    entries: [
      { serial: '0A0B0C0D', revokedAt: new Date('2026-01-02T03:04:05Z'), reason: 3 },
      { serial: '01', revokedAt: new Date('2025-05-06T00:00:00Z') },
      { serial: '0123456789ABCDEF0123', revokedAt: new Date('2024-01-01T00:00:00Z'), reason: 4 },
      { serial: 'FFFFFFFFFF', revokedAt: new Date('2024-01-01T00:00:00Z'), reason: 1 },
    ],
    ...o,
  });

describe('CrlIndex', () => {
  it('answers revoked / not revoked with reason and date, for short and long serials', () => {
    const index = CrlIndex.load(crl(), { issuer });
    expect(index.size).toBe(4);
    expect(index.lookup('0A0B0C0D')).toEqual({
      serial: '0A0B0C0D',
      revokedAt: new Date('2026-01-02T03:04:05Z'),
      reason: 'affiliationChanged',
    });
    expect(index.lookup('0a0b0c0d')?.reason).toBe('affiliationChanged');
    expect(index.lookup('01')?.reason).toBe('unspecified');
    expect(index.lookup('0123456789ABCDEF0123')?.reason).toBe('superseded');
    expect(index.lookup('FFFFFFFFFF')?.reason).toBe('keyCompromise');
    expect(index.lookup('0A0B0C0E')).toBeUndefined();
    expect(index.info.nextUpdate?.getTime()).toBeGreaterThan(now.getTime());
    expect([...index.entries()].map((e) => e.serial).sort()).toEqual([
      '01',
      '0123456789ABCDEF0123',
      '0A0B0C0D',
      'FFFFFFFFFF',
    ]);
  });

  it('grows past its initial size without losing entries', () => {
    const entries = Array.from({ length: 5000 }, (_, i) => ({
      serial: (0x10000 + i * 7919).toString(16),
      revokedAt: now,
      reason: i % 2 ? 3 : 4,
    }));
    const index = CrlIndex.load(crl({ entries }), { issuer });
    expect(index.size).toBe(5000);
    for (const e of entries)
      expect(index.lookup(e.serial)?.reason).toBe(e.reason === 3 ? 'affiliationChanged' : 'superseded');
  });

  it('a CRL with a bad signature: BadSignature', () => {
    const bad = crl({ key: ca.root('c-authca02').privateKey });
    expect(() => CrlIndex.load(bad, { issuer })).toThrow(BadSignature);
    const tampered = crl();
    tampered[tampered.length - 300]! ^= 1;
    expect(() => CrlIndex.load(tampered, { issuer })).toThrow(/CRL|signature/);
  });

  it('a CRL from another generation with the same name: BadSignature', () => {
    expect(() => CrlIndex.load(crl(), { issuer: other })).toThrow(BadSignature);
  });

  it('a CRL past nextUpdate (+ grace): RevocationUnavailable, fail closed', () => {
    const stale = crl({
      thisUpdate: new Date(now.getTime() - 48 * HOUR),
      nextUpdate: new Date(now.getTime() - 2 * HOUR),
    });
    expect(() => CrlIndex.load(stale, { issuer })).toThrow(RevocationUnavailable);
    expect(CrlIndex.load(stale, { issuer, graceSeconds: 3 * 3600 }).size).toBe(4);
    expect(() => CrlIndex.load(crl({ nextUpdate: undefined }), { issuer })).toThrow(RevocationUnavailable);
  });

  it('a CRL from an issuer with another name: UntrustedIssuer', () => {
    const sign = parseCertificate(ca.root('c-authca02').der).x509;
    const foreign = crl({ issuerName: Buffer.from('30123110300e06035504030c07666f726569676e', 'hex') });
    expect(() => CrlIndex.load(foreign, { issuer: sign })).toThrow(UntrustedIssuer);
  });

  it('truncated or padded CRL DER: Malformed', () => {
    const good = crl();
    expect(() => CrlIndex.load(good.subarray(0, good.length - 5), { issuer })).toThrow(Malformed);
    expect(() => CrlIndex.load(Buffer.concat([good, Buffer.from([0])]), { issuer })).toThrow(Malformed);
  });
});
