// Certificate surgery for the catalogue: edit a genuine DER certificate and (optionally) re-sign it
// with whatever key the attack has — the CA's (to get past the signature check) or an attacker's.

import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { OID } from '@kakunin/jpki';
import { TAG, encodeOid, encodeTlv } from '@kakunin/jpki/der';
import { signTbsWith } from '@kakunin/sim';
import { at, decodeTree, encodeTree, type DerNode } from '../../support/der-tree.js';

export { at, decodeTree, encodeTree, type DerNode };

/** An RSA-2048 key pair of the attacker (generated synchronously: one per file at most). */
export const attackerKey = (): { privateKey: KeyObject; publicKey: KeyObject } =>
  generateKeyPairSync('rsa', { modulusLength: 2048 });

const oidValue = (oid: string): Buffer => encodeOid(oid).subarray(2);

export function extensions(tbs: DerNode): DerNode[] {
  return at(tbs, 7, 0).children!;
}

export function extension(tbs: DerNode, oid: string): DerNode | undefined {
  return extensions(tbs).find((e) => e.children![0]!.value!.equals(oidValue(oid)));
}

export function setExtensionValue(tbs: DerNode, oid: string, value: Buffer): void {
  const ext = extension(tbs, oid);
  if (!ext) throw new Error(`no extension ${oid}`);
  ext.children![ext.children!.length - 1] = { tag: TAG.OCTET_STRING, value };
}

export function removeExtension(tbs: DerNode, oid: string): void {
  const list = extensions(tbs);
  const i = list.findIndex((e) => e.children![0]!.value!.equals(oidValue(oid)));
  if (i < 0) throw new Error(`no extension ${oid}`);
  list.splice(i, 1);
}

/** Rewrites the AKI's keyIdentifier and authorityCertSerialNumber. */
export function setAki(tbs: DerNode, keyId: Buffer, serial: Buffer): void {
  const ext = extension(tbs, OID.authorityKeyIdentifier)!;
  const value = decodeTree(ext.children![ext.children!.length - 1]!.value!);
  value.children![0]!.value = keyId;
  value.children![value.children!.length - 1]!.value = serial;
  ext.children![ext.children!.length - 1] = { tag: TAG.OCTET_STRING, value: encodeTree(value) };
}

/** A certificatePolicies value with exactly one policy. */
export const policyValue = (oid: string): Buffer => encodeTlv(TAG.SEQUENCE, encodeTlv(TAG.SEQUENCE, encodeOid(oid)));

/** Sets one otherName of the basic 4 info in the SAN (e.g. OID.name) to `text`. */
export function setBasic4(tbs: DerNode, oid: string, text: string): void {
  const san = extension(tbs, OID.subjectAltName)!;
  const names = decodeTree(san.children![san.children!.length - 1]!.value!);
  const gn = names.children!.find((n) => n.children![0]!.value!.equals(oidValue(oid)));
  if (!gn) throw new Error(`no otherName ${oid}`);
  at(gn, 1, 0).value = Buffer.from(text, 'utf8');
  san.children![san.children!.length - 1] = { tag: TAG.OCTET_STRING, value: encodeTree(names) };
}

/** Replaces every UTF8String equal to `from` (names, AKI issuer, CRL DP) by `to`. */
export function replaceUtf8(node: DerNode, from: string, to: string): void {
  if (node.tag === TAG.UTF8_STRING && node.value?.toString('utf8') === from) node.value = Buffer.from(to, 'utf8');
  for (const child of node.children ?? []) replaceUtf8(child, from, to);
}

/** The SubjectPublicKeyInfo node of a key. */
export const spkiNode = (publicKey: KeyObject): DerNode =>
  decodeTree(publicKey.export({ format: 'der', type: 'spki' }));

/**
 * Decodes `der`, lets `edit` change its TBS, and returns the certificate re-signed with `key`, or
 * with the original signature kept when `key` is null (a tampered certificate).
 */
export function mutate(der: Uint8Array, edit: (tbs: DerNode) => void, key: KeyObject | null): Buffer {
  const tree = decodeTree(der);
  const tbs = at(tree, 0);
  edit(tbs);
  return key === null ? encodeTree(tree) : signTbsWith(key, encodeTree(tbs));
}

/** A UTCTime node. */
export const utcTime = (d: Date): DerNode => ({
  tag: TAG.UTC_TIME,
  value: Buffer.from(`${d.toISOString().slice(2, 19).replace(/[-T:]/g, '')}Z`),
});
