// Object identifiers of the JPKI certificate profile (spec §7) and of the Kakunin simulator.

/** Arc of the JPKI personal data carried as subjectAltName otherName in signing certificates (spec §7.4). */
export const PERSONAL_DATA_ARC = '1.2.392.200149.8.5.5';

export const OID = {
  rsaEncryption: '1.2.840.113549.1.1.1',
  sha256WithRSAEncryption: '1.2.840.113549.1.1.11',
  sha256: '2.16.840.1.101.3.4.2.1',
  commonName: '2.5.4.3',
  countryName: '2.5.4.6',
  localityName: '2.5.4.7',
  stateOrProvinceName: '2.5.4.8',
  organizationName: '2.5.4.10',
  organizationalUnitName: '2.5.4.11',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  issuerAltName: '2.5.29.18',
  basicConstraints: '2.5.29.19',
  cRLDistributionPoints: '2.5.29.31',
  certificatePolicies: '2.5.29.32',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
  ocsp: '1.3.6.1.5.5.7.48.1',
  cpsQualifier: '1.3.6.1.5.5.7.2.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  /** 氏名 */
  name: `${PERSONAL_DATA_ARC}.1`,
  /** 氏名の代替文字使用位置情報 */
  nameSubstitute: `${PERSONAL_DATA_ARC}.2`,
  /** 性別 (JIS X 0303) */
  sex: `${PERSONAL_DATA_ARC}.3`,
  /** 生年月日 EYYYYMMDD */
  birthDate: `${PERSONAL_DATA_ARC}.4`,
  /** 住所 */
  address: `${PERSONAL_DATA_ARC}.5`,
  /** 住所の代替文字使用位置情報 */
  addressSubstitute: `${PERSONAL_DATA_ARC}.6`,
} as const;

/**
 * Private arc of the Kakunin simulator: a UUID OID (ITU-T X.667, `2.25.<uuid>`), so simulator
 * certificates can never collide with a registered production arc.
 */
export const SIM_ARC = '2.25.197976769723557872508339911938667975137';

export type CertKind = 'auth' | 'sign';
export type Environment = 'production' | 'test' | 'simulator';
export type Medium = 'card' | 'android' | 'iphone';

export interface PolicyInfo {
  oid: string;
  kind: CertKind;
  environment: Environment;
  /** Set only where the policy alone tells the medium. */
  medium?: Medium;
}

/** Simulator policy OID for a kind and medium: `SIM_ARC.<medium>.<1.20 sign | 3.30 auth>` (mirrors the J-LIS numbering). */
export function simPolicyOid(kind: CertKind, medium: Medium): string {
  const m = { card: 1, android: 2, iphone: 3 }[medium];
  return `${SIM_ARC}.1.${m}.${kind === 'sign' ? '1.20' : '3.30'}`;
}

const MEDIA: readonly Medium[] = ['card', 'android', 'iphone'];

/** Known certificate policies. The medium of production certificates is not in their policy (spec §7.6). */
export const KNOWN_POLICIES: readonly PolicyInfo[] = [
  { oid: '1.2.392.200149.8.5.1.3.30', kind: 'auth', environment: 'production' },
  { oid: '1.2.392.200149.8.5.1.1.20', kind: 'sign', environment: 'production' },
  { oid: '1.2.392.200149.8.5.1.0.20', kind: 'sign', environment: 'test' },
  ...MEDIA.flatMap((medium) =>
    (['auth', 'sign'] as const).map((kind) => ({
      oid: simPolicyOid(kind, medium),
      kind,
      environment: 'simulator' as const,
      medium,
    })),
  ),
];

/** The value of O= in CA names per environment (spec §7.1; the simulator uses its own). */
export const ORGANIZATION: Record<Environment, string> = {
  production: 'JPKI',
  test: 'JPKI-TEST',
  simulator: 'JPKI-SIM',
};

/** The OU that names the kind in J-LIS CA names. */
export const KIND_OU: Record<CertKind, string> = {
  auth: 'JPKI for user authentication',
  sign: 'JPKI for digital signature',
};

/** CPS URL carried as the policy qualifier. */
export const CPS_URL = 'http://www.jpki.go.jp/cps.html';
