// The simulated J-LIS certificate authority: self-signed roots with the structure of spec §7.1 and
// end-entity certificates with the profiles of spec §7.2–§7.4. Certificates are assembled with
// @peculiar/asn1-x509 (the high-level @peculiar/x509 SAN class drops otherName entries) and signed
// synchronously with node:crypto.

import 'reflect-metadata';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AccessDescription,
  AlgorithmIdentifier,
  AuthorityInfoAccessSyntax,
  AuthorityKeyIdentifier,
  BasicConstraints,
  CRLDistributionPoints,
  CertificatePolicies,
  DistributionPoint,
  DistributionPointName,
  ExtendedKeyUsage,
  Extension,
  Extensions,
  GeneralName,
  GeneralNames,
  KeyIdentifier,
  OtherName,
  PolicyInformation,
  PolicyQualifierInfo,
  Qualifier,
  SubjectKeyIdentifier,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
  Version,
} from '@peculiar/asn1-x509';
import { createHash, randomBytes, randomInt, sign, type KeyObject } from 'node:crypto';
import {
  CPS_URL,
  OID,
  SHA256_WITH_RSA_ALGORITHM,
  simPolicyOid,
  toPem,
  type CertKind,
  type Medium,
} from '@kakunin/jpki';
import { TAG, encodeTlv } from '@kakunin/jpki/der';
import { InvalidInput, UnknownIssuer } from './errors.js';
import { generateRsaKeyPair } from './keys.js';
import {
  addYears,
  assertIsoDate,
  codePointLength,
  endOfJstDay,
  fifthBirthdayNotAfter,
  jpkiBirthDate,
  jstDate,
  SEX_CODES,
  toCertificateText,
  truncateToSecond,
  type SexCode,
} from './japanese.js';
import {
  municipality as municipalityByCode,
  municipalityOfAddress,
  MUNICIPALITIES,
  type Municipality,
} from './municipalities.js';
import {
  authSubjectRdns,
  buildName,
  caAltRdns,
  caRdns,
  crlDistributionPointRdns,
  signSubjectRdns,
  type Rdns,
} from './names.js';

export interface RootSpec {
  /** Stable label, e.g. `sim-authca02`. */
  readonly id: string;
  readonly kind: CertKind;
  readonly medium: Medium;
  /** 1, 2, … per (kind, medium); all generations share one DN (choose the issuer by key, not by name). */
  readonly generation: number;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

export const DEFAULT_BASE_URL = 'http://127.0.0.1:8900';

/**
 * The simulator's roots relative to `now`: two generations per kind for cards (gen 1 valid
 * [now−6y, now+4y], gen 2 [now−2y, now+8y], same DN) and one per kind for each smartphone medium
 * ([now−3y, now+7y]). notAfter is 23:59:59 JST like the real ones.
 */
export function defaultRootSpecs(now: Date): RootSpec[] {
  const span = (from: number, to: number) => ({
    notBefore: truncateToSecond(addYears(now, from)),
    notAfter: endOfJstDay(jstDate(addYears(now, to))),
  });
  const kinds: readonly CertKind[] = ['auth', 'sign'];
  return [
    ...kinds.flatMap((kind) => [
      { id: `sim-${kind}ca01`, kind, medium: 'card' as const, generation: 1, ...span(-6, 4) },
      { id: `sim-${kind}ca02`, kind, medium: 'card' as const, generation: 2, ...span(-2, 8) },
    ]),
    ...(['android', 'iphone'] as const).flatMap((medium) =>
      kinds.map((kind) => ({ id: `sim-${kind}ca-${medium}01`, kind, medium, generation: 1, ...span(-3, 7) })),
    ),
  ];
}

export interface SimRoot extends RootSpec {
  /** Upper-case hex, as in the issued certificates' authorityCertSerialNumber. */
  readonly serial: string;
  readonly der: Buffer;
  readonly pem: string;
  /** SubjectKeyIdentifier = SHA-1 of the RSAPublicKey. */
  readonly keyId: Buffer;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

/** 基本4情報 to write into a signing certificate (spec §7.4). */
export interface Basic4Input {
  /**
   * 氏名. Without `nameSubstitute` this is the true name: characters outside the certificate's
   * repertoire are replaced (see SUBSTITUTES) and flagged. With it, it is written as given.
   */
  readonly name: string;
  readonly nameSubstitute?: string;
  readonly sex: SexCode;
  /** Gregorian `YYYY-MM-DD`; written as `EYYYYMMDD`. */
  readonly birthDate: string;
  /** 住所, handled like `name`. */
  readonly address: string;
  readonly addressSubstitute?: string;
}

/** Who an authentication certificate is for: only what its validity and CN/CRLDP need. */
export interface AuthHolder {
  readonly birthDate: string;
  readonly municipality: string | Municipality;
}

export interface IssueOptions {
  /** Certify this key (e.g. one key reused for many test certificates); default a fresh RSA-2048 pair. */
  readonly publicKey?: KeyObject;
  readonly medium?: Medium;
  /** Issue from this root; default the newest generation of (kind, medium) valid at notBefore. */
  readonly issuerId?: string;
  readonly generation?: number;
  /** Default: now. */
  readonly notBefore?: Date;
  /** Default: 14:59:59Z of the 5th birthday after notBefore, but not after the root's notAfter. */
  readonly notAfter?: Date;
  /** Upper-case hex; default a random positive 4-byte serial unused by this issuer. */
  readonly serial?: string;
  /** Municipality for CN, CRLDP and (signing) subject L=; signing default: from the address, else 福井市. */
  readonly municipality?: string | Municipality;
  /** The opaque subject CN (識別符号); default a fresh one in the observed shape. */
  readonly subjectId?: string;
}

export interface IssuedCertificate {
  readonly der: Buffer;
  readonly kind: CertKind;
  readonly medium: Medium;
  readonly issuerId: string;
  readonly serial: string;
  readonly subjectId: string;
  readonly municipalityCode: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly publicKey: KeyObject;
  /** Set when the CA generated the key pair. */
  readonly privateKey?: KeyObject;
}

// Fixed DER of the key usages (spec §7.1–§7.3).
const KU_CA = Buffer.from('03020106', 'hex');
const KU_AUTH = Buffer.from('03020780', 'hex');
const KU_SIGN = Buffer.from('030206c0', 'hex');

const ser = (v: object): Buffer => Buffer.from(AsnConvert.serialize(v));
const ab = (b: Uint8Array): ArrayBuffer => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;

function extension(oid: string, critical: boolean, value: object | Buffer): Extension {
  return new Extension({
    extnID: oid,
    critical,
    extnValue: new OctetString(Buffer.isBuffer(value) ? value : ser(value)),
  });
}

/** Wraps TBS bytes (kept byte for byte) into a Certificate signed with sha256WithRSAEncryption. */
export function signTbsWith(privateKey: KeyObject, tbsDer: Uint8Array): Buffer {
  const tbs = Buffer.from(tbsDer);
  const signature = sign('sha256', tbs, privateKey);
  return encodeTlv(
    TAG.SEQUENCE,
    tbs,
    SHA256_WITH_RSA_ALGORITHM,
    encodeTlv(TAG.BIT_STRING, Buffer.from([0]), signature),
  );
}

/** SHA-1 of the RSAPublicKey (the BIT STRING content of the SPKI), as J-LIS computes key identifiers. */
export function keyIdentifier(publicKey: KeyObject): Buffer {
  return createHash('sha1')
    .update(publicKey.export({ type: 'pkcs1', format: 'der' }))
    .digest();
}

function spki(publicKey: KeyObject): SubjectPublicKeyInfo {
  return AsnConvert.parse(publicKey.export({ type: 'spki', format: 'der' }), SubjectPublicKeyInfo);
}

/** A random positive serial of exactly 4 DER bytes (first byte 01..7F), like the real `054CFCD8`. */
function randomSerial(): string {
  return Buffer.concat([Buffer.from([randomInt(1, 0x80)]), randomBytes(3)])
    .toString('hex')
    .toUpperCase();
}

const HEX = '0123456789ABCDEF';
const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const pick = (alphabet: string, n: number): string =>
  Array.from({ length: n }, () => alphabet[randomInt(alphabet.length)]).join('');

/** A fresh 識別符号 in the observed shape: 8 hex + 6 letters + municipality code + `003A` (23 chars, spec §7.2). */
export function newSubjectId(municipalityCode: string): string {
  return `${pick(HEX, 8)}${pick(LETTERS, 6)}${municipalityCode}003A`;
}

function resolveMunicipality(m: string | Municipality): Municipality {
  return typeof m === 'string' ? municipalityByCode(m) : m;
}

function otherName(typeId: string, value: string): GeneralName {
  // asn1-x509 adds the [0] EXPLICIT wrapper itself: the value is the bare UTF8String.
  return new GeneralName({
    otherName: new OtherName({ typeId, value: ab(encodeTlv(TAG.UTF8_STRING, Buffer.from(value, 'utf8'))) }),
  });
}

function checkFlags(flags: string, text: string, what: string): void {
  if (!/^[01]*$/.test(flags)) throw new InvalidInput(`${what} substitute flags must be 0/1 digits`, { flags });
  if (flags.length !== codePointLength(text))
    throw new InvalidInput(`${what} substitute flags need one digit per character`, { flags, text });
}

/** The SAN value of a signing certificate: otherName entries in the observed order 1, 4, 3, 5, 2, 6 (spec §7.4). */
export function basic4SubjectAltName(input: Basic4Input): GeneralNames {
  if (!SEX_CODES.includes(input.sex)) throw new InvalidInput(`sex "${input.sex}" is not a JIS X 0303 code`);
  assertIsoDate(input.birthDate, 'birth date');
  const name =
    input.nameSubstitute === undefined
      ? toCertificateText(input.name)
      : { text: input.name, flags: input.nameSubstitute };
  const address =
    input.addressSubstitute === undefined
      ? toCertificateText(input.address)
      : { text: input.address, flags: input.addressSubstitute };
  checkFlags(name.flags, name.text, 'name');
  checkFlags(address.flags, address.text, 'address');
  return new GeneralNames([
    otherName(OID.name, name.text),
    otherName(OID.birthDate, jpkiBirthDate(input.birthDate)),
    otherName(OID.sex, input.sex),
    otherName(OID.address, address.text),
    otherName(OID.nameSubstitute, name.flags),
    otherName(OID.addressSubstitute, address.flags),
  ]);
}

const dirName = (rdns: Rdns): GeneralName => new GeneralName({ directoryName: buildName(rdns) });

function crlDistributionPoints(rdns: Rdns): CRLDistributionPoints {
  return new CRLDistributionPoints([
    new DistributionPoint({ distributionPoint: new DistributionPointName({ fullName: [dirName(rdns)] }) }),
  ]);
}

interface TbsParams {
  serial: string;
  issuer: Rdns;
  subject: Rdns;
  notBefore: Date;
  notAfter: Date;
  publicKey: KeyObject;
  extensions: Extension[];
}

function tbsCertificate(p: TbsParams): Buffer {
  return ser(
    new TBSCertificate({
      version: Version.v3,
      serialNumber: ab(Buffer.from(p.serial, 'hex')),
      signature: AsnConvert.parse(SHA256_WITH_RSA_ALGORITHM, AlgorithmIdentifier),
      issuer: buildName(p.issuer),
      validity: new Validity({ notBefore: p.notBefore, notAfter: p.notAfter }),
      subject: buildName(p.subject),
      subjectPublicKeyInfo: spki(p.publicKey),
      extensions: new Extensions(p.extensions),
    }),
  );
}

/** A self-signed root with the extension order and criticality of spec §7.1. */
function buildRoot(spec: RootSpec, serial: string, keys: { privateKey: KeyObject; publicKey: KeyObject }): SimRoot {
  const dn = caRdns(spec.kind, spec.medium);
  const keyId = keyIdentifier(keys.publicKey);
  const tbs = tbsCertificate({
    serial,
    issuer: dn,
    subject: dn,
    notBefore: spec.notBefore,
    notAfter: spec.notAfter,
    publicKey: keys.publicKey,
    extensions: [
      extension(OID.keyUsage, true, KU_CA),
      extension(OID.subjectAltName, false, new GeneralNames([dirName(caAltRdns(spec.kind, spec.medium))])),
      extension(OID.basicConstraints, true, new BasicConstraints({ cA: true })),
      extension(OID.cRLDistributionPoints, false, crlDistributionPoints(dn)),
      extension(OID.subjectKeyIdentifier, false, new SubjectKeyIdentifier(keyId)),
    ],
  });
  const der = signTbsWith(keys.privateKey, tbs);
  return { ...spec, serial, der, pem: toPem(der), keyId, privateKey: keys.privateKey, publicKey: keys.publicKey };
}

/** What a persisted root needs to be restored: its certificate and private key. */
export interface StoredRoot extends RootSpec {
  readonly der: Buffer;
  readonly serial: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

export class SimCa {
  private readonly byId = new Map<string, SimRoot>();
  private readonly usedSerials = new Map<string, Set<string>>();
  readonly baseUrl: string;

  private constructor(
    /** Base of the AIA OCSP URI (`<baseUrl>/ocsp`). */
    baseUrl: string,
    roots: readonly SimRoot[],
  ) {
    this.baseUrl = baseUrl;
    for (const r of roots) {
      if (this.byId.has(r.id)) throw new InvalidInput(`duplicate root id ${r.id}`);
      this.byId.set(r.id, r);
      this.usedSerials.set(r.id, new Set());
    }
  }

  /** Creates the roots (keys generated in parallel on the thread pool); by default those of defaultRootSpecs(now). */
  static async create(
    specs: readonly RootSpec[] = defaultRootSpecs(new Date()),
    baseUrl: string = DEFAULT_BASE_URL,
  ): Promise<SimCa> {
    const keys = await Promise.all(specs.map(() => generateRsaKeyPair()));
    return new SimCa(
      baseUrl,
      specs.map((s, i) => buildRoot(s, randomSerial(), keys[i]!)),
    );
  }

  static restore(stored: readonly StoredRoot[], baseUrl: string): SimCa {
    return new SimCa(
      baseUrl,
      stored.map((s) => ({ ...s, pem: toPem(s.der), keyId: keyIdentifier(s.publicKey) })),
    );
  }

  roots(): readonly SimRoot[] {
    return [...this.byId.values()];
  }

  root(id: string): SimRoot {
    const r = this.byId.get(id);
    if (!r) throw new UnknownIssuer(`id "${id}"`);
    return r;
  }

  /** The newest generation of (kind, medium) whose validity contains `at`, or the given generation. */
  issuerFor(kind: CertKind, medium: Medium, at: Date, generation?: number): SimRoot {
    const candidates = this.roots()
      .filter(
        (r) => r.kind === kind && r.medium === medium && (generation === undefined || r.generation === generation),
      )
      .filter((r) => generation !== undefined || (r.notBefore <= at && at <= r.notAfter))
      .sort((a, b) => b.generation - a.generation);
    const root = candidates[0];
    if (!root)
      throw new UnknownIssuer(
        `${kind}/${medium}${generation === undefined ? ` valid at ${at.toISOString()}` : ` generation ${generation}`}`,
      );
    return root;
  }

  /** Marks serials as taken (e.g. those recorded in a sandbox) so new ones never collide. */
  reserveSerials(issuerId: string, serials: Iterable<string>): void {
    const used = this.usedSerialsOf(issuerId);
    for (const s of serials) used.add(s.toUpperCase());
  }

  /** Re-signs (possibly modified) TBS bytes with a root's key: for tests that tamper with certificates. */
  signTbs(issuerId: string, tbsDer: Uint8Array): Buffer {
    return signTbsWith(this.root(issuerId).privateKey, tbsDer);
  }

  /** 利用者証明用電子証明書, exactly the profile of spec §7.2. */
  async issueAuth(holder: AuthHolder, options: IssueOptions = {}): Promise<IssuedCertificate> {
    assertIsoDate(holder.birthDate, 'birth date');
    const m = resolveMunicipality(options.municipality ?? holder.municipality);
    return this.issue('auth', holder.birthDate, m, undefined, options);
  }

  /** 署名用電子証明書 per spec §7.3/§7.4 with the 基本4情報 in subjectAltName. */
  async issueSign(basic4: Basic4Input, options: IssueOptions = {}): Promise<IssuedCertificate> {
    const san = basic4SubjectAltName(basic4);
    const m = options.municipality
      ? resolveMunicipality(options.municipality)
      : (municipalityOfAddress(basic4.address) ?? MUNICIPALITIES[0]!);
    return this.issue('sign', basic4.birthDate, m, san, options);
  }

  private usedSerialsOf(issuerId: string): Set<string> {
    const used = this.usedSerials.get(issuerId);
    if (!used) throw new UnknownIssuer(`id "${issuerId}"`);
    return used;
  }

  private allocateSerial(issuerId: string, wanted?: string): string {
    const used = this.usedSerialsOf(issuerId);
    if (wanted !== undefined) {
      if (!/^([0-9A-Fa-f]{2})+$/.test(wanted)) throw new InvalidInput(`serial "${wanted}" is not hex bytes`);
      used.add(wanted.toUpperCase());
      return wanted.toUpperCase();
    }
    for (;;) {
      const s = randomSerial();
      if (!used.has(s)) {
        used.add(s);
        return s;
      }
    }
  }

  private async issue(
    kind: CertKind,
    birthDate: string,
    m: Municipality,
    san: GeneralNames | undefined,
    o: IssueOptions,
  ): Promise<IssuedCertificate> {
    const medium = o.medium ?? 'card';
    const notBefore = truncateToSecond(o.notBefore ?? new Date());
    const root = o.issuerId ? this.root(o.issuerId) : this.issuerFor(kind, medium, notBefore, o.generation);
    if (root.kind !== kind || root.medium !== medium)
      throw new InvalidInput(`root ${root.id} issues ${root.kind}/${root.medium}, not ${kind}/${medium}`);
    const ruled = fifthBirthdayNotAfter(birthDate, notBefore);
    const notAfter = o.notAfter ?? (ruled < root.notAfter ? ruled : root.notAfter);
    const generated = o.publicKey ? undefined : await generateRsaKeyPair();
    const publicKey = o.publicKey ?? generated!.publicKey;
    const serial = this.allocateSerial(root.id, o.serial);
    const subjectId = o.subjectId ?? newSubjectId(m.code);
    const rootDn = caRdns(kind, medium);
    const extensions = [
      extension(OID.keyUsage, true, kind === 'auth' ? KU_AUTH : KU_SIGN),
      // A signing certificate carries no EKU (nonRepudiation, not TLS client auth).
      ...(kind === 'auth' ? [extension(OID.extKeyUsage, false, new ExtendedKeyUsage([OID.clientAuth]))] : []),
      extension(
        OID.certificatePolicies,
        true,
        new CertificatePolicies([
          new PolicyInformation({
            policyIdentifier: simPolicyOid(kind, medium),
            policyQualifiers: [
              new PolicyQualifierInfo({
                policyQualifierId: OID.cpsQualifier,
                qualifier: AsnConvert.serialize(new Qualifier({ cPSuri: CPS_URL })),
              }),
            ],
          }),
        ]),
      ),
      ...(san ? [extension(OID.subjectAltName, false, san)] : []),
      extension(OID.issuerAltName, false, new GeneralNames([dirName(caAltRdns(kind, medium))])),
      extension(OID.cRLDistributionPoints, false, crlDistributionPoints(crlDistributionPointRdns(kind, medium, m))),
      extension(
        OID.authorityInfoAccess,
        false,
        new AuthorityInfoAccessSyntax([
          new AccessDescription({
            accessMethod: OID.ocsp,
            accessLocation: new GeneralName({ uniformResourceIdentifier: `${this.baseUrl}/ocsp` }),
          }),
        ]),
      ),
      extension(
        OID.authorityKeyIdentifier,
        false,
        new AuthorityKeyIdentifier({
          keyIdentifier: new KeyIdentifier(root.keyId),
          authorityCertIssuer: [dirName(rootDn)],
          authorityCertSerialNumber: ab(Buffer.from(root.serial, 'hex')),
        }),
      ),
      extension(OID.subjectKeyIdentifier, false, new SubjectKeyIdentifier(keyIdentifier(publicKey))),
    ];
    const tbs = tbsCertificate({
      serial,
      issuer: rootDn,
      subject: kind === 'auth' ? authSubjectRdns(subjectId) : signSubjectRdns(subjectId, m),
      notBefore,
      notAfter,
      publicKey,
      extensions,
    });
    return {
      der: signTbsWith(root.privateKey, tbs),
      kind,
      medium,
      issuerId: root.id,
      serial,
      subjectId,
      municipalityCode: m.code,
      notBefore,
      notAfter,
      publicKey,
      ...(generated ? { privateKey: generated.privateKey } : {}),
    };
  }
}
