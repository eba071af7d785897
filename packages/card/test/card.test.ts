// MyNumberCard against the virtual card, in process: every operation, every typed error, the
// round-trip fallbacks, PIN handling (never retried, format checked first, never logged) and the
// proof from the APDU log that the card-info AP's EF 0001 (the My Number) is never selected or read.

import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCertificate, sha256DigestInfo, verifySignature } from '@kakunin/jpki';
import {
  cvcAnchorOf,
  FilePinStateStore,
  MemoryPinStateStore,
  TEST_HOLDER,
  TEST_PINS,
  testCardMaterial,
  VirtualCard,
  type PinStateStore,
  type TestCardMaterial,
  type VirtualCardOptions,
} from '@kakunin/sim/card';
import { apduCounts, formatApduCounts } from '../bench/apdu-count.js';
import {
  CardRemoved,
  FileNotFound,
  InProcessTransport,
  IntegrityCheckFailed,
  InvalidInput,
  InvalidPinFormat,
  MyNumberCard,
  MyNumberRefused,
  NotAMyNumberCard,
  PinBlocked,
  SecurityStatusNotSatisfied,
  TruncatedResponse,
  UnexpectedStatus,
  WrongPin,
  type ApduExchange,
  type CardError,
  type CommandApdu,
  type CvcAnchor,
  type MyNumberCardOptions,
} from '../src/index.js';

let m: TestCardMaterial;
let anchor: CvcAnchor;
const tmp = mkdtempSync(join(tmpdir(), 'kakunin-card-test-'));
beforeAll(async () => {
  m = await testCardMaterial();
  anchor = cvcAnchorOf(m.cvc.ca);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Session {
  virtual: VirtualCard;
  card: MyNumberCard;
  log: ApduExchange[];
}

function session(
  token: 'card' | 'android' | 'iphone' = 'card',
  o: {
    card?: Partial<VirtualCardOptions>;
    reader?: MyNumberCardOptions;
    store?: PinStateStore;
    withSign?: boolean;
  } = {},
): Session {
  const virtual = new VirtualCard({
    ...m.material(token, { withSign: o.withSign ?? true }),
    stateStore: o.store ?? new MemoryPinStateStore(),
    ...o.card,
  });
  const transport = new InProcessTransport(virtual);
  const log: ApduExchange[] = [];
  transport.onApdu((e) => log.push(e));
  return { virtual, card: new MyNumberCard(transport, { cvcCaKeys: [anchor], ...o.reader }), log };
}

/** A card double answering from a function (malformed responses, odd status words). */
function fake(answer: (cmd: string) => string): MyNumberCard {
  return new MyNumberCard(
    new InProcessTransport({
      transmit: (a) => Uint8Array.from(Buffer.from(answer(Buffer.from(a).toString('hex').toUpperCase()), 'hex')),
    }),
  );
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex').toUpperCase();
const sws = (log: ApduExchange[]): string[] => log.map((e) => e.sw ?? 'ERR');
const challenge = Buffer.from('nonce from the relying party');

async function rejects<T extends CardError>(
  p: Promise<unknown>,
  type: abstract new (...args: never[]) => T,
): Promise<T> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(type);
  return e as T;
}

describe('token and status', () => {
  it('tells the physical card, Android and iPhone apart from EF 0006 (2 APDUs, then cached)', async () => {
    for (const [token, label] of [
      ['card', 'JPKIAPICCTOKEN2'],
      ['android', 'JPKIAPGPSETOKEN'],
      ['iphone', 'JPKIAPIOSTOKEN'],
    ] as const) {
      const s = session(token);
      expect(await s.card.tokenInfo()).toEqual({ kind: token, label });
      expect(s.card.lastOperation).toMatchObject({ operation: 'tokenInfo', apdus: 2 });
      expect(await s.card.tokenKind()).toBe(token);
      expect(s.card.lastOperation?.apdus).toBe(0);
    }
  });

  it('an old 住基 card label is "juki"; an unknown label or a missing JPKI AP is NotAMyNumberCard', async () => {
    const withLabel = (label: string) =>
      fake((c) => (c.startsWith('00A4') ? '9000' : Buffer.from(label.padEnd(32, ' ')).toString('hex') + '9000'));
    expect(await withLabel('JPKIAPICCTOKEN').tokenKind()).toBe('juki');
    await rejects(withLabel('SOMEOTHERTOKEN').tokenKind(), NotAMyNumberCard);
    await rejects(fake(() => '6A82').tokenKind(), NotAMyNumberCard);
  });

  it('status: token kind and certificate availability (a card without a signing certificate shows sign: false)', async () => {
    expect(await session().card.status()).toEqual({
      kind: 'card',
      label: 'JPKIAPICCTOKEN2',
      certificates: { auth: true, sign: true },
    });
    const minor = session('card', { withSign: false });
    expect((await minor.card.status()).certificates).toEqual({ auth: true, sign: false });
    expect(await minor.card.pinStatus()).toEqual({ auth: 3, sign: null, cardInfo: 3 });
    await rejects(minor.card.readSignCertificate(TEST_PINS.sign), FileNotFound);
  });

  it('pinStatus reads every counter with empty VERIFYs and consumes none; phones have no card-info PIN', async () => {
    const s = session();
    expect(await s.card.pinStatus()).toEqual({ auth: 3, sign: 5, cardInfo: 3 });
    expect(await s.card.pinStatus()).toEqual({ auth: 3, sign: 5, cardInfo: 3 });
    expect(s.virtual.tries).toEqual({ auth: 3, sign: 5, cardInfo: 3 });
    const verifies = s.log.filter((e) => e.command[1] === 0x20);
    expect(verifies.every((e) => e.command.length === 4)).toBe(true); // case 1: no PIN data at all
    const phone = session('android');
    await phone.card.tokenKind();
    expect(await phone.card.pinStatus()).toEqual({ auth: 3, sign: 5, cardInfo: null });
    expect(phone.log.some((e) => hex(e.command).includes('D3921000310001010408'))).toBe(false);
  });
});

describe('certificates and signatures', () => {
  it('reads the auth certificate with no PIN on the physical card (2 APDUs: SELECT AP + one extended SFI read)', async () => {
    const s = session();
    const der = await s.card.readAuthCertificate();
    expect(hex(der)).toBe(hex(m.material('card').authCertDer));
    expect(s.card.lastOperation).toMatchObject({ apdus: 2 });
    expect(hex(s.log[1]!.command)).toBe('00B08A00000000');
    expect(parseCertificate(der).kind).toBe('auth');
  });

  it('smartphone tokens need the auth PIN before the auth certificate (spec §6.5)', async () => {
    const s = session('android');
    await rejects(s.card.readAuthCertificate(), SecurityStatusNotSatisfied);
    expect(hex(await s.card.readAuthCertificate(TEST_PINS.auth))).toBe(hex(m.material('android').authCertDer));
    const known = session('iphone');
    await known.card.tokenKind();
    await known.card.readAuthCertificate(TEST_PINS.auth);
    expect(known.card.lastOperation?.apdus).toBe(2); // VERIFY then READ: the token kind was known
  });

  it('signs a challenge with the auth key and the signing key; both verify with jpki.verifySignature and openssl', async () => {
    const s = session();
    const authCert = await s.card.readAuthCertificate();
    const authSig = await s.card.signWithAuthKey(TEST_PINS.auth, sha256DigestInfo(challenge));
    expect(authSig.length).toBe(256);
    verifySignature(parseCertificate(authCert), challenge, authSig);
    const signCert = await s.card.readSignCertificate(TEST_PINS.sign.toLowerCase()); // upper-cased before sending
    const signSig = await s.card.signWithSignKey(TEST_PINS.sign, sha256DigestInfo(challenge));
    verifySignature(parseCertificate(signCert), challenge, signSig);
    for (const [cert, sig] of [
      [authCert, authSig],
      [signCert, signSig],
    ] as const) {
      const dir = mkdtempSync(join(tmp, 'ossl-'));
      writeFileSync(join(dir, 'pub.pem'), new X509Certificate(cert).publicKey.export({ type: 'spki', format: 'pem' }));
      writeFileSync(join(dir, 'data'), challenge);
      writeFileSync(join(dir, 'sig'), sig);
      const r = spawnSync(
        'openssl',
        ['dgst', '-sha256', '-verify', join(dir, 'pub.pem'), '-signature', join(dir, 'sig'), join(dir, 'data')],
        { encoding: 'utf8' },
      );
      expect(r.stdout.trim()).toBe('Verified OK');
    }
    expect(hex(await s.card.readCaCertificate('auth'))).toBe(hex(m.material('card').authCaDer));
  });

  it('refuses a DigestInfo the card cannot take (0 or > 245 bytes) before touching the card', async () => {
    const s = session();
    await rejects(s.card.signWithAuthKey(TEST_PINS.auth, new Uint8Array(0)), InvalidInput);
    await rejects(s.card.signWithAuthKey(TEST_PINS.auth, new Uint8Array(246)), InvalidInput);
    expect(s.log).toHaveLength(0);
  });
});

describe('PINs', () => {
  it('wrong auth PIN three times: 63C2, 63C1, 63C0 → WrongPin 2, WrongPin 1, PinBlocked; then 6984 even for the right PIN', async () => {
    const dir = mkdtempSync(join(tmp, 'state-'));
    const s = session('card', { store: new FilePinStateStore(dir) });
    expect((await rejects(s.card.signWithAuthKey('0000', sha256DigestInfo(challenge)), WrongPin)).remaining).toBe(2);
    expect((await rejects(s.card.signWithAuthKey('0000', sha256DigestInfo(challenge)), WrongPin)).remaining).toBe(1);
    const blocked = await rejects(s.card.signWithAuthKey('0000', sha256DigestInfo(challenge)), PinBlocked);
    expect(blocked).toMatchObject({ justBlocked: true, remaining: 0, code: 'PIN_BLOCKED' });
    const after = await rejects(s.card.signWithAuthKey(TEST_PINS.auth, sha256DigestInfo(challenge)), PinBlocked);
    expect(after.justBlocked).toBe(false);
    const verifySws = s.log.filter((e) => e.command[1] === 0x20).map((e) => e.sw);
    expect(verifySws).toEqual(['63C2', '63C1', '63C0', '6984']); // one VERIFY per call: never retried
    expect(s.log.some((e) => e.command[1] === 0x2a)).toBe(false); // never signed
    expect(await s.card.pinStatus()).toMatchObject({ auth: 0, sign: 5 });

    // Restart the simulator: a new VirtualCard on the same state store.
    const restarted = session('card', { store: new FilePinStateStore(dir) });
    expect(await restarted.card.pinStatus()).toEqual({ auth: 0, sign: 5, cardInfo: 3 });
    await rejects(restarted.card.signWithAuthKey(TEST_PINS.auth, sha256DigestInfo(challenge)), PinBlocked);
    expect(restarted.log.filter((e) => e.command[1] === 0x20).map((e) => e.sw)).toEqual([
      '63C0',
      '63C5',
      '63C3',
      '6984',
    ]);
  });

  it('a correct PIN resets the counter; the signing password has 5 tries', async () => {
    const s = session();
    expect((await rejects(s.card.readSignCertificate('WRONG1'), WrongPin)).remaining).toBe(4);
    expect((await rejects(s.card.readSignCertificate('WRONG2'), WrongPin)).remaining).toBe(3);
    await s.card.readSignCertificate(TEST_PINS.sign);
    expect((await s.card.pinStatus()).sign).toBe(5);
  });

  it('a badly formatted PIN is refused with InvalidPinFormat before any APDU is sent', async () => {
    const s = session();
    await rejects(s.card.signWithAuthKey('12345', sha256DigestInfo(challenge)), InvalidPinFormat);
    await rejects(s.card.readSignCertificate('AB-12'), InvalidPinFormat);
    await rejects(s.card.readBasicInfo('12'), InvalidPinFormat);
    await rejects(s.card.readAuthCertificate('x'), InvalidPinFormat);
    expect(s.log).toHaveLength(0);
    expect(s.card.stats.apdus).toBe(0);
  });

  it('PINs never reach the APDU log or an error', async () => {
    const s = session();
    await s.card.signWithSignKey(TEST_PINS.sign, sha256DigestInfo(challenge));
    const e = await rejects(s.card.signWithAuthKey('9876', sha256DigestInfo(challenge)), WrongPin);
    const logText = s.log.map((x) => hex(x.command)).join(' ');
    expect(logText).not.toContain(Buffer.from(TEST_PINS.sign).toString('hex').toUpperCase());
    expect(logText).not.toContain(Buffer.from('9876').toString('hex').toUpperCase());
    expect(logText).toContain('2A2A2A2A');
    expect(JSON.stringify(e.toJSON()) + e.message).not.toContain('9876');
    // The card itself did receive the real bytes.
    expect(s.virtual.received.some((c) => Buffer.from(c).includes(Buffer.from('9876')))).toBe(true);
  });
});

describe('basic 4 info from the 券面事項入力補助AP', () => {
  it('reads name, address, birth date and sex with the integrity signature checked (5 APDUs)', async () => {
    const s = session();
    const info = await s.card.readBasicInfo(TEST_PINS.cardInfo);
    expect(info).toMatchObject({
      name: TEST_HOLDER.name,
      address: TEST_HOLDER.address,
      birthDate: '1980-02-17',
      sex: '1',
    });
    expect(info.integrity).toMatchObject({
      verified: true,
      cvcIssuer: '9000033/001',
      cvcSubject: '9132210/001',
      environment: 'simulator',
    });
    expect(s.card.lastOperation?.apdus).toBe(5);
    expect(JSON.stringify(info)).not.toMatch(/[0-9]{12}/);
  });

  it('an unpinned CVC CA fails the integrity check before the PIN is sent', async () => {
    const s = session();
    const bare = new MyNumberCard(new InProcessTransport(s.virtual)); // production anchors only
    const e = await rejects(bare.readBasicInfo(TEST_PINS.cardInfo), IntegrityCheckFailed);
    expect(e.message).toMatch(/9000033\/001 is not a pinned CVC CA key/);
    expect(s.virtual.received.some((c) => c[1] === 0x20)).toBe(false);
    expect(s.virtual.tries.cardInfo).toBe(3);
  });

  it('tampered EF 0002, DF33 or CVC → IntegrityCheckFailed', async () => {
    const tamper = (sfi: number, offset: number) => {
      const virtual = new VirtualCard({ ...m.material('card'), stateStore: new MemoryPinStateStore() });
      const card = new MyNumberCard(
        new InProcessTransport({
          transmit: (a) => {
            const r = Uint8Array.from(virtual.transmit(a));
            if (a[1] === 0xb0 && a[2] === (0x80 | sfi) && r.length > offset + 2) r[offset] = r[offset]! ^ 0x01;
            return r;
          },
        }),
        { cvcCaKeys: [anchor] },
      );
      return card.readBasicInfo(TEST_PINS.cardInfo);
    };
    expect((await rejects(tamper(2, 20), IntegrityCheckFailed)).message).toMatch(/DF32/);
    expect((await rejects(tamper(3, 200), IntegrityCheckFailed)).message).toMatch(/DF33/);
    expect((await rejects(tamper(4, 100), IntegrityCheckFailed)).message).toMatch(/CVC signature/);
  });

  it('a phone token has no card-info AP: FileNotFound', async () => {
    await rejects(session('android').card.readBasicInfo(TEST_PINS.cardInfo), FileNotFound);
  });
});

describe('the My Number EF is never selected or read', () => {
  for (const caps of [
    { extendedLength: true, sfi: true },
    { extendedLength: false, sfi: true },
    { extendedLength: true, sfi: false },
    { extendedLength: false, sfi: false },
  ]) {
    it(`every operation, card ${caps.extendedLength ? 'with' : 'without'} extended Le and ${caps.sfi ? 'with' : 'without'} SFI`, async () => {
      const s = session('card', { card: caps });
      await s.card.tokenInfo();
      await s.card.status();
      await s.card.pinStatus();
      await s.card.readAuthCertificate();
      await s.card.readCaCertificate('sign');
      await s.card.readSignCertificate(TEST_PINS.sign);
      await s.card.signWithAuthKey(TEST_PINS.auth, sha256DigestInfo(challenge));
      await s.card.signWithSignKey(TEST_PINS.sign, sha256DigestInfo(challenge));
      await s.card.readBasicInfo(TEST_PINS.cardInfo);
      await s.card.pinStatus();
      await rejects(s.card.readBasicInfo('0000'), WrongPin);
      // Walk the log: which AP is selected, and what each command addresses.
      let ap = '';
      const touched: string[] = [];
      for (const e of s.log) {
        const h = hex(e.command);
        if (h.startsWith('00A4040C0A')) ap = h.slice(10);
        const inCardInfo = ap === 'D3921000310001010408';
        if (inCardInfo && h.startsWith('00A4020C020001')) touched.push(`SELECT ${h}`);
        if (inCardInfo && (h.startsWith('00B081') || h.startsWith('00B181'))) touched.push(`READ ${h}`);
        if (inCardInfo && h.startsWith('00200081')) touched.push(`VERIFY ${h}`);
      }
      expect(s.log.length).toBeGreaterThan(20);
      expect(touched).toEqual([]);
      expect(s.virtual.myNumberProbe).toEqual({ selected: 0, read: 0, verifyTargeted: 0 });
    });
  }

  it('a command for EF 0001 in the card-info AP is refused with MyNumberRefused before it is sent', async () => {
    const s = session('card');
    await s.card.readBasicInfo(TEST_PINS.cardInfo);
    const sent = s.log.length;
    // The guard sits under every public operation, none of which asks for EF 0001: reach it directly.
    const send = (c: CommandApdu): Promise<unknown> =>
      (s.card as unknown as { send(c: CommandApdu): Promise<unknown> }).send(c);
    const select = await rejects(
      send({ cla: 0, ins: 0xa4, p1: 0x02, p2: 0x0c, data: Uint8Array.of(0, 1) }),
      MyNumberRefused,
    );
    const read = await rejects(send({ cla: 0, ins: 0xb0, p1: 0x81, p2: 0, le: 0 }), MyNumberRefused);
    expect([select.code, read.code]).toEqual(['MY_NUMBER_REFUSED', 'MY_NUMBER_REFUSED']);
    expect(select.details).toEqual({ command: 'SELECT EF 0001' });
    expect(read.details).toEqual({ command: 'READ BINARY of SFI 1' });
    expect(s.log.length).toBe(sent);
    expect(s.virtual.myNumberProbe).toEqual({ selected: 0, read: 0, verifyTargeted: 0 });
  });

  it('12-digit numbers reaching the APDU log are masked', async () => {
    const t = new InProcessTransport({
      transmit: () =>
        Uint8Array.from([0xff, 0x10, 0x0c, ...Buffer.from('537686677188', 'ascii'), 0xff, 0xff, 0x90, 0x00]),
    });
    const seen: ApduExchange[] = [];
    t.onApdu((e) => seen.push(e));
    await t.transmit(Uint8Array.of(0, 0xb0, 0, 0, 0));
    expect(Buffer.from(seen[0]!.response).toString('latin1')).toContain('************');
  });
});

describe('round trips and fallbacks', () => {
  it('read auth cert + verify PIN + sign: ≤ 6 APDUs with extended Le; correct with the 256-byte fallback (remembered per session)', async () => {
    const rows = await apduCounts();
    console.log(formatApduCounts(rows));
    const [ext, short, noSfi, both, classic] = rows;
    expect(ext!.first.apdus).toBeLessThanOrEqual(6);
    expect(ext!.first.apdus).toBe(4);
    // 1610-byte certificate: the refused extended read, 7 short reads (256 first), VERIFY and 80 2A by SFI, SELECT AP.
    expect(short!.first.apdus).toBe(1 + 1 + 7 + 1 + 1);
    expect(short!.again.apdus).toBe(7 + 1 + 1);
    expect(noSfi!.again.apdus).toBe(1 + 1 + 2 + 2);
    expect(both!.again.apdus).toBe(1 + 7 + 2 + 2);
    expect(classic!.again.apdus).toBe(1 + 7 + 2 + 2);
  });

  it('the fallback is learnt once: a second read in the same session sends no refused probe', async () => {
    const s = session('card', { card: { extendedLength: false } });
    await s.card.readAuthCertificate();
    expect(sws(s.log).filter((x) => x === '6700')).toHaveLength(1);
    expect(s.card.session).toMatchObject({ extendedLength: false, sfi: 'yes' });
    await s.card.readSignCertificate(TEST_PINS.sign);
    expect(sws(s.log).filter((x) => x === '6700')).toHaveLength(1);
  });

  it('operations on one card are serialised (concurrent calls do not interleave APDUs)', async () => {
    const s = session();
    const [cert, status, sig] = await Promise.all([
      s.card.readAuthCertificate(),
      s.card.pinStatus(),
      s.card.signWithAuthKey(TEST_PINS.auth, sha256DigestInfo(challenge)),
    ]);
    verifySignature(parseCertificate(cert), challenge, sig);
    expect(status.auth).toBe(3);
  });
});

describe('typed errors from the transport and odd answers', () => {
  it('CardRemoved when the in-process card fails or the transport is closed', async () => {
    await rejects(
      new MyNumberCard(
        new InProcessTransport({
          transmit: () => {
            throw new Error('gone');
          },
        }),
      ).tokenKind(),
      CardRemoved,
    );
    const s = session();
    await s.card.close();
    await rejects(s.card.readAuthCertificate(), CardRemoved);
  });

  it('TruncatedResponse for a response shorter than its SW, a certificate cut short, or garbage', async () => {
    await rejects(fake(() => '90').tokenKind(), TruncatedResponse);
    await rejects(fake(() => '').tokenKind(), TruncatedResponse);
    // The TLV header says 1583 bytes, the EF ends after 300: 6B00 at the next offset.
    const cut = Buffer.concat([Buffer.from('3082062B', 'hex'), Buffer.alloc(296, 0x41)]);
    const short = fake((c) =>
      c.startsWith('00A4') ? '9000' : c === '00B08A00000000' ? cut.toString('hex') + '9000' : '6B00',
    );
    expect((await rejects(short.readAuthCertificate(), TruncatedResponse)).message).toMatch(/ends at 300 bytes/);
    await rejects(fake((c) => (c.startsWith('00A4') ? '9000' : '30829000')).readAuthCertificate(), TruncatedResponse);
    await rejects(fake((c) => (c.startsWith('00A4') ? '9000' : '4142439000')).tokenKind(), TruncatedResponse);
    await rejects(fake((c) => (c.startsWith('00A4') ? '9000' : 'FFFFFFFF9000')).readAuthCertificate(), FileNotFound);
  });

  it('TruncatedResponse for an answer longer than any response APDU and for a GET RESPONSE chain past 64 KiB', async () => {
    const huge = fake((c) => (c.startsWith('00A4') ? '9000' : '41'.repeat(65_537) + '9000'));
    expect((await rejects(huge.readAuthCertificate(), TruncatedResponse)).message).toMatch(/at most 65536 data bytes/);
    // A card (or relay) answering "61 00: 256 more bytes" with 4 KiB each time, forever.
    let sent = 0;
    const endless = fake((c) => (c.startsWith('00A4') ? '9000' : (sent++, '42'.repeat(4096) + '6100')));
    expect((await rejects(endless.readAuthCertificate(), TruncatedResponse)).message).toMatch(
      /GET RESPONSE chain \(61 xx\) went past 65536 bytes/,
    );
    expect(sent).toBe(17); // 16 × 4 KiB is exactly 64 KiB; the 17th goes past
  });

  it('UnexpectedStatus names the status word and the command', async () => {
    const e = await rejects(fake(() => '6F00').tokenKind(), UnexpectedStatus);
    expect(e.sw).toBe('6F00');
    expect(e.message).toMatch(/6F00 to SELECT JPKI AP/);
    const sign = await rejects(
      fake((c) =>
        c.startsWith('802A') ? '6985' : c.startsWith('0020') ? '9000' : c.startsWith('00B0') ? '' : '9000',
      ).signWithAuthKey(TEST_PINS.auth, sha256DigestInfo(challenge)),
      UnexpectedStatus,
    );
    expect(sign.sw).toBe('6985');
  });

  it('SecurityStatusNotSatisfied when the card answers 6982 to the signature', async () => {
    await rejects(
      fake((c) => (c.startsWith('802A') ? '6982' : '9000')).signWithAuthKey(
        TEST_PINS.auth,
        sha256DigestInfo(challenge),
      ),
      SecurityStatusNotSatisfied,
    );
  });

  it('63Cx / 6983 / 6984 answers to VERIFY on a card double map to WrongPin and PinBlocked', async () => {
    expect(
      (await rejects(fake((c) => (c.startsWith('0020') ? '63C1' : '9000')).readSignCertificate('ABC123'), WrongPin))
        .remaining,
    ).toBe(1);
    await rejects(fake((c) => (c.startsWith('0020') ? '6983' : '9000')).readSignCertificate('ABC123'), PinBlocked);
  });
});
