// The simulator's CRLs: openssl verifies them, our CRL index reads them, life events show up.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CrlChecker, CrlIndex, RevocationUnavailable, parseX509 } from '@kakunin/jpki';
import {
  buildSyntheticCrl,
  crlIssuerOf,
  currentCardRoot,
  distributionPointsOf,
  initSandbox,
  sandboxCrl,
  syntheticReason,
  syntheticSerial,
  type Sandbox,
} from '../src/index.js';

let work: string;
let sb: Sandbox;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'kakunin-sim-crl-'));
  sb = await initSandbox({ dir: join(work, 'sim') });
}, 120_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

function opensslVerifies(der: Buffer, rootPem: string): string {
  writeFileSync(join(work, 'c.crl'), der);
  writeFileSync(join(work, 'root.pem'), rootPem);
  const r = spawnSync(
    'openssl',
    ['crl', '-inform', 'DER', '-in', join(work, 'c.crl'), '-noout', '-CAfile', join(work, 'root.pem')],
    { encoding: 'utf8' },
  );
  return `${r.stdout}${r.stderr}`.trim();
}

describe('simulator CRLs', () => {
  it('after a move, the old signing certificate is on the CRL with affiliationChanged (openssl and CrlIndex agree)', async () => {
    const person = sb
      .people()
      .find((p) => sb.certificates({ personId: p.id, kind: 'sign', medium: 'card' }).length > 0)!;
    const old = sb.currentCertificateRecord(person.id, 'sign', 'card');
    await sb.applyEvent(person.id, 'move');
    const der = sandboxCrl(sb, old.issuerId);
    const root = sb.ca.root(old.issuerId);
    expect(opensslVerifies(der, root.pem)).toBe('verify OK');
    const index = CrlIndex.load(der, { issuer: parseX509(root.der) });
    expect(index.lookup(old.serial)).toMatchObject({ reason: 'affiliationChanged' });
    const fresh = sb.currentCertificateRecord(person.id, 'sign', 'card');
    expect(index.lookup(fresh.serial)).toBeUndefined();
    expect(index.info.nextUpdate!.getTime()).toBeGreaterThan(Date.now());
  });

  it('every root has a verifiable CRL listing exactly its recorded revocations', () => {
    for (const r of sb.roots()) {
      const der = sandboxCrl(sb, r.id);
      expect(opensslVerifies(der, r.pem)).toBe('verify OK');
      const index = CrlIndex.load(der, { issuer: parseX509(r.der) });
      expect(index.size).toBe(sb.revocations().filter((x) => x.issuerId === r.id).length);
    }
    expect(currentCardRoot(sb, 'auth')).toBe('sim-authca02');
  });

  it('a synthetic CRL of 100,000 entries verifies with openssl, and serial i is found with its reason', () => {
    const root = sb.ca.root('sim-authca02');
    const der = buildSyntheticCrl(crlIssuerOf(root), 100_000);
    expect(opensslVerifies(der, root.pem)).toBe('verify OK');
    const index = CrlIndex.load(der, { issuer: parseX509(root.der) });
    expect(index.size).toBe(100_000);
    for (const i of [0, 1, 4242, 99_999]) expect(index.lookup(syntheticSerial(i))?.reason).toBe(syntheticReason(i));
  });

  it("per-municipality CRLs carry issuingDistributionPoint = the certificates' CRL DP, and cover only their municipality", async () => {
    const person = sb
      .people()
      .find(
        (p) =>
          p.municipalityCode !== sb.people()[0]!.municipalityCode &&
          sb.certificates({ personId: p.id, kind: 'sign' }).length > 0,
      )!;
    const old = sb.currentCertificateRecord(person.id, 'sign', 'card');
    const oldCert = parseX509(sb.currentCertificate(person.id, 'sign', 'card'));
    await sb.applyEvent(person.id, 'move');
    const root = sb.ca.root(old.issuerId);
    expect(distributionPointsOf(sb, old.issuerId)).toContain(old.municipalityCode);
    const der = sandboxCrl(sb, old.issuerId, { municipalityCode: old.municipalityCode });
    expect(opensslVerifies(der, root.pem)).toBe('verify OK');
    const index = CrlIndex.load(der, { issuer: parseX509(root.der) });
    const dpText = (oldCert.crlDistributionPoints[0] as { text: string }).text;
    expect(index.info.distributionPoint?.text).toBe(dpText);
    const checker = new CrlChecker([index]);
    expect(await checker.check(oldCert, parseX509(root.der), new Date())).toMatchObject({
      status: 'revoked',
      reason: 'affiliationChanged',
    });
    // A certificate of another municipality is not covered by this partition: fail closed.
    const other = sb
      .certificates({ issuerId: old.issuerId, kind: 'sign' })
      .find((c) => c.municipalityCode !== old.municipalityCode)!;
    await expect(
      checker.check(parseX509(sb.certificateDer(other.issuerId, other.serial)), parseX509(root.der), new Date()),
    ).rejects.toThrow(RevocationUnavailable);
    for (const r of CrlIndex.load(der, { issuer: parseX509(root.der) }).entries()) {
      expect(sb.certificateRecord(old.issuerId, r.serial).municipalityCode).toBe(old.municipalityCode);
    }
  });
});
