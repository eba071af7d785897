// JPKI meaning of a certificate: kind, environment, medium, basic 4 info (signing certificates),
// municipality hint (authentication certificates) and the issuing CA generation.

import { Malformed } from './errors.js';
import { JLIS_ROOTS } from './jlis-roots.js';
import {
  KIND_OU,
  KNOWN_POLICIES,
  OID,
  ORGANIZATION,
  type CertKind,
  type Environment,
  type Medium,
  type PolicyInfo,
} from './oids.js';
import { parseX509, type Name, type X509Certificate } from './x509.js';

export type Sex = 'male' | 'female' | 'notApplicable' | 'unknown';

export interface Era {
  /** The digit used in the certificate: 1 明治 … 5 令和, 0 unknown. */
  readonly code: string;
  readonly name: 'meiji' | 'taisho' | 'showa' | 'heisei' | 'reiwa' | 'unknown';
  readonly nameJa: string;
  /** Year within the era (元年 = 1), when the era is known. */
  readonly year?: number;
}

/** 基本4情報 as carried in the signing certificate's subjectAltName (spec §7.4). */
export interface Basic4Info {
  /** 氏名 as written in the certificate (substitute characters included). */
  readonly name: string;
  /** One '0'/'1' per character of `name`; '1' marks a substitute character (代替文字). */
  readonly nameSubstitute: string;
  readonly sex: Sex;
  /** JIS X 0303 code: 1 male, 2 female, 9 not applicable, 0 unknown. */
  readonly sexCode: string;
  /** Gregorian date of birth, `YYYY-MM-DD`. */
  readonly birthDate: string;
  readonly era: Era;
  /** 住所 as written in the certificate. */
  readonly address: string;
  readonly addressSubstitute: string;
}

export interface IssuerGeneration {
  /** J-LIS file name (e.g. `authca02`) or the trust-store label, when known. */
  readonly label?: string;
  /** authorityCertSerialNumber from the AKI (upper-case hex). */
  readonly akiSerial?: string;
  readonly akiKeyId?: string;
}

/**
 * Production root generations published by J-LIS (spec §7.1), all embedded: one table, taken from
 * the pinned roots in jlis-roots.ts so serials and fingerprints have a single source.
 */
export const JLIS_GENERATIONS: readonly { label: string; kind: CertKind; serial: string; sha256: string }[] =
  JLIS_ROOTS.map(({ label, kind, serial, sha256 }) => ({ label, kind, serial, sha256 }));

const SEX: Record<string, Sex> = { '1': 'male', '2': 'female', '9': 'notApplicable', '0': 'unknown' };

const ERAS: readonly { code: string; name: Era['name']; nameJa: string; start: string }[] = [
  { code: '1', name: 'meiji', nameJa: '明治', start: '1868-10-23' },
  { code: '2', name: 'taisho', nameJa: '大正', start: '1912-07-30' },
  { code: '3', name: 'showa', nameJa: '昭和', start: '1926-12-25' },
  { code: '4', name: 'heisei', nameJa: '平成', start: '1989-01-08' },
  { code: '5', name: 'reiwa', nameJa: '令和', start: '2019-05-01' },
];

/** The era a Gregorian date falls in (for issuing, and to check a certificate's era digit). */
export function eraOf(isoDate: string): Era {
  for (let i = ERAS.length - 1; i >= 0; i--) {
    const e = ERAS[i]!;
    if (isoDate >= e.start)
      return {
        code: e.code,
        name: e.name,
        nameJa: e.nameJa,
        year: Number(isoDate.slice(0, 4)) - Number(e.start.slice(0, 4)) + 1,
      };
  }
  return { code: '0', name: 'unknown', nameJa: '不明' };
}

/** Decodes `EYYYYMMDD` (era digit + Gregorian date, spec §7.4). */
export function parseJpkiBirthDate(value: string): { birthDate: string; era: Era } {
  const m = /^([0-5])(\d{4})(\d{2})(\d{2})$/.exec(value);
  if (!m) throw new Malformed(`birth date "${value}" is not EYYYYMMDD`);
  const [, eraCode, y, mo, d] = m as unknown as [string, string, string, string, string];
  const t = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  if (t.getUTCFullYear() !== Number(y) || t.getUTCMonth() !== Number(mo) - 1 || t.getUTCDate() !== Number(d)) {
    throw new Malformed(`birth date "${value}" is not a real date`);
  }
  const birthDate = `${y}-${mo}-${d}`;
  if (eraCode === '0') return { birthDate, era: { code: '0', name: 'unknown', nameJa: '不明' } };
  const computed = eraOf(birthDate);
  const info = ERAS.find((e) => e.code === eraCode)!;
  // The era digit is kept as written; the era year is only meaningful when the digit matches the date.
  const era: Era = computed.code === eraCode ? computed : { code: eraCode, name: info.name, nameJa: info.nameJa };
  return { birthDate, era };
}

/** Formats a Gregorian date as the certificate's `EYYYYMMDD`. */
export function formatJpkiBirthDate(isoDate: string): string {
  return `${eraOf(isoDate).code}${isoDate.replace(/-/g, '')}`;
}

const codePoints = (s: string): number => [...s].length;

function parseBasic4(cert: X509Certificate): Basic4Info | undefined {
  const byOid = new Map<string, string>();
  for (const on of cert.subjectAltOtherNames) {
    if (!on.typeId.startsWith(`${OID.name.slice(0, -2)}.`)) continue;
    if (byOid.has(on.typeId)) throw new Malformed(`subjectAltName repeats ${on.typeId}`);
    byOid.set(on.typeId, on.value);
  }
  if (byOid.size === 0) return undefined;
  const need = (oid: string, what: string): string => {
    const v = byOid.get(oid);
    if (v === undefined) throw new Malformed(`subjectAltName lacks ${what} (${oid})`);
    return v;
  };
  const name = need(OID.name, 'the name');
  const nameSubstitute = need(OID.nameSubstitute, 'the name substitute flags');
  const sexCode = need(OID.sex, 'the sex');
  const { birthDate, era } = parseJpkiBirthDate(need(OID.birthDate, 'the birth date'));
  const address = need(OID.address, 'the address');
  const addressSubstitute = need(OID.addressSubstitute, 'the address substitute flags');
  const sex = SEX[sexCode];
  if (!sex) throw new Malformed(`sex code "${sexCode}" is not a JIS X 0303 code`);
  checkFlags(nameSubstitute, name, 'name');
  checkFlags(addressSubstitute, address, 'address');
  return { name, nameSubstitute, sex, sexCode, birthDate, era, address, addressSubstitute };
}

function checkFlags(flags: string, text: string, what: string): void {
  if (!/^[01]*$/.test(flags)) throw new Malformed(`${what} substitute flags "${flags}" are not 0/1 digits`);
  // Real data pads or truncates inconsistently in some samples; only a longer flag string is impossible.
  if (flags.length > codePoints(text)) throw new Malformed(`${what} substitute flags are longer than the ${what}`);
}

function attr(name: Name, type: string): string[] {
  return name.attributes.filter((a) => a.type === type).map((a) => a.value);
}

function environmentOfName(name: Name): Environment | undefined {
  const o = attr(name, OID.organizationName)[0];
  return (Object.keys(ORGANIZATION) as Environment[]).find((env) => ORGANIZATION[env] === o);
}

export function kindOfName(name: Name): CertKind | undefined {
  const ous = attr(name, OID.organizationalUnitName);
  return (Object.keys(KIND_OU) as CertKind[]).find((k) => ous.includes(KIND_OU[k]));
}

/** A certificate read as JPKI: structure from x509.ts plus the profile's meaning. */
export interface JpkiCertificate {
  readonly x509: X509Certificate;
  readonly kind: CertKind | 'unknown';
  readonly isCA: boolean;
  readonly environment: Environment | 'unknown';
  /** Holder medium when the policy tells it; the trust anchor may tell it during validation. */
  readonly medium: Medium | 'unknown';
  readonly policy: PolicyInfo | undefined;
  readonly serial: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly issuerGeneration: IssuerGeneration;
  /** Signing certificates only. */
  readonly basic4: Basic4Info | undefined;
  /** Authentication certificates: the 5-digit municipality code seen in the (opaque) subject CN. A hint only. */
  readonly municipalityHint: string | undefined;
}

export interface ParseOptions {
  /** Extra policies (e.g. smartphone production OIDs once known). */
  policies?: readonly PolicyInfo[];
}

/**
 * Parses a JPKI certificate (DER bytes or PEM). Throws `Malformed` for anything that is not a
 * well-formed X.509 v3 RSA/SHA-256 certificate; a certificate outside the JPKI profile still
 * parses (kind `unknown`) so it can be inspected — `validate` decides whether it is acceptable.
 */
export function parseCertificate(input: Uint8Array | string, options: ParseOptions = {}): JpkiCertificate {
  const x509 = parseX509(input);
  const isCA = x509.basicConstraints?.cA === true;
  const known = [...KNOWN_POLICIES, ...(options.policies ?? [])];
  const policy = x509.policies.map((oid) => known.find((p) => p.oid === oid)).find((p) => p !== undefined);
  const ownName = isCA ? x509.subject : x509.issuer;
  const kind = policy?.kind ?? kindOfName(ownName) ?? 'unknown';
  const environment = policy?.environment ?? environmentOfName(ownName) ?? 'unknown';
  const basic4 = parseBasic4(x509);
  const cn = attr(x509.subject, OID.commonName)[0];
  const municipalityHint =
    !isCA && kind === 'auth' && cn ? /^[0-9A-F]{8}[A-Z]{6}(\d{5})[0-9A-Z]{4}$/.exec(cn)?.[1] : undefined;
  return {
    x509,
    kind,
    isCA,
    environment,
    medium: policy?.medium ?? 'unknown',
    policy,
    serial: x509.serial,
    notBefore: x509.notBefore,
    notAfter: x509.notAfter,
    issuerGeneration: issuerGeneration(x509, kind, environment),
    basic4,
    municipalityHint,
  };
}

function issuerGeneration(
  x509: X509Certificate,
  kind: CertKind | 'unknown',
  environment: Environment | 'unknown',
): IssuerGeneration {
  if (x509.isSelfIssued) {
    const own =
      environment === 'production' ? JLIS_GENERATIONS.find((g) => g.sha256 === x509.fingerprintSha256) : undefined;
    return { label: own?.label, akiSerial: x509.serial, akiKeyId: x509.subjectKeyId };
  }
  const aki = x509.authorityKeyId;
  const known =
    environment === 'production' && aki?.serial
      ? JLIS_GENERATIONS.find((g) => g.kind === kind && g.serial === aki.serial)
      : undefined;
  return { label: known?.label, akiSerial: aki?.serial, akiKeyId: aki?.keyId };
}
