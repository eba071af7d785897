// MyNumberCard: the JPKI operations over any Transport, in as few round trips as the card allows.
//
// Round trips: the selected application is remembered for the session; READ BINARY first tries one
// extended-Le read addressed by SFI (no SELECT EF), and falls back — remembered for the session — to
// short reads (`67 00`) and to SELECT EF + offset reads (`6A 86`) when the card refuses (spec §3.2).
// VERIFY and COMPUTE DIGITAL SIGNATURE use SFI addressing (P2 = 80|SFI) once the card has shown it
// understands SFI. Every operation counts its APDUs and bytes (`stats`, `lastOperation`).
//
// Safety: the card-info AP's EF 0001 (the My Number) has no constant here and a guard refuses any
// command that would select or read it. A VERIFY is never retried; a PIN is checked for its format
// before anything is sent and is never logged or put in an error.

import { encodeApdu, MAX_RESPONSE_DATA, parseResponse, swHex, type CommandApdu, type ResponseApdu } from './apdu.js';
import { parseBasicInfoEf, parseIntegrityEf, verifyCardInfoIntegrity, type BasicInfo } from './card-info.js';
import { cardInfoCvcAnchors, parseCvc, verifyCvc, type CvcAnchor } from './cvc.js';
import {
  CardError,
  CardRemoved,
  FileNotFound,
  InvalidInput,
  MyNumberRefused,
  NotAMyNumberCard,
  PinBlocked,
  SecurityStatusNotSatisfied,
  TruncatedResponse,
  UnexpectedStatus,
  WrongPin,
  type PinKind,
} from './errors.js';
import { maskMyNumber } from './mask.js';
import { PIN_MAX_TRIES, pinBytes } from './pins.js';
import { tlvTotalLength } from './tlv.js';
import type { Transport } from './transport.js';

/** DF names (spec §1.1). */
export const AID = {
  /** 公的個人認証AP */
  jpki: Uint8Array.from(Buffer.from('D392F000260100000001', 'hex')),
  /** 券面事項入力補助AP */
  cardInfo: Uint8Array.from(Buffer.from('D3921000310001010408', 'hex')),
} as const;
export type Application = keyof typeof AID;

/** JPKI AP files and keys (spec §2.1). SFI = low byte of the FID. */
export const JPKI_EF = {
  signCertificate: 0x01,
  signCaCertificate: 0x02,
  tokenInfo: 0x06,
  certificateAvailability: 0x08,
  authCertificate: 0x0a,
  authCaCertificate: 0x0b,
  authKey: 0x17,
  authPin: 0x18,
  signKey: 0x1a,
  signPin: 0x1b,
} as const;

/**
 * 券面事項入力補助AP files we use (spec §2.2). EF 0001 (the My Number) is deliberately absent:
 * there is no way to ask for it.
 */
export const CARD_INFO_EF = { basicInfo: 0x02, integrity: 0x03, cvc: 0x04, pin: 0x11 } as const;

/** Token label (EF 0006, first 32 bytes) → kind (spec §1.2). */
export const TOKEN_LABELS = {
  JPKIAPICCTOKEN2: 'card',
  JPKIAPGPSETOKEN: 'android',
  JPKIAPIOSTOKEN: 'iphone',
  JPKIAPICCTOKEN: 'juki',
} as const;
export type TokenKind = (typeof TOKEN_LABELS)[keyof typeof TOKEN_LABELS];

export interface TokenInfo {
  readonly kind: TokenKind;
  readonly label: string;
}

export interface PinStatus {
  /** Remaining tries of the auth PIN (0018); 0 = blocked. */
  readonly auth: number;
  /** Remaining tries of the signing password (001B); null when the token has no signing key (e.g. under 15). */
  readonly sign: number | null;
  /** Remaining tries of the card-info PIN (0011); null on smartphones (no card-info AP). */
  readonly cardInfo: number | null;
}

export interface ApduStats {
  apdus: number;
  bytesSent: number;
  bytesReceived: number;
  /** bytesSent + bytesReceived (command and response APDUs, status words included). */
  bytes: number;
}

export interface OperationStats extends ApduStats {
  readonly operation: string;
  readonly ms: number;
}

export interface MyNumberCardOptions {
  /** `auto` (default): extended-Le READ BINARY first, 256-byte chunks when refused; `never`: chunks only. */
  extendedLength?: 'auto' | 'never';
  /** `auto` (default): SFI addressing first, SELECT EF when refused; `never`: always SELECT EF. */
  sfi?: 'auto' | 'never';
  /** Extra CVC CA keys for the card-info AP (e.g. the simulator's); the production key is always trusted. */
  cvcCaKeys?: readonly CvcAnchor[];
}

interface EfRef {
  readonly ap: Application;
  readonly fid: number;
  readonly what: string;
}

const isPhone = (k: TokenKind | undefined): boolean => k === 'android' || k === 'iphone';
const zeroStats = (): ApduStats => ({ apdus: 0, bytesSent: 0, bytesReceived: 0, bytes: 0 });

const PIN_REF: Record<PinKind, { ap: Application; fid: number }> = {
  auth: { ap: 'jpki', fid: JPKI_EF.authPin },
  sign: { ap: 'jpki', fid: JPKI_EF.signPin },
  cardInfo: { ap: 'cardInfo', fid: CARD_INFO_EF.pin },
};

export class MyNumberCard {
  private readonly totals: ApduStats = zeroStats();
  private current: ApduStats = zeroStats();
  private last: OperationStats | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private readonly anchors: readonly CvcAnchor[];

  // Session knowledge (reset when the transport fails).
  private selectedAp: Application | undefined;
  private extended: boolean;
  /** SFI addressing: unknown until a READ BINARY by SFI succeeded or was refused. */
  private sfi: 'unknown' | 'yes' | 'no';
  private token: TokenInfo | undefined;
  readonly transport: Transport;

  constructor(transport: Transport, options: MyNumberCardOptions = {}) {
    this.transport = transport;
    this.extended = options.extendedLength !== 'never';
    this.sfi = options.sfi === 'never' ? 'no' : 'unknown';
    this.anchors = [...cardInfoCvcAnchors(), ...(options.cvcCaKeys ?? [])];
  }

  /** APDUs and bytes since this object was created. */
  get stats(): Readonly<ApduStats> {
    return { ...this.totals };
  }

  /** APDUs and bytes of the last completed (or failed) operation. */
  get lastOperation(): OperationStats | undefined {
    return this.last;
  }

  /** What the session learned: extended Le accepted, SFI addressing accepted. */
  get session(): { extendedLength: boolean; sfi: 'unknown' | 'yes' | 'no'; selected: Application | undefined } {
    return { extendedLength: this.extended, sfi: this.sfi, selected: this.selectedAp };
  }

  /** Runs several operations and returns their value with the APDUs and bytes they took together. */
  async measure<T>(fn: (card: this) => Promise<T>): Promise<{ value: T } & ApduStats> {
    const before = this.stats;
    const value = await fn(this);
    const after = this.stats;
    return {
      value,
      apdus: after.apdus - before.apdus,
      bytesSent: after.bytesSent - before.bytesSent,
      bytesReceived: after.bytesReceived - before.bytesReceived,
      bytes: after.bytes - before.bytes,
    };
  }

  // ---------------------------------------------------------------- public operations

  /** Token label of EF 0006: physical card, Android, iPhone, or an old 住基 card. */
  tokenInfo(): Promise<TokenInfo> {
    return this.op('tokenInfo', () => this.readTokenInfo());
  }

  async tokenKind(): Promise<TokenKind> {
    return (await this.tokenInfo()).kind;
  }

  /** EF 0008: which certificates the token holds (byte 0 sign, byte 1 auth). */
  certificateAvailability(): Promise<{ auth: boolean; sign: boolean }> {
    return this.op('certificateAvailability', () => this.readAvailability());
  }

  /** Token kind and certificate availability in one operation. */
  status(): Promise<TokenInfo & { certificates: { auth: boolean; sign: boolean } }> {
    return this.op('status', async () => {
      const token = await this.readTokenInfo();
      return { ...token, certificates: await this.readAvailability() };
    });
  }

  /** Remaining tries of every PIN via empty VERIFY (case 1): no try is consumed. */
  pinStatus(): Promise<PinStatus> {
    return this.op('pinStatus', async () => {
      const auth = await this.retryCounter('auth');
      const sign = await this.retryCounter('sign');
      let cardInfo: number | null = null;
      if (!isPhone(this.token?.kind)) {
        try {
          await this.selectAp('cardInfo');
          cardInfo = await this.retryCounter('cardInfo');
        } catch (e) {
          if (!(e instanceof FileNotFound)) throw e;
        }
      }
      if (auth === null) throw new NotAMyNumberCard('the JPKI application has no auth PIN (0018)');
      return { auth, sign, cardInfo };
    });
  }

  /**
   * The 利用者証明用 certificate (DER). Free on the physical card; smartphone tokens need the auth
   * PIN first (spec §6.5): give `pin` for them (it is verified only when the token asks for it).
   */
  async readAuthCertificate(pin?: string): Promise<Uint8Array> {
    const pinData = pin === undefined ? undefined : pinBytes('auth', pin);
    return this.op('readAuthCertificate', async () => {
      const ef: EfRef = { ap: 'jpki', fid: JPKI_EF.authCertificate, what: 'EF 000A (auth certificate)' };
      if (pinData && isPhone(this.token?.kind)) await this.verify('auth', pinData);
      try {
        return await this.readCertificate(ef);
      } catch (e) {
        if (!(e instanceof SecurityStatusNotSatisfied)) throw e;
        if (!pinData)
          throw new SecurityStatusNotSatisfied(
            ef.what,
            'this token (a smartphone) needs the auth PIN before its certificate can be read',
          );
        await this.verify('auth', pinData);
        return this.readCertificate(ef);
      }
    });
  }

  /** The 署名用 certificate (DER); the signing password is verified first. */
  async readSignCertificate(password: string): Promise<Uint8Array> {
    const pinData = pinBytes('sign', password);
    return this.op('readSignCertificate', async () => {
      await this.verify('sign', pinData);
      return this.readCertificate({ ap: 'jpki', fid: JPKI_EF.signCertificate, what: 'EF 0001 (signing certificate)' });
    });
  }

  /** The issuing CA certificates held on the token (free). */
  readCaCertificate(kind: 'auth' | 'sign'): Promise<Uint8Array> {
    return this.op('readCaCertificate', () =>
      this.readCertificate(
        kind === 'auth'
          ? { ap: 'jpki', fid: JPKI_EF.authCaCertificate, what: 'EF 000B (auth CA certificate)' }
          : { ap: 'jpki', fid: JPKI_EF.signCaCertificate, what: 'EF 0002 (signing CA certificate)' },
      ),
    );
  }

  /** PKCS#1 v1.5 signature of `digestInfo` (e.g. `sha256DigestInfo(data)`) with the auth key 0017. */
  async signWithAuthKey(pin: string, digestInfo: Uint8Array): Promise<Uint8Array> {
    const pinData = pinBytes('auth', pin);
    checkDigestInfo(digestInfo);
    return this.op('signWithAuthKey', async () => {
      await this.verify('auth', pinData);
      return this.sign(JPKI_EF.authKey, 'the auth key (0017)', digestInfo);
    });
  }

  /** PKCS#1 v1.5 signature of `digestInfo` with the signing key 001A (password first). */
  async signWithSignKey(password: string, digestInfo: Uint8Array): Promise<Uint8Array> {
    const pinData = pinBytes('sign', password);
    checkDigestInfo(digestInfo);
    return this.op('signWithSignKey', async () => {
      await this.verify('sign', pinData);
      return this.sign(JPKI_EF.signKey, 'the signing key (001A)', digestInfo);
    });
  }

  /**
   * Name, address, birth date and sex from the 券面事項入力補助AP, with the issuer's integrity
   * signature checked (spec §9.5): the CVC (EF 0004) against a pinned CA key *before* the PIN is
   * sent, then DF33 over DF31‖DF32 with the CVC key and DF32 against EF 0002. Never the My Number.
   */
  async readBasicInfo(pin: string): Promise<BasicInfo> {
    const pinData = pinBytes('cardInfo', pin);
    return this.op('readBasicInfo', async () => {
      const cvcEf = await this.readTlvEf({ ap: 'cardInfo', fid: CARD_INFO_EF.cvc, what: 'EF 0004 (CVC)' });
      const cvc = parseCvc(cvcEf);
      const anchor = verifyCvc(cvc, this.anchors);
      await this.verify('cardInfo', pinData);
      const info = await this.readTlvEf({
        ap: 'cardInfo',
        fid: CARD_INFO_EF.basicInfo,
        what: 'EF 0002 (basic 4 info)',
      });
      const record = await this.readTlvEf({
        ap: 'cardInfo',
        fid: CARD_INFO_EF.integrity,
        what: 'EF 0003 (integrity record)',
      });
      return verifyCardInfoIntegrity(parseBasicInfoEf(info), parseIntegrityEf(record), cvc, anchor);
    });
  }

  /** Closes the transport. */
  async close(): Promise<void> {
    await this.transport.close?.();
  }

  // ---------------------------------------------------------------- operation wrapper

  private op<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      this.current = zeroStats();
      const t0 = performance.now();
      try {
        return await fn();
      } finally {
        this.last = { operation: name, ...this.current, ms: performance.now() - t0 };
      }
    };
    const p = this.chain.then(run, run);
    this.chain = p.catch(() => undefined);
    return p;
  }

  // ---------------------------------------------------------------- APDU level

  /** Refuses, before sending, anything that would select or read the card-info AP's EF 0001. */
  private guardMyNumber(c: CommandApdu): void {
    if (this.selectedAp !== 'cardInfo') return;
    const selectsEf0001 =
      c.ins === 0xa4 && c.p1 === 0x02 && c.data?.length === 2 && c.data[0] === 0x00 && c.data[1] === 0x01;
    const readsSfi1 = (c.ins === 0xb0 || c.ins === 0xb1) && c.p1 === 0x81;
    if (selectsEf0001) throw new MyNumberRefused('SELECT EF 0001');
    if (readsSfi1) throw new MyNumberRefused('READ BINARY of SFI 1');
  }

  /** One exchange; any transport failure becomes CardRemoved and resets the session state. */
  private async exchange(cmd: Uint8Array): Promise<ResponseApdu> {
    let raw: Uint8Array;
    try {
      raw = await this.transport.transmit(cmd);
    } catch (e) {
      this.selectedAp = undefined;
      this.token = undefined;
      if (e instanceof CardError) throw e;
      throw new CardRemoved(`the transport failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    this.count(cmd.length, raw.length);
    return parseResponse(raw);
  }

  private async send(c: CommandApdu, resent = false): Promise<ResponseApdu> {
    this.guardMyNumber(c);
    let r = await this.exchange(encodeApdu(c));
    // Generic T=0-style handling (spec §3.2: whether the card emits these is unknown). "Wrong Le, use
    // xx" is honoured once: a card that keeps asking would otherwise loop forever.
    if (r.sw1 === 0x6c && c.le !== undefined) {
      if (resent)
        throw new UnexpectedStatus(swHex(r.sw), 'a second "wrong length" (6C xx) answer to the re-sent command');
      return this.send({ ...c, le: r.sw2 === 0 ? 256 : r.sw2, extended: false }, true);
    }
    if (r.sw1 === 0x61) {
      const parts: Uint8Array[] = [r.data];
      let gathered = r.data.length;
      for (let i = 0; r.sw1 === 0x61 && i < 256; i++) {
        r = await this.exchange(encodeApdu({ cla: 0x00, ins: 0xc0, p1: 0, p2: 0, le: r.sw2 === 0 ? 256 : r.sw2 }));
        gathered += r.data.length;
        if (gathered > MAX_RESPONSE_DATA)
          throw new TruncatedResponse(`the GET RESPONSE chain (61 xx) went past ${MAX_RESPONSE_DATA} bytes`, {
            length: gathered,
          });
        parts.push(r.data);
      }
      const data = Buffer.concat(parts);
      return { data, sw1: r.sw1, sw2: r.sw2, sw: r.sw };
    }
    return r;
  }

  private count(sent: number, received: number): void {
    for (const s of [this.totals, this.current]) {
      s.apdus++;
      s.bytesSent += sent;
      s.bytesReceived += received;
      s.bytes += sent + received;
    }
  }

  private async selectAp(ap: Application): Promise<void> {
    if (this.selectedAp === ap) return;
    this.selectedAp = undefined;
    const r = await this.send({ cla: 0x00, ins: 0xa4, p1: 0x04, p2: 0x0c, data: AID[ap] });
    if (r.sw === 0x9000) {
      this.selectedAp = ap;
      return;
    }
    if (r.sw === 0x6a82) {
      if (ap === 'jpki')
        throw new NotAMyNumberCard('the JPKI application (AID D392F000260100000001) is not on this card');
      throw new FileNotFound(
        'the 券面事項入力補助AP (card-info application, AID D3921000310001010408); smartphone tokens do not have it',
      );
    }
    throw new UnexpectedStatus(swHex(r.sw), `SELECT ${ap === 'jpki' ? 'JPKI AP' : 'card-info AP'}`);
  }

  private async selectEf(ef: EfRef): Promise<void> {
    await this.selectAp(ef.ap);
    const r = await this.send({ cla: 0x00, ins: 0xa4, p1: 0x02, p2: 0x0c, data: Uint8Array.of(0, ef.fid) });
    if (r.sw === 0x9000) return;
    throw this.statusError(r, ef.what, `SELECT ${ef.what}`);
  }

  private statusError(r: ResponseApdu, what: string, command: string): CardError {
    if (r.sw === 0x6982) return new SecurityStatusNotSatisfied(what);
    if (r.sw === 0x6a82) return new FileNotFound(what);
    return new UnexpectedStatus(swHex(r.sw), command);
  }

  /**
   * Reads a TLV-structured EF (a certificate or a card-info record) and returns exactly the TLV.
   * One extended-Le SFI read when the card allows; else 256-byte chunks.
   */
  private async readTlvEf(ef: EfRef): Promise<Uint8Array> {
    await this.selectAp(ef.ap);
    let first: ResponseApdu | undefined;
    // 1. SFI addressing, extended Le then short Le.
    while (this.sfi !== 'no' && first === undefined) {
      const r = await this.send({ cla: 0x00, ins: 0xb0, p1: 0x80 | ef.fid, p2: 0, le: this.extended ? 65536 : 256 });
      if (r.sw === 0x9000) {
        this.sfi = 'yes';
        first = r;
      } else if (r.sw === 0x6700 && this.extended) {
        this.extended = false;
      } else if (r.sw === 0x6a86 || (r.sw === 0x6700 && !this.extended)) {
        this.sfi = 'no';
      } else {
        throw this.statusError(r, ef.what, `READ BINARY ${ef.what}`);
      }
    }
    // 2. SELECT EF, then offset reads.
    if (first === undefined) {
      await this.selectEf(ef);
      while (first === undefined) {
        const r = await this.send({ cla: 0x00, ins: 0xb0, p1: 0, p2: 0, le: this.extended ? 65536 : 256 });
        if (r.sw === 0x9000) first = r;
        else if ((r.sw === 0x6700 || r.sw === 0x6a86) && this.extended) this.extended = false;
        else throw this.statusError(r, ef.what, `READ BINARY ${ef.what}`);
      }
    }
    const data = Buffer.from(first.data);
    if (ef.ap === 'cardInfo') maskMyNumber(data);
    // An EF that holds nothing is filler (FF FF … or 00 00 …).
    if (data.length === 0 || (data[0] === 0xff && data[1] === 0xff) || (data[0] === 0x00 && data[1] === 0x00))
      throw new FileNotFound(`${ef.what} is empty`);
    const total = tlvTotalLength(data);
    if (total === undefined) throw new TruncatedResponse(`${ef.what}: ${data.length} byte(s) do not hold a TLV header`);
    const parts: Buffer[] = [data];
    let have = data.length;
    while (have < total) {
      if (first.data.length === 0) throw new TruncatedResponse(`${ef.what}: the card returned no data`);
      if (have > 0x7fff)
        throw new TruncatedResponse(`${ef.what}: ${total} bytes cannot be addressed by READ BINARY offsets`);
      const want = Math.min(256, total - have);
      const r = await this.send({ cla: 0x00, ins: 0xb0, p1: have >> 8, p2: have & 0xff, le: want });
      if (r.sw !== 0x9000) {
        if (r.sw === 0x6b00 || r.sw === 0x6282)
          throw new TruncatedResponse(`${ef.what} ends at ${have} bytes, its TLV declares ${total}`, {
            sw: swHex(r.sw),
          });
        throw this.statusError(r, ef.what, `READ BINARY ${ef.what} at offset ${have}`);
      }
      if (r.data.length === 0) throw new TruncatedResponse(`${ef.what}: empty READ BINARY answer at offset ${have}`);
      const chunk = Buffer.from(r.data);
      if (ef.ap === 'cardInfo') maskMyNumber(chunk);
      parts.push(chunk);
      have += chunk.length;
    }
    const all = Buffer.concat(parts);
    if (all.length < total) throw new TruncatedResponse(`${ef.what}: ${all.length} of ${total} bytes`);
    return new Uint8Array(all.subarray(0, total));
  }

  private async readCertificate(ef: EfRef): Promise<Uint8Array> {
    const der = await this.readTlvEf(ef);
    if (der[0] !== 0x30) throw new TruncatedResponse(`${ef.what} does not hold a DER certificate`);
    return der;
  }

  /** A fixed-length read of a small EF (token info, availability). */
  private async readFixed(ef: EfRef, length: number): Promise<Uint8Array> {
    await this.selectAp(ef.ap);
    if (this.sfi !== 'no') {
      const r = await this.send({ cla: 0x00, ins: 0xb0, p1: 0x80 | ef.fid, p2: 0, le: length });
      if (r.sw === 0x9000) {
        this.sfi = 'yes';
        return checkLength(r.data, length, ef.what);
      }
      if (r.sw !== 0x6a86) throw this.statusError(r, ef.what, `READ BINARY ${ef.what}`);
      this.sfi = 'no';
    }
    await this.selectEf(ef);
    const r = await this.send({ cla: 0x00, ins: 0xb0, p1: 0, p2: 0, le: length });
    if (r.sw !== 0x9000) throw this.statusError(r, ef.what, `READ BINARY ${ef.what}`);
    return checkLength(r.data, length, ef.what);
  }

  private async readTokenInfo(): Promise<TokenInfo> {
    if (this.token) return this.token;
    let raw: Uint8Array;
    try {
      raw = await this.readFixed({ ap: 'jpki', fid: JPKI_EF.tokenInfo, what: 'EF 0006 (token info)' }, 32);
    } catch (e) {
      if (e instanceof FileNotFound && this.selectedAp === 'jpki')
        throw new NotAMyNumberCard('the JPKI application has no token info (EF 0006)');
      throw e;
    }
    const label = Buffer.from(raw)
      .toString('latin1')
      .replace(/[ \0]+$/, '');
    const kind = (TOKEN_LABELS as Record<string, TokenKind | undefined>)[label];
    if (!kind) throw new NotAMyNumberCard(`unknown token label ${JSON.stringify(label.replace(/[^\x20-\x7e]/g, '?'))}`);
    this.token = { kind, label };
    return this.token;
  }

  private async readAvailability(): Promise<{ auth: boolean; sign: boolean }> {
    const b = await this.readFixed(
      { ap: 'jpki', fid: JPKI_EF.certificateAvailability, what: 'EF 0008 (certificate availability)' },
      3,
    );
    return { sign: b[0] !== 0x00, auth: b[1] !== 0x00 };
  }

  /** Empty VERIFY (case 1): remaining tries, consuming none. null when the PIN does not exist. */
  private async retryCounter(kind: PinKind): Promise<number | null> {
    const ref = PIN_REF[kind];
    await this.selectAp(ref.ap);
    let r: ResponseApdu | undefined;
    if (this.sfi !== 'no') {
      r = await this.send({ cla: 0x00, ins: 0x20, p1: 0x00, p2: 0x80 | ref.fid });
      if (r.sw === 0x6a86) {
        this.sfi = 'no';
        r = undefined;
      } else if (r.sw1 === 0x63 || r.sw === 0x9000) this.sfi = 'yes';
    }
    if (r === undefined) {
      const sel = await this.send({ cla: 0x00, ins: 0xa4, p1: 0x02, p2: 0x0c, data: Uint8Array.of(0, ref.fid) });
      if (sel.sw === 0x6a82) return null;
      if (sel.sw !== 0x9000) throw this.statusError(sel, `PIN ${kind}`, `SELECT PIN ${kind}`);
      r = await this.send({ cla: 0x00, ins: 0x20, p1: 0x00, p2: 0x80 });
    }
    if (r.sw1 === 0x63 && (r.sw2 & 0xf0) === 0xc0) return r.sw2 & 0x0f;
    if (r.sw === 0x6984 || r.sw === 0x6983) return 0;
    // Already verified in this session: the counter is at its maximum (a success resets it).
    if (r.sw === 0x9000) return PIN_MAX_TRIES[kind];
    if (r.sw === 0x6a82) return null;
    throw new UnexpectedStatus(swHex(r.sw), `VERIFY (retry counter of the ${kind} PIN)`);
  }

  /**
   * VERIFY once. SFI addressing is used only after the card has accepted SFI in this session; a
   * `6A 86` (P1/P2 refused before the PIN is looked at, no try consumed) switches to SELECT + VERIFY.
   * Any other answer is final: a wrong PIN is reported, never retried.
   */
  private async verify(kind: PinKind, pin: Buffer): Promise<void> {
    const ref = PIN_REF[kind];
    await this.selectAp(ref.ap);
    try {
      let r: ResponseApdu | undefined;
      if (this.sfi === 'yes') {
        r = await this.send({ cla: 0x00, ins: 0x20, p1: 0x00, p2: 0x80 | ref.fid, data: pin });
        if (r.sw === 0x6a86) {
          this.sfi = 'no';
          r = undefined;
        }
      }
      if (r === undefined) {
        const sel = await this.send({ cla: 0x00, ins: 0xa4, p1: 0x02, p2: 0x0c, data: Uint8Array.of(0, ref.fid) });
        if (sel.sw !== 0x9000) throw this.statusError(sel, `the ${kind} PIN`, `SELECT PIN ${kind}`);
        r = await this.send({ cla: 0x00, ins: 0x20, p1: 0x00, p2: 0x80, data: pin });
      }
      if (r.sw === 0x9000) return;
      if (r.sw1 === 0x63 && (r.sw2 & 0xf0) === 0xc0) {
        const remaining = r.sw2 & 0x0f;
        if (remaining === 0) throw new PinBlocked(kind, true, '63C0');
        throw new WrongPin(kind, remaining);
      }
      if (r.sw === 0x6984 || r.sw === 0x6983) throw new PinBlocked(kind, false, swHex(r.sw));
      throw this.statusError(r, `the ${kind} PIN`, `VERIFY (${kind} PIN)`);
    } finally {
      pin.fill(0);
    }
  }

  /** COMPUTE DIGITAL SIGNATURE `80 2A 00 P2` with P1 = 00 (PKCS#1 v1.5 of the data as given). */
  private async sign(keyFid: number, what: string, digestInfo: Uint8Array): Promise<Uint8Array> {
    await this.selectAp('jpki');
    let r: ResponseApdu | undefined;
    if (this.sfi !== 'no') {
      r = await this.send({ cla: 0x80, ins: 0x2a, p1: 0x00, p2: 0x80 | keyFid, data: digestInfo, le: 256 });
      if (r.sw === 0x6a86) {
        this.sfi = 'no';
        r = undefined;
      }
    }
    if (r === undefined) {
      await this.selectEf({ ap: 'jpki', fid: keyFid, what });
      r = await this.send({ cla: 0x80, ins: 0x2a, p1: 0x00, p2: 0x80, data: digestInfo, le: 256 });
    }
    if (r.sw !== 0x9000) throw this.statusError(r, what, `COMPUTE DIGITAL SIGNATURE with ${what}`);
    if (r.data.length !== 256)
      throw new TruncatedResponse(`the signature is ${r.data.length} bytes, expected 256 (RSA-2048)`);
    return Uint8Array.from(r.data);
  }
}

function checkLength(data: Uint8Array, length: number, what: string): Uint8Array {
  if (data.length < length) throw new TruncatedResponse(`${what}: ${data.length} of ${length} bytes`);
  return Uint8Array.from(data.subarray(0, length));
}

function checkDigestInfo(d: Uint8Array): void {
  if (!(d instanceof Uint8Array) || d.length < 1 || d.length > 245) {
    throw new InvalidInput(
      `the data to sign must be 1–245 bytes (a DigestInfo, e.g. sha256DigestInfo(data)); got ${d instanceof Uint8Array ? d.length : typeof d}`,
    );
  }
}
