// The simulator's services over HTTP on loopback: OCSP (openssl and our client agree), CRLs and
// linkage, with life events showing up.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BadSignature,
  CrlIndex,
  LinkageClient,
  OcspClient,
  UnknownLinkedCertificate,
  buildOcspRequest,
  httpOcspFetcher,
  parseX509,
  toPem,
  validateOcspResponse,
} from '@kakunin/jpki';
import { initSandbox, startSimServices, type Sandbox, type SimServices } from '../src/index.js';

let work: string;
let sb: Sandbox;
let services: SimServices;
let personId: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'kakunin-sim-http-'));
  sb = await initSandbox({ dir: join(work, 'sim') });
  services = await startSimServices({ sandbox: sb, port: 0 });
  personId = sb.people().find((p) => sb.certificates({ personId: p.id, kind: 'sign', medium: 'card' }).length > 0)!.id;
}, 120_000);

afterAll(async () => {
  await services?.close();
  rmSync(work, { recursive: true, force: true });
});

function files(issuerId: string, certDer: Buffer): { issuer: string; cert: string } {
  const issuer = join(work, `${issuerId}.pem`);
  const cert = join(work, `cert-${Date.now()}-${Math.random()}.pem`);
  writeFileSync(issuer, sb.ca.root(issuerId).pem);
  writeFileSync(cert, toPem(certDer));
  return { issuer, cert };
}

/** Asynchronous on purpose: the responder answers from this process's event loop. */
function opensslOcsp(issuerId: string, certDer: Buffer): Promise<string> {
  const f = files(issuerId, certDer);
  const args = [
    'ocsp',
    '-issuer',
    f.issuer,
    '-cert',
    f.cert,
    '-url',
    `${services.url}/ocsp`,
    '-CAfile',
    f.issuer,
    '-timeout',
    '10',
  ];
  return new Promise((resolve) =>
    execFile('openssl', args, { encoding: 'utf8' }, (_e, stdout, stderr) => resolve(`${stdout}${stderr}`)),
  );
}

describe('simulator services over HTTP', () => {
  it('openssl ocsp: good for a valid certificate, with a verified response and the nonce echoed', async () => {
    const rec = sb.currentCertificateRecord(personId, 'auth', 'card');
    const out = await opensslOcsp(rec.issuerId, sb.currentCertificate(personId, 'auth', 'card'));
    expect(out).toMatch(/Response verify OK/);
    expect(out).toMatch(/: good/);
    expect(out).not.toMatch(/nonce/i);
  });

  it('after a move: the old signing certificate is revoked (affiliationChanged) for openssl, our OCSP client and the CRL; linkage gives the new one', async () => {
    const old = sb.currentCertificateRecord(personId, 'sign', 'card');
    const oldDer = sb.currentCertificate(personId, 'sign', 'card');
    await sb.applyEvent(personId, 'move');
    const fresh = sb.currentCertificateRecord(personId, 'sign', 'card');

    const out = await opensslOcsp(old.issuerId, oldDer);
    expect(out).toMatch(/Response verify OK/);
    expect(out).toMatch(/: revoked/);
    expect(out).toMatch(/Reason: affiliationChanged/);

    const issuer = parseX509(sb.ca.root(old.issuerId).der);
    const client = new OcspClient({ fetcher: httpOcspFetcher(), url: `${services.url}/ocsp` });
    expect(await client.check(parseX509(oldDer), issuer, new Date())).toMatchObject({
      status: 'revoked',
      reason: 'affiliationChanged',
      source: 'ocsp',
    });
    expect(
      (await client.check(parseX509(sb.currentCertificate(personId, 'sign', 'card')), issuer, new Date())).status,
    ).toBe('good');

    const crl = Buffer.from(await (await fetch(`${services.url}/crl/${old.issuerId}.crl`)).arrayBuffer());
    expect(CrlIndex.load(crl, { issuer }).lookup(old.serial)?.reason).toBe('affiliationChanged');

    const latest = await new LinkageClient(services.url).latest(old.serial);
    expect(latest.latest.serial).toBe(fresh.serial);
    expect(latest.chain.map((c) => c.serial)).toEqual([old.serial, fresh.serial]);
  });

  it('after renew, linkage returns the new serial for both kinds; unknown serials are 404', async () => {
    const oldAuth = sb.currentCertificateRecord(personId, 'auth', 'card');
    await sb.applyEvent(personId, 'renew');
    const newAuth = sb.currentCertificateRecord(personId, 'auth', 'card');
    expect(newAuth.serial).not.toBe(oldAuth.serial);
    expect((await new LinkageClient(services.url).latest(oldAuth.serial)).latest).toMatchObject({
      serial: newAuth.serial,
      kind: 'auth',
      revoked: false,
    });
    await expect(new LinkageClient(services.url).latest('0BADC0DE')).rejects.toBeInstanceOf(UnknownLinkedCertificate);
    const pair = (await (await fetch(`${services.url}/linkage/pair?serial=${oldAuth.serial}`)).json()) as {
      auth: { serial: string };
      sign: { serial: string };
    };
    expect(pair.auth.serial).toBe(newAuth.serial);
    expect(pair.sign.serial).toBe(sb.currentCertificateRecord(personId, 'sign', 'card').serial);
  });

  it('GET form of OCSP works; a response checked against the other root generation is a forged signer', async () => {
    const rec = sb.currentCertificateRecord(personId, 'auth', 'card');
    const cert = parseX509(sb.currentCertificate(personId, 'auth', 'card'));
    const issuer = parseX509(sb.ca.root(rec.issuerId).der);
    const request = buildOcspRequest(cert, issuer);
    const res = await fetch(`${services.url}/ocsp/${encodeURIComponent(request.der.toString('base64'))}`);
    const der = new Uint8Array(await res.arrayBuffer());
    expect(validateOcspResponse(der, request, issuer).status).toBe('good');
    const other = sb.roots().find((r) => r.kind === rec.kind && r.medium === 'card' && r.id !== rec.issuerId)!;
    expect(() => validateOcspResponse(der, request, parseX509(other.der))).toThrow(BadSignature);
  });

  it('garbage gets malformedRequest, unknown paths 404, bad serials 400 — never a crash', async () => {
    const bad = await fetch(`${services.url}/ocsp`, { method: 'POST', body: Buffer.from('not der') });
    expect(Buffer.from(await bad.arrayBuffer()).toString('hex')).toBe('30030a0101');
    expect((await fetch(`${services.url}/nope`)).status).toBe(404);
    expect((await fetch(`${services.url}/linkage/latest?serial=xyz`)).status).toBe(400);
    expect((await fetch(`${services.url}/crl/unknown.crl`)).status).toBe(404);
    expect((await fetch(`${services.url}/healthz`)).status).toBe(200);
  });
});
