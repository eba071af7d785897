// Shared test helpers: the real openssl binary, an independent ASN.1 parse of certificates, temp dirs.

import 'reflect-metadata';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate, DirectoryString, SubjectAlternativeName, type Extension } from '@peculiar/asn1-x509';
import { toPem } from '../src/index.js';

/** [extnID, critical] of a real authentication certificate, in stored order (spec §7.2). */
export const AUTH_EXTENSIONS: readonly [string, boolean][] = [
  ['2.5.29.15', true], // keyUsage
  ['2.5.29.37', false], // extKeyUsage
  ['2.5.29.32', true], // certificatePolicies
  ['2.5.29.18', false], // issuerAltName
  ['2.5.29.31', false], // cRLDistributionPoints
  ['1.3.6.1.5.5.7.1.1', false], // authorityInfoAccess
  ['2.5.29.35', false], // authorityKeyIdentifier
  ['2.5.29.14', false], // subjectKeyIdentifier
];

/** The simulator's signing certificate: no EKU, subjectAltName after the policies, otherwise as above. */
export const SIGN_EXTENSIONS: readonly [string, boolean][] = [
  AUTH_EXTENSIONS[0]!,
  AUTH_EXTENSIONS[2]!,
  ['2.5.29.17', false],
  ...AUTH_EXTENSIONS.slice(3),
];

export function tempDir(prefix: string): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), `kakunin-sim-${prefix}-`));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

export interface OpensslResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function openssl(args: readonly string[], input?: Buffer): OpensslResult {
  const r = spawnSync('openssl', args, { input, encoding: 'utf8' });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

let counter = 0;

/** Writes DER as PEM into dir and returns the path (openssl verify wants files). */
export function pemFile(dir: string, der: Uint8Array, name = `c${++counter}`): string {
  const path = join(dir, `${name}.pem`);
  writeFileSync(path, toPem(der));
  return path;
}

/** `openssl verify -CAfile root cert…`: per-certificate OK or not. */
export function opensslVerify(
  dir: string,
  rootPem: string,
  certs: readonly Uint8Array[],
  extra: readonly string[] = [],
): { ok: boolean[]; output: string } {
  const root = join(dir, `root${++counter}.pem`);
  writeFileSync(root, rootPem);
  const files = certs.map((c) => pemFile(dir, c));
  const r = openssl(['verify', ...extra, '-CAfile', root, ...files]);
  const output = r.stdout + r.stderr;
  const ok = files.map((f) => output.includes(`${f}: OK`));
  return { ok, output };
}

export function opensslText(der: Uint8Array): string {
  const r = openssl(
    ['x509', '-inform', 'DER', '-text', '-noout', '-nameopt', 'utf8,sep_comma_plus_space'],
    Buffer.from(der),
  );
  if (r.status !== 0) throw new Error(`openssl x509 failed: ${r.stderr}`);
  return r.stdout;
}

export function parseCert(der: Uint8Array): Certificate {
  return AsnConvert.parse(der, Certificate);
}

export function extensions(cert: Certificate): Extension[] {
  return [...(cert.tbsCertificate.extensions ?? [])];
}

export function extension(cert: Certificate, oid: string): Extension {
  const e = extensions(cert).find((x) => x.extnID === oid);
  if (!e) throw new Error(`no extension ${oid}`);
  return e;
}

export const hex = (b: ArrayBuffer | Uint8Array): string =>
  Buffer.from(b instanceof Uint8Array ? b : new Uint8Array(b)).toString('hex');

/** The subjectAltName otherName entries as [typeId, UTF8String value], in certificate order. */
export function sanOtherNames(cert: Certificate): [string, string][] {
  const san = AsnConvert.parse(extension(cert, '2.5.29.17').extnValue.buffer, SubjectAlternativeName);
  return san.map((gn) => {
    if (!gn.otherName) throw new Error('SAN entry is not an otherName');
    const value = AsnConvert.parse(gn.otherName.value, DirectoryString);
    if (value.utf8String === undefined) throw new Error('otherName value is not a UTF8String');
    return [gn.otherName.typeId, value.utf8String];
  });
}

/** DER of a Name (issuer/subject) as it sits in the certificate. */
export function nameHex(name: object): string {
  return hex(AsnConvert.serialize(name));
}

const derLen = (n: number): string =>
  n < 0x80 ? n.toString(16).padStart(2, '0') : `81${n.toString(16).padStart(2, '0')}`;

/** DER (hex) of a tag around hex content; lengths up to 255. */
export function derHex(tag: string, content: string): string {
  return `${tag}${derLen(content.length / 2)}${content}`;
}

/**
 * DER (hex) of an OBJECT IDENTIFIER, with BigInt arcs: asn1js (under asn1-schema) decodes arcs
 * above 2^53 such as the 2.25.<uuid> simulator arc as "{hex}", so policy OIDs are compared as bytes.
 */
export function oidHex(oid: string): string {
  const arcs = oid.split('.').map(BigInt);
  const values = [arcs[0]! * 40n + arcs[1]!, ...arcs.slice(2)];
  const bytes = values.flatMap((v) => {
    const out = [Number(v & 0x7fn)];
    for (let n = v >> 7n; n > 0n; n >>= 7n) out.unshift(Number(n & 0x7fn) | 0x80);
    return out;
  });
  return derHex('06', Buffer.from(bytes).toString('hex'));
}

/** certificatePolicies value as J-LIS writes it: one policy with the CPS qualifier (spec §7.2). */
export function certificatePoliciesHex(policyOid: string, cpsUrl: string): string {
  const cps = derHex('30', `06082b06010505070201${derHex('16', Buffer.from(cpsUrl).toString('hex'))}`);
  return derHex('30', derHex('30', `${oidHex(policyOid)}${derHex('30', cps)}`));
}
