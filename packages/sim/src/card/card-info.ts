// The 券面事項入力補助AP's data as the issuer writes it (spec §9): EF 0001 (My Number, 17 bytes),
// EF 0002 (basic 4 info), EF 0003 (integrity record: DF31, DF32, DF33), EF 0004 (CVC), EF 0005.
// The CVC CA and the signing ("municipality") keys are the simulator's own, with key ids in a
// private range (`9000033…`) that no real card uses (production `5…`, JPKI test `6…`).

import { createHash, createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';
import { generateRsaKeyPairSync } from '../keys.js';

export interface CvcKey {
  /** 16-byte key id: 7 ASCII digits ‖ 08 05 ‖ 3 ASCII digits ‖ 4 bytes. */
  readonly keyId: Uint8Array;
  readonly privateKey: KeyObject;
}

/** The CVC CA (signs EF 0004) and the AP signing key it certifies (signs EF 0003). */
export interface CvcAuthority {
  readonly ca: CvcKey;
  readonly signer: CvcKey;
}

/** What a verifier pins: structurally the `CvcAnchor` of @kakunin/card. */
export interface CvcAnchorData {
  readonly keyId: Uint8Array;
  readonly publicKey: KeyObject;
  readonly label: string;
  readonly environment: 'simulator';
}

export function simKeyId(digits7: string, digits3 = '001'): Uint8Array {
  if (!/^[0-9]{7}$/.test(digits7) || !/^[0-9]{3}$/.test(digits3)) throw new TypeError('key id: 7 + 3 ASCII digits');
  return Uint8Array.from([...Buffer.from(digits7, 'ascii'), 0x08, 0x05, ...Buffer.from(digits3, 'ascii'), 0, 0, 0, 0]);
}

/** The simulator's CVC CA key id (private range). */
export const SIM_CVC_CA_KEY_ID = simKeyId('9000033');

const toKey = (k: KeyObject | string): KeyObject => (typeof k === 'string' ? createPrivateKey(k) : k);

export function cvcKey(keyId: Uint8Array, privateKey: KeyObject | string): CvcKey {
  if (keyId.length !== 16) throw new TypeError('a CVC key id is 16 bytes');
  return { keyId: Uint8Array.from(keyId), privateKey: toKey(privateKey) };
}

const rsa2048 = (): KeyObject => generateRsaKeyPairSync().privateKey;

/** A fresh authority (two RSA-2048 keys). `signerDigits` names the signer, e.g. `9182010` (municipality 18201). */
export function createCvcAuthority(
  o: { caKey?: KeyObject | string; signerKey?: KeyObject | string; signerDigits?: string } = {},
): CvcAuthority {
  return {
    ca: cvcKey(SIM_CVC_CA_KEY_ID, o.caKey ?? rsa2048()),
    signer: cvcKey(simKeyId(o.signerDigits ?? '9000034'), o.signerKey ?? rsa2048()),
  };
}

let fallback: CvcAuthority | undefined;

/** One process-wide authority for virtual cards built without one (tests). */
export function defaultCvcAuthority(): CvcAuthority {
  fallback ??= createCvcAuthority();
  return fallback;
}

/** The anchor a verifier adds to trust cards issued under `ca` (`MyNumberCard({ cvcCaKeys: [anchor] })`). */
export function cvcAnchorOf(ca: CvcKey, label = 'Kakunin simulator CVC CA 9000033'): CvcAnchorData {
  return {
    keyId: Uint8Array.from(ca.keyId),
    publicKey: createPublicKey(ca.privateKey),
    label,
    environment: 'simulator',
  };
}

// ------------------------------------------------------------------ TLV writing

function lengthBytes(n: number): number[] {
  if (n < 0x80) return [n];
  if (n <= 0xff) return [0x81, n];
  if (n <= 0xffff) return [0x82, n >> 8, n & 0xff];
  throw new RangeError(`TLV length ${n} too large`);
}

/** A TLV with a 1- or 2-byte tag and the shortest BER length, except `forceLong` (the card's fixed `82 xx xx`). */
export function tlv(tag: number, value: Uint8Array, forceLong = false): Uint8Array {
  const t = tag > 0xff ? [tag >> 8, tag & 0xff] : [tag];
  const l = forceLong ? [0x82, value.length >> 8, value.length & 0xff] : lengthBytes(value.length);
  return Uint8Array.from([...t, ...l, ...value]);
}

const concat = (parts: readonly Uint8Array[]): Uint8Array => Uint8Array.from(Buffer.concat(parts));

function rsaModulus(k: KeyObject): { n: Uint8Array; e: Uint8Array } {
  const jwk = createPublicKey(k).export({ format: 'jwk' });
  let n = Buffer.from(jwk.n!, 'base64url');
  while (n.length > 256 && n[0] === 0) n = n.subarray(1);
  if (n.length !== 256) throw new RangeError(`CVC keys must be RSA-2048 (modulus of ${n.length} bytes)`);
  return { n, e: Buffer.from(jwk.e!, 'base64url') };
}

export function rsaSha256(key: KeyObject, data: Uint8Array): Uint8Array {
  return sign('sha256', data, key);
}

/** EF 0004: 7F21 { 5F4E body (297 B), 5F37 signature } = 568 bytes (spec §9.4). */
export function buildCvc(authority: CvcAuthority): Uint8Array {
  const { n, e } = rsaModulus(authority.signer.privateKey);
  const body = concat([authority.ca.keyId, authority.signer.keyId, tlv(0x90, e), tlv(0x91, n, true)]);
  const signature = rsaSha256(authority.ca.privateKey, body);
  return tlv(0x7f21, concat([tlv(0x5f4e, body, true), tlv(0x5f37, signature, true)]), true);
}

/** EF 0001 physical content: FF 10 0C ‖ 12 ASCII digits ‖ FF FF (17 bytes, spec §9.1). */
export function myNumberEf(myNumber: string): Uint8Array {
  if (!/^[0-9]{12}$/.test(myNumber)) throw new TypeError('the My Number is 12 digits');
  return Uint8Array.from([0xff, 0x10, 0x0c, ...Buffer.from(myNumber, 'ascii'), 0xff, 0xff]);
}

/** Check digit of a My Number's first 11 digits. */
export function myNumberCheckDigit(first11: string): number {
  let sum = 0;
  for (let k = 1; k <= 11; k++) sum += Number(first11[11 - k]) * (k <= 6 ? k + 1 : k - 5);
  const r = sum % 11;
  return r <= 1 ? 0 : 11 - r;
}

/** A synthetic, check-digit-valid 12-digit number derived from a seed (never a real person's). */
export function syntheticMyNumber(seed: string): string {
  const h = createHash('sha256').update(`kakunin-sim-my-number/${seed}`).digest();
  let first = '';
  for (let i = 0; first.length < 11; i++) first += String(h[i % h.length]! % 10);
  return `${first}${myNumberCheckDigit(first)}`;
}

export interface BasicInfoInput {
  readonly name: string;
  readonly address: string;
  /** `YYYYMMDD` (Gregorian). */
  readonly birthDate: string;
  readonly sex: '0' | '1' | '2' | '9';
}

/** EF 0002 TLV: FF20 { DF21 offsets, DF22 name, DF23 address, DF24 birth date, DF25 sex } (spec §9.2). */
export function buildBasicInfo(b: BasicInfoInput): { tlv: Uint8Array; digest: Uint8Array } {
  if (!/^[0-9]{8}$/.test(b.birthDate)) throw new TypeError('birthDate must be YYYYMMDD');
  const items = [
    tlv(0xdf22, Buffer.from(b.name, 'utf8')),
    tlv(0xdf23, Buffer.from(b.address, 'utf8')),
    tlv(0xdf24, Buffer.from(b.birthDate, 'ascii')),
    tlv(0xdf25, Buffer.from(b.sex, 'ascii')),
  ];
  const rest = concat(items);
  // DF21 holds the offsets (from the start of the file) of DF22..DF25; DF21 TLV is 2 + 1 + 8 = 11 bytes.
  const valueLength = 11 + rest.length;
  const header = 2 + lengthBytes(valueLength).length;
  const offsets = new Uint8Array(8);
  let at = header + 11;
  items.forEach((item, i) => {
    offsets[2 * i] = at >> 8;
    offsets[2 * i + 1] = at & 0xff;
    at += item.length;
  });
  const value = concat([tlv(0xdf21, offsets), rest]);
  return { tlv: tlv(0xff20, value), digest: createHash('sha256').update(rest).digest() };
}

/** EF 0003: FF30 82 014B { DF31 SHA-256(EF 0001), DF32 SHA-256(EF 0002 minus DF21), DF33 signature } = 336 bytes. */
export function buildIntegrityRecord(ef0001: Uint8Array, basicInfoDigest: Uint8Array, signer: CvcKey): Uint8Array {
  const signed = concat([tlv(0xdf31, createHash('sha256').update(ef0001).digest()), tlv(0xdf32, basicInfoDigest)]);
  return tlv(0xff30, concat([signed, tlv(0xdf33, rsaSha256(signer.privateKey, signed), true)]), true);
}

/** EF 0005 AP basic info: FF40 82 009F { DF41, DF42 key id, DF43 32 B + 96×FF } (spec §2.2). */
export function buildApBasicInfo(): Uint8Array {
  const df43 = new Uint8Array(128).fill(0xff);
  df43.fill(0x00, 0, 32);
  return tlv(
    0xff40,
    concat([
      tlv(0xdf41, Uint8Array.of(0x01, 0x03, 0x0e, 0x01)),
      tlv(0xdf42, simKeyId('9000034')),
      tlv(0xdf43, df43, true),
    ]),
    true,
  );
}
