// The OCSP client against an independent responder: OpenSSL's `openssl ocsp` server, on loopback.
import 'reflect-metadata';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BadSignature,
  OcspClient,
  OcspNonceMismatch,
  RevocationUnavailable,
  buildOcspRequest,
  httpOcspFetcher,
  ocspCertId,
  parseCertificate,
  validateOcspResponse,
  type X509Certificate,
} from '@kakunin/jpki';
import { SimCa } from '@kakunin/sim';

const YEAR = 365.25 * 86_400_000;
let work: string;
let ca: SimCa;
let issuer: X509Certificate;
let otherIssuer: X509Certificate;
let good: X509Certificate;
let revoked: X509Certificate;
let responder: ChildProcess;
let url: string;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const opensslTime = (d: Date): string => `${d.toISOString().slice(2, 19).replace(/[-T:]/g, '')}Z`;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'kakunin-ocsp-'));
  const now = Date.now();
  ca = await SimCa.create(
    [
      {
        id: 'o-authca01',
        kind: 'auth',
        medium: 'card',
        generation: 1,
        notBefore: new Date(now - YEAR),
        notAfter: new Date(now + 9 * YEAR),
      },
      {
        id: 'o-authca02',
        kind: 'auth',
        medium: 'card',
        generation: 2,
        notBefore: new Date(now - YEAR),
        notAfter: new Date(now + 9 * YEAR),
      },
    ],
    'http://127.0.0.1:1',
  );
  const root = ca.root('o-authca01');
  issuer = parseCertificate(root.der).x509;
  otherIssuer = parseCertificate(ca.root('o-authca02').der).x509;
  const a = await ca.issueAuth({ birthDate: '1980-02-17', municipality: '18201' }, { issuerId: 'o-authca01' });
  good = parseCertificate(a.der).x509;
  revoked = parseCertificate(
    (
      await ca.issueAuth(
        { birthDate: '1980-02-17', municipality: '18201' },
        { issuerId: 'o-authca01', publicKey: a.publicKey },
      )
    ).der,
  ).x509;

  writeFileSync(join(work, 'ca.pem'), root.pem);
  writeFileSync(join(work, 'ca.key'), root.privateKey.export({ format: 'pem', type: 'pkcs8' }));
  const exp = opensslTime(good.notAfter);
  writeFileSync(
    join(work, 'index.txt'),
    `V\t${exp}\t\t${good.serial}\tunknown\t/C=JP\n` +
      `R\t${exp}\t${opensslTime(new Date(now - 86_400_000))},affiliationChanged\t${revoked.serial}\tunknown\t/C=JP\n`,
  );
  const port = await freePort();
  url = `http://127.0.0.1:${port}/`;
  responder = spawn(
    'openssl',
    [
      'ocsp',
      '-index',
      join(work, 'index.txt'),
      '-CA',
      join(work, 'ca.pem'),
      '-rsigner',
      join(work, 'ca.pem'),
      '-rkey',
      join(work, 'ca.key'),
      '-port',
      String(port),
      '-nmin',
      '60',
      '-rmd',
      'sha256',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  // Ready when it says so (a bare TCP probe would occupy its single-threaded accept loop).
  await new Promise<void>((resolve, reject) => {
    let log = '';
    responder.stderr!.on('data', (d: Buffer) => {
      log += d.toString();
      if (log.includes('waiting for OCSP client connections')) resolve();
    });
    responder.on('exit', (code) => reject(new Error(`openssl ocsp exited with ${code}: ${log}`)));
  });
});

afterAll(() => {
  responder?.kill();
  rmSync(work, { recursive: true, force: true });
});

const client = (o: Partial<ConstructorParameters<typeof OcspClient>[0]> = {}): OcspClient =>
  new OcspClient({ fetcher: httpOcspFetcher(3000), url, ...o });

describe('OCSP client against openssl ocsp', () => {
  it('good and revoked answers, with reason, time and freshness', async () => {
    const g = await client().check(good, issuer, new Date());
    expect(g).toMatchObject({ status: 'good', source: 'ocsp' });
    expect(g.nextUpdate!.getTime()).toBeGreaterThan(Date.now());
    const r = await client().check(revoked, issuer, new Date());
    expect(r).toMatchObject({ status: 'revoked', reason: 'affiliationChanged', source: 'ocsp' });
    expect(r.revokedAt!.getTime()).toBeLessThan(Date.now());
  });

  it('a response checked with another CA generation (same name, other key): BadSignature', async () => {
    const request = buildOcspRequest(good, issuer);
    const der = await httpOcspFetcher()(url, request.der);
    expect(() => validateOcspResponse(der, request, otherIssuer)).toThrow(BadSignature);
  });

  it('a response replayed for another request (nonce mismatch): OcspNonceMismatch', async () => {
    const first = buildOcspRequest(good, issuer);
    const der = await httpOcspFetcher()(url, first.der);
    expect(validateOcspResponse(der, first, issuer).status).toBe('good');
    const second = buildOcspRequest(good, issuer);
    expect(() => validateOcspResponse(der, second, issuer)).toThrow(OcspNonceMismatch);
  });

  it('a stale response (checked after nextUpdate): RevocationUnavailable', async () => {
    const request = buildOcspRequest(good, issuer);
    const der = await httpOcspFetcher()(url, request.der);
    expect(() => validateOcspResponse(der, request, issuer, { at: new Date(Date.now() + 2 * 3_600_000) })).toThrow(
      /stale/,
    );
  });

  it('a response without our nonce (a pre-signed answer): refused when the nonce is required (the default), accepted when not', async () => {
    const unsent = buildOcspRequest(good, issuer, { nonce: false });
    const der = await httpOcspFetcher()(url, unsent.der); // openssl echoes no nonce when asked without one
    const ours = buildOcspRequest(good, issuer);
    expect(() => validateOcspResponse(der, ours, issuer)).toThrow(OcspNonceMismatch);
    expect(() => validateOcspResponse(der, ours, issuer, { requireNonce: true })).toThrow(OcspNonceMismatch);
    expect(validateOcspResponse(der, ours, issuer, { requireNonce: false }).status).toBe('good');
    // Another request's nonce is a replay whatever the setting.
    const echoed = await httpOcspFetcher()(url, buildOcspRequest(good, issuer).der);
    expect(() => validateOcspResponse(echoed, ours, issuer, { requireNonce: false })).toThrow(OcspNonceMismatch);
  });

  it('maxResponseAgeSeconds: a thisUpdate older than that is stale even before nextUpdate', async () => {
    const request = buildOcspRequest(good, issuer);
    const der = await httpOcspFetcher()(url, request.der);
    const inTwoMinutes = new Date(Date.now() + 120_000); // nextUpdate is an hour away (-nmin 60)
    expect(validateOcspResponse(der, request, issuer, { at: inTwoMinutes }).status).toBe('good');
    expect(validateOcspResponse(der, request, issuer, { at: inTwoMinutes, maxResponseAgeSeconds: 600 }).status).toBe(
      'good',
    );
    expect(() => validateOcspResponse(der, request, issuer, { at: inTwoMinutes, maxResponseAgeSeconds: 60 })).toThrow(
      RevocationUnavailable,
    );
    expect(() => validateOcspResponse(der, request, issuer, { at: inTwoMinutes, maxResponseAgeSeconds: 60 })).toThrow(
      /older than 60 s/,
    );
  });

  it('the responder is chosen per issuing CA; the AIA URL only when none is configured for it', async () => {
    const asked: string[] = [];
    const fetcher = (to: string, der: Uint8Array): Promise<Uint8Array> => (
      asked.push(to),
      httpOcspFetcher(3000)(url, der)
    );
    const byIssuer = new OcspClient({
      fetcher,
      url: (ca) => (ca.serial === issuer.serial ? `${url}authca01` : undefined),
    });
    expect((await byIssuer.check(good, issuer, new Date())).status).toBe('good');
    expect(asked).toEqual([`${url}authca01`]);
    // Not configured for this CA: the certificate's AIA URL (the simulated CA writes http://127.0.0.1:1/…).
    expect(good.ocspUrls[0]).toMatch(/^http:/);
    await byIssuer.check(good, otherIssuer, new Date()).catch(() => undefined);
    expect(asked[1]).toBe(good.ocspUrls[0]);
    // Neither: fails closed, naming the CA.
    const none = new OcspClient({ fetcher, url: () => undefined });
    await expect(
      none.check({ serial: good.serial, ocspUrls: [], crlDistributionPoints: [] }, issuer, new Date()),
    ).rejects.toThrow(/no OCSP responder is configured for .*and certificate .* names none/);
  });

  it('a request from a kept serial and the issuing CA (no certificate bytes) is the same request', async () => {
    const kept = { serial: good.serial, ocspUrls: [], crlDistributionPoints: [] };
    const fromCert = buildOcspRequest(good, issuer, { nonce: false });
    const fromKept = buildOcspRequest(kept, issuer, { nonce: false });
    expect(fromKept.der.equals(fromCert.der)).toBe(true);
    expect(ocspCertId(good.serial, issuer)).toEqual(fromCert.certId);
    expect((await client().check(kept, issuer, new Date())).status).toBe('good');
    expect(() => ocspCertId('abc', issuer)).toThrow(/upper-case hex/);
  });

  it('responder down: fails closed with RevocationUnavailable naming the responder', async () => {
    const down = client({ url: 'http://127.0.0.1:9/' });
    await expect(down.check(good, issuer, new Date())).rejects.toThrow(RevocationUnavailable);
    await expect(down.check(good, issuer, new Date())).rejects.toThrow(/127\.0\.0\.1:9/);
  });
});
