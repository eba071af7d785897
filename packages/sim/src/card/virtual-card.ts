// A virtual My Number Card (or JPKI smartphone token) at the APDU level, following the simulator
// fidelity checklist of the spec (§11): JPKI AP, 券面事項入力補助AP, PIN counters that persist through
// an injected store, the status words the real card gives, extended Le that can be switched off.

import {
  constants,
  createHash,
  createPrivateKey,
  privateDecrypt,
  privateEncrypt,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import { decodeCommand, respond, SW, type Command } from './apdu.js';
import {
  buildApBasicInfo,
  buildBasicInfo,
  buildCvc,
  buildIntegrityRecord,
  defaultCvcAuthority,
  myNumberEf,
  syntheticMyNumber,
  type BasicInfoInput,
  type CvcAuthority,
} from './card-info.js';
import type { CardPinState, PinName, PinStateStore } from './state-store.js';

export type TokenMedium = 'card' | 'android' | 'iphone';

export const TOKEN_LABEL: Record<TokenMedium, string> = {
  card: 'JPKIAPICCTOKEN2',
  android: 'JPKIAPGPSETOKEN',
  iphone: 'JPKIAPIOSTOKEN',
};

/** Contact ATR OpenSC matches for JPKI (spec §1.3). */
export const MY_NUMBER_CARD_ATR = Uint8Array.from([0x3b, 0xe0, 0x00, 0xff, 0x81, 0x31, 0xfe, 0x45, 0x14]);

export const AIDS = {
  jpki: 'D392F000260100000001',
  cardInfo: 'D3921000310001010408',
  cardFace: 'D3921000310001010402',
  juki: 'D3921000310001010401',
  common: 'D3921000310001010100',
} as const;
type Df = keyof typeof AIDS;

export interface VirtualCardOptions {
  readonly token: TokenMedium;
  readonly authCertDer: Uint8Array;
  readonly authKeyPem: string | KeyObject;
  readonly signCertDer?: Uint8Array;
  readonly signKeyPem?: string | KeyObject;
  readonly authCaDer: Uint8Array;
  readonly signCaDer: Uint8Array;
  /** Initial PINs. `sign` is required when there is a signing key; `cardInfo` when there is basic info. */
  readonly pins: { readonly auth: string; readonly sign?: string; readonly cardInfo?: string };
  /** Physical cards: the 券面事項入力補助AP's basic 4 info (`birthDate` as `YYYYMMDD`). */
  readonly basicInfo?: BasicInfoInput;
  /** The synthetic number in the card-info AP's EF 0001 (default: derived from the card id). */
  readonly myNumber?: string;
  /** CVC CA + signer keys for EF 0003 / 0004 (default: one process-wide authority). */
  readonly cvcCa?: CvcAuthority;
  readonly stateStore: PinStateStore;
  /** Key of the PIN state in the store (default: SHA-256 of the auth certificate, 32 hex digits). */
  readonly cardId?: string;
  /** Accept extended-Le READ BINARY (default true; false answers `67 00`, to exercise the 256-byte fallback). */
  readonly extendedLength?: boolean;
  /** Accept SFI addressing in READ BINARY / VERIFY / 80 2A (default true; false answers `6A 86`). */
  readonly sfi?: boolean;
}

type Access = 'free' | { readonly pin: number };

type Ef =
  | { readonly type: 'binary'; readonly data: Uint8Array; readonly read: Access }
  | { readonly type: 'pin'; readonly name: PinName | 'blocked'; readonly max: number }
  | { readonly type: 'key'; readonly key: KeyObject; readonly pin: number };

/** Counts of accesses to the card-info AP's EF 0001 (the My Number): the reader must never make any. */
export interface MyNumberProbe {
  selected: number;
  read: number;
  verifyTargeted: number;
}

const MAX_TRIES: Record<PinName, number> = { auth: 3, sign: 5, cardInfo: 3 };
const sha256hex = (s: string | Uint8Array): string => createHash('sha256').update(s).digest('hex');

/** An EF holding a TLV object, with FF filler up to `capacity`. */
function padded(data: Uint8Array, capacity: number): Uint8Array {
  const out = new Uint8Array(Math.max(capacity, data.length)).fill(0xff);
  out.set(data, 0);
  return out;
}

/** Certificate EFs: the DER then FF filler; the EF is at least 2 KiB (the card's size is not public). */
const certEf = (der: Uint8Array): Uint8Array => padded(der, Math.max(2048, Math.ceil(der.length / 256) * 256));

function tokenInfo(token: TokenMedium, serial: string): Uint8Array {
  const b = Buffer.alloc(160, 0x20);
  b.write(TOKEN_LABEL[token].padEnd(32, ' '), 0, 'ascii');
  b.write('0'.repeat(31) + '1', 32, 'ascii');
  b.write('E16R01NJ'.padEnd(16, ' '), 64, 'ascii');
  b.write(serial.padStart(16, '0').slice(-16), 80, 'ascii');
  const u32 = [0x0000040d, 1, 0, 1, 0, 16, 6, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff];
  u32.forEach((v, i) => b.writeUInt32BE(v >>> 0, 96 + 4 * i));
  b.write('0301', 140, 'ascii');
  b.write('9'.repeat(16), 144, 'ascii');
  return Uint8Array.from(b);
}

export class VirtualCard {
  /** Switch extended-Le READ BINARY off to exercise a reader's 256-byte fallback. */
  extendedLength: boolean;
  /** Switch SFI addressing off to exercise a reader's SELECT fallback. */
  sfi: boolean;
  readonly token: TokenMedium;
  readonly cardId: string;
  readonly atr = MY_NUMBER_CARD_ATR;
  /** Accesses to the My Number EF; the reader must leave all at zero. */
  readonly myNumberProbe: MyNumberProbe = { selected: 0, read: 0, verifyTargeted: 0 };
  /** Every command APDU received (as sent: tests inspect it; PIN data included). */
  readonly received: Uint8Array[] = [];

  private readonly dfs = new Map<Df, Map<number, Ef>>();
  private readonly pins: Record<PinName, string | undefined>;
  private readonly store: PinStateStore;
  private state: { tries: Record<PinName, number>; changedPinSha256: Partial<Record<PinName, string>> };
  private currentDf: Df | undefined;
  private currentEf: number | undefined;
  private readonly verified = new Set<string>();

  constructor(o: VirtualCardOptions) {
    this.token = o.token;
    this.extendedLength = o.extendedLength ?? true;
    this.sfi = o.sfi ?? true;
    this.cardId = o.cardId ?? sha256hex(o.authCertDer).slice(0, 32);
    this.store = o.stateStore;
    const phone = o.token !== 'card';
    if ((o.signCertDer === undefined) !== (o.signKeyPem === undefined))
      throw new TypeError('signCertDer and signKeyPem go together');
    if (o.signKeyPem !== undefined && o.pins.sign === undefined) throw new TypeError('a signing key needs pins.sign');
    if (o.basicInfo && phone)
      throw new TypeError('smartphone tokens have no card-info AP (basicInfo is for physical cards)');
    if (o.basicInfo && o.pins.cardInfo === undefined) throw new TypeError('basicInfo needs pins.cardInfo');
    this.pins = {
      auth: o.pins.auth,
      sign: o.signKeyPem !== undefined ? o.pins.sign : undefined,
      cardInfo: o.basicInfo ? o.pins.cardInfo : undefined,
    };

    const key = (k: string | KeyObject): KeyObject => (typeof k === 'string' ? createPrivateKey(k) : k);
    const jpki = new Map<number, Ef>();
    const hasSign = o.signCertDer !== undefined;
    if (hasSign) jpki.set(0x01, { type: 'binary', data: certEf(o.signCertDer!), read: { pin: 0x1b } });
    jpki.set(0x02, { type: 'binary', data: certEf(o.signCaDer), read: 'free' });
    jpki.set(0x06, {
      type: 'binary',
      data: tokenInfo(o.token, this.cardId.replace(/[^0-9]/g, '').slice(0, 16)),
      read: 'free',
    });
    jpki.set(0x08, { type: 'binary', data: Uint8Array.of(hasSign ? 0x8f : 0x00, 0x8f, 0x00), read: 'free' });
    jpki.set(0x0a, { type: 'binary', data: certEf(o.authCertDer), read: phone ? { pin: 0x18 } : 'free' });
    jpki.set(0x0b, { type: 'binary', data: certEf(o.authCaDer), read: 'free' });
    jpki.set(0x17, { type: 'key', key: key(o.authKeyPem), pin: 0x18 });
    jpki.set(0x18, { type: 'pin', name: 'auth', max: 3 });
    if (hasSign) {
      jpki.set(0x1a, { type: 'key', key: key(o.signKeyPem!), pin: 0x1b });
      jpki.set(0x1b, { type: 'pin', name: 'sign', max: 5 });
    }
    this.dfs.set('jpki', jpki);

    if (!phone) {
      const info = new Map<number, Ef>();
      if (o.basicInfo) {
        const authority = o.cvcCa ?? defaultCvcAuthority();
        const ef0001 = myNumberEf(o.myNumber ?? syntheticMyNumber(this.cardId));
        const basic = buildBasicInfo(o.basicInfo);
        info.set(0x01, { type: 'binary', data: ef0001, read: { pin: 0x11 } });
        info.set(0x02, { type: 'binary', data: padded(basic.tlv, 256), read: { pin: 0x11 } });
        info.set(0x03, {
          type: 'binary',
          data: buildIntegrityRecord(ef0001, basic.digest, authority.signer),
          read: { pin: 0x11 },
        });
        info.set(0x04, { type: 'binary', data: buildCvc(authority), read: 'free' });
        info.set(0x05, { type: 'binary', data: buildApBasicInfo(), read: 'free' });
        info.set(0x11, { type: 'pin', name: 'cardInfo', max: 3 });
        info.set(0x12, { type: 'pin', name: 'blocked', max: 3 });
      }
      this.dfs.set('cardInfo', info);
      this.dfs.set('cardFace', new Map());
      this.dfs.set('juki', new Map());
      this.dfs.set('common', new Map());
    }

    const saved: CardPinState | undefined = this.store.load(this.cardId);
    this.state = {
      tries: {
        auth: saved?.tries.auth ?? MAX_TRIES.auth,
        sign: saved?.tries.sign ?? MAX_TRIES.sign,
        cardInfo: saved?.tries.cardInfo ?? MAX_TRIES.cardInfo,
      },
      changedPinSha256: { ...(saved?.changedPinSha256 ?? {}) },
    };
  }

  /** Remaining tries as the card holds them (for tests). */
  get tries(): Readonly<Record<PinName, number>> {
    return { ...this.state.tries };
  }

  /** Power on / warm reset: no DF selected, every security status cleared. PIN counters persist. */
  reset(): Uint8Array {
    this.currentDf = undefined;
    this.currentEf = undefined;
    this.verified.clear();
    return this.atr;
  }

  powerOff(): void {
    this.reset();
  }

  /** Processes one command APDU and returns data ‖ SW1 SW2. Never throws. */
  transmit(apdu: Uint8Array): Uint8Array {
    this.received.push(Uint8Array.from(apdu));
    try {
      return this.process(apdu);
    } catch {
      return respond(0x6f00);
    }
  }

  private process(apdu: Uint8Array): Uint8Array {
    const c = decodeCommand(apdu);
    if (!c) return respond(SW.WRONG_LENGTH);
    if (c.cla & 0x0c) return respond(c.ins === 0xa4 ? SW.SM_NOT_SUPPORTED : SW.SM_DATA_INCORRECT);
    if (c.cla & 0x03) return respond(SW.LOGICAL_CHANNEL_NOT_SUPPORTED);
    if (c.cla === 0x80) {
      if (c.ins === 0x2a) return this.sign(c);
      if (c.ins === 0xfc) return respond(this.token === 'iphone' ? SW.OK : SW.WRONG_LENGTH);
      return respond(SW.INS_NOT_SUPPORTED);
    }
    if (c.cla !== 0x00) return respond(SW.CLA_NOT_SUPPORTED);
    switch (c.ins) {
      case 0xa4:
        return this.select(c);
      case 0xb0:
        return this.readBinary(c);
      case 0x20:
        return this.verify(c);
      case 0x24:
        return this.changeReferenceData(c);
      case 0x84:
        return this.getChallenge(c);
      default:
        return respond(SW.INS_NOT_SUPPORTED);
    }
  }

  private efs(): Map<number, Ef> | undefined {
    return this.currentDf ? this.dfs.get(this.currentDf) : undefined;
  }

  private noteMyNumber(fid: number, what: keyof MyNumberProbe): void {
    if (this.currentDf === 'cardInfo' && fid === 0x01) this.myNumberProbe[what]++;
  }

  // ---------------------------------------------------------------- SELECT

  private select(c: Command): Uint8Array {
    if (c.p1 === 0x04) {
      if (c.p2 !== 0x0c && c.p2 !== 0x00) return respond(SW.WRONG_P1P2);
      const aid = Buffer.from(c.data).toString('hex').toUpperCase();
      const df = (Object.keys(AIDS) as Df[]).find((k) => AIDS[k] === aid && this.dfs.has(k));
      if (!df) return respond(SW.FILE_NOT_FOUND);
      this.currentDf = df;
      this.currentEf = undefined;
      this.verified.clear();
      return respond(SW.OK);
    }
    if (c.p1 === 0x02) {
      if (c.p2 !== 0x0c && c.p2 !== 0x00) return respond(SW.WRONG_P1P2);
      if (c.data.length !== 2) return respond(SW.WRONG_LENGTH);
      const fid = (c.data[0]! << 8) | c.data[1]!;
      const efs = this.efs();
      if (!efs || fid > 0xff || !efs.has(fid)) return respond(SW.FILE_NOT_FOUND);
      this.noteMyNumber(fid, 'selected');
      this.currentEf = fid;
      return respond(SW.OK);
    }
    if (c.p1 === 0x00) {
      // ISO "select MF": after reset 6A86; no-op 9000 while a DF is current; FID 3F00 → 6A82 (spec §1.1).
      if (c.data.length > 0) return respond(SW.FILE_NOT_FOUND);
      return respond(this.currentDf ? SW.OK : SW.WRONG_P1P2);
    }
    return respond(SW.WRONG_P1P2);
  }

  // ---------------------------------------------------------------- READ BINARY

  private allowed(access: Access): boolean {
    return access === 'free' || this.verified.has(`${this.currentDf}:${access.pin}`);
  }

  private readBinary(c: Command): Uint8Array {
    if (c.data.length > 0 || c.ne === undefined) return respond(SW.WRONG_LENGTH);
    if (c.extended && !this.extendedLength) return respond(SW.WRONG_LENGTH);
    let fid: number | undefined;
    let offset: number;
    if (c.p1 & 0x80) {
      if (!this.sfi || c.p1 & 0x60) return respond(SW.WRONG_P1P2);
      fid = c.p1 & 0x1f;
      offset = c.p2;
      if (!this.efs()?.has(fid)) return respond(SW.FILE_NOT_FOUND);
      this.currentEf = fid;
    } else {
      fid = this.currentEf;
      offset = (c.p1 << 8) | c.p2;
      if (fid === undefined) return respond(SW.NO_CURRENT_EF);
    }
    const ef = this.efs()?.get(fid);
    if (!ef) return respond(SW.NO_CURRENT_EF);
    if (ef.type !== 'binary') return respond(SW.INCOMPATIBLE_FILE);
    if (!this.allowed(ef.read)) return respond(SW.SECURITY_NOT_SATISFIED);
    if (offset >= ef.data.length) return respond(SW.WRONG_OFFSET);
    this.noteMyNumber(fid, 'read');
    return respond(SW.OK, ef.data.subarray(offset, Math.min(ef.data.length, offset + c.ne)));
  }

  // ---------------------------------------------------------------- VERIFY / CHANGE REFERENCE DATA

  /** The EF named by P2 (`80` current, `80|SFI`), or an SW. */
  private target(p2: number): { fid: number; ef: Ef } | number {
    if ((p2 & 0x80) === 0 || (p2 & 0x60) !== 0) return SW.WRONG_P1P2;
    if (p2 !== 0x80 && !this.sfi) return SW.WRONG_P1P2;
    const fid = p2 === 0x80 ? this.currentEf : p2 & 0x1f;
    if (fid === undefined) return SW.NO_CURRENT_EF;
    const ef = this.efs()?.get(fid);
    if (!ef) return p2 === 0x80 ? SW.NO_CURRENT_EF : SW.FILE_NOT_FOUND;
    return { fid, ef };
  }

  private matches(name: PinName, given: Uint8Array): boolean {
    const changed = this.state.changedPinSha256[name];
    if (changed !== undefined) return sha256hex(given) === changed;
    const pin = this.pins[name];
    return pin !== undefined && Buffer.from(pin, 'ascii').equals(Buffer.from(given));
  }

  private persist(): void {
    this.store.save(this.cardId, {
      tries: { ...this.state.tries },
      changedPinSha256: { ...this.state.changedPinSha256 },
    });
  }

  private verify(c: Command): Uint8Array {
    if (c.p1 !== 0x00) return respond(SW.WRONG_P1P2);
    const t = this.target(c.p2);
    if (typeof t === 'number') return respond(t);
    if (this.currentDf === 'cardInfo' && t.fid === 0x01) this.myNumberProbe.verifyTargeted++;
    if (t.ef.type !== 'pin') return respond(SW.INCOMPATIBLE_FILE);
    const key = `${this.currentDf}:${t.fid}`;
    if (t.ef.name === 'blocked') return respond(c.data.length === 0 ? 0x63c0 : SW.PIN_BLOCKED);
    const name = t.ef.name;
    const tries = this.state.tries[name];
    if (c.data.length === 0) {
      if (this.verified.has(key)) return respond(SW.OK);
      return respond(0x63c0 | tries);
    }
    if (tries === 0) return respond(SW.PIN_BLOCKED);
    if (this.matches(name, c.data)) {
      this.state.tries[name] = t.ef.max;
      this.verified.add(key);
      this.persist();
      return respond(SW.OK);
    }
    this.verified.delete(key);
    this.state.tries[name] = tries - 1;
    this.persist();
    return respond(0x63c0 | (tries - 1));
  }

  private changeReferenceData(c: Command): Uint8Array {
    if (c.p1 !== 0x01) return respond(SW.WRONG_P1P2);
    const t = this.target(c.p2);
    if (typeof t === 'number') return respond(t);
    if (t.ef.type !== 'pin' || t.ef.name === 'blocked') return respond(SW.INCOMPATIBLE_FILE);
    if (!this.verified.has(`${this.currentDf}:${t.fid}`)) return respond(SW.SECURITY_NOT_SATISFIED);
    const pin = Buffer.from(c.data).toString('latin1');
    const ok = t.ef.name === 'sign' ? /^[A-Z0-9]{6,16}$/.test(pin) : /^[0-9]{4}$/.test(pin);
    if (!ok) return respond(SW.WRONG_DATA);
    this.state.changedPinSha256[t.ef.name] = sha256hex(c.data);
    this.persist();
    return respond(SW.OK);
  }

  // ---------------------------------------------------------------- COMPUTE DIGITAL SIGNATURE (80 2A)

  private sign(c: Command): Uint8Array {
    if (c.p1 > 0x05) return respond(SW.WRONG_P1P2);
    if (c.p2 === 0x00) return respond(SW.REFERENCED_DATA_NOT_FOUND);
    const t = this.target(c.p2);
    if (typeof t === 'number') return respond(t);
    if (t.ef.type !== 'key') return respond(SW.INCOMPATIBLE_FILE);
    if (!this.verified.has(`${this.currentDf}:${t.ef.pin}`)) return respond(SW.SECURITY_NOT_SATISFIED);
    const d = c.data;
    if (d.length === 0) return respond(SW.WRONG_LENGTH);
    const key = t.ef.key;
    const sha = (m: Uint8Array): Buffer => createHash('sha256').update(m).digest();
    const digestInfo = (h: Uint8Array): Buffer =>
      Buffer.concat([Buffer.from('3031300d060960864801650304020105000420', 'hex'), h]);
    const pkcs1 = (input: Uint8Array): Buffer => privateEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, input);
    let sig: Buffer;
    switch (c.p1) {
      case 0x00:
        if (d.length > 245) return respond(SW.CONDITIONS_NOT_SATISFIED);
        sig = pkcs1(d);
        break;
      case 0x01:
        sig = pkcs1(sha(d));
        break;
      case 0x02:
        if (d.length !== 32) return respond(SW.CONDITIONS_NOT_SATISFIED);
        sig = pkcs1(digestInfo(d));
        break;
      case 0x03:
        sig = pkcs1(digestInfo(sha(d)));
        break;
      case 0x04:
        if (d.length !== 32) return respond(SW.CONDITIONS_NOT_SATISFIED);
        sig = pssSign(key, d);
        break;
      default:
        sig = pssSign(key, sha(d));
    }
    return respond(SW.OK, sig);
  }

  private getChallenge(c: Command): Uint8Array {
    if (c.p1 !== 0 || c.p2 !== 0) return respond(SW.WRONG_P1P2);
    if (c.extended) return respond(SW.CONDITIONS_NOT_SATISFIED);
    if (c.ne === undefined || c.data.length > 0) return respond(SW.WRONG_LENGTH);
    return respond(SW.OK, randomBytes(c.ne));
  }
}

function mgf1(seed: Uint8Array, length: number): Buffer {
  const out: Buffer[] = [];
  for (let i = 0; out.length * 32 < length; i++) {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(i);
    out.push(createHash('sha256').update(seed).update(c).digest());
  }
  return Buffer.concat(out).subarray(0, length);
}

/** RSASSA-PSS (MGF1-SHA-256, 32-byte salt) over a SHA-256 hash, with the raw RSA primitive. */
function pssSign(key: KeyObject, mHash: Uint8Array): Buffer {
  const modBits = key.asymmetricKeyDetails?.modulusLength ?? 2048;
  const emBits = modBits - 1;
  const emLen = Math.ceil(emBits / 8);
  const salt = randomBytes(32);
  const h = createHash('sha256').update(Buffer.alloc(8)).update(mHash).update(salt).digest();
  const db = Buffer.concat([Buffer.alloc(emLen - 32 - 32 - 2), Buffer.of(0x01), salt]);
  const mask = mgf1(h, emLen - 33);
  for (let i = 0; i < db.length; i++) db[i]! ^= mask[i]!;
  db[0]! &= 0xff >> (8 * emLen - emBits);
  const em = Buffer.concat([db, h, Buffer.of(0xbc)]);
  const padded = emLen < modBits / 8 ? Buffer.concat([Buffer.alloc(modBits / 8 - emLen), em]) : em;
  return privateDecrypt({ key, padding: constants.RSA_NO_PADDING }, padded);
}
