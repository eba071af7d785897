// The CA alone: root structure (spec §7.1), the auth and sign profiles byte by byte (§7.2–§7.4),
// validity rules (§7.5), SAN round trips over 1,000 certificates, and re-signing tampered TBS.

import 'reflect-metadata';
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  AuthorityInfoAccessSyntax,
  AuthorityKeyIdentifier,
  BasicConstraints,
  CRLDistributionPoints,
  CertificatePolicies,
  IssueAlternativeName,
  SubjectAlternativeName,
  SubjectKeyIdentifier,
  type Certificate,
  type Name,
} from '@peculiar/asn1-x509';
import { simPolicyOid, SIM_ARC, CPS_URL } from '@kakunin/jpki/oids';
import {
  caAltRdns,
  caRdns,
  crlDistributionPointRdns,
  defaultRootSpecs,
  eraDigit,
  fifthBirthdayNotAfter,
  generateRsaKeyPair,
  InvalidInput,
  jpkiBirthDate,
  municipality,
  nameDer,
  SimCa,
  toCertificateText,
  type Basic4Input,
  type SexCode,
} from '../src/index.js';
import {
  AUTH_EXTENSIONS,
  certificatePoliciesHex,
  SIGN_EXTENSIONS,
  extension,
  extensions,
  hex,
  nameHex,
  opensslVerify,
  parseCert,
  sanOtherNames,
  tempDir,
} from './helpers.js';

const NOW = new Date('2026-11-25T03:00:00Z');
const BASE_URL = 'http://127.0.0.1:18900';

// Spec §7.1: exact DER of the production CA DNs. The simulator's differ only in O (JPKI → JPKI-SIM).
const SPEC_AUTH_CA_DN =
  '308182310b3009060355040613024a50310d300b060355040a0c044a504b4931253023060355040b0c1c4a504b4920666f7220757365722061757468656e7469636174696f6e313d303b060355040b0c344a6170616e204167656e637920666f72204c6f63616c20417574686f7269747920496e666f726d6174696f6e2053797374656d73';
const SPEC_SIGN_CA_DN =
  '308180310b3009060355040613024a50310d300b060355040a0c044a504b4931233021060355040b0c1a4a504b4920666f72206469676974616c207369676e6174757265313d303b060355040b0c344a6170616e204167656e637920666f72204c6f63616c20417574686f7269747920496e666f726d6174696f6e2053797374656d73';
const withSimO = (specHex: string): string => {
  const out = specHex.replace('310d300b060355040a0c044a504b49', '3111300f060355040a0c084a504b492d53494d');
  return `3081${(parseInt(out.slice(4, 6), 16) + 4).toString(16)}${out.slice(6)}`;
};

const OIDS = {
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  certificatePolicies: '2.5.29.32',
  subjectAltName: '2.5.29.17',
  issuerAltName: '2.5.29.18',
  basicConstraints: '2.5.29.19',
  crlDp: '2.5.29.31',
  aia: '1.3.6.1.5.5.7.1.1',
  aki: '2.5.29.35',
  ski: '2.5.29.14',
};

let ca: SimCa;
let key: { privateKey: KeyObject; publicKey: KeyObject };
const tmp = tempDir('ca');

beforeAll(async () => {
  [ca, key] = await Promise.all([SimCa.create(defaultRootSpecs(NOW), BASE_URL), generateRsaKeyPair()]);
});
afterAll(() => tmp.cleanup());

const extList = (c: Certificate): [string, boolean][] => extensions(c).map((e) => [e.extnID, e.critical]);
const sha1 = (b: ArrayBuffer): string => createHash('sha1').update(new Uint8Array(b)).digest('hex');
const dirNameHex = (gn: { directoryName?: Name }[]): string => nameHex(gn[0]!.directoryName!);

describe('root CAs (spec §7.1)', () => {
  it('have the real DN shape with O=JPKI-SIM, byte for byte', () => {
    expect(hex(nameDer(caRdns('auth', 'card')))).toBe(withSimO(SPEC_AUTH_CA_DN));
    expect(hex(nameDer(caRdns('sign', 'card')))).toBe(withSimO(SPEC_SIGN_CA_DN));
    for (const r of ca.roots()) {
      const c = parseCert(r.der);
      expect(nameHex(c.tbsCertificate.subject)).toBe(hex(nameDer(caRdns(r.kind, r.medium))));
      expect(nameHex(c.tbsCertificate.issuer)).toBe(nameHex(c.tbsCertificate.subject));
    }
  });

  it('put the smartphone OU before the last OU', () => {
    const ous = (medium: 'android' | 'iphone') => caRdns('auth', medium).map(([, v]) => v);
    expect(ous('android')).toEqual([
      'JP',
      'JPKI-SIM',
      'JPKI for user authentication',
      'Smartphone Android',
      'Japan Agency for Local Authority Information Systems',
    ]);
    expect(ous('iphone')[3]).toBe('Smartphone iPhone');
  });

  it('have the extension order, criticality and values of the real roots', () => {
    for (const r of ca.roots()) {
      const c = parseCert(r.der);
      const tbs = c.tbsCertificate;
      expect(tbs.version).toBe(2);
      expect(c.signatureAlgorithm.algorithm).toBe('1.2.840.113549.1.1.11');
      expect(extList(c)).toEqual([
        [OIDS.keyUsage, true],
        [OIDS.subjectAltName, false],
        [OIDS.basicConstraints, true],
        [OIDS.crlDp, false],
        [OIDS.ski, false],
      ]);
      expect(hex(extension(c, OIDS.keyUsage).extnValue.buffer)).toBe('03020106');
      expect(hex(extension(c, OIDS.basicConstraints).extnValue.buffer)).toBe('30030101ff');
      expect(
        AsnConvert.parse(extension(c, OIDS.basicConstraints).extnValue.buffer, BasicConstraints).pathLenConstraint,
      ).toBeUndefined();
      const san = AsnConvert.parse(extension(c, OIDS.subjectAltName).extnValue.buffer, SubjectAlternativeName);
      expect(dirNameHex(san)).toBe(hex(nameDer(caAltRdns(r.kind, r.medium))));
      const dp = AsnConvert.parse(extension(c, OIDS.crlDp).extnValue.buffer, CRLDistributionPoints);
      expect(dirNameHex(dp[0]!.distributionPoint!.fullName!)).toBe(nameHex(tbs.subject));
      const ski = AsnConvert.parse(extension(c, OIDS.ski).extnValue.buffer, SubjectKeyIdentifier);
      expect(hex(ski.buffer)).toBe(sha1(tbs.subjectPublicKeyInfo.subjectPublicKey));
      const details = createPublicKey({
        key: Buffer.from(AsnConvert.serialize(tbs.subjectPublicKeyInfo)),
        format: 'der',
        type: 'spki',
      }).asymmetricKeyDetails;
      expect(details).toMatchObject({ modulusLength: 2048, publicExponent: 65537n });
      // UTCTime, notAfter at 23:59:59 JST
      expect(tbs.validity.notBefore.utcTime).toBeInstanceOf(Date);
      expect(tbs.validity.notAfter.utcTime!.toISOString()).toMatch(/T14:59:59\.000Z$/);
    }
  });

  it('come in two card generations per kind sharing one DN, with different keys and serials', () => {
    for (const kind of ['auth', 'sign'] as const) {
      const [g1, g2] = [ca.issuerFor(kind, 'card', NOW, 1), ca.issuerFor(kind, 'card', NOW, 2)];
      expect(g1.id).toBe(`sim-${kind}ca01`);
      expect(g2.id).toBe(`sim-${kind}ca02`);
      expect(nameHex(parseCert(g1.der).tbsCertificate.subject)).toBe(nameHex(parseCert(g2.der).tbsCertificate.subject));
      expect(g1.serial).not.toBe(g2.serial);
      expect(g1.keyId.equals(g2.keyId)).toBe(false);
      expect(g1.notBefore.getTime()).toBeLessThan(g2.notBefore.getTime());
      // The newest generation valid at an instant issues; before gen 2 began, gen 1 does.
      expect(ca.issuerFor(kind, 'card', NOW).id).toBe(g2.id);
      expect(ca.issuerFor(kind, 'card', new Date(g2.notBefore.getTime() - 1000)).id).toBe(g1.id);
    }
  });
});

describe('authentication certificate (spec §7.2)', () => {
  let cert: Certificate;
  let der: Buffer;
  const notBefore = new Date('2026-11-25T03:04:05Z');

  beforeAll(async () => {
    const issued = await ca.issueAuth(
      { birthDate: '1980-02-17', municipality: '18201' },
      { publicKey: key.publicKey, notBefore },
    );
    der = issued.der;
    cert = parseCert(der);
  });

  it('has exactly the extensions of the real certificate, in order, with the same criticality', () => {
    expect(extList(cert)).toEqual(AUTH_EXTENSIONS);
  });

  it('encodes key usage, EKU and the policy like the real one (policy OID swapped)', () => {
    expect(hex(extension(cert, OIDS.keyUsage).extnValue.buffer)).toBe('03020780');
    expect(hex(extension(cert, OIDS.extKeyUsage).extnValue.buffer)).toBe('300a06082b06010505070302');
    expect(simPolicyOid('auth', 'card').startsWith(`${SIM_ARC}.`)).toBe(true);
    const cp = hex(extension(cert, OIDS.certificatePolicies).extnValue.buffer);
    expect(cp).toBe(certificatePoliciesHex(simPolicyOid('auth', 'card'), CPS_URL));
    // The helper reproduces the real certificate's bytes for the production OID (spec §7.2).
    expect(certificatePoliciesHex('1.2.392.200149.8.5.1.3.30', CPS_URL)).toBe(
      '303d303b060b2a83088c9b55080501031e302c302a06082b06010505070201161e687474703a2f2f7777772e6a706b692e676f2e6a702f6370732e68746d6c',
    );
    const parsed = AsnConvert.parse(extension(cert, OIDS.certificatePolicies).extnValue.buffer, CertificatePolicies);
    expect(parsed.map((p) => p.policyQualifiers!.map((q) => q.policyQualifierId))).toEqual([['1.3.6.1.5.5.7.2.1']]);
  });

  it('has subject C=JP, CN=<23-char id> with the real string types and a positive 4-byte serial', () => {
    const subject = nameHex(cert.tbsCertificate.subject);
    const cnHex = subject.slice(-46);
    // 30 2F { SET { C PrintableString "JP" }, SET { CN UTF8String (23) } } as in the real certificate
    expect(subject).toBe(`302f310b3009060355040613024a503120301e06035504030c17${cnHex}`);
    const cn = Buffer.from(cnHex, 'hex').toString('ascii');
    expect(cn).toMatch(/^[0-9A-F]{8}[A-Z]{6}18201003A$/);
    const serial = new Uint8Array(cert.tbsCertificate.serialNumber);
    expect(serial.length).toBe(4);
    expect(serial[0]).toBeGreaterThan(0);
    expect(serial[0]).toBeLessThan(0x80);
  });

  it('names the issuer, its CRL point per municipality, the OCSP URI and the issuing generation', () => {
    const root = ca.issuerFor('auth', 'card', notBefore);
    const ian = AsnConvert.parse(extension(cert, OIDS.issuerAltName).extnValue.buffer, IssueAlternativeName);
    expect(dirNameHex(ian)).toBe(hex(nameDer(caAltRdns('auth', 'card'))));
    const dp = AsnConvert.parse(extension(cert, OIDS.crlDp).extnValue.buffer, CRLDistributionPoints);
    expect(dp).toHaveLength(1);
    expect(dp[0]!.distributionPoint!.fullName).toHaveLength(1);
    expect(dirNameHex(dp[0]!.distributionPoint!.fullName!)).toBe(
      hex(nameDer(crlDistributionPointRdns('auth', 'card', municipality('18201')))),
    );
    expect(crlDistributionPointRdns('auth', 'card', municipality('18201')).map(([, v]) => v)).toEqual([
      'JP',
      'JPKI-SIM',
      'JPKI for user authentication',
      'CRL Distribution Points',
      'Fukui',
      'Fukui-shi CRLDP',
    ]);
    const aia = AsnConvert.parse(extension(cert, OIDS.aia).extnValue.buffer, AuthorityInfoAccessSyntax);
    expect(aia.map((a) => [a.accessMethod, a.accessLocation.uniformResourceIdentifier])).toEqual([
      ['1.3.6.1.5.5.7.48.1', `${BASE_URL}/ocsp`],
    ]);
    const aki = AsnConvert.parse(extension(cert, OIDS.aki).extnValue.buffer, AuthorityKeyIdentifier);
    expect(hex(aki.keyIdentifier!.buffer)).toBe(root.keyId.toString('hex'));
    expect(dirNameHex(aki.authorityCertIssuer!)).toBe(hex(nameDer(caRdns('auth', 'card'))));
    expect(hex(aki.authorityCertSerialNumber!).toUpperCase()).toBe(root.serial);
    const ski = AsnConvert.parse(extension(cert, OIDS.ski).extnValue.buffer, SubjectKeyIdentifier);
    expect(hex(ski.buffer)).toBe(sha1(cert.tbsCertificate.subjectPublicKeyInfo.subjectPublicKey));
    expect(hex(ski.buffer)).toBe(
      createHash('sha1')
        .update(key.publicKey.export({ type: 'pkcs1', format: 'der' }))
        .digest('hex'),
    );
  });

  it('is valid from issuance to 14:59:59Z of the 5th birthday after it, in UTCTime', () => {
    const v = cert.tbsCertificate.validity;
    expect(v.notBefore.utcTime!.toISOString()).toBe(notBefore.toISOString());
    expect(v.notAfter.utcTime!.toISOString()).toBe('2031-02-17T14:59:59.000Z');
  });

  it('verifies with openssl against its generation only', () => {
    const root = ca.issuerFor('auth', 'card', notBefore);
    const other = ca.issuerFor('auth', 'card', notBefore, root.generation === 1 ? 2 : 1);
    expect(opensslVerify(tmp.path, root.pem, [der], ['-x509_strict']).ok).toEqual([true]);
    expect(opensslVerify(tmp.path, other.pem, [der]).ok).toEqual([false]);
  });
});

describe('signing certificate (spec §7.3, §7.4)', () => {
  const basic4: Basic4Input = {
    name: '𠮷田　太郎',
    sex: '1',
    birthDate: '1980-02-17',
    address: '大阪府大阪市北区曾根﨑２－５－１８',
  };
  let cert: Certificate;

  beforeAll(async () => {
    cert = parseCert((await ca.issueSign(basic4, { publicKey: key.publicKey, notBefore: NOW })).der);
  });

  it('has key usage digitalSignature+nonRepudiation, the sign policy and the auth profile otherwise', () => {
    expect(extList(cert)).toEqual(SIGN_EXTENSIONS);
    expect(hex(extension(cert, OIDS.keyUsage).extnValue.buffer)).toBe('030206c0');
    expect(hex(extension(cert, OIDS.certificatePolicies).extnValue.buffer)).toBe(
      certificatePoliciesHex(simPolicyOid('sign', 'card'), CPS_URL),
    );
    const dp = AsnConvert.parse(extension(cert, OIDS.crlDp).extnValue.buffer, CRLDistributionPoints);
    expect(dirNameHex(dp[0]!.distributionPoint!.fullName!)).toBe(
      hex(nameDer(crlDistributionPointRdns('sign', 'card', municipality('27127')))),
    );
  });

  it('carries the basic 4 info as otherName UTF8Strings in the order 1, 4, 3, 5, 2, 6 with substitutes flagged', () => {
    expect(sanOtherNames(cert)).toEqual([
      ['1.2.392.200149.8.5.5.1', '吉田　太郎'],
      ['1.2.392.200149.8.5.5.4', '319800217'],
      ['1.2.392.200149.8.5.5.3', '1'],
      ['1.2.392.200149.8.5.5.5', '大阪府大阪市北区曽根崎２－５－１８'],
      ['1.2.392.200149.8.5.5.2', '10000'],
      ['1.2.392.200149.8.5.5.6', '00000000101000000'],
    ]);
    // Each entry is [0] { OID, [0] EXPLICIT UTF8String } (no double wrapping).
    const raw = hex(extension(cert, OIDS.subjectAltName).extnValue.buffer);
    expect(raw).toContain('a019060a2a83088c9b5508050504a00b0c09333139383030323137');
  });

  it('has subject C=JP, L=<prefecture>, L=<municipality>, CN=<id>', () => {
    const rdns = cert.tbsCertificate.subject.map((rdn) => [
      rdn[0]!.type,
      rdn[0]!.value.printableString ?? rdn[0]!.value.utf8String,
    ]);
    expect(rdns.slice(0, 3)).toEqual([
      ['2.5.4.6', 'JP'],
      ['2.5.4.7', 'Osaka'],
      ['2.5.4.7', 'Osaka-shi-Kita-ku'],
    ]);
    expect(cert.tbsCertificate.subject[0]![0]!.value.printableString).toBe('JP');
    expect(rdns[3]![1]).toMatch(/^[0-9A-F]{8}[A-Z]{6}27127003A$/);
  });

  it('round-trips 1,000 arbitrary basic-4 inputs issued with one reused key', async () => {
    const chars = [...'山田花子佐藤太郎一二三あいうアイウ髙﨑𠮷德邉濵栁桒曾ー　'];
    let seed = 42;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const text = (n: number): string => Array.from({ length: n }, () => chars[rnd(chars.length)]).join('');
    const sexes: SexCode[] = ['0', '1', '2', '9'];
    const t0 = Date.now();
    for (let i = 0; i < 1000; i++) {
      const birth = new Date(Date.UTC(1900 + rnd(125), rnd(12), 1 + rnd(28))).toISOString().slice(0, 10);
      const input: Basic4Input = {
        name: text(1 + rnd(12)),
        sex: sexes[rnd(4)]!,
        birthDate: birth,
        address: `東京都清瀬市${text(1 + rnd(30))}`,
      };
      const issued = await ca.issueSign(input, { publicKey: key.publicKey, notBefore: NOW });
      const san = new Map(sanOtherNames(parseCert(issued.der)));
      const name = toCertificateText(input.name);
      const address = toCertificateText(input.address);
      expect(san.get('1.2.392.200149.8.5.5.1')).toBe(name.text);
      expect(san.get('1.2.392.200149.8.5.5.2')).toBe(name.flags);
      expect([...san.get('1.2.392.200149.8.5.5.2')!].length).toBe([...name.text].length);
      expect(san.get('1.2.392.200149.8.5.5.3')).toBe(input.sex);
      expect(san.get('1.2.392.200149.8.5.5.4')).toBe(`${eraDigit(birth)}${birth.replace(/-/g, '')}`);
      expect(san.get('1.2.392.200149.8.5.5.5')).toBe(address.text);
      expect(san.get('1.2.392.200149.8.5.5.6')).toBe(address.flags);
    }
    expect(Date.now() - t0).toBeLessThan(30_000);
  });

  it('writes explicit substitute flags as given and rejects malformed input', async () => {
    const c = await ca.issueSign(
      {
        ...basic4,
        name: '高橋　一',
        nameSubstitute: '1000',
        address: '福井県福井市大手３－１０－１',
        addressSubstitute: '0'.repeat(14),
      },
      { publicKey: key.publicKey },
    );
    const san = new Map(sanOtherNames(parseCert(c.der)));
    expect(san.get('1.2.392.200149.8.5.5.1')).toBe('高橋　一');
    expect(san.get('1.2.392.200149.8.5.5.2')).toBe('1000');
    await expect(ca.issueSign({ ...basic4, nameSubstitute: '1' }, { publicKey: key.publicKey })).rejects.toBeInstanceOf(
      InvalidInput,
    );
    await expect(ca.issueSign({ ...basic4, sex: '3' as SexCode }, { publicKey: key.publicKey })).rejects.toBeInstanceOf(
      InvalidInput,
    );
    await expect(
      ca.issueSign({ ...basic4, birthDate: '2001-02-29' }, { publicKey: key.publicKey }),
    ).rejects.toBeInstanceOf(InvalidInput);
  });
});

describe('smartphone issuers', () => {
  it('issue from their own roots with their own policy OIDs and CRL points', async () => {
    for (const medium of ['android', 'iphone'] as const) {
      for (const kind of ['auth', 'sign'] as const) {
        const issued =
          kind === 'auth'
            ? await ca.issueAuth(
                { birthDate: '1990-01-01', municipality: '13221' },
                { publicKey: key.publicKey, medium, notBefore: NOW },
              )
            : await ca.issueSign(
                { name: '清瀬　花子', sex: '2', birthDate: '1990-01-01', address: '東京都清瀬市中里１－２－３' },
                { publicKey: key.publicKey, medium, notBefore: NOW },
              );
        const c = parseCert(issued.der);
        expect(issued.issuerId).toBe(`sim-${kind}ca-${medium}01`);
        expect(nameHex(c.tbsCertificate.issuer)).toBe(hex(nameDer(caRdns(kind, medium))));
        expect(hex(extension(c, OIDS.certificatePolicies).extnValue.buffer)).toBe(
          certificatePoliciesHex(simPolicyOid(kind, medium), CPS_URL),
        );
        const dp = AsnConvert.parse(extension(c, OIDS.crlDp).extnValue.buffer, CRLDistributionPoints);
        expect(dirNameHex(dp[0]!.distributionPoint!.fullName!)).toBe(
          hex(nameDer(crlDistributionPointRdns(kind, medium, municipality('13221')))),
        );
        expect(opensslVerify(tmp.path, ca.root(issued.issuerId).pem, [issued.der], ['-x509_strict']).ok).toEqual([
          true,
        ]);
        expect(opensslVerify(tmp.path, ca.issuerFor(kind, 'card', NOW).pem, [issued.der]).ok).toEqual([false]);
      }
    }
  });
});

describe('validity and serials', () => {
  it('follows the 5th-birthday rule in Japanese time, 29 February included, capped by the root', async () => {
    // Issued on the birthday itself (JST): that birthday does not count.
    expect(fifthBirthdayNotAfter('1990-11-25', new Date('2026-11-24T16:00:00Z')).toISOString()).toBe(
      '2031-11-25T14:59:59.000Z',
    );
    // 14:59Z on 24 Nov is still 24 Nov in Japan.
    expect(fifthBirthdayNotAfter('1990-11-25', new Date('2026-11-24T14:59:00Z')).toISOString()).toBe(
      '2030-11-25T14:59:59.000Z',
    );
    expect(fifthBirthdayNotAfter('2000-02-29', new Date('2026-03-01T00:00:00Z')).toISOString()).toBe(
      '2031-02-28T14:59:59.000Z',
    );
    expect(fifthBirthdayNotAfter('2000-02-29', new Date('2027-03-01T00:00:00Z')).toISOString()).toBe(
      '2032-02-29T14:59:59.000Z',
    );
    const gen1 = ca.issuerFor('auth', 'card', NOW, 1);
    const capped = await ca.issueAuth(
      { birthDate: '1980-12-31', municipality: '18201' },
      { publicKey: key.publicKey, generation: 1, notBefore: new Date(gen1.notAfter.getTime() - 86_400_000 * 400) },
    );
    expect(capped.notAfter.toISOString()).toBe(gen1.notAfter.toISOString());
  });

  it('never repeats a serial within an issuer', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 300; i++) {
      const c = await ca.issueAuth(
        { birthDate: '1980-01-01', municipality: '18201' },
        { publicKey: key.publicKey, notBefore: NOW },
      );
      expect(c.serial).toMatch(/^[0-7][0-9A-F]{7}$/);
      expect(seen.has(c.serial)).toBe(false);
      seen.add(c.serial);
    }
  });
});

describe('era digits and substitutes', () => {
  it('maps Gregorian dates to the era digit at every boundary', () => {
    const cases: [string, string][] = [
      ['1912-07-29', '1'],
      ['1912-07-30', '2'],
      ['1926-12-24', '2'],
      ['1926-12-25', '3'],
      ['1989-01-07', '3'],
      ['1989-01-08', '4'],
      ['2019-04-30', '4'],
      ['2019-05-01', '5'],
    ];
    for (const [date, era] of cases) expect(jpkiBirthDate(date)).toBe(`${era}${date.replace(/-/g, '')}`);
  });

  it('counts flags per code point, not per UTF-16 unit', () => {
    const r = toCertificateText('𠮷田　太郎');
    expect(r).toEqual({ text: '吉田　太郎', flags: '10000' });
    expect('𠮷田　太郎'.length).toBe(6);
  });
});

describe('signTbs', () => {
  it('re-signs a tampered TBS so openssl accepts it, while the tampered original fails', async () => {
    const issued = await ca.issueAuth(
      { birthDate: '1980-02-17', municipality: '18201' },
      { publicKey: key.publicKey, notBefore: NOW },
    );
    const c = parseCert(issued.der);
    // Tamper: drop the EKU and move notAfter.
    const tbs = c.tbsCertificate;
    tbs.extensions!.splice(1, 1);
    tbs.validity.notAfter.utcTime = new Date('2030-01-01T14:59:59Z');
    const tbsDer = new Uint8Array(AsnConvert.serialize(tbs));
    const resigned = ca.signTbs(issued.issuerId, tbsDer);
    const back = parseCert(resigned);
    expect(hex(AsnConvert.serialize(back.tbsCertificate))).toBe(hex(tbsDer));
    expect(extList(back).map(([o]) => o)).not.toContain(OIDS.extKeyUsage);
    const root = ca.root(issued.issuerId);
    expect(opensslVerify(tmp.path, root.pem, [resigned]).ok).toEqual([true]);
    // The same tampered TBS under the original signature does not verify.
    c.tbsCertificate = tbs;
    const forged = Buffer.from(AsnConvert.serialize(c));
    const r = opensslVerify(tmp.path, root.pem, [forged]);
    expect(r.ok).toEqual([false]);
    expect(r.output).toMatch(/signature failure/);
    // And the root key is the one in the root certificate.
    expect(
      createPublicKey(root.privateKey)
        .export({ type: 'spki', format: 'der' })
        .equals(root.publicKey.export({ type: 'spki', format: 'der' })),
    ).toBe(true);
  });
});
