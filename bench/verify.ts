// Throughput of one JPKI authentication check on one core (parse + chain + holder signature + CRL
// lookup in a CRL of 1M revoked serials),
// against references measured in the same run: two bare RSA verifies with cached keys (the
// physical bound), the same work with a general library (@peculiar/x509), and `openssl speed`.
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { constants, privateEncrypt, verify as cryptoVerify, randomBytes } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { CrlIndex, TrustStore, parseCertificate, sha256DigestInfo, validate, verifySignature } from '@kakunin/jpki';
import { SimCa, buildSyntheticCrl, crlIssuerOf } from '@kakunin/sim';
import { printTable, rate } from './table.js';

const YEAR = 365.25 * 86_400_000;

export async function benchVerify(seconds: number): Promise<void> {
  const now = Date.now();
  const ca = await SimCa.create(
    [
      {
        id: 'bench-authca01',
        kind: 'auth',
        medium: 'card',
        generation: 1,
        notBefore: new Date(now - YEAR),
        notAfter: new Date(now + 9 * YEAR),
      },
    ],
    'http://127.0.0.1:8900',
  );
  const root = ca.roots()[0]!;
  const issued = await ca.issueAuth({ birthDate: '1980-02-17', municipality: '18201' });
  const der = issued.der;
  const nonce = randomBytes(32);
  // What the card returns for DigestInfo(SHA-256(nonce)) (P1=00 padding of the DigestInfo as given).
  const signature = privateEncrypt(
    { key: issued.privateKey!, padding: constants.RSA_PKCS1_PADDING },
    sha256DigestInfo(nonce),
  );

  const crl = CrlIndex.load(buildSyntheticCrl(crlIssuerOf(root), 1_000_000), {
    issuer: parseCertificate(root.der).x509,
  });
  const store = new TrustStore();
  store.add(root.der, { label: root.id });
  const parsedRoot = parseCertificate(root.der);
  const { key: holderKey, tbs, signature: certSig } = parseCertificate(der).x509;

  const bound = rate(seconds, () => {
    cryptoVerify('sha256', tbs, parsedRoot.x509.key, certSig);
    cryptoVerify('sha256', nonce, holderKey, signature);
  });

  const ours = rate(seconds, () => {
    const cert = parseCertificate(der);
    validate(cert, { mode: 'sandbox', trustStore: store, at: new Date() });
    verifySignature(cert, nonce, signature);
    if (crl.lookup(cert.serial)) throw new Error('unexpectedly revoked');
  });

  const peculiarRoot = new x509.X509Certificate(root.der);
  const general = await rateAsync(seconds, async () => {
    const cert = new x509.X509Certificate(der);
    const chainOk = await cert.verify({ publicKey: peculiarRoot.publicKey, date: new Date() });
    const key = await cert.publicKey.export();
    const sigOk = await crypto.subtle.verify('RSASSA-PKCS1-v1_5', key, signature, nonce);
    if (!chainOk || !sigOk) throw new Error('general library rejected a valid certificate');
    if (crl.lookup(cert.serialNumber)) throw new Error('unexpectedly revoked');
  });

  const openssl = opensslVerifyRate(seconds);
  const rows: [string, string, string][] = [
    ['2 × crypto.verify, cached keys (bound)', bound.toFixed(0), '100 %'],
    ['kakunin: parse + validate + signature + CRL lookup', ours.toFixed(0), `${((ours / bound) * 100).toFixed(0)} %`],
    [
      '@peculiar/x509: parse + chain + signature (+ our CRL lookup)',
      general.toFixed(0),
      `${((general / bound) * 100).toFixed(1)} %`,
    ],
  ];
  if (openssl)
    rows.push([
      'openssl speed rsa2048 verify ÷ 2',
      (openssl / 2).toFixed(0),
      `${((openssl / 2 / bound) * 100).toFixed(0)} %`,
    ]);
  printTable('One authentication check, one core (ops/s)', ['what', 'per second', 'of bound'], rows);
  console.log(`kakunin vs general library: ${(ours / general).toFixed(1)}×`);
}

async function rateAsync(seconds: number, fn: () => Promise<void>): Promise<number> {
  const end = performance.now() + seconds * 1000;
  let n = 0;
  const start = performance.now();
  while (performance.now() < end) {
    await fn();
    n++;
  }
  return n / ((performance.now() - start) / 1000);
}

function opensslVerifyRate(seconds: number): number | undefined {
  try {
    const out = execFileSync('openssl', ['speed', '-seconds', String(seconds), '-mr', 'rsa2048'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    // Machine-readable line: +F2:<n>:<bits>:<signs/s>:<verifies/s>
    const line = out.split('\n').find((l) => l.startsWith('+F2:'));
    const parts = line?.split(':');
    return parts ? Number(parts[4]) : undefined;
  } catch {
    return undefined;
  }
}
