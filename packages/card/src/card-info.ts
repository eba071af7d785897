// The 券面事項入力補助AP's basic 4 info (EF 0002, spec §9.2) and its integrity record (EF 0003, §9.3).
// DF31 (SHA-256 of EF 0001, the My Number EF) is taken as stored: Kakunin never reads EF 0001.

import { createHash } from 'node:crypto';
import { IntegrityCheckFailed, TruncatedResponse } from './errors.js';
import { keyIdText, rsaSha256Verify, type Cvc, type CvcAnchor } from './cvc.js';
import { readTlv, readTlvs } from './tlv.js';

export type SexCode = '0' | '1' | '2' | '9';

/** ISO/IEC 5218 codes as the card stores them. */
export const SEX_LABEL: Record<SexCode, string> = {
  '0': 'not known',
  '1': 'male (男)',
  '2': 'female (女)',
  '9': 'not applicable (適用不能)',
};

export interface BasicInfo {
  /** 氏名 (family name U+3000 given name), as stored. */
  readonly name: string;
  /** 住所, as stored (full-width digits). */
  readonly address: string;
  /** 生年月日, Gregorian `YYYY-MM-DD`. */
  readonly birthDate: string;
  /** 性別: '1' male, '2' female, '9' not applicable, '0' not known. */
  readonly sex: SexCode;
  readonly integrity: {
    /** Always true: readBasicInfo throws IntegrityCheckFailed otherwise. */
    readonly verified: true;
    /** Issuer key id of the CVC (e.g. `5000033/001`) and the pinned anchor that verified it. */
    readonly cvcIssuer: string;
    readonly cvcSubject: string;
    readonly anchor: string;
    readonly environment: CvcAnchor['environment'];
  };
}

export interface ParsedBasicInfo {
  readonly name: string;
  readonly address: string;
  readonly birthDate: string;
  readonly sex: SexCode;
  /** SHA-256 of the FF20 value without the DF21 offset table (what DF32 must equal). */
  readonly digest: Uint8Array;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function text(v: Uint8Array, what: string): string {
  try {
    return utf8.decode(v);
  } catch {
    throw new TruncatedResponse(`${what} is not valid UTF-8`);
  }
}

/** Parses EF 0002 (FF20 TLV, possibly followed by filler). Malformed data → TruncatedResponse. */
export function parseBasicInfoEf(ef: Uint8Array): ParsedBasicInfo {
  const outer = readTlv(ef, 0, 'EF 0002 (basic 4 info)');
  if (outer.tag !== 0xff20)
    throw new TruncatedResponse(`EF 0002 starts with tag ${outer.tag.toString(16).toUpperCase()}, not FF20`);
  const items = readTlvs(outer.value, 'EF 0002 (basic 4 info)');
  const get = (tag: number, what: string): Uint8Array => {
    const t = items.find((x) => x.tag === tag);
    if (!t) throw new TruncatedResponse(`EF 0002 lacks ${what} (${tag.toString(16).toUpperCase()})`);
    return t.value;
  };
  const name = text(get(0xdf22, 'the name'), 'the name');
  const address = text(get(0xdf23, 'the address'), 'the address');
  const dob = Buffer.from(get(0xdf24, 'the birth date')).toString('latin1');
  if (!/^[0-9]{8}$/.test(dob)) throw new TruncatedResponse(`the birth date is not YYYYMMDD`);
  const sex = Buffer.from(get(0xdf25, 'the sex')).toString('latin1');
  if (sex !== '0' && sex !== '1' && sex !== '2' && sex !== '9')
    throw new TruncatedResponse('the sex code is not 0, 1, 2 or 9');
  const hash = createHash('sha256');
  for (const t of items) if (t.tag !== 0xdf21) hash.update(t.raw);
  return {
    name,
    address,
    birthDate: `${dob.slice(0, 4)}-${dob.slice(4, 6)}-${dob.slice(6, 8)}`,
    sex,
    digest: hash.digest(),
  };
}

export interface IntegrityRecord {
  /** SHA-256 of EF 0001 as stored by the issuer (not recomputed: EF 0001 is never read). */
  readonly df31: Uint8Array;
  readonly df32: Uint8Array;
  readonly signature: Uint8Array;
  /** DF31 TLV ‖ DF32 TLV exactly as stored: the signed bytes. */
  readonly signed: Uint8Array;
}

/** Parses EF 0003 (FF30 { DF31, DF32, DF33 }). */
export function parseIntegrityEf(ef: Uint8Array): IntegrityRecord {
  const outer = readTlv(ef, 0, 'EF 0003 (integrity record)');
  if (outer.tag !== 0xff30)
    throw new TruncatedResponse(`EF 0003 starts with tag ${outer.tag.toString(16).toUpperCase()}, not FF30`);
  const items = readTlvs(outer.value, 'EF 0003 (integrity record)');
  const df31 = items.find((t) => t.tag === 0xdf31);
  const df32 = items.find((t) => t.tag === 0xdf32);
  const df33 = items.find((t) => t.tag === 0xdf33);
  if (!df31 || !df32 || !df33) throw new TruncatedResponse('EF 0003 lacks DF31, DF32 or DF33');
  if (df31.length !== 32 || df32.length !== 32)
    throw new TruncatedResponse('EF 0003: DF31/DF32 are not 32-byte SHA-256 digests');
  // The signed bytes are everything in FF30 before DF33, as stored (spec §9.3: DF31 TLV ‖ DF32 TLV).
  const signed = outer.value.subarray(0, df33.start);
  return { df31: df31.value.slice(), df32: df32.value.slice(), signature: df33.value.slice(), signed: signed.slice() };
}

/** Checks DF33 over DF31‖DF32 with the CVC key and DF32 == SHA-256(EF 0002 minus DF21). */
export function verifyCardInfoIntegrity(
  info: ParsedBasicInfo,
  record: IntegrityRecord,
  cvc: Cvc,
  anchor: CvcAnchor,
): BasicInfo {
  if (!rsaSha256Verify(cvc.publicKey, record.signed, record.signature)) {
    throw new IntegrityCheckFailed(
      `the integrity record's signature (DF33) does not verify with the CVC key ${keyIdText(cvc.subjectKeyId)}`,
    );
  }
  if (!Buffer.from(record.df32).equals(Buffer.from(info.digest))) {
    throw new IntegrityCheckFailed('the basic 4 info (EF 0002) does not match its signed digest (DF32)');
  }
  return {
    name: info.name,
    address: info.address,
    birthDate: info.birthDate,
    sex: info.sex,
    integrity: {
      verified: true,
      cvcIssuer: keyIdText(cvc.issuerKeyId),
      cvcSubject: keyIdText(cvc.subjectKeyId),
      anchor: anchor.label,
      environment: anchor.environment,
    },
  };
}
