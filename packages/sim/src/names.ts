// Distinguished names of the simulated J-LIS: the real DER shape of spec §7.1/§7.2 with
// O=JPKI-SIM, so a simulator certificate can never be mistaken for a production one.

import 'reflect-metadata';
import { AsnConvert } from '@peculiar/asn1-schema';
import { AttributeTypeAndValue, AttributeValue, Name, RelativeDistinguishedName } from '@peculiar/asn1-x509';
import { KIND_OU, OID, ORGANIZATION, type CertKind, type Medium } from '@kakunin/jpki/oids';
import { formatName } from '@kakunin/jpki';
import type { Municipality } from './municipalities.js';

/** One attribute per RDN, in order; C is a PrintableString, everything else a UTF8String (as J-LIS writes them). */
export type Rdns = readonly (readonly [type: string, value: string])[];

export function buildName(rdns: Rdns): Name {
  return new Name(
    rdns.map(
      ([type, value]) =>
        new RelativeDistinguishedName([
          new AttributeTypeAndValue({
            type,
            value: new AttributeValue(type === OID.countryName ? { printableString: value } : { utf8String: value }),
          }),
        ]),
    ),
  );
}

export function nameDer(rdns: Rdns): Buffer {
  return Buffer.from(AsnConvert.serialize(buildName(rdns)));
}

const JLIS_OU = 'Japan Agency for Local Authority Information Systems';

/** Smartphone issuers are separate CAs; their names carry this OU before the last one. */
export const MEDIUM_OU: Record<Exclude<Medium, 'card'>, string> = {
  android: 'Smartphone Android',
  iphone: 'Smartphone iPhone',
};

const MEDIUM_OU_JA: Record<Exclude<Medium, 'card'>, string> = {
  android: 'スマートフォン用電子証明書(Android)',
  iphone: 'スマートフォン用電子証明書(iPhone)',
};

const KIND_OU_JA: Record<CertKind, string> = {
  auth: '公的個人認証サービス利用者証明用',
  sign: '公的個人認証サービス署名用',
};

const mediumOu = (medium: Medium, table: Record<Exclude<Medium, 'card'>, string>): Rdns =>
  medium === 'card' ? [] : [[OID.organizationalUnitName, table[medium]]];

/** Subject (= issuer) DN of a simulator root: `C=JP, O=JPKI-SIM, OU=<kind>, [OU=Smartphone …,] OU=Japan Agency …`. */
export function caRdns(kind: CertKind, medium: Medium): Rdns {
  return [
    [OID.countryName, 'JP'],
    [OID.organizationName, ORGANIZATION.simulator],
    [OID.organizationalUnitName, KIND_OU[kind]],
    ...mediumOu(medium, MEDIUM_OU),
    [OID.organizationalUnitName, JLIS_OU],
  ];
}

/** The Japanese DirectoryName a root carries as subjectAltName and its certificates as issuerAltName. */
export function caAltRdns(kind: CertKind, medium: Medium): Rdns {
  return [
    [OID.countryName, 'JP'],
    [OID.organizationName, '公的個人認証サービス(シミュレータ)'],
    [OID.organizationalUnitName, KIND_OU_JA[kind]],
    ...mediumOu(medium, MEDIUM_OU_JA),
    [OID.organizationalUnitName, '地方公共団体情報システム機構'],
  ];
}

/**
 * CRL distribution point of a certificate: one per municipality (no URL, spec §7.2). Smartphone
 * issuers get their own points, so every (issuer, point) pair names exactly one CRL.
 */
export function crlDistributionPointRdns(kind: CertKind, medium: Medium, m: Municipality): Rdns {
  return [
    [OID.countryName, 'JP'],
    [OID.organizationName, ORGANIZATION.simulator],
    [OID.organizationalUnitName, KIND_OU[kind]],
    ...mediumOu(medium, MEDIUM_OU),
    [OID.organizationalUnitName, 'CRL Distribution Points'],
    [OID.organizationalUnitName, m.prefectureRomaji],
    [OID.commonName, `${m.romaji} CRLDP`],
  ];
}

/** Subject of an authentication certificate: `C=JP, CN=<識別符号>` (spec §7.2). */
export function authSubjectRdns(subjectId: string): Rdns {
  return [
    [OID.countryName, 'JP'],
    [OID.commonName, subjectId],
  ];
}

/** Subject of a signing certificate: `C=JP, L=<prefecture>, L=<municipality>, CN=<識別符号>` (spec §7.3, layout [U]). */
export function signSubjectRdns(subjectId: string, m: Municipality): Rdns {
  return [
    [OID.countryName, 'JP'],
    [OID.localityName, m.prefectureRomaji],
    [OID.localityName, m.romaji],
    [OID.commonName, subjectId],
  ];
}

/** RFC 4514-like text of a DN, most significant RDN first (as the spec writes them). */
export function rdnsText(rdns: Rdns): string {
  return formatName(rdns.map(([type, value]) => ({ type, value })));
}
