// Every check `validate` owes, made to fail: each case mutates a valid simulator certificate
// (re-signed by the CA where the mutation must get past the signature check) and expects its own
// typed error.
import 'reflect-metadata';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  BadSignature,
  Expired,
  InvalidBasicConstraints,
  Malformed,
  NotYetValid,
  TrustStore,
  UnknownCriticalExtension,
  UnknownIssuerGeneration,
  UntrustedIssuer,
  WeakKey,
  WrongKeyUsage,
  WrongKind,
  WrongPolicy,
  KNOWN_POLICIES,
  OID,
  VALIDATION_STEPS,
  failedValidationStep,
  parseCertificate,
  validate,
  type JpkiCertificate,
  type JpkiError,
  type TrustAnchor,
} from '@kakunin/jpki';
import { TAG, encodeOid, encodeTlv } from '@kakunin/jpki/der';
import { SimCa, type RootSpec } from '@kakunin/sim';
import { at, decodeTree, encodeTree, type DerNode } from '../../../test/support/der-tree.js';

const YEAR = 365.25 * 86_400_000;
const now = new Date();
const shift = (years: number): Date => new Date(now.getTime() + years * YEAR);

const SPECS: RootSpec[] = (['auth', 'sign'] as const).flatMap((kind) => [
  { id: `t-${kind}ca01`, kind, medium: 'card' as const, generation: 1, notBefore: shift(-6), notAfter: shift(4) },
  { id: `t-${kind}ca02`, kind, medium: 'card' as const, generation: 2, notBefore: shift(-2), notAfter: shift(8) },
]);

let ca: SimCa;
let store: TrustStore;
let auth: Buffer;
let sign: Buffer;
let authGen1: Buffer;
let holderKey: KeyObject;

const PERSON = {
  name: '試験　花子',
  sex: '2',
  birthDate: '1990-04-01',
  address: '福井県福井市大手３－１０－１',
} as const;

beforeAll(async () => {
  ca = await SimCa.create(SPECS, 'http://127.0.0.1:8900');
  store = TrustStore.jlis();
  for (const r of ca.roots()) store.add(r.der, { label: r.id });
  const a = await ca.issueAuth({ birthDate: PERSON.birthDate, municipality: '18201' });
  holderKey = a.publicKey;
  auth = a.der;
  sign = (await ca.issueSign(PERSON, { publicKey: holderKey })).der;
  authGen1 = (
    await ca.issueAuth(
      { birthDate: PERSON.birthDate, municipality: '18201' },
      { publicKey: holderKey, generation: 1, notBefore: shift(-3) },
    )
  ).der;
});

const sandbox = (der: Uint8Array, extra: Parameters<typeof validate>[1] = {}) =>
  validate(der, { mode: 'sandbox', trustStore: store, ...extra });

function expectError(fn: () => unknown, type: abstract new (...args: never[]) => JpkiError, code: string): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, `expected ${type.name}`).toBeInstanceOf(type);
  expect((thrown as JpkiError).code).toBe(code);
  expect((thrown as JpkiError).messageJa.length).toBeGreaterThan(0);
}

/** Parses the certificate, lets `edit` change the TBS, and re-signs it with the issuing root (or not). */
function mutate(der: Buffer, edit: (tbs: DerNode) => void, resignWith: string | null): Buffer {
  const tree = decodeTree(der);
  const tbs = at(tree, 0);
  edit(tbs);
  if (resignWith === null) return encodeTree(tree);
  return ca.signTbs(resignWith, encodeTree(tbs));
}

const issuerOf = (der: Buffer): string => sandbox(der).generation;

function extensions(tbs: DerNode): DerNode[] {
  return at(tbs, 7, 0).children!;
}

function extension(tbs: DerNode, oid: string): DerNode {
  const want = encodeOid(oid).subarray(2);
  const ext = extensions(tbs).find((e) => e.children![0]!.value!.equals(want));
  if (!ext) throw new Error(`no extension ${oid}`);
  return ext;
}

const setExtensionValue = (tbs: DerNode, oid: string, value: Buffer): void => {
  const ext = extension(tbs, oid);
  ext.children![ext.children!.length - 1] = { tag: TAG.OCTET_STRING, value };
};

/** Rewrites the AKI's keyIdentifier and authorityCertSerialNumber (its authorityCertIssuer stays). */
function setAki(tbs: DerNode, keyId: Buffer, serial: Buffer): void {
  const aki = extension(tbs, OID.authorityKeyIdentifier);
  const value = decodeTree(aki.children![aki.children!.length - 1]!.value!);
  value.children![0]!.value = keyId;
  value.children![2]!.value = serial;
  aki.children![aki.children!.length - 1] = { tag: TAG.OCTET_STRING, value: encodeTree(value) };
}

const utcTime = (d: Date): DerNode => ({
  tag: TAG.UTC_TIME,
  value: Buffer.from(`${d.toISOString().slice(2, 19).replace(/[-T:]/g, '')}Z`),
});

const policyValue = (oid: string): Buffer => encodeTlv(TAG.SEQUENCE, encodeTlv(TAG.SEQUENCE, encodeOid(oid)));

const extensionNode = (oid: string, critical: boolean, value: Buffer): DerNode => ({
  tag: TAG.SEQUENCE,
  children: [
    { tag: TAG.OID, value: encodeOid(oid).subarray(2) },
    ...(critical ? [{ tag: TAG.BOOLEAN, value: Buffer.from([0xff]) }] : []),
    { tag: TAG.OCTET_STRING, value },
  ],
});

// Certificates that fail one check each (used by the case tests and by the step table below).
const bad = {
  authClaimingNonRepudiation: () =>
    mutate(auth, (t) => setExtensionValue(t, OID.keyUsage, Buffer.from('030206c0', 'hex')), issuerOf(auth)),
  unknownPolicy: () =>
    mutate(auth, (t) => setExtensionValue(t, OID.certificatePolicies, policyValue('1.2.3.4.5')), issuerOf(auth)),
  tamperedTbs: () =>
    mutate(
      auth,
      (t) => {
        const cn = at(t, 5, 1, 0, 1);
        cn.value = Buffer.from(cn.value!.toString('utf8').replace(/^./, (c) => (c === 'A' ? 'B' : 'A')));
      },
      null,
    ),
  withExtension: (critical: boolean) =>
    mutate(
      auth,
      (t) => extensions(t).push(extensionNode('1.3.6.1.4.1.55555.1', critical, Buffer.from('0500', 'hex'))),
      issuerOf(auth),
    ),
  akiOfNoGeneration: () =>
    mutate(auth, (t) => setAki(t, Buffer.alloc(20, 0x11), Buffer.from('7777AAAA', 'hex')), issuerOf(auth)),
  endEntityMarkedCa: () =>
    mutate(
      auth,
      (t) => extensions(t).push(extensionNode(OID.basicConstraints, true, Buffer.from('30030101ff', 'hex'))),
      issuerOf(auth),
    ),
  weakKey: () => {
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'der', type: 'spki' });
    return mutate(auth, (t) => (t.children![6] = decodeTree(small)), issuerOf(auth));
  },
};

describe('valid simulator certificates', () => {
  it('validate in sandbox mode with kind, environment, medium and generation', () => {
    expect(sandbox(auth)).toMatchObject({
      kind: 'auth',
      environment: 'simulator',
      medium: 'card',
      generation: 't-authca02',
      isAnchor: false,
    });
    expect(sandbox(sign, { kind: 'sign' })).toMatchObject({ kind: 'sign', generation: 't-signca02' });
    expect(sandbox(authGen1).generation).toBe('t-authca01');
  });
});

describe('each check fails with its own typed error', () => {
  it('production mode rejects a simulator certificate: UntrustedIssuer', () => {
    expectError(() => validate(auth, { mode: 'production', trustStore: store }), UntrustedIssuer, 'UNTRUSTED_ISSUER');
    expectError(() => validate(sign), UntrustedIssuer, 'UNTRUSTED_ISSUER');
  });

  it('an issuer no anchor is named like: UntrustedIssuer', () => {
    expectError(
      () => validate(auth, { mode: 'sandbox', trustStore: TrustStore.jlis() }),
      UntrustedIssuer,
      'UNTRUSTED_ISSUER',
    );
  });

  it('wrong key usage (auth cert claiming nonRepudiation): WrongKeyUsage', () => {
    expectError(() => sandbox(bad.authClaimingNonRepudiation()), WrongKeyUsage, 'WRONG_KEY_USAGE');
  });

  it('wrong key usage (signing cert without nonRepudiation): WrongKeyUsage', () => {
    const bad = mutate(sign, (t) => setExtensionValue(t, OID.keyUsage, Buffer.from('03020780', 'hex')), issuerOf(sign));
    expectError(() => sandbox(bad), WrongKeyUsage, 'WRONG_KEY_USAGE');
  });

  it('key usage not critical: WrongKeyUsage', () => {
    const bad = mutate(auth, (t) => extension(t, OID.keyUsage).children!.splice(1, 1), issuerOf(auth));
    expectError(() => sandbox(bad), WrongKeyUsage, 'WRONG_KEY_USAGE');
  });

  it('unknown policy OID: WrongPolicy', () => {
    expectError(() => sandbox(bad.unknownPolicy()), WrongPolicy, 'WRONG_POLICY');
  });

  it('a production policy on a simulator-issued certificate: WrongPolicy', () => {
    const production = KNOWN_POLICIES.find((p) => p.kind === 'auth' && p.environment === 'production')!.oid;
    const bad = mutate(
      auth,
      (t) => setExtensionValue(t, OID.certificatePolicies, policyValue(production)),
      issuerOf(auth),
    );
    expectError(() => sandbox(bad), WrongPolicy, 'WRONG_POLICY');
  });

  it('a signing policy on a certificate from the auth CA: WrongPolicy', () => {
    const signPolicy = parseCertificate(sign).x509.policies[0]!;
    const bad = mutate(
      auth,
      (t) => setExtensionValue(t, OID.certificatePolicies, policyValue(signPolicy)),
      issuerOf(auth),
    );
    expectError(() => sandbox(bad), WrongPolicy, 'WRONG_POLICY');
  });

  it('expired: Expired', () => {
    const bad = mutate(auth, (t) => (at(t, 4).children![1] = utcTime(shift(-1))), issuerOf(auth));
    expectError(() => sandbox(bad), Expired, 'EXPIRED');
    expectError(() => sandbox(auth, { at: shift(20) }), Expired, 'EXPIRED');
  });

  it('not yet valid: NotYetValid', () => {
    const bad = mutate(auth, (t) => (at(t, 4).children![0] = utcTime(shift(1))), issuerOf(auth));
    expectError(() => sandbox(bad), NotYetValid, 'NOT_YET_VALID');
  });

  it('tampered TBS (one byte of the subject changed, not re-signed): BadSignature', () => {
    expectError(() => sandbox(bad.tamperedTbs()), BadSignature, 'BAD_SIGNATURE');
  });

  it('unknown critical extension: UnknownCriticalExtension (accepted when not critical)', () => {
    expectError(() => sandbox(bad.withExtension(true)), UnknownCriticalExtension, 'UNKNOWN_CRITICAL_EXTENSION');
    expect(sandbox(bad.withExtension(false)).kind).toBe('auth');
  });

  it('wrong issuer generation (AKI names a generation that does not exist): UnknownIssuerGeneration naming the AKI serial', () => {
    const aki = bad.akiOfNoGeneration();
    expectError(() => sandbox(aki), UnknownIssuerGeneration, 'UNKNOWN_ISSUER_GENERATION');
    expect(() => sandbox(aki)).toThrow(/7777AAAA/);
  });

  it('wrong issuer generation (issuing generation missing from the trust store): UnknownIssuerGeneration', () => {
    const onlyGen2 = new TrustStore();
    for (const r of ca.roots().filter((r) => r.generation === 2)) onlyGen2.add(r.der, { label: r.id });
    expect(validate(auth, { mode: 'sandbox', trustStore: onlyGen2 }).generation).toBe('t-authca02');
    expectError(
      () => validate(authGen1, { mode: 'sandbox', trustStore: onlyGen2 }),
      UnknownIssuerGeneration,
      'UNKNOWN_ISSUER_GENERATION',
    );
  });

  it('AKI of generation 2 but signed by generation 1 (issuer picked by DN would pass): BadSignature', () => {
    const gen2 = ca.roots().find((r) => r.id === 't-authca02')!;
    const bad = mutate(authGen1, (t) => setAki(t, gen2.keyId, Buffer.from(gen2.serial, 'hex')), 't-authca01');
    expectError(() => sandbox(bad), BadSignature, 'BAD_SIGNATURE');
  });

  it('truncated DER: Malformed', () => {
    for (const cut of [1, 10, 300, auth.length - 1])
      expectError(() => sandbox(auth.subarray(0, auth.length - cut)), Malformed, 'MALFORMED');
    expectError(() => parseCertificate(auth.subarray(0, 3)), Malformed, 'MALFORMED');
  });

  it('trailing garbage: Malformed', () => {
    expectError(() => sandbox(Buffer.concat([auth, Buffer.from([0])])), Malformed, 'MALFORMED');
    expectError(() => sandbox(Buffer.concat([sign, Buffer.from('garbage')])), Malformed, 'MALFORMED');
  });

  it('inner and outer signature algorithms differ: Malformed', () => {
    const bad = mutate(
      auth,
      (t) => (at(t, 2).children![0]!.value = encodeOid('1.2.840.113549.1.1.5').subarray(2)),
      null,
    );
    expectError(() => sandbox(bad), Malformed, 'MALFORMED');
  });

  it('an end-entity certificate marked as CA: InvalidBasicConstraints', () => {
    expectError(() => sandbox(bad.endEntityMarkedCa()), InvalidBasicConstraints, 'INVALID_BASIC_CONSTRAINTS');
  });

  it('an RSA key under 2048 bits: WeakKey', () => {
    expectError(() => sandbox(bad.weakKey()), WeakKey, 'WEAK_KEY');
  });

  it('an auth certificate where a signing certificate is required: WrongKind', () => {
    expectError(() => sandbox(auth, { kind: 'sign' }), WrongKind, 'WRONG_KIND');
    expectError(() => sandbox(sign, { kind: 'auth' }), WrongKind, 'WRONG_KIND');
  });

  it('a malformed basic 4 info (birth date not EYYYYMMDD): Malformed', () => {
    const bad = mutate(
      sign,
      (t) => {
        const san = extension(t, OID.subjectAltName);
        const names = decodeTree(san.children![san.children!.length - 1]!.value!);
        for (const gn of names.children!) {
          if (gn.children![0]!.value!.equals(encodeOid(OID.birthDate).subarray(2)))
            at(gn, 1, 0).value = Buffer.from('919900231');
        }
        san.children![san.children!.length - 1] = { tag: TAG.OCTET_STRING, value: encodeTree(names) };
      },
      issuerOf(sign),
    );
    expectError(() => sandbox(bad), Malformed, 'MALFORMED');
  });
});

/**
 * For every step of `validate` and every code it can throw, a certificate (or a call) that fails
 * that step with that code. Keyed by the steps' own names and codes: a new step, or a new code of a
 * step, does not compile until it has its case here.
 */
type StepFailures = {
  [S in (typeof VALIDATION_STEPS)[number] as S['name']]: Record<S['codes'][number], () => unknown>;
};

/** The issuing root of `auth` with its TBS edited and re-signed with its own key. */
function editedRoot(edit: (tbs: DerNode) => void): { anchor: TrustAnchor; certificate: JpkiCertificate } {
  const anchor = store.list().find((a) => a.label === issuerOf(auth))!;
  const der = mutate(anchor.certificate.x509.der, edit, anchor.label);
  return { anchor, certificate: parseCertificate(der) };
}

/** A store whose issuer for `auth` is `anchor` as is: TrustStore itself refuses a non-CA anchor. */
class StoreOf extends TrustStore {
  private readonly only: TrustAnchor;
  constructor(only: TrustAnchor) {
    super();
    this.only = only;
  }
  override candidatesFor(): readonly TrustAnchor[] {
    return [this.only];
  }
}

const simRoot = (): Buffer => ca.roots()[0]!.der;

const STEP_FAILURES: StepFailures = {
  'anchor-itself': {
    INVALID_BASIC_CONSTRAINTS: () => sandbox(simRoot()),
    UNTRUSTED_ISSUER: () => validate(simRoot(), { mode: 'production', trustStore: store, acceptAnchor: true }),
  },
  'end-entity': {
    UNTRUSTED_ISSUER: () => validate(simRoot(), { mode: 'sandbox', trustStore: TrustStore.jlis() }),
    INVALID_BASIC_CONSTRAINTS: () => sandbox(bad.endEntityMarkedCa()),
  },
  'issuer-name': { UNTRUSTED_ISSUER: () => validate(auth, { mode: 'production', trustStore: store }) },
  'issuer-generation': { UNKNOWN_ISSUER_GENERATION: () => sandbox(bad.akiOfNoGeneration()) },
  signature: { BAD_SIGNATURE: () => sandbox(bad.tamperedTbs()) },
  'issuer-ca': {
    INVALID_BASIC_CONSTRAINTS: () => {
      const { anchor, certificate } = editedRoot((t) =>
        setExtensionValue(t, OID.basicConstraints, Buffer.from('3000', 'hex')),
      );
      return validate(auth, { mode: 'sandbox', trustStore: new StoreOf({ ...anchor, certificate }) });
    },
    WRONG_KEY_USAGE: () => {
      const { certificate } = editedRoot((t) => setExtensionValue(t, OID.keyUsage, Buffer.from('03020780', 'hex')));
      const only = new TrustStore();
      only.add(certificate, { label: 'no-keyCertSign' });
      return validate(auth, { mode: 'sandbox', trustStore: only });
    },
  },
  validity: { EXPIRED: () => sandbox(auth, { at: shift(20) }), NOT_YET_VALID: () => sandbox(auth, { at: shift(-1) }) },
  'key-size': { WEAK_KEY: () => sandbox(bad.weakKey()) },
  'critical-extensions': { UNKNOWN_CRITICAL_EXTENSION: () => sandbox(bad.withExtension(true)) },
  policy: { WRONG_POLICY: () => sandbox(bad.unknownPolicy()) },
  'key-usage': { WRONG_KEY_USAGE: () => sandbox(bad.authClaimingNonRepudiation()) },
  kind: { WRONG_KIND: () => sandbox(auth, { kind: 'sign' }) },
};

describe('validation steps', () => {
  it('every step, in order, has a case for each code it can throw', () => {
    expect(Object.keys(STEP_FAILURES)).toEqual(VALIDATION_STEPS.map((s) => s.name));
    for (const step of VALIDATION_STEPS)
      expect(Object.keys(STEP_FAILURES[step.name]).sort()).toEqual([...step.codes].sort());
  });

  for (const step of VALIDATION_STEPS) {
    for (const code of step.codes) {
      it(`${step.name} fails with ${code}`, () => {
        const fail = (STEP_FAILURES[step.name] as Record<string, () => unknown>)[code]!;
        let thrown: unknown;
        try {
          fail();
        } catch (e) {
          thrown = e;
        }
        expect((thrown as JpkiError | undefined)?.code, String(thrown)).toBe(code);
        expect(failedValidationStep(thrown)).toBe(step.name);
      });
    }
  }

  it('a caller skips a step by name: validity, for a certificate long expired', () => {
    expectError(() => sandbox(auth, { at: shift(20) }), Expired, 'EXPIRED');
    expect(sandbox(auth, { at: shift(20), skip: ['validity'] }).generation).toBe('t-authca02');
    // Only a step that decides nothing later steps rely on can be skipped.
    // @ts-expect-error -- the signature step is not skippable
    expect(() => sandbox(auth, { skip: ['signature'] })).toThrow(TypeError);
  });
});
