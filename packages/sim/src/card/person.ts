// A sandbox resident's virtual card or phone token: their current certificates and keys, their
// sandbox PINs, their basic 4 info in the 券面事項入力補助AP under the sandbox's own CVC CA, and PIN
// counters persisted under `<sandbox>/cards/state` (so a PIN blocked through the CLI stays blocked).

import { createPrivateKey, type KeyObject } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Medium } from '@kakunin/jpki/oids';
import { isSimError } from '../errors.js';
import { generateRsaKeyPairSync } from '../keys.js';
import type { Sandbox } from '../sandbox.js';
import {
  cvcAnchorOf,
  cvcKey,
  SIM_CVC_CA_KEY_ID,
  simKeyId,
  type CvcAnchorData,
  type CvcAuthority,
} from './card-info.js';
import { FilePinStateStore, type PinName, type PinStateStore } from './state-store.js';
import type { CardMaterial } from './material.js';
import { VirtualCard } from './virtual-card.js';

export interface CardForPersonOptions {
  /** PIN state store (default: files under `<sandbox>/cards/state`). */
  stateStore?: PinStateStore;
  extendedLength?: boolean;
  sfi?: boolean;
}

/** Directory of the sandbox's card material (CVC keys, PIN state). */
export const cardsDir = (sandbox: Sandbox): string => join(sandbox.dir, 'cards');

/** Reads a PKCS#8 key file, creating it first (atomically, first writer wins) when missing. */
function persistentKey(file: string): KeyObject {
  if (!existsSync(file)) {
    mkdirSync(join(file, '..'), { recursive: true });
    const pem = generateRsaKeyPairSync().privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    }) as string;
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    writeFileSync(tmp, pem, { mode: 0o600 });
    try {
      linkSync(tmp, file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    } finally {
      rmSync(tmp, { force: true });
    }
  }
  return createPrivateKey(readFileSync(file));
}

/** The sandbox's CVC authority for a municipality: one CA key per sandbox, one signer key per municipality. */
export function sandboxCvcAuthority(sandbox: Sandbox, municipalityCode: string): CvcAuthority {
  if (!/^[0-9]{5}$/.test(municipalityCode))
    throw new TypeError(`municipality code "${municipalityCode}" is not 5 digits`);
  const dir = cardsDir(sandbox);
  return {
    ca: cvcKey(SIM_CVC_CA_KEY_ID, persistentKey(join(dir, 'cvc-ca.pem'))),
    signer: cvcKey(simKeyId(`9${municipalityCode}0`), persistentKey(join(dir, `cvc-signer-${municipalityCode}.pem`))),
  };
}

/** The anchor a reader pins to verify the card-info data of this sandbox's cards. */
export function sandboxCvcAnchor(sandbox: Sandbox): CvcAnchorData {
  return cvcAnchorOf(
    cvcKey(SIM_CVC_CA_KEY_ID, persistentKey(join(cardsDir(sandbox), 'cvc-ca.pem'))),
    `Kakunin simulator CVC CA 9000033 (sandbox ${sandbox.dir})`,
  );
}

function optionalRecord<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch (e) {
    if (isSimError(e) && e.code === 'NO_SUCH_CERTIFICATE') return undefined;
    throw e;
  }
}

/** A virtual card (or Android / iPhone token) holding a person's current certificates. */
/** What a resident's card or phone token holds (certificates, keys, PINs, card-info data), e.g. for a card process on vpcd. */
export function personCardMaterial(sandbox: Sandbox, personId: string, medium: Medium = 'card'): CardMaterial {
  const person = sandbox.person(personId);
  const authRecord = sandbox.currentCertificateRecord(personId, 'auth', medium);
  const signRecord = optionalRecord(() => sandbox.currentCertificateRecord(personId, 'sign', medium));
  const roots = sandbox.roots();
  const root = (id: string): Buffer => {
    const r = roots.find((x) => x.id === id);
    if (!r) throw new Error(`root ${id} is not in the sandbox`);
    return r.der;
  };
  // A card without a signing certificate (under 15) still carries a signing CA certificate: the newest one for its medium.
  const signCa =
    signRecord !== undefined
      ? root(signRecord.issuerId)
      : ([...roots]
          .filter((r) => r.kind === 'sign' && r.medium === medium)
          .sort((a, b) => b.generation - a.generation)[0]?.der ?? root(authRecord.issuerId));
  const birth = person.birthDate.replace(/-/g, '');
  return {
    token: medium,
    authCertDer: sandbox.currentCertificate(personId, 'auth', medium),
    authKeyPem: sandbox.privateKey(personId, 'auth', medium),
    ...(signRecord
      ? {
          signCertDer: sandbox.currentCertificate(personId, 'sign', medium),
          signKeyPem: sandbox.privateKey(personId, 'sign', medium),
        }
      : {}),
    authCaDer: root(authRecord.issuerId),
    signCaDer: signCa,
    pins: { auth: person.pins.auth, ...(signRecord ? { sign: person.pins.sign } : {}), cardInfo: person.pins.cardInfo },
    ...(medium === 'card'
      ? {
          basicInfo: { name: person.trueName, address: person.trueAddress, birthDate: birth, sex: person.sex },
          cvcCa: sandboxCvcAuthority(sandbox, person.municipalityCode),
        }
      : {}),
    cardId: `${personId}-${medium}`,
  };
}

export function cardForPerson(
  sandbox: Sandbox,
  personId: string,
  medium: Medium = 'card',
  options: CardForPersonOptions = {},
): VirtualCard {
  return new VirtualCard({
    ...personCardMaterial(sandbox, personId, medium),
    stateStore: options.stateStore ?? new FilePinStateStore(join(cardsDir(sandbox), 'state')),
    ...(options.extendedLength !== undefined ? { extendedLength: options.extendedLength } : {}),
    ...(options.sfi !== undefined ? { sfi: options.sfi } : {}),
  });
}

export interface PinReset {
  cardId: string;
  /** Tries left per PIN before the reset (as the card held them). */
  before: Partial<Record<PinName, number>>;
  /** The PINs the holder may use again: the ones `kakunin sim people` lists. */
  reset: PinName[];
}

/**
 * The sandbox's municipal counter (市区町村窓口での暗証番号の初期化): every retry counter of a
 * person's virtual card back to its maximum, and a PIN changed on the card back to the initial one
 * that `kakunin sim people` lists. On a real card this takes the holder to the counter with the card
 * and an identity document; in the sandbox a newcomer who blocked a PIN would otherwise be stuck.
 */
export function resetCardPins(
  sandbox: Sandbox,
  personId: string,
  medium: Medium = 'card',
  options: { stateStore?: PinStateStore } = {},
): PinReset {
  sandbox.person(personId); // a clear error for an unknown person
  const cardId = `${personId}-${medium}`;
  const store = options.stateStore ?? new FilePinStateStore(join(cardsDir(sandbox), 'state'));
  const before = store.load(cardId)?.tries ?? {};
  // No saved state is the card as issued: full counters, initial PINs.
  store.save(cardId, { tries: {}, changedPinSha256: {} });
  return { cardId, before, reset: ['auth', 'sign', 'cardInfo'] };
}
