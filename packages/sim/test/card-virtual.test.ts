// The virtual My Number Card at the APDU level, against the simulator fidelity checklist (spec §11),
// with raw command bytes (independent of the reader in @kakunin/card).

import {
  constants,
  createHash,
  createPublicKey,
  publicDecrypt,
  sign as cryptoSign,
  verify as cryptoVerify,
  X509Certificate,
} from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  FilePinStateStore,
  MemoryPinStateStore,
  TEST_MY_NUMBER,
  TEST_PINS,
  testCardMaterial,
  VirtualCard,
  type TestCardMaterial,
  type VirtualCardOptions,
} from '../src/card/index.js';
import { tempDir } from './helpers.js';

const JPKI = 'D392F000260100000001';
const CARD_INFO = 'D3921000310001010408';
const ascii = (s: string): string => Buffer.from(s, 'ascii').toString('hex');

let m: TestCardMaterial;
beforeAll(async () => {
  m = await testCardMaterial();
});

function newCard(token: 'card' | 'android' | 'iphone' = 'card', extra: Partial<VirtualCardOptions> = {}): VirtualCard {
  return new VirtualCard({ ...m.material(token), stateStore: new MemoryPinStateStore(), ...extra });
}

/** Sends hex, returns { sw, data }. */
function send(card: VirtualCard, hex: string): { sw: string; data: Buffer } {
  const r = Buffer.from(card.transmit(Buffer.from(hex.replace(/\s+/g, ''), 'hex')));
  return { sw: r.subarray(-2).toString('hex').toUpperCase(), data: r.subarray(0, -2) };
}
const sw = (card: VirtualCard, hex: string): string => send(card, hex).sw;
const selectAp = (card: VirtualCard, aid = JPKI): string => sw(card, `00A4040C0A${aid}`);
const selectEf = (card: VirtualCard, fid: string): string => sw(card, `00A4020C02${fid}`);

describe('SELECT (checklist 1, 2)', () => {
  it('selects the JPKI AP by full AID; unknown AID, unknown EF and 3F00 give 6A82', () => {
    const c = newCard();
    expect(selectAp(c)).toBe('9000');
    expect(selectAp(c, 'D392F000260100000002')).toBe('6A82');
    expect(selectAp(c)).toBe('9000');
    expect(selectEf(c, '000A')).toBe('9000');
    expect(selectEf(c, '0030')).toBe('6A82');
    expect(sw(c, '00A4000C023F00')).toBe('6A82');
  });

  it('00 A4 00 00 gives 6A86 right after reset and is a 9000 no-op while a DF is current', () => {
    const c = newCard();
    c.reset();
    expect(sw(c, '00A40000')).toBe('6A86');
    selectAp(c);
    expect(sw(c, '00A40000')).toBe('9000');
    expect(send(c, '00B08A0004').data.toString('hex')).toMatch(/^3082/);
  });

  it('a physical card has the 券面 APs; a phone token has only the JPKI AP', () => {
    const card = newCard('card');
    const phone = newCard('android');
    for (const aid of [CARD_INFO, 'D3921000310001010402', 'D3921000310001010100']) {
      expect(selectAp(card, aid)).toBe('9000');
      expect(selectAp(phone, aid)).toBe('6A82');
    }
    expect(selectAp(phone)).toBe('9000');
  });
});

describe('READ BINARY (checklist 3, 4)', () => {
  it('offset form, Le 00 = 256 bytes, short read at the end, 6B00 beyond it; FF filler after the certificate', () => {
    const c = newCard();
    selectAp(c);
    selectEf(c, '000A');
    const der = Buffer.from(m.material('card').authCertDer);
    expect(send(c, '00B0000004').data).toEqual(der.subarray(0, 4));
    expect(send(c, '00B0000400').data).toEqual(der.subarray(4, 260));
    const last = send(c, '00B007F000');
    expect(last.sw).toBe('9000');
    expect(last.data.length).toBe(16); // EF of 2048 bytes: 2048 − 0x07F0
    expect([...last.data].every((b) => b === 0xff)).toBe(true);
    expect(sw(c, '00B0080000')).toBe('6B00');
  });

  it('SFI form reads without SELECT EF and makes the EF current; extended Le returns the whole EF', () => {
    const c = newCard();
    selectAp(c);
    const der = Buffer.from(m.material('card').authCertDer);
    const whole = send(c, '00B08A00000000');
    expect(whole.sw).toBe('9000');
    expect(whole.data.length).toBe(2048);
    expect(whole.data.subarray(0, der.length)).toEqual(der);
    expect(send(c, '00B0010000').data).toEqual(der.subarray(256, 512)); // offset form on the EF made current by SFI
  });

  it('extended Le and SFI can be switched off: 67 00 and 6A 86', () => {
    const c = newCard('card', { extendedLength: false, sfi: false });
    selectAp(c);
    expect(sw(c, '00B08A00000000')).toBe('6700');
    expect(sw(c, '00B08A0000')).toBe('6A86');
    selectEf(c, '000A');
    expect(sw(c, '00B000000000FF')).toBe('6700');
    expect(sw(c, '00B0000000')).toBe('9000');
    c.extendedLength = true;
    expect(send(c, '00B000000000FF').data.length).toBe(255);
  });

  it('no current EF → 6986; a key EF → 6981; no Le → 6700', () => {
    const c = newCard();
    selectAp(c);
    expect(sw(c, '00B0000004')).toBe('6986');
    selectEf(c, '0017');
    expect(sw(c, '00B0000004')).toBe('6981');
    selectEf(c, '000A');
    expect(sw(c, '00B00000')).toBe('6700');
  });

  it('the signing certificate needs the signing password (6982); so does a phone auth certificate with the auth PIN', () => {
    const c = newCard();
    selectAp(c);
    expect(sw(c, '00B0810004')).toBe('6982');
    expect(sw(c, `0020009B06${ascii(TEST_PINS.sign)}`)).toBe('9000');
    expect(send(c, '00B0810004').data.toString('hex')).toMatch(/^3082/);
    const phone = newCard('android');
    selectAp(phone);
    expect(sw(phone, '00B08A0004')).toBe('6982');
    expect(sw(phone, `00200098 04 ${ascii(TEST_PINS.auth)}`)).toBe('9000');
    expect(sw(phone, '00B08A0004')).toBe('9000');
    expect(sw(phone, '00B08B0004')).toBe('9000'); // CA certificates are free
  });

  it('EF 0006 carries the token label of each medium (160 bytes); EF 0008 the certificate availability', () => {
    for (const [token, label] of [
      ['card', 'JPKIAPICCTOKEN2'],
      ['android', 'JPKIAPGPSETOKEN'],
      ['iphone', 'JPKIAPIOSTOKEN'],
    ] as const) {
      const c = newCard(token);
      selectAp(c);
      const info = send(c, '00B0860000').data;
      expect(info.length).toBe(160);
      expect(info.subarray(0, 32).toString('ascii')).toBe(label.padEnd(32, ' '));
      expect(info.readUInt32BE(116)).toBe(16);
      expect(info.readUInt32BE(120)).toBe(6);
    }
    const c = newCard();
    selectAp(c);
    expect(send(c, '00B0880003').data.toString('hex')).toBe('8f8f00');
    const minor = new VirtualCard({
      ...m.material('card', { withSign: false }),
      stateStore: new MemoryPinStateStore(),
    });
    selectAp(minor);
    expect(send(minor, '00B0880003').data.toString('hex')).toBe('008f00');
    expect(sw(minor, '00A4020C020001')).toBe('6A82');
    expect(sw(minor, '0020009B')).toBe('6A82');
  });
});

describe('VERIFY and the retry counters (checklist 5, 6, 7)', () => {
  it('wrong auth PIN: 63C2, 63C1, 63C0 (the exhausting attempt), then 6984 on every attempt, even the right PIN', () => {
    const c = newCard();
    selectAp(c);
    expect(sw(c, '00200098')).toBe('63C3');
    expect(sw(c, `00200098 04 ${ascii('0000')}`)).toBe('63C2');
    expect(sw(c, `00200098 04 ${ascii('0000')}`)).toBe('63C1');
    expect(sw(c, `00200098 04 ${ascii('0000')}`)).toBe('63C0');
    expect(sw(c, `00200098 04 ${ascii(TEST_PINS.auth)}`)).toBe('6984');
    expect(sw(c, '00200098')).toBe('63C0');
    expect(c.tries.auth).toBe(0);
  });

  it('the signing password has 5 tries; a success resets the counter; only consecutive failures count', () => {
    const c = newCard();
    selectAp(c);
    expect(sw(c, '0020009B')).toBe('63C5');
    expect(sw(c, `0020009B 06 ${ascii('ZZZ999')}`)).toBe('63C4');
    expect(sw(c, `0020009B 06 ${ascii('ZZZ998')}`)).toBe('63C3');
    expect(sw(c, `0020009B 06 ${ascii(TEST_PINS.sign)}`)).toBe('9000');
    expect(sw(c, '0020009B')).toBe('9000'); // verified in this session
    selectAp(c); // selecting the AP again clears the security status
    expect(sw(c, '0020009B')).toBe('63C5');
  });

  it('the card compares bytes: a lower-case password is wrong (the reader upper-cases)', () => {
    const c = newCard();
    selectAp(c);
    expect(sw(c, `0020009B 06 ${ascii(TEST_PINS.sign.toLowerCase())}`)).toBe('63C4');
  });

  it('VERIFY after SELECT of the key reference (P2 = 80) is the same as by SFI; the card-info PIN has 3 tries; 0012 is blocked', () => {
    const c = newCard();
    selectAp(c, CARD_INFO);
    selectEf(c, '0011');
    expect(sw(c, '00200080')).toBe('63C3');
    expect(sw(c, `00200080 04 ${ascii('9999')}`)).toBe('63C2');
    expect(sw(c, '00200091')).toBe('63C2');
    expect(sw(c, '00200092')).toBe('63C0');
    expect(sw(c, `00200092 04 ${ascii('1234')}`)).toBe('6984');
    expect(sw(c, '00200000')).toBe('6A86');
    expect(sw(c, `00200095 04 ${ascii('1234')}`)).toBe('6A82');
  });

  it('counters persist in the store: blocked stays blocked across a restart (new VirtualCard, same file store)', () => {
    const tmp = tempDir('card-state');
    try {
      const store = new FilePinStateStore(tmp.path);
      const a = newCard('card', { stateStore: store, cardId: 'restart-test' });
      selectAp(a);
      for (const want of ['63C2', '63C1', '63C0']) expect(sw(a, `00200098 04 ${ascii('0000')}`)).toBe(want);
      expect(sw(a, `0020009B 06 ${ascii('WRONG1')}`)).toBe('63C4');
      const b = newCard('card', { stateStore: new FilePinStateStore(tmp.path), cardId: 'restart-test' });
      selectAp(b);
      expect(sw(b, '00200098')).toBe('63C0');
      expect(sw(b, `00200098 04 ${ascii(TEST_PINS.auth)}`)).toBe('6984');
      expect(sw(b, '0020009B')).toBe('63C4');
      expect(readdirSync(tmp.path)).toEqual(['restart-test.json']); // atomic writes leave no temporary file
      expect(JSON.parse(readFileSync(join(tmp.path, 'restart-test.json'), 'utf8'))).toMatchObject({
        tries: { auth: 0, sign: 4, cardInfo: 3 },
      });
    } finally {
      tmp.cleanup();
    }
  });

  it('CHANGE REFERENCE DATA needs a verified PIN, checks the format, and the new PIN survives a restart (stored hashed)', () => {
    const tmp = tempDir('card-change');
    try {
      const c = newCard('card', { stateStore: new FilePinStateStore(tmp.path), cardId: 'change' });
      selectAp(c);
      selectEf(c, '0018');
      expect(sw(c, `00240180 04 ${ascii('4321')}`)).toBe('6982');
      expect(sw(c, `00200080 04 ${ascii(TEST_PINS.auth)}`)).toBe('9000');
      expect(sw(c, `00240180 03 ${ascii('432')}`)).toBe('6A80');
      expect(sw(c, `00240180 04 ${ascii('4321')}`)).toBe('9000');
      const state = readFileSync(join(tmp.path, 'change.json'), 'utf8');
      expect(state).not.toContain('4321');
      const after = newCard('card', { stateStore: new FilePinStateStore(tmp.path), cardId: 'change' });
      selectAp(after);
      expect(sw(after, `00200098 04 ${ascii(TEST_PINS.auth)}`)).toBe('63C2');
      expect(sw(after, `00200098 04 ${ascii('4321')}`)).toBe('9000');
    } finally {
      tmp.cleanup();
    }
  });
});

describe('COMPUTE DIGITAL SIGNATURE 80 2A (checklist 8)', () => {
  const digestInfo = (data: Buffer): Buffer =>
    Buffer.concat([
      Buffer.from('3031300d060960864801650304020105000420', 'hex'),
      createHash('sha256').update(data).digest(),
    ]);
  const data = Buffer.from('challenge from a relying party');

  it('without the PIN → 6982; P1=00 pads the DigestInfo as given = sha256WithRSA, byte-identical by P2=80 and P2=97', () => {
    const c = newCard();
    selectAp(c);
    const di = digestInfo(data).toString('hex');
    expect(sw(c, `802A0097 33 ${di} 00`)).toBe('6982');
    expect(sw(c, `00200098 04 ${ascii(TEST_PINS.auth)}`)).toBe('9000');
    const bySfi = send(c, `802A0097 33 ${di} 00`);
    expect(bySfi.sw).toBe('9000');
    expect(bySfi.data.length).toBe(256);
    expect(bySfi.data).toEqual(cryptoSign('sha256', data, m.keys.auth));
    selectEf(c, '0017');
    expect(send(c, `802A0080 33 ${di} 00`).data).toEqual(bySfi.data);
    expect(sw(c, `802A009A 33 ${di} 00`)).toBe('6982'); // the signing key needs the signing password
  });

  it('P1 01–05 as established by S-MC; P1 06 → 6A86; oversized input → 6985; wrong hash length → 6985', () => {
    const c = newCard();
    selectAp(c);
    sw(c, `00200098 04 ${ascii(TEST_PINS.auth)}`);
    const pub = createPublicKey(m.keys.auth);
    const hash = createHash('sha256').update(data).digest();
    const p1 = (n: string, body: Buffer): Buffer => {
      const r = send(c, `802A${n}97 ${body.length.toString(16).padStart(2, '0')} ${body.toString('hex')} 00`);
      expect(r.sw).toBe('9000');
      return r.data;
    };
    expect(publicDecrypt({ key: pub, padding: constants.RSA_PKCS1_PADDING }, p1('01', data))).toEqual(hash);
    expect(p1('02', hash)).toEqual(cryptoSign('sha256', data, m.keys.auth));
    expect(p1('03', data)).toEqual(cryptoSign('sha256', data, m.keys.auth));
    const pss = { key: pub, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 };
    expect(cryptoVerify('sha256', data, pss, p1('04', hash))).toBe(true);
    expect(cryptoVerify('sha256', data, pss, p1('05', data))).toBe(true);
    expect(sw(c, `802A0697 20 ${hash.toString('hex')} 00`)).toBe('6A86');
    expect(sw(c, `802A0297 10 ${hash.subarray(0, 16).toString('hex')} 00`)).toBe('6985');
    expect(sw(c, `802A0097 F6 ${'00'.repeat(246)} 00`)).toBe('6985');
    expect(sw(c, '802A0000 20' + hash.toString('hex') + '00')).toBe('6A88');
  });
});

describe('other commands and robustness', () => {
  it('GET CHALLENGE, 80 FC per token, secure messaging and logical channels refused, unknown INS, malformed APDUs', () => {
    const c = newCard();
    expect(send(c, '0084000008').data.length).toBe(8);
    expect(sw(c, '008400000008')).toBe('6700');
    expect(sw(c, '00840000000008')).toBe('6985');
    expect(sw(c, '80FC0000')).toBe('6700');
    expect(sw(newCard('iphone'), '80FC0000')).toBe('9000');
    expect(sw(c, `0CA4040C0A${JPKI}`)).toBe('6882');
    expect(sw(c, '0CB0000004')).toBe('69FC');
    expect(sw(c, `01A4040C0A${JPKI}`)).toBe('6881');
    expect(sw(c, '00CA5F5100')).toBe('6D00');
    expect(sw(c, '00A4')).toBe('6700');
    expect(sw(c, '00A4040C0AD392')).toBe('6700');
  });
});

describe('券面事項入力補助AP data (checklist 12)', () => {
  function readAll(c: VirtualCard, sfi: number): Buffer {
    const r = send(c, `00B0${(0x80 | sfi).toString(16)}00000000`);
    expect(r.sw).toBe('9000');
    return r.data;
  }

  it('EF 0004 (568 B) is a CVC signed by the simulator CA (key id 9000033…), certifying the key that signs EF 0003 (336 B)', () => {
    const c = newCard();
    expect(selectAp(c, CARD_INFO)).toBe('9000');
    const cvc = readAll(c, 4);
    expect(cvc.length).toBe(568);
    expect(cvc.subarray(0, 10).toString('hex')).toBe('7f218202335f4e820129');
    const body = cvc.subarray(10, 10 + 297);
    expect(body.subarray(0, 16).toString('hex')).toBe(
      Buffer.from('9000033', 'ascii').toString('hex') + '0805' + ascii('001') + '00000000',
    );
    expect(body.subarray(32, 37).toString('hex')).toBe('9003010001');
    expect(body.subarray(37, 41).toString('hex')).toBe('91820100');
    const sig = cvc.subarray(10 + 297 + 5);
    expect(cryptoVerify('sha256', body, createPublicKey(m.cvc.ca.privateKey), sig)).toBe(true);
    expect(sw(c, '00B0830000')).toBe('6982'); // EF 0003 needs the PIN
    expect(sw(c, `00200091 04 ${ascii(TEST_PINS.cardInfo)}`)).toBe('9000');
    const record = readAll(c, 3);
    expect(record.length).toBe(336);
    expect(record.subarray(0, 5).toString('hex')).toBe('ff3082014b');
    const signed = record.subarray(5, 75);
    const signerKey = createPublicKey({
      key: { kty: 'RSA', n: body.subarray(41, 297).toString('base64url'), e: 'AQAB' },
      format: 'jwk',
    });
    expect(cryptoVerify('sha256', signed, signerKey, record.subarray(80))).toBe(true);
  });

  it('DF31 = SHA-256 of the 17-byte EF 0001 (FF 10 0C ‖ digits ‖ FF FF) and DF32 = SHA-256 of EF 0002 without DF21, matching the spec vectors', () => {
    const c = newCard();
    selectAp(c, CARD_INFO);
    expect(sw(c, '00B0820000')).toBe('6982');
    expect(sw(c, `00200091 04 ${ascii(TEST_PINS.cardInfo)}`)).toBe('9000');
    const record = readAll(c, 3);
    // This simulator test reads the My Number EF to prove it is there; the reader never does.
    const ef0001 = readAll(c, 1);
    expect(ef0001.toString('hex')).toBe(`ff100c${ascii(TEST_MY_NUMBER)}ffff`);
    expect(c.myNumberProbe.read).toBe(1);
    // spec §9.3: vectors computed from the JPKI test card's bytes
    expect(record.subarray(8, 40).toString('hex')).toBe(
      '6d5a4c1ef9ab15bf506862d7e66b9c0f179ca065bc936c8e634e9e57449ca9cd',
    );
    expect(record.subarray(43, 75).toString('hex')).toBe(
      'b9e0d09427b23b1d4beda2848512b4103752dc2667e51f9712872d65f472cb3b',
    );
    // spec §9.2: the test card's EF 0002 byte for byte, then FF filler
    const ef0002 = readAll(c, 2);
    const spec =
      'ff2065df2108000e002000590064df220fe9bb92e6a190e38080e5b9b9e4b99fdf2336e69db1e4baace983bde6b885e780ace5b882e8a6b3e5b883e5ad90e58d97efbc91efbc92efbc8defbc97efbc8defbc92efbc90efbc92df24083139383030323137df250131';
    expect(ef0002.subarray(0, spec.length / 2).toString('hex')).toBe(spec);
    expect([...ef0002.subarray(spec.length / 2)].every((b) => b === 0xff)).toBe(true);
  });

  it('the certificates on the card parse as X.509 and match the material', () => {
    const c = newCard();
    selectAp(c);
    const der = readAll(c, 0x0a);
    const cert = new X509Certificate(der.subarray(0, der.readUInt16BE(2) + 4));
    expect(cert.publicKey.equals(createPublicKey(m.keys.auth))).toBe(true);
  });
});
