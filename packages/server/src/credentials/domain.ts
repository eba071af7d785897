// The digital ID credential (デジタル身分証): one OpenID4VCI credential configuration, an SD-JWT VC
// (`dc+sd-jwt`) whose claims come only from a verified signing certificate (署名用電子証明書), issued
// to the platform's own public OAuth client for wallets after a JPKI identity ceremony. Never a My
// Number: the certificate carries none, and nothing else is added.

import type { Basic4Info } from '@kakunin/jpki';
import { ageOn, dayInJapan, prefectureOf } from '@kakunin/jpki/japan';

/** The one credential configuration of the issuer metadata. */
export const CREDENTIAL_CONFIGURATION_ID = 'jp_resident_sd_jwt';
/** The OAuth scope that asks for it (in the authorization request of a wallet). */
export const CREDENTIAL_SCOPE = 'jp_resident_credential';
/** The platform's public OAuth client for wallets (PKCE, no secret); registered at start. */
export const WALLET_CLIENT_ID = 'kakunin-wallet';
/** Its redirect URI: a loopback address, any port (RFC 8252 §7.3), for native wallets. */
export const WALLET_REDIRECT_URI = 'http://127.0.0.1/callback';
/** Grant type of a credential offer's pre-authorized code (OpenID4VCI §4.1.1). */
export const PRE_AUTHORIZED_GRANT = 'urn:ietf:params:oauth:grant-type:pre-authorized_code';

/** The credential type (`vct`): a URL of the issuer that serves its type metadata. */
export const vctOf = (issuer: string): string => `${issuer}/credentials/types/jp-resident`;

/**
 * Copies of the credential one issuance may give (OpenID4VCI batch issuance), each bound to its own
 * holder key and status entry: a wallet shows each copy once, so verifiers cannot link presentations.
 */
export const BATCH_SIZE = 5;

/** Ages the credential states (`age_equal_or_over`): the ages Japanese services ask about. */
export const AGES = [18, 20] as const;

export interface ResidentClaims {
  name: string;
  birthdate: string;
  address: { formatted: string; prefecture_code?: string; municipality_code?: string };
  age_equal_or_over: Record<string, boolean>;
}

/**
 * The credential's claims from the basic 4 info of a verified signing certificate: name and address
 * as written, date of birth, the prefecture code of the address (JIS X 0401), the municipality code
 * when the platform knows the address's municipality (`municipalityCode`), and the ages reached on
 * the day of issuance (Japan time). Sex is not included (not asked by the uses this credential serves).
 */
export function residentClaims(
  b: Basic4Info,
  o: { at: Date; municipalityCode?: (address: string) => string | undefined },
): ResidentClaims {
  const prefecture = prefectureOf(b.address);
  const municipality = o.municipalityCode?.(b.address);
  const today = dayInJapan(o.at);
  const age = ageOn(b.birthDate, today);
  return {
    name: b.name,
    birthdate: b.birthDate,
    address: {
      formatted: b.address,
      ...(prefecture ? { prefecture_code: prefecture.code } : {}),
      ...(municipality ? { municipality_code: municipality } : {}),
    },
    age_equal_or_over: Object.fromEntries(AGES.map((n) => [String(n), age >= n])),
  };
}

/** The labels of the claims (type metadata and issuer metadata), ja and en. */
export const CLAIM_DISPLAY: readonly { path: (string | null)[]; ja: string; en: string }[] = [
  { path: ['name'], ja: '氏名', en: 'Name' },
  { path: ['birthdate'], ja: '生年月日', en: 'Date of birth' },
  { path: ['address'], ja: '住所', en: 'Address' },
  { path: ['address', 'formatted'], ja: '住所', en: 'Address' },
  { path: ['address', 'prefecture_code'], ja: '都道府県コード', en: 'Prefecture code' },
  { path: ['address', 'municipality_code'], ja: '市区町村コード', en: 'Municipality code' },
  { path: ['age_equal_or_over'], ja: '年齢', en: 'Age' },
  { path: ['age_equal_or_over', '18'], ja: '18歳以上', en: '18 or over' },
  { path: ['age_equal_or_over', '20'], ja: '20歳以上', en: '20 or over' },
];

export const CREDENTIAL_DISPLAY = {
  ja: { name: 'デジタル身分証(公的個人認証)', description: 'マイナンバーカードの署名用電子証明書で確認した本人情報' },
  en: {
    name: 'Digital ID (JPKI)',
    description: "Identity attributes verified with the My Number Card's signing certificate",
  },
} as const;

/** SD-JWT VC type metadata (draft-ietf-oauth-sd-jwt-vc §6) of the credential type. */
export function typeMetadata(issuer: string): Record<string, unknown> {
  return {
    vct: vctOf(issuer),
    name: CREDENTIAL_DISPLAY.en.name,
    description: CREDENTIAL_DISPLAY.en.description,
    display: (['ja', 'en'] as const).map((lang) => ({
      lang,
      name: CREDENTIAL_DISPLAY[lang].name,
      description: CREDENTIAL_DISPLAY[lang].description,
    })),
    claims: CLAIM_DISPLAY.map((c) => ({
      path: c.path,
      display: [
        { lang: 'ja', label: c.ja },
        { lang: 'en', label: c.en },
      ],
      sd: 'always',
    })),
  };
}

/** OpenID4VCI 1.0 credential issuer metadata (§12.2). */
export function issuerMetadata(issuer: string): Record<string, unknown> {
  return {
    credential_issuer: issuer,
    authorization_servers: [issuer],
    credential_endpoint: `${issuer}/credentials/v1/credential`,
    nonce_endpoint: `${issuer}/credentials/v1/nonce`,
    batch_credential_issuance: { batch_size: BATCH_SIZE },
    display: [
      { name: 'Kakunin', locale: 'ja' },
      { name: 'Kakunin', locale: 'en' },
    ],
    credential_configurations_supported: {
      [CREDENTIAL_CONFIGURATION_ID]: {
        format: 'dc+sd-jwt',
        scope: CREDENTIAL_SCOPE,
        vct: vctOf(issuer),
        cryptographic_binding_methods_supported: ['jwk'],
        credential_signing_alg_values_supported: ['ES256'],
        proof_types_supported: { jwt: { proof_signing_alg_values_supported: ['ES256'] } },
        credential_metadata: {
          display: (['ja', 'en'] as const).map((locale) => ({
            name: CREDENTIAL_DISPLAY[locale].name,
            description: CREDENTIAL_DISPLAY[locale].description,
            locale,
          })),
          claims: CLAIM_DISPLAY.map((c) => ({
            path: c.path,
            display: [
              { name: c.ja, locale: 'ja' },
              { name: c.en, locale: 'en' },
            ],
          })),
        },
      },
    },
  };
}
