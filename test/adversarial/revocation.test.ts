// Adversarial catalogue — revocation (A17–A30). Revoked certificates go through the holder protocol
// of a real sandbox platform whose simulated J-LIS revoked them (life events); OCSP and CRL attacks
// go through the platform's ceremony code with the revocation source a network attacker controls
// (an OCSP fetcher that is the attacker in the middle) or a CRL that went stale. Each ends with a
// rejected record and no verified one.

import { createPrivateKey, createPublicKey, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BadSignature,
  CRL_REASONS,
  CrlChecker,
  CrlIndex,
  OcspCertIdMismatch,
  OcspClient,
  OcspNonceMismatch,
  RevocationPolicy,
  RevocationUnavailable,
  Revoked,
  buildOcspRequest,
  httpOcspFetcher,
  parseCertificate,
  type OcspFetcher,
  type RevocationChecker,
  type X509Certificate,
} from '@kakunin/jpki';
import { title } from './catalogue.js';
import { buildCrl } from '../support/crl.js';
import { attackerKey, mutate, spkiNode } from './support/certs.js';
import { expectTyped } from './support/expect.js';
import { buildOcspResponse, readOcspRequest } from './support/ocsp.js';
import { holderRespond, signAsHolder, startHarness, type Harness, type HolderView } from './support/platform.js';

const HOUR = 3_600_000;
let h: Harness;
let attacker: ReturnType<typeof attackerKey>;
let ocspUrl: string;
/** Signers by role (each file has its own sandbox copy, so events here touch nobody else). */
let who: Record<
  'moved' | 'lost' | 'renewed' | 'crl' | 'replayed' | 'preproduced' | 'victim' | 'good' | 'rogue',
  string
>;

beforeAll(async () => {
  h = await startHarness();
  attacker = attackerKey();
  ocspUrl = `${h.p.server.sandbox!.services!.url}/ocsp`;
  // The victim, a good certificate and a rogue holder share one issuing root (A25, A26 need it).
  const byRoot = new Map<string, string[]>();
  for (const p of h.signers) {
    const root = h.p.sandbox.currentCertificateRecord(p, 'sign').issuerId;
    byRoot.set(root, [...(byRoot.get(root) ?? []), p]);
  }
  const [victim, good, rogue] = [...byRoot.values()].sort((a, b) => b.length - a.length)[0]!;
  const [moved, lost, renewed, crl, replayed, preproduced] = h.signers.filter(
    (p) => ![victim, good, rogue].includes(p),
  );
  if (!rogue || !preproduced)
    throw new Error(`the sandbox has too few holders of signing certificates (${h.signers.length})`);
  who = { moved, lost, renewed, crl, replayed, preproduced, victim, good, rogue } as typeof who;
  // The victim's card was reported lost: its certificates are revoked (keyCompromise).
  await h.p.sandbox.applyEvent(who.victim, 'lose');
}, 180_000);
afterAll(async () => h?.close());

type Body = { nonce: string; certificate: string; signature: string };
const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');
const signStatement = (key: Parameters<typeof sign>[2], v: HolderView): string =>
  sign('sha256', Buffer.from(v.to_be_signed, 'base64url'), key).toString('base64');

const recordOf = (person: string) => h.p.sandbox.currentCertificateRecord(person, 'sign', 'card');
const x509 = (der: Uint8Array): X509Certificate => parseCertificate(der).x509;
const rootOf = (person: string) => h.p.sandbox.ca.root(recordOf(person).issuerId);
/** The simulated J-LIS's genuine delegated OCSP responder of a root: certificate and key. */
const responderOf = (rootId: string) => ({
  cert: readFileSync(join(h.p.sandbox.dir, 'ocsp', `${rootId}.der`)),
  key: createPrivateKey(readFileSync(join(h.p.sandbox.dir, 'ocsp', `${rootId}.key.pem`))),
});

/** An identity ceremony on `platform`, answered by `person`'s card (or `answer`), refused with `code`. */
async function refusedVia(
  revocation: RevocationChecker,
  person: string,
  type: abstract new (...args: never[]) => Error,
  code: string,
): Promise<Error & { details?: Record<string, unknown> }> {
  const c = await h.ceremony('identity');
  const body: Body = await signAsHolder(h.p.sandbox, await h.view(c), { person });
  const r = await h.submitTo(h.withVerifier({ revocation }), c.id, body);
  expect(r.error, `expected ${type.name}, got ${String(r.error)}`).toBeInstanceOf(type);
  expect(r.code).toBe(code);
  await h.expectNoVerified(c.id, { rejected: true });
  return r.error as Error & { details?: Record<string, unknown> };
}

/** The platform's OCSP client with the network replaced by `fetcher` (the attacker in the middle). */
const ocspThrough = (fetcher: OcspFetcher): OcspClient => new OcspClient({ url: ocspUrl, fetcher });
const genuineFetch = httpOcspFetcher(5000);

/** Posts an old certificate (and a signature with its old key) through the holder protocol. */
async function postOld(rec: { issuerId: string; serial: string; keyFile: string }) {
  const key = createPrivateKey(readFileSync(join(h.p.sandbox.dir, rec.keyFile)));
  const c = await h.ceremony('identity');
  const v = await h.view(c);
  const r = await h.post(c, {
    nonce: v.nonce,
    certificate: b64(h.p.sandbox.certificateDer(rec.issuerId, rec.serial)),
    signature: signStatement(key, v),
  });
  await h.expectNoVerified(c.id, { rejected: true });
  return r;
}

describe('revocation', () => {
  it(title('A17'), async () => {
    const old = recordOf(who.moved);
    await h.p.sandbox.applyEvent(who.moved, 'move');
    expect(await postOld(old)).toMatchObject({
      status: 422,
      code: 'REVOKED',
      details: { reason: 'affiliationChanged' },
    });
  });

  it(title('A18'), async () => {
    await h.p.sandbox.applyEvent(who.lost, 'lose');
    const c = await h.ceremony('identity');
    // The lost card itself: it still holds its (now revoked) certificate and key.
    const r = await holderRespond(h.p.sandbox, h.holderUrl(c), { person: who.lost });
    expect(r).toMatchObject({
      status: 422,
      body: { error: { code: 'REVOKED', details: { reason: 'keyCompromise' } } },
    });
    await h.expectNoVerified(c.id, { rejected: true });
  });

  it(title('A19'), async () => {
    const old = recordOf(who.renewed);
    await h.p.sandbox.applyEvent(who.renewed, 'renew');
    expect(await postOld(old)).toMatchObject({ status: 422, code: 'REVOKED', details: { reason: 'superseded' } });
  });

  it(title('A20'), async () => {
    // Certificates for one holder's key, each listed on a fresh CRL of the root with another reason.
    const person = who.crl;
    const p = h.p.sandbox.person(person);
    const key = h.p.sandbox.privateKey(person, 'sign');
    const root = rootOf(person);
    const codes = [0, 2, 5, 6, 9, 10];
    const certs = await Promise.all(
      codes.map(() =>
        h.p.sandbox.ca.issueSign(
          {
            name: p.name,
            nameSubstitute: p.nameSubstitute,
            sex: p.sex,
            birthDate: p.birthDate,
            address: p.address,
            addressSubstitute: p.addressSubstitute,
          },
          { publicKey: createPublicKey(key), issuerId: root.id },
        ),
      ),
    );
    const issuer = x509(root.der);
    const now = Date.now();
    const crl = buildCrl({
      issuerName: issuer.subject.der,
      key: root.privateKey,
      thisUpdate: new Date(now - HOUR),
      nextUpdate: new Date(now + 23 * HOUR),
      entries: certs.map((cert, i) => ({
        serial: cert.serial,
        revokedAt: new Date(now - 2 * HOUR),
        reason: codes[i]!,
      })),
    });
    const checker = new CrlChecker([CrlIndex.load(crl, { issuer })]);
    for (const [i, cert] of certs.entries()) {
      const c = await h.ceremony('identity');
      const v = await h.view(c);
      const r = await h.submitTo(
        h.withVerifier({ revocation: new RevocationPolicy({ mode: 'crl', crl: checker }) }),
        c.id,
        { nonce: v.nonce, certificate: b64(cert.der), signature: signStatement(key, v) },
      );
      expect(r.error).toBeInstanceOf(Revoked);
      expect(r.code).toBe('REVOKED');
      expect((r.error as Revoked).details.reason).toBe(CRL_REASONS[codes[i]!]);
      await h.expectNoVerified(c.id, { rejected: true });
    }
  });

  it(title('A21'), async () => {
    // Signed by the simulated J-LIS root key, but never entered in its registry: OCSP says "unknown".
    const person = who.crl;
    const p = h.p.sandbox.person(person);
    const key = h.p.sandbox.privateKey(person, 'sign');
    const stray = await h.p.sandbox.ca.issueSign(
      {
        name: p.name,
        nameSubstitute: p.nameSubstitute,
        sex: p.sex,
        birthDate: p.birthDate,
        address: p.address,
        addressSubstitute: p.addressSubstitute,
      },
      { publicKey: createPublicKey(key) },
    );
    const c = await h.ceremony('identity');
    const v = await h.view(c);
    expect(
      await h.post(c, { nonce: v.nonce, certificate: b64(stray.der), signature: signStatement(key, v) }),
    ).toMatchObject({ status: 503, code: 'REVOCATION_UNAVAILABLE' });
    await h.expectNoVerified(c.id, { rejected: true });
  });

  it(title('A22'), async () => {
    const rec = recordOf(who.replayed);
    const cert = x509(h.p.sandbox.certificateDer(rec.issuerId, rec.serial));
    const issuer = x509(rootOf(who.replayed).der);
    // Captured while the certificate was good: a genuine, correctly signed answer (with its own nonce).
    const captured = await genuineFetch(ocspUrl, buildOcspRequest(cert, issuer).der);
    await h.p.sandbox.applyEvent(who.replayed, 'lose');
    await refusedVia(ocspThrough(genuineFetch), who.replayed, Revoked, 'REVOKED');
    await refusedVia(
      ocspThrough(async () => captured),
      who.replayed,
      OcspNonceMismatch,
      'OCSP_NONCE_MISMATCH',
    );
  });

  it(title('A23'), async () => {
    const rec = recordOf(who.preproduced);
    const cert = x509(h.p.sandbox.certificateDer(rec.issuerId, rec.serial));
    const issuer = x509(rootOf(who.preproduced).der);
    const request = buildOcspRequest(cert, issuer, { nonce: false });
    const preproduced = await genuineFetch(ocspUrl, request.der);
    await h.p.sandbox.applyEvent(who.preproduced, 'lose');
    await refusedVia(
      ocspThrough(async () => preproduced),
      who.preproduced,
      OcspNonceMismatch,
      'OCSP_NONCE_MISMATCH',
    );
  });

  it(title('A24'), async () => {
    const genuine = responderOf(recordOf(who.victim).issuerId).cert;
    // The genuine responder certificate's names, the attacker's key, signed by the attacker.
    const selfMade = mutate(genuine, (tbs) => (tbs.children![6] = spkiNode(attacker.publicKey)), attacker.privateKey);
    const forged = ocspThrough(async (_url, request) => {
      const { certId, nonce } = readOcspRequest(request);
      return buildOcspResponse({
        certId,
        status: 'good',
        thisUpdate: new Date(),
        nextUpdate: new Date(Date.now() + HOUR),
        ...(nonce ? { nonce } : {}),
        responderCert: selfMade,
        signingKey: attacker.privateKey,
      });
    });
    const e = await refusedVia(forged, who.victim, BadSignature, 'BAD_SIGNATURE');
    expect(e.message).toMatch(/responder certificate's signature does not verify/);
  });

  it(title('A25'), async () => {
    // A holder's own genuine signing certificate (issued by the same root) and their card's key:
    // the card signs any DigestInfo, so a holder can sign an OCSP answer with it.
    const rogueCert = h.p.sandbox.currentCertificate(who.rogue, 'sign');
    const rogueKey = h.p.sandbox.privateKey(who.rogue, 'sign');
    expect(recordOf(who.rogue).issuerId).toBe(recordOf(who.victim).issuerId);
    const forged = ocspThrough(async (_url, request) => {
      const { certId, nonce } = readOcspRequest(request);
      return buildOcspResponse({
        certId,
        status: 'good',
        thisUpdate: new Date(),
        nextUpdate: new Date(Date.now() + HOUR),
        ...(nonce ? { nonce } : {}),
        responderCert: rogueCert,
        signingKey: rogueKey,
      });
    });
    const e = await refusedVia(forged, who.victim, BadSignature, 'BAD_SIGNATURE');
    expect(e.message).toMatch(/not authorised for OCSP signing/);
  });

  it(title('A26'), async () => {
    const victimSerial = Buffer.from(recordOf(who.victim).serial, 'hex');
    const goodSerial = Buffer.from(recordOf(who.good).serial, 'hex');
    expect(victimSerial.length).toBe(goodSerial.length);
    // The attacker rewrites the serial in the client's request (same issuer hashes, same nonce) and
    // forwards it to the genuine responder, which truthfully answers "good" for the other certificate.
    const swapping = ocspThrough(async (url, request) => {
      const tlv = Buffer.concat([Buffer.from([0x02, victimSerial.length]), victimSerial]);
      const pos = Buffer.from(request).indexOf(tlv);
      expect(pos).toBeGreaterThan(0);
      const rewritten = Buffer.from(request);
      goodSerial.copy(rewritten, pos + 2);
      return genuineFetch(url, rewritten);
    });
    await expectTyped(
      () =>
        swapping.check(
          x509(h.p.sandbox.currentCertificate(who.victim, 'sign')),
          x509(rootOf(who.victim).der),
          new Date(),
        ),
      OcspCertIdMismatch,
      'OCSP_CERT_ID_MISMATCH',
    );
    await refusedVia(swapping, who.victim, OcspCertIdMismatch, 'OCSP_CERT_ID_MISMATCH');
  });

  it(title('A27'), async () => {
    // The genuine responder's key, but an answer from two days ago (a stuck responder or cache).
    const responder = responderOf(recordOf(who.good).issuerId);
    const stale = ocspThrough(async (_url, request) => {
      const { certId, nonce } = readOcspRequest(request);
      return buildOcspResponse({
        certId,
        status: 'good',
        thisUpdate: new Date(Date.now() - 72 * HOUR),
        nextUpdate: new Date(Date.now() - 48 * HOUR),
        ...(nonce ? { nonce } : {}),
        responderCert: responder.cert,
        signingKey: responder.key,
      });
    });
    const e = await refusedVia(stale, who.good, RevocationUnavailable, 'REVOCATION_UNAVAILABLE');
    expect(e.message).toMatch(/stale OCSP response/);
  });

  it(title('A28'), async () => {
    // The last CRL the mirror fetched predates the victim's revocation and expired yesterday.
    const root = rootOf(who.victim);
    const issuer = x509(root.der);
    const der = buildCrl({
      issuerName: issuer.subject.der,
      key: root.privateKey,
      thisUpdate: new Date(Date.now() - 48 * HOUR),
      nextUpdate: new Date(Date.now() - 24 * HOUR),
      entries: [],
    });
    await expectTyped(() => CrlIndex.load(der, { issuer }), RevocationUnavailable, 'REVOCATION_UNAVAILABLE');
    // Loaded while it was fresh (modelled with a grace period at load time), checked after nextUpdate.
    const loaded = new CrlChecker([CrlIndex.load(der, { issuer, graceSeconds: 3 * 86_400 })]);
    const e = await refusedVia(
      new RevocationPolicy({ mode: 'crl', crl: loaded }),
      who.victim,
      RevocationUnavailable,
      'REVOCATION_UNAVAILABLE',
    );
    expect(e.message).toMatch(/stale/);
  });

  it(title('A29'), async () => {
    const root = rootOf(who.victim);
    const issuer = x509(root.der);
    const forged = buildCrl({
      issuerName: issuer.subject.der,
      key: attacker.privateKey,
      thisUpdate: new Date(Date.now() - HOUR),
      nextUpdate: new Date(Date.now() + 23 * HOUR),
      entries: [],
    });
    await expectTyped(() => CrlIndex.load(forged, { issuer }), BadSignature, 'BAD_SIGNATURE');
  });

  it(title('A30'), async () => {
    const root = rootOf(who.victim);
    const issuer = x509(root.der);
    // A fresh, genuine CRL that does not list the victim (published before the card was lost) …
    const crl = new CrlChecker([
      CrlIndex.load(
        buildCrl({
          issuerName: issuer.subject.der,
          key: root.privateKey,
          thisUpdate: new Date(Date.now() - HOUR),
          nextUpdate: new Date(Date.now() + 23 * HOUR),
          entries: [],
        }),
        { issuer },
      ),
    ]);
    // … and an OCSP answer forged so that the platform would fall back to it.
    const selfMade = mutate(
      responderOf(root.id).cert,
      (tbs) => (tbs.children![6] = spkiNode(attacker.publicKey)),
      attacker.privateKey,
    );
    const forged = ocspThrough(async (_url, request) => {
      const { certId, nonce } = readOcspRequest(request);
      return buildOcspResponse({
        certId,
        status: 'good',
        thisUpdate: new Date(),
        nextUpdate: new Date(Date.now() + HOUR),
        ...(nonce ? { nonce } : {}),
        responderCert: selfMade,
        signingKey: attacker.privateKey,
      });
    });
    await refusedVia(
      new RevocationPolicy({ mode: 'ocsp-then-crl', ocsp: forged, crl }),
      who.victim,
      BadSignature,
      'BAD_SIGNATURE',
    );
  });
});
