// Signatures made by the card: RSASSA-PKCS1-v1_5 over a SHA-256 DigestInfo (spec §3.5, §6.3).

import { constants, createHash, verify as cryptoVerify } from 'node:crypto';
import { BadSignature } from './errors.js';
import type { JpkiCertificate } from './profile.js';

/** DER prefix of DigestInfo { sha256, NULL } before the 32-byte hash (spec §3.5). */
export const SHA256_DIGEST_INFO_PREFIX = Buffer.from('3031300d060960864801650304020105000420', 'hex');

/** DigestInfo(SHA-256(data)): the 51 bytes a host sends to the card's COMPUTE DIGITAL SIGNATURE (P1=00). */
export function sha256DigestInfo(data: Uint8Array): Buffer {
  return Buffer.concat([SHA256_DIGEST_INFO_PREFIX, createHash('sha256').update(data).digest()]);
}

/**
 * Verifies that `signature` is the holder's signature over `data` with the certificate's key
 * (what the card produces when given DigestInfo(SHA-256(data))). Throws `BadSignature`.
 * This checks the signature only: call `validate` for the certificate itself.
 */
export function verifySignature(cert: JpkiCertificate, data: Uint8Array, signature: Uint8Array): void {
  const x = cert.x509;
  const expectedLength = Math.ceil(x.publicKey.modulusBits / 8);
  if (signature.length !== expectedLength) {
    throw new BadSignature(`signature is ${signature.length} bytes, the key needs ${expectedLength}`);
  }
  const ok = cryptoVerify('sha256', data, { key: x.key, padding: constants.RSA_PKCS1_PADDING }, signature);
  if (!ok) throw new BadSignature(`the signature does not match the data and the key of certificate ${x.serial}`);
}
