// Seed inputs for the fuzz targets: valid certificates, CRLs, OCSP responses, card files and card
// sessions from the simulator, and the real J-LIS roots.
//
// The simulator sandbox takes seconds of RSA key generation, so every fuzz process of a day shares
// one, kept under the system temp directory (FUZZ_SANDBOX_DIR overrides) and created once under a
// lock directory. Nothing here changes it (no life events).
//
// Signatures are verified before most of a CRL or OCSP response is parsed, so a mutated CRL or
// response mostly stops at BAD_SIGNATURE. To reach the rest, the "re-signed" targets mutate the
// signed part and sign it again with a small (RSA-512, fast) key: `smallPki()` re-keys the
// simulator's roots with it (same names and key ids) so re-signed certificates also validate.

import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CRL_REASON_CODE,
  JLIS_ROOTS,
  SHA256_WITH_RSA_ALGORITHM,
  TrustStore,
  buildOcspRequest,
  parseX509,
  type OcspRequest,
  type RevocationReason,
  type X509Certificate,
} from '@kakunin/jpki';
import {
  OcspResponder,
  buildCrl,
  crlIssuerOf,
  initSandbox,
  nameDer,
  openSandbox,
  sandboxCrl,
  type CrlEntryInput,
  type Person,
  type Sandbox,
} from '@kakunin/sim';
import {
  MemoryPinStateStore,
  buildApBasicInfo,
  buildBasicInfo,
  buildCvc,
  buildIntegrityRecord,
  cardForPerson,
  myNumberEf,
  sandboxCvcAnchor,
  sandboxCvcAuthority,
  syntheticMyNumber,
  type VirtualCard,
} from '@kakunin/sim/card';
import type { CvcAnchor } from '@kakunin/card';
import { encodeTree, parseTree, span, tlv, type TreeNode } from './support.js';

// ---------------------------------------------------------------------------------------------
// The shared sandbox

const FORMAT = 'v1';

function sandboxDir(): string {
  if (process.env.FUZZ_SANDBOX_DIR) return resolve(process.env.FUZZ_SANDBOX_DIR);
  const day = new Date().toISOString().slice(0, 10);
  return join(tmpdir(), `kakunin-fuzz-${userInfo().uid}`, `sim-${FORMAT}-${day}`);
}

let sandboxPromise: Promise<Sandbox> | undefined;

/** The simulator sandbox shared by fuzz processes (created once per day, then opened). */
export function fuzzSandbox(): Promise<Sandbox> {
  sandboxPromise ??= openOrCreate(sandboxDir());
  return sandboxPromise;
}

async function openOrCreate(dir: string): Promise<Sandbox> {
  const ready = (): boolean => existsSync(join(dir, 'state.json'));
  const lock = `${dir}.lock`;
  const deadline = Date.now() + 300_000;
  mkdirSync(dirname(dir), { recursive: true });
  for (;;) {
    if (ready()) return openSandbox(dir);
    let owner = false;
    try {
      mkdirSync(lock);
      owner = true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    if (owner) {
      try {
        if (ready()) return openSandbox(dir);
        pruneOldSandboxes(dir);
        return await initSandbox({ dir, seed: 'kakunin-fuzz' });
      } finally {
        rmSync(lock, { recursive: true, force: true });
      }
    }
    try {
      if (Date.now() - statSync(lock).mtimeMs > 180_000) rmSync(lock, { recursive: true, force: true }); // left by a killed process
    } catch {
      /* gone meanwhile */
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for another process to create the fuzz sandbox ${dir}`);
    await sleep(200);
  }
}

/** Removes the shared sandboxes of earlier days. */
function pruneOldSandboxes(dir: string): void {
  if (process.env.FUZZ_SANDBOX_DIR) return;
  const parent = dirname(dir);
  for (const name of readdirSync(parent)) {
    if (name.startsWith('sim-') && name !== basename(dir) && !name.endsWith('.lock'))
      rmSync(join(parent, name), { recursive: true, force: true });
  }
}

const memo = <T>(fn: () => Promise<T>): (() => Promise<T>) => {
  let p: Promise<T> | undefined;
  return () => (p ??= fn());
};

/** The instant seeds are made for; checks that depend on time use it (`at`), so long runs stay valid. */
export const SEED_TIME = new Date(Math.floor(Date.now() / 1000) * 1000);
const HOUR = 3_600_000;

const utcTime = (d: Date): Uint8Array => Buffer.from(`${d.toISOString().slice(2, 19).replace(/[-T:]/g, '')}Z`);
const genTime = (d: Date): Uint8Array => Buffer.from(`${d.toISOString().slice(0, 19).replace(/[-T:]/g, '')}Z`);

export const pemToDer = (pem: string): Uint8Array =>
  Uint8Array.from(Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64'));

// ---------------------------------------------------------------------------------------------
// Certificates

export interface CertificateSeeds {
  readonly sandbox: Sandbox;
  /** End-entity certificates (auth and sign; card, Android, iPhone). */
  readonly endEntities: readonly Uint8Array[];
  /** The simulator's roots. */
  readonly simRoots: readonly Uint8Array[];
  /** The real J-LIS roots (DER) and their PEM texts. */
  readonly jlisRoots: readonly Uint8Array[];
  readonly jlisPems: readonly string[];
  /** Every certificate above. */
  readonly all: readonly Uint8Array[];
}

export const certificateSeeds = memo(async (): Promise<CertificateSeeds> => {
  const sandbox = await fuzzSandbox();
  const endEntities: Uint8Array[] = [];
  for (const medium of ['card', 'android', 'iphone'] as const) {
    for (const kind of ['auth', 'sign'] as const) {
      const rec = sandbox
        .certificates({ kind, medium })
        .find((c) => c.notAfter > SEED_TIME.toISOString() && c.notBefore < SEED_TIME.toISOString());
      if (rec) endEntities.push(sandbox.certificateDer(rec.issuerId, rec.serial));
    }
  }
  const simRoots = sandbox.roots().map((r) => Uint8Array.from(r.der));
  const jlisPems = JLIS_ROOTS.map((r) => r.pem);
  const jlisRoots = jlisPems.map(pemToDer);
  return { sandbox, endEntities, simRoots, jlisRoots, jlisPems, all: [...endEntities, ...simRoots, ...jlisRoots] };
});

// ---------------------------------------------------------------------------------------------
// Re-signing with a small key

export interface SmallRoot {
  readonly simRootId: string;
  readonly der: Uint8Array;
  readonly x509: X509Certificate;
}

export interface SmallPki {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** Simulator card roots (gen 2, auth and sign) re-keyed: same names, serials and key ids. */
  readonly roots: { readonly auth: SmallRoot; readonly sign: SmallRoot };
  /** Trust store (sandbox mode) holding the re-keyed roots. */
  readonly store: TrustStore;
  /** TBSCertificates of end-entity certificates the re-keyed roots issued (sign them with `resign`). */
  readonly tbs: readonly Uint8Array[];
  /** `SEQUENCE { tbs, sha256WithRSA, BIT STRING signature }`: a certificate or CRL around (possibly mutated) signed bytes. */
  resign(tbs: Uint8Array): Uint8Array;
}

const tlvNode = (n: TreeNode | undefined): Extract<TreeNode, { kind: 'tlv' }> => {
  if (!n || n.kind !== 'tlv') throw new Error('unexpected certificate structure');
  return n;
};

/** The TBS bytes of a certificate / CRL (first element of the outer SEQUENCE). */
export function signedPart(der: Uint8Array): Uint8Array {
  const outer = tlvNode(parseTree(der)[0]);
  return encodeTree([tlvNode(outer.children?.[0])]);
}

export const smallPki = memo(async (): Promise<SmallPki> => {
  const { sandbox } = await certificateSeeds();
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 512, publicExponent: 65537 });
  const spki = Uint8Array.from(publicKey.export({ type: 'spki', format: 'der' }));
  const resign = (tbs: Uint8Array): Uint8Array =>
    tlv(0x30, tbs, SHA256_WITH_RSA_ALGORITHM, tlv(0x03, Uint8Array.of(0), sign('sha256', tbs, privateKey)));
  const rekey = (id: string): SmallRoot => {
    const tbs = tlvNode(parseTree(signedPart(sandbox.ca.root(id).der))[0]);
    const fields = tbs.children!;
    fields[6] = { kind: 'raw', bytes: span(spki) }; // subjectPublicKeyInfo
    const der = resign(encodeTree([tbs]));
    return { simRootId: id, der, x509: parseX509(der) };
  };
  const roots = { auth: rekey('sim-authca02'), sign: rekey('sim-signca02') };
  const store = new TrustStore();
  store.add(roots.auth.der, { label: 'fuzz-authca02' });
  store.add(roots.sign.der, { label: 'fuzz-signca02' });
  const tbs = (['auth', 'sign'] as const).flatMap((kind) =>
    sandbox
      .certificates({ kind, medium: 'card', issuerId: roots[kind].simRootId })
      .filter((c) => c.notAfter > SEED_TIME.toISOString())
      .slice(0, 2)
      .map((c) => signedPart(sandbox.certificateDer(c.issuerId, c.serial))),
  );
  return { privateKey, publicKey, roots, store, tbs, resign };
});

// ---------------------------------------------------------------------------------------------
// CRLs

export interface CrlSeed {
  readonly der: Uint8Array;
  readonly issuer: X509Certificate;
}

export interface CrlSeeds {
  /** Signed by the simulator's root (RSA-2048): raw mutations stop at the signature unless they miss the signed part. */
  readonly signed: readonly CrlSeed[];
  /** TBSCertList of CRLs for the re-keyed root: mutate, `resign`, load with `issuer`. */
  readonly tbs: readonly Uint8Array[];
  readonly issuer: X509Certificate;
  readonly resign: (tbs: Uint8Array) => Uint8Array;
  readonly at: Date;
}

const REASONS = Object.keys(CRL_REASON_CODE) as RevocationReason[];

function crlEntries(n: number): CrlEntryInput[] {
  const serials = [
    '01',
    '7F',
    '0080',
    '0A0B0C0D',
    '4AFB0C21',
    '00FFFFFFFF',
    '0123456789ABCDEF',
    '0123456789ABCDEF0123',
    '7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF',
    '10',
  ];
  return Array.from({ length: n }, (_, i) => ({
    serial:
      serials[i % serials.length]! + (i >= serials.length ? (i + 16).toString(16).toUpperCase().padStart(2, '0') : ''),
    revokedAt: new Date(SEED_TIME.getTime() - (i + 1) * 86_400_000),
    reason: REASONS[i % REASONS.length]!,
  }));
}

export const crlSeeds = memo(async (): Promise<CrlSeeds> => {
  const { sandbox } = await certificateSeeds();
  const pki = await smallPki();
  const root = sandbox.ca.root('sim-authca02');
  const issuer = parseX509(root.der);
  const thisUpdate = new Date(SEED_TIME.getTime() - HOUR);
  const dp = nameDer([
    ['2.5.4.6', 'JP'],
    ['2.5.4.10', 'JPKI-SIM'],
    ['2.5.4.11', 'CRL Distribution Points'],
    ['2.5.4.11', 'Fukui-shi'],
  ]);
  const signed: CrlSeed[] = [
    { der: buildCrl(crlIssuerOf(root), crlEntries(12), { thisUpdate, distributionPoint: dp }), issuer },
    { der: sandboxCrl(sandbox, 'sim-authca02', { thisUpdate }), issuer },
    { der: buildCrl(crlIssuerOf(root), crlEntries(3), { thisUpdate }), issuer },
  ];
  const small = crlIssuerOf({ der: pki.roots.auth.der, privateKey: pki.privateKey });
  const tbs = [
    signedPart(buildCrl(small, crlEntries(12), { thisUpdate, distributionPoint: dp })),
    signedPart(buildCrl(small, crlEntries(2), { thisUpdate })),
    signedPart(buildCrl(small, [], { thisUpdate })),
    // GeneralizedTime nextUpdate, entries without extensions and with an unknown (non-critical) one.
    tlv(
      0x30,
      tlv(0x02, Uint8Array.of(1)),
      SHA256_WITH_RSA_ALGORITHM,
      pki.roots.auth.x509.subject.der,
      tlv(0x17, utcTime(thisUpdate)),
      tlv(0x18, genTime(new Date(thisUpdate.getTime() + 24 * HOUR))),
      tlv(
        0x30,
        tlv(0x30, tlv(0x02, Uint8Array.of(0x42)), tlv(0x17, utcTime(thisUpdate))),
        tlv(
          0x30,
          tlv(0x02, Uint8Array.of(0x43)),
          tlv(0x18, genTime(thisUpdate)),
          tlv(0x30, tlv(0x30, tlv(0x06, Uint8Array.of(0x55, 0x1d, 0x18)), tlv(0x04, tlv(0x18, genTime(thisUpdate))))),
        ),
      ),
    ),
  ];
  return { signed, tbs, issuer: pki.roots.auth.x509, resign: pki.resign, at: SEED_TIME };
});

// ---------------------------------------------------------------------------------------------
// OCSP

export interface OcspSeed {
  readonly der: Uint8Array;
  readonly request: OcspRequest;
  readonly issuer: X509Certificate;
}

export interface OcspSeeds {
  /** Responses of the simulator's OCSP responder (RSA-2048 responder keys) with their requests. */
  readonly signed: readonly OcspSeed[];
  /** tbsResponseData for the re-keyed root: mutate, then `wrap` (re-signs, embeds the responder certificate). */
  readonly tbs: readonly Uint8Array[];
  readonly wrap: (tbs: Uint8Array) => Uint8Array;
  readonly request: OcspRequest;
  readonly issuer: X509Certificate;
  /** DER snippets holding nonce extensions ([1] / [2] { SEQUENCE OF Extension }) for findOcspNonce. */
  readonly extensionBlocks: readonly Uint8Array[];
  readonly at: Date;
}

const OID_BASIC = Uint8Array.from(Buffer.from('06092b0601050507300101', 'hex'));
const OID_NONCE = Uint8Array.from(Buffer.from('06092b0601050507300102', 'hex'));
const OID_OCSP_SIGNING = Uint8Array.from(Buffer.from('06082b06010505070309', 'hex'));
const SHA1_ALG = Uint8Array.from(Buffer.from('300906052b0e03021a0500', 'hex'));

export const ocspSeeds = memo(async (): Promise<OcspSeeds> => {
  const { sandbox } = await certificateSeeds();
  const pki = await smallPki();
  const responder = await OcspResponder.open(sandbox, SEED_TIME);
  const simRoot = parseX509(sandbox.ca.root('sim-authca02').der);
  const current = sandbox
    .certificates({ kind: 'auth', medium: 'card', issuerId: 'sim-authca02' })
    .filter((c) => c.notAfter > SEED_TIME.toISOString());
  const ee = parseX509(sandbox.certificateDer(current[0]!.issuerId, current[0]!.serial));
  const foreign = parseX509(
    sandbox.certificateDer(
      sandbox.certificates({ kind: 'sign', medium: 'card' })[0]!.issuerId,
      sandbox.certificates({ kind: 'sign', medium: 'card' })[0]!.serial,
    ),
  );
  const jlis = parseX509(pemToDer(JLIS_ROOTS[0]!.pem));
  const signed: OcspSeed[] = [];
  const add = (cert: X509Certificate, issuer: X509Certificate, nonce = true): void => {
    const request = buildOcspRequest(cert, issuer, { nonce });
    signed.push({ der: Uint8Array.from(responder.respond(request.der, SEED_TIME)), request, issuer });
  };
  add(ee, simRoot); // good
  add(foreign, simRoot); // unknown serial
  add(ee, simRoot, false); // no nonce
  add(ee, jlis); // unauthorized (error status)
  signed.push({
    der: Uint8Array.from(responder.respond(Uint8Array.of(0x30, 0x00), SEED_TIME)),
    request: buildOcspRequest(ee, simRoot),
    issuer: simRoot,
  }); // malformedRequest

  // Re-signed responses for the re-keyed root, signed by the root itself or by a delegated responder certificate.
  const issuer = pki.roots.auth.x509;
  const eeTbs = pki.tbs[0]!;
  const smallEe = parseX509(pki.resign(eeTbs));
  const request = buildOcspRequest(smallEe, issuer);
  const nonce = request.nonce!;
  const responderName = tlv(
    0x30,
    tlv(
      0x31,
      tlv(0x30, Uint8Array.of(0x06, 0x03, 0x55, 0x04, 0x03), tlv(0x0c, Buffer.from('Kakunin fuzz OCSP responder'))),
    ),
  );
  const responderCert = pki.resign(
    tlv(
      0x30,
      tlv(0xa0, tlv(0x02, Uint8Array.of(2))),
      tlv(0x02, Uint8Array.of(0x12, 0x34)),
      SHA256_WITH_RSA_ALGORITHM,
      issuer.subject.der,
      tlv(
        0x30,
        tlv(0x17, utcTime(new Date(SEED_TIME.getTime() - 24 * HOUR))),
        tlv(0x17, utcTime(new Date(SEED_TIME.getTime() + 365 * 24 * HOUR))),
      ),
      responderName,
      Uint8Array.from(pki.publicKey.export({ type: 'spki', format: 'der' })),
      tlv(
        0xa3,
        tlv(
          0x30,
          tlv(
            0x30,
            Uint8Array.of(0x06, 0x03, 0x55, 0x1d, 0x0f),
            tlv(0x01, Uint8Array.of(0xff)),
            tlv(0x04, Uint8Array.of(0x03, 0x02, 0x07, 0x80)),
          ),
          tlv(0x30, Uint8Array.of(0x06, 0x03, 0x55, 0x1d, 0x25), tlv(0x04, tlv(0x30, OID_OCSP_SIGNING))),
        ),
      ),
    ),
  );
  const keyHash = createHash('sha1').update(issuer.publicKey.pkcs1).digest();
  const byKey = tlv(0xa2, tlv(0x04, keyHash));
  const byIssuerName = tlv(0xa1, issuer.subject.der);
  const byResponderName = tlv(0xa1, responderName);
  const certId = (serialHex: string): Uint8Array =>
    tlv(
      0x30,
      SHA1_ALG,
      tlv(0x04, request.certId.nameHash),
      tlv(0x04, request.certId.keyHash),
      tlv(0x02, Buffer.from(serialHex, 'hex')),
    );
  const thisUpdate = new Date(SEED_TIME.getTime() - 60_000);
  const next = tlv(0xa0, tlv(0x18, genTime(new Date(SEED_TIME.getTime() + 24 * HOUR))));
  const good = tlv(0x80);
  const unknown = tlv(0x82);
  const revoked = (reason?: number): Uint8Array =>
    tlv(
      0xa1,
      tlv(0x18, genTime(new Date(SEED_TIME.getTime() - 48 * HOUR))),
      ...(reason === undefined ? [] : [tlv(0xa0, tlv(0x0a, Uint8Array.of(reason)))]),
    );
  const single = (status: Uint8Array, o: { serial?: string; next?: boolean; exts?: boolean } = {}): Uint8Array =>
    tlv(
      0x30,
      certId(o.serial ?? request.certId.serial),
      status,
      tlv(0x18, genTime(thisUpdate)),
      ...(o.next === false ? [] : [next]),
      ...(o.exts
        ? [
            tlv(
              0xa1,
              tlv(
                0x30,
                tlv(0x30, Uint8Array.of(0x06, 0x03, 0x55, 0x1d, 0x18), tlv(0x04, tlv(0x18, genTime(thisUpdate)))),
              ),
            ),
          ]
        : []),
    );
  const nonceExt = (raw = false): Uint8Array =>
    tlv(0xa1, tlv(0x30, tlv(0x30, OID_NONCE, tlv(0x04, raw ? nonce : tlv(0x04, nonce)))));
  const tbsOf = (
    responderId: Uint8Array,
    singles: Uint8Array[],
    o: { raw?: boolean; version?: boolean } = {},
  ): Uint8Array =>
    tlv(
      0x30,
      ...(o.version ? [tlv(0xa0, tlv(0x02, Uint8Array.of(0)))] : []),
      responderId,
      tlv(0x18, genTime(SEED_TIME)),
      tlv(0x30, ...singles),
      nonceExt(o.raw),
    );
  const tbs = [
    tbsOf(byKey, [single(good)]),
    tbsOf(byIssuerName, [single(revoked(1))]),
    tbsOf(byResponderName, [single(unknown, { next: false })]),
    tbsOf(byKey, [single(good, { serial: '7F01' }), single(revoked(), { exts: true })], { version: true }),
    tbsOf(byResponderName, [single(revoked(4))], { raw: true }),
  ];
  const basicOid = OID_BASIC;
  const wrap = (t: Uint8Array): Uint8Array =>
    tlv(
      0x30,
      tlv(0x0a, Uint8Array.of(0)),
      tlv(
        0xa0,
        tlv(
          0x30,
          basicOid,
          tlv(
            0x04,
            tlv(
              0x30,
              t,
              SHA256_WITH_RSA_ALGORITHM,
              tlv(0x03, Uint8Array.of(0), sign('sha256', t, pki.privateKey)),
              tlv(0xa0, tlv(0x30, responderCert)),
            ),
          ),
        ),
      ),
    );
  const extensionBlocks = [
    nonceExt(),
    nonceExt(true),
    tlv(0xa2, tlv(0x30, tlv(0x30, OID_NONCE, tlv(0x01, Uint8Array.of(0xff)), tlv(0x04, tlv(0x04, nonce))))),
    tlv(
      0xa1,
      tlv(
        0x30,
        tlv(0x30, Uint8Array.of(0x06, 0x03, 0x55, 0x1d, 0x18), tlv(0x04, Uint8Array.of(1))),
        tlv(0x30, OID_NONCE, tlv(0x04, tlv(0x04, new Uint8Array(0)))),
      ),
    ),
  ];
  return { signed, tbs, wrap, request, issuer, extensionBlocks, at: SEED_TIME };
});

// ---------------------------------------------------------------------------------------------
// Cards

export type CardVariant = {
  readonly medium: 'card' | 'android';
  readonly extendedLength: boolean;
  readonly sfi: boolean;
};

export interface CardSeeds {
  readonly sandbox: Sandbox;
  readonly person: Person;
  readonly phonePerson: Person;
  readonly anchor: CvcAnchor;
  /** EF 0002, EF 0003, EF 0004 and EF 0005 of the card-info AP, as the card stores them (TLV only). */
  readonly basicInfo: Uint8Array;
  readonly integrity: Uint8Array;
  readonly cvc: Uint8Array;
  readonly apBasicInfo: Uint8Array;
  /** A fresh virtual card (PIN state in memory) for a session variant. */
  card(variant: CardVariant): VirtualCard;
}

export const cardSeeds = memo(async (): Promise<CardSeeds> => {
  const sandbox = await fuzzSandbox();
  const people = sandbox.people();
  const has = (p: Person, kind: 'auth' | 'sign', medium: 'card' | 'android'): boolean =>
    sandbox.certificates({ personId: p.id, kind, medium }).some((c) => c.notAfter > SEED_TIME.toISOString());
  const person = people.find((p) => has(p, 'sign', 'card') && has(p, 'auth', 'card'));
  const phonePerson = people.find((p) => has(p, 'auth', 'android') && has(p, 'sign', 'android'));
  if (!person || !phonePerson) throw new Error('the fuzz sandbox has no person with a card and an Android token');
  const authority = sandboxCvcAuthority(sandbox, person.municipalityCode);
  const basic = buildBasicInfo({
    name: person.trueName,
    address: person.trueAddress,
    birthDate: person.birthDate.replace(/-/g, ''),
    sex: person.sex,
  });
  const integrity = buildIntegrityRecord(myNumberEf(syntheticMyNumber(person.id)), basic.digest, authority.signer);
  return {
    sandbox,
    person,
    phonePerson,
    anchor: sandboxCvcAnchor(sandbox) as CvcAnchor,
    basicInfo: basic.tlv,
    integrity,
    cvc: buildCvc(authority),
    apBasicInfo: buildApBasicInfo(),
    card: (v) =>
      cardForPerson(sandbox, v.medium === 'card' ? person.id : phonePerson.id, v.medium, {
        stateStore: new MemoryPinStateStore(),
        extendedLength: v.extendedLength,
        sfi: v.sfi,
      }),
  };
});
