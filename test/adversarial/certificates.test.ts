// Adversarial catalogue — certificates and signatures (A01–A16). End to end through the holder
// protocol of a real sandbox platform where the attack is a holder's answer; the DER-level
// malformations are also fed to @kakunin/jpki directly.

import { createPrivateKey, createPublicKey, randomBytes, sign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  InvalidBasicConstraints,
  KNOWN_POLICIES,
  Malformed,
  OID,
  TrustStore,
  UntrustedIssuer,
  parseCertificate,
  validate,
} from '@kakunin/jpki';
import { TAG, encodeOid, encodeTlv } from '@kakunin/jpki/der';
import { title } from './catalogue.js';
import {
  at,
  attackerKey,
  extensions,
  mutate,
  policyValue,
  replaceUtf8,
  setAki,
  setBasic4,
  setExtensionValue,
} from './support/certs.js';
import { expectTyped } from './support/expect.js';
import { holderRespond, signAsHolder, startHarness, type Harness, type HolderView } from './support/platform.js';

let h: Harness;
let attacker: ReturnType<typeof attackerKey>;
beforeAll(async () => {
  h = await startHarness();
  attacker = attackerKey();
}, 180_000);
afterAll(async () => h?.close());

type Body = { nonce: string; certificate: string; signature: string };
const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');
const genuine = (v: HolderView, person: string): Promise<Body> => signAsHolder(h.p.sandbox, v, { person });
const certOf = (body: Body): Buffer => Buffer.from(body.certificate, 'base64');
const signWith = (key: Parameters<typeof sign>[2], v: HolderView): string =>
  sign('sha256', Buffer.from(v.to_be_signed, 'base64url'), key).toString('base64');
const issuerIdOf = (person: string, kind: 'auth' | 'sign' = 'sign'): string =>
  h.p.sandbox.currentCertificateRecord(person, kind, 'card').issuerId;

/** One identity ceremony answered with `answer`; returns the HTTP answer after checking the records. */
async function attack(
  kind: 'login' | 'identity',
  answer: (v: HolderView) => Promise<unknown> | unknown,
  o: { rejected?: boolean } = { rejected: true },
) {
  const c = await h.ceremony(kind);
  const v = await h.view(c);
  const r = await h.post(c, await answer(v));
  await h.expectNoVerified(c.id, o);
  return r;
}

/** A simulator signing root (by default the one that issues a signer's card certificate now), with its private key (the sandbox keeps it on disk). */
function signingRoot(id = issuerIdOf(h.signers[0]!)): { der: Uint8Array; id: string; key: KeyObject } {
  const root = h.p.sandbox.roots().find((r) => r.id === id)!;
  const state = JSON.parse(readFileSync(join(h.p.sandbox.dir, 'state.json'), 'utf8')) as {
    roots: { id: string; keyFile: string }[];
  };
  const keyFile = state.roots.find((r) => r.id === root.id)!.keyFile;
  return { der: root.der, id: root.id, key: createPrivateKey(readFileSync(join(h.p.sandbox.dir, keyFile))) };
}

describe('certificates and signatures', () => {
  it(title('A01'), async () => {
    const person = h.signers[0]!;
    const r = await attack('identity', async (v) => {
      const body = await genuine(v, person);
      // The card's own key still signs: only the certificate text changed, so only the CA signature can catch it.
      const forged = mutate(
        certOf(body),
        (tbs) => setBasic4(tbs, OID.name, 'なりすまし　たろうたろうたろうたろう'),
        null,
      );
      expect(parseCertificate(forged).basic4?.name).toBe('なりすまし　たろうたろうたろうたろう');
      return { ...body, certificate: b64(forged) };
    });
    expect(r).toMatchObject({ status: 422, code: 'BAD_SIGNATURE' });
  });

  it(title('A02'), async () => {
    const person = h.signers[0]!;
    const r = await attack('identity', async (v) => {
      const body = await genuine(v, person);
      // Issuer DN and AKI (key id + serial) still name the real root: only the signature differs.
      const lookAlike = mutate(
        certOf(body),
        (tbs) => setBasic4(tbs, OID.name, 'なりすまし　たろうたろうたろうたろう'),
        attacker.privateKey,
      );
      return { ...body, certificate: b64(lookAlike) };
    });
    expect(r).toMatchObject({ status: 422, code: 'BAD_SIGNATURE' });
  });

  it(title('A03'), async () => {
    const [me, other] = [h.signers[0]!, h.signers[1]!];
    const r = await attack('identity', async (v) => {
      const mine = await genuine(v, me);
      const theirs = await genuine(v, other);
      return { ...mine, signature: theirs.signature };
    });
    expect(r).toMatchObject({ status: 422, code: 'BAD_SIGNATURE' });
  });

  it(title('A04'), async () => {
    const person = h.signers[0]!;
    const r = await attack('identity', async (v) => {
      const statement = Buffer.from(v.to_be_signed, 'base64url').toString('utf8');
      const edited = statement.replace(v.purpose, '会員登録(無料)');
      expect(edited).not.toBe(statement);
      return genuine({ ...v, to_be_signed: Buffer.from(edited, 'utf8').toString('base64url') }, person);
    });
    expect(r).toMatchObject({ status: 422, code: 'BAD_SIGNATURE' });
  });

  it(title('A05'), async () => {
    // The same database and ceremony code, with the verifier a production deployment runs.
    const production = h.withVerifier({ mode: 'production' });
    const c = await h.ceremony('identity');
    const body = await genuine(await h.view(c), h.signers[0]!);
    const r = await h.submitTo(production, c.id, body);
    expect(r.error).toBeInstanceOf(UntrustedIssuer);
    expect(r.code).toBe('UNTRUSTED_ISSUER');
    expect(String((r.error as Error).message)).toMatch(/simulator CA; production mode trusts only the J-LIS roots/);
    await h.expectNoVerified(c.id, { rejected: true });
  });

  it(title('A06'), async () => {
    // A JPKI-TEST hierarchy: the simulator's root and a holder certificate renamed O=JPKI-TEST, with
    // the J-LIS test policy, re-signed by that root. An operator has (wrongly) trusted the test root.
    const person = h.signers[0]!;
    const root = h.p.sandbox.ca.root(issuerIdOf(person));
    const testPolicy = KNOWN_POLICIES.find((x) => x.environment === 'test')!.oid;
    const testRoot = mutate(root.der, (tbs) => replaceUtf8(tbs, 'JPKI-SIM', 'JPKI-TEST'), root.privateKey);
    const c = await h.ceremony('identity');
    const body = await genuine(await h.view(c), person);
    const leaf = mutate(
      certOf(body),
      (tbs) => {
        replaceUtf8(tbs, 'JPKI-SIM', 'JPKI-TEST');
        setExtensionValue(tbs, OID.certificatePolicies, policyValue(testPolicy));
      },
      root.privateKey,
    );
    const store = TrustStore.jlis();
    const anchor = store.add(testRoot, { label: 'jpki-test-signca' });
    expect(anchor.environment).toBe('test');
    // The forgery is a well-formed test certificate: sandbox mode with that root accepts it.
    expect(validate(leaf, { mode: 'sandbox', trustStore: store, kind: 'sign' })).toMatchObject({
      environment: 'test',
      kind: 'sign',
    });
    await expectTyped(
      () => validate(leaf, { mode: 'production', trustStore: store, kind: 'sign' }),
      UntrustedIssuer,
      'UNTRUSTED_ISSUER',
    );
    await expectTyped(() => validate(leaf, { mode: 'production', kind: 'sign' }), UntrustedIssuer, 'UNTRUSTED_ISSUER');
    // End to end: a production platform whose trust store holds the test root.
    const r = await h.submitTo(h.withVerifier({ mode: 'production', trustStore: store }), c.id, {
      ...body,
      certificate: b64(leaf),
    });
    expect(r.error).toBeInstanceOf(UntrustedIssuer);
    expect(r.code).toBe('UNTRUSTED_ISSUER');
    await h.expectNoVerified(c.id, { rejected: true });
  });

  it(title('A07'), async () => {
    const person = h.signers[0]!;
    const r = await attack('identity', (v) => genuine({ ...v, certificate: 'auth' }, person));
    expect(r).toMatchObject({ status: 422, code: 'WRONG_KIND' });
  });

  it(title('A08'), async () => {
    const person = h.signers[0]!;
    const r = await attack('login', (v) => {
      expect(v.certificate).toBe('auth');
      return genuine({ ...v, certificate: 'sign' }, person);
    });
    expect(r).toMatchObject({ status: 422, code: 'WRONG_KIND' });
  });

  it(title('A09'), async () => {
    const person = h.signers[2]!;
    await h.p.sandbox.applyEvent(person, 'expire');
    expect(h.p.sandbox.currentCertificateRecord(person, 'sign').notAfter < new Date().toISOString()).toBe(true);
    const c = await h.ceremony('identity');
    // The holder's own card, holding the expired certificate and its key.
    const r = await holderRespond(h.p.sandbox, h.holderUrl(c), { person });
    expect(r).toMatchObject({ status: 422, body: { error: { code: 'EXPIRED' } } });
    await h.expectNoVerified(c.id, { rejected: true });
  });

  it(title('A10'), async () => {
    const person = h.signers[1]!;
    const who = h.p.sandbox.person(person);
    const key = h.p.sandbox.privateKey(person, 'sign');
    const tomorrow = new Date(Date.now() + 86_400_000);
    const future = await h.p.sandbox.ca.issueSign(
      {
        name: who.name,
        nameSubstitute: who.nameSubstitute,
        sex: who.sex,
        birthDate: who.birthDate,
        address: who.address,
        addressSubstitute: who.addressSubstitute,
      },
      { publicKey: createPublicKey(key), notBefore: tomorrow },
    );
    const r = await attack('identity', (v) => ({
      nonce: v.nonce,
      certificate: b64(future.der),
      signature: signWith(key, v),
    }));
    expect(r).toMatchObject({ status: 422, code: 'NOT_YET_VALID' });
  });

  it(title('A11'), async () => {
    const person = h.signers[0]!;
    const r = await attack('identity', async (v) => {
      const body = await genuine(v, person);
      const foreign = mutate(
        certOf(body),
        (tbs) => setAki(tbs, randomBytes(20), Buffer.from('7A11CE55', 'hex')),
        attacker.privateKey,
      );
      return { ...body, certificate: b64(foreign) };
    });
    expect(r).toMatchObject({ status: 422, code: 'UNKNOWN_ISSUER_GENERATION' });
  });

  it(title('A12'), async () => {
    const c = await h.ceremony('identity');
    const v = await h.view(c);
    const huge = Buffer.concat([Buffer.from('30825000', 'hex'), randomBytes(0x5000)]);
    expect(await h.post(c, { nonce: v.nonce, certificate: b64(huge), signature: b64(randomBytes(256)) })).toMatchObject(
      { status: 400, code: 'MALFORMED_SUBMISSION' },
    );
    // Refused before any verification: the ceremony is still open, nothing was recorded.
    expect(await h.outcomes(c.id)).toEqual([]);
    expect((await h.view(c)).state).toBe('pending');
    await h.expectNoVerified(c.id);
  });

  it(title('A13'), async () => {
    const person = h.signers[0]!;
    const der = h.p.sandbox.currentCertificate(person, 'sign');
    // A certificate-shaped object of 17 KiB: the genuine certificate padded inside a larger SEQUENCE.
    const oversized = encodeTlv(TAG.SEQUENCE, der, Buffer.alloc(17 * 1024 - der.length));
    const e = await expectTyped(() => parseCertificate(oversized), Malformed, 'MALFORMED');
    expect(e.message).toMatch(/exceeds/);
    await expectTyped(
      () => validate(oversized, { mode: 'sandbox', trustStore: h.p.server.platform.verifier.options.trustStore }),
      Malformed,
      'MALFORMED',
    );
  });

  it(title('A14'), async () => {
    let nested = Buffer.from('3000', 'hex');
    for (let i = 0; i < 3500; i++) nested = Buffer.concat([Buffer.from([0x30]), lengthOctets(nested.length), nested]);
    expect(nested.length).toBeLessThan(16 * 1024);
    await expectTyped(() => parseCertificate(nested), Malformed, 'MALFORMED');
    const r = await attack('identity', (v) => ({
      nonce: v.nonce,
      certificate: b64(nested),
      signature: b64(randomBytes(256)),
    }));
    expect(r).toMatchObject({ status: 422, code: 'MALFORMED' });
  });

  it(title('A15'), async () => {
    const der = h.p.sandbox.currentCertificate(h.signers[0]!, 'sign');
    expect(der.subarray(0, 2).toString('hex')).toBe('3082');
    const body = der.subarray(4);
    // Outer length 2^32 − 1 with a few hundred bytes behind it.
    await expectTyped(
      () => parseCertificate(Buffer.concat([Buffer.from('3084ffffffff', 'hex'), body])),
      Malformed,
      'MALFORMED',
    );
    // A 5-byte length field (would overflow 32-bit arithmetic).
    await expectTyped(
      () => parseCertificate(Buffer.concat([Buffer.from('30850100000000', 'hex'), body])),
      Malformed,
      'MALFORMED',
    );
    // The TBS claims 0xFFFF bytes inside a certificate of ~1.5 KiB.
    const inner = Buffer.from(der);
    expect(inner.subarray(4, 6).toString('hex')).toBe('3082');
    inner.writeUInt16BE(0xffff, 6);
    const e = await expectTyped(() => parseCertificate(inner), Malformed, 'MALFORMED');
    expect(e.message).toMatch(/truncated/);
  });

  it(title('A16'), async () => {
    const person = h.signers[0]!;
    const der = h.p.sandbox.currentCertificate(person, 'sign');
    const content = der.subarray(4);
    // Indefinite length (BER), terminated by end-of-contents.
    const indefinite = Buffer.concat([Buffer.from('3080', 'hex'), content, Buffer.from('0000', 'hex')]);
    expect((await expectTyped(() => parseCertificate(indefinite), Malformed, 'MALFORMED')).message).toMatch(
      /indefinite/,
    );
    // Non-minimal length octets for the same content.
    const nonMinimal = Buffer.concat([Buffer.from([0x30, 0x83, 0x00]), der.subarray(2, 4), content]);
    expect((await expectTyped(() => parseCertificate(nonMinimal), Malformed, 'MALFORMED')).message).toMatch(
      /non-minimal/,
    );
    // A non-minimal INTEGER inside a certificate the CA itself re-signed: strictness, not the signature, refuses it.
    const root = h.p.sandbox.ca.root(issuerIdOf(person));
    const padded = mutate(
      der,
      (tbs) => (at(tbs, 1).value = Buffer.concat([Buffer.from([0]), at(tbs, 1).value!])),
      root.privateKey,
    );
    expect(padded[0]).toBe(0x30);
    await expectTyped(
      () => validate(padded, { mode: 'sandbox', trustStore: h.p.server.platform.verifier.options.trustStore }),
      Malformed,
      'MALFORMED',
    );
  });

  it(title('A82'), async () => {
    // The root itself, with a holder signature its own key made: every later check would pass.
    const root = signingRoot();
    const r = await attack('identity', (v) => ({
      nonce: v.nonce,
      certificate: b64(root.der),
      signature: signWith(root.key, v),
    }));
    expect(r).toMatchObject({ code: 'INVALID_BASIC_CONSTRAINTS' });
    expect(r.status).toBeGreaterThanOrEqual(400);
  });

  it(title('A83'), async () => {
    const root = signingRoot(issuerIdOf(h.signers[0]!));
    const store = h.p.server.platform.verifier.options.trustStore;
    const leaf = certOf(await genuine(await h.view(await h.ceremony('identity')), h.signers[0]!));
    // keyCertSign with the holder's usages, and basicConstraints cA added: each re-signed by the real root.
    const keyCertSign = mutate(
      leaf,
      (tbs) => setExtensionValue(tbs, OID.keyUsage, Buffer.from('030202c4', 'hex')),
      root.key,
    );
    await expectTyped(
      () => validate(keyCertSign, { mode: 'sandbox', trustStore: store, kind: 'sign' }),
      InvalidBasicConstraints,
      'INVALID_BASIC_CONSTRAINTS',
    );
    const withCa = mutate(
      leaf,
      (tbs) =>
        extensions(tbs).push({
          tag: TAG.SEQUENCE,
          children: [
            { tag: TAG.OID, value: encodeOid(OID.basicConstraints).subarray(2) },
            { tag: TAG.OCTET_STRING, value: Buffer.from('30030101ff', 'hex') },
          ],
        }),
      root.key,
    );
    await expectTyped(
      () => validate(withCa, { mode: 'sandbox', trustStore: store, kind: 'sign' }),
      InvalidBasicConstraints,
      'INVALID_BASIC_CONSTRAINTS',
    );
    // The unmodified leaf, re-signed the same way, is accepted: the refusal is the CA marking alone.
    expect(
      validate(
        mutate(leaf, () => undefined, root.key),
        { mode: 'sandbox', trustStore: store, kind: 'sign' },
      ).kind,
    ).toBe('sign');
  });
});

function lengthOctets(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  if (n < 0x100) return Buffer.from([0x81, n]);
  return Buffer.from([0x82, n >> 8, n & 0xff]);
}
