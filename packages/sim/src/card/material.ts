// Ready-made material for virtual cards in tests and benchmarks, without a whole sandbox: four roots
// (auth/sign for cards and Android), one holder key pair per kind reused across media, a CVC authority
// (8 RSA keys in all, generated in parallel), cached per process.

import type { KeyObject } from 'node:crypto';
import { defaultRootSpecs, SimCa } from '../ca.js';
import { generateRsaKeyPair } from '../keys.js';
import { createCvcAuthority, type BasicInfoInput, type CvcAuthority } from './card-info.js';
import type { TokenMedium, VirtualCardOptions } from './virtual-card.js';

export type CardMaterial = Omit<VirtualCardOptions, 'stateStore'>;

export interface TestCardMaterial {
  readonly ca: SimCa;
  readonly cvc: CvcAuthority;
  /** The holder's private keys (auth, sign). */
  readonly keys: { readonly auth: KeyObject; readonly sign: KeyObject };
  /** Options for a VirtualCard of the given medium (add a `stateStore`). */
  material(token: TokenMedium, o?: { withSign?: boolean }): CardMaterial;
}

/** The fictional holder of the spec's JPKI test card (§9.2). */
export const TEST_HOLDER: BasicInfoInput & { readonly birthDateIso: string } = {
  name: '黒桐\u3000幹也',
  address: '東京都清瀬市観布子南１２－７－２０２',
  birthDate: '19800217',
  birthDateIso: '1980-02-17',
  sex: '1',
};

/** The spec's test-card My Number (§9.1); fictional. */
export const TEST_MY_NUMBER = '537686677188';

export const TEST_PINS = { auth: '1234', sign: 'ABC123', cardInfo: '5678' } as const;

let cached: Promise<TestCardMaterial> | undefined;

async function build(): Promise<TestCardMaterial> {
  const now = new Date();
  const specs = defaultRootSpecs(now).filter(
    (s) => (s.medium === 'card' && s.generation === 2) || s.medium === 'android',
  );
  const [ca, auth, sign, cvcCa, cvcSigner] = await Promise.all([
    SimCa.create(specs),
    generateRsaKeyPair(),
    generateRsaKeyPair(),
    generateRsaKeyPair(),
    generateRsaKeyPair(),
  ]);
  const cvc = createCvcAuthority({ caKey: cvcCa.privateKey, signerKey: cvcSigner.privateKey, signerDigits: '9132210' });
  const holder = { birthDate: TEST_HOLDER.birthDateIso, municipality: '13221' };
  const basic4 = {
    name: TEST_HOLDER.name,
    sex: '1' as const,
    birthDate: TEST_HOLDER.birthDateIso,
    address: TEST_HOLDER.address,
  };
  const certs = new Map<string, { der: Buffer; issuerId: string }>();
  for (const medium of ['card', 'android'] as const) {
    const a = await ca.issueAuth(holder, { medium, publicKey: auth.publicKey });
    const s = await ca.issueSign(basic4, { medium, publicKey: sign.publicKey });
    certs.set(`auth/${medium}`, a);
    certs.set(`sign/${medium}`, s);
  }
  const rootDer = (id: string): Buffer => ca.root(id).der;
  return {
    ca,
    cvc,
    keys: { auth: auth.privateKey, sign: sign.privateKey },
    material(token, o = {}) {
      const medium = token === 'card' ? 'card' : 'android';
      const a = certs.get(`auth/${medium}`)!;
      const s = certs.get(`sign/${medium}`)!;
      const withSign = o.withSign ?? true;
      return {
        token,
        authCertDer: a.der,
        authKeyPem: auth.privateKey,
        ...(withSign ? { signCertDer: s.der, signKeyPem: sign.privateKey } : {}),
        authCaDer: rootDer(a.issuerId),
        signCaDer: rootDer(s.issuerId),
        pins: { auth: TEST_PINS.auth, ...(withSign ? { sign: TEST_PINS.sign } : {}), cardInfo: TEST_PINS.cardInfo },
        ...(token === 'card' ? { basicInfo: TEST_HOLDER, myNumber: TEST_MY_NUMBER, cvcCa: cvc } : {}),
      };
    },
  };
}

/** Test material, created once per process. */
export function testCardMaterial(): Promise<TestCardMaterial> {
  cached ??= build();
  return cached;
}
