// The PC/SC path end to end: our own pcscd (foreground, private config and socket) with a vsmartcard
// vpcd reader, the virtual card inserted over the vpcd protocol, and MyNumberCard on PcscTransport
// (the `smartcard` binding → libpcsclite → pcscd), exactly as with a hardware reader.
// Needs pcscd + vsmartcard-vpcd (CI installs them): without them this file FAILS, it does not skip.

import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCertificate, sha256DigestInfo, verifySignature } from '@kakunin/jpki';
import {
  connectVpcd,
  cvcAnchorOf,
  MY_NUMBER_CARD_ATR,
  plugCardProcess,
  startPcscd,
  TEST_HOLDER,
  TEST_PINS,
  testCardMaterial,
  type CardProcess,
  type PcscdInstance,
  type TestCardMaterial,
} from '@kakunin/sim/card';
import type { WrongPin } from '../src/index.js';
import {
  CardRemoved,
  listReaders,
  MyNumberCard,
  PcscTransport,
  ReaderNotFound,
  Timeout,
  watchReaders,
  type ApduExchange,
  type ReaderEvent,
} from '../src/index.js';
import { kakuninAsync } from './support/run.js';

const tmp = mkdtempSync(join(tmpdir(), 'kakunin-pcsc-test-'));
let pcscd: PcscdInstance;
let m: TestCardMaterial;
// The card runs in its own process: see plugCardProcess for the deadlock this avoids.
let virtual: CardProcess;
const events: ReaderEvent[] = [];
let watcher: { stop(): void } | undefined;
const challenge = Buffer.from('challenge sent through pcscd');

const until = async (what: string, ok: () => Promise<boolean> | boolean, ms = 5000): Promise<void> => {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

const cardPresent = async (): Promise<boolean> =>
  (await listReaders()).some((r) => r.name === pcscd.readerName && r.cardPresent);

async function insert(): Promise<CardProcess> {
  const c = await plugCardProcess({ material: m.material('card'), stateDir: join(tmp, 'state'), port: pcscd.port });
  await until('the card in the reader', cardPresent);
  return c;
}

function opensslVerify(cert: Uint8Array, data: Uint8Array, sig: Uint8Array): string {
  const dir = mkdtempSync(join(tmp, 'ossl-'));
  writeFileSync(join(dir, 'pub.pem'), new X509Certificate(cert).publicKey.export({ type: 'spki', format: 'pem' }));
  writeFileSync(join(dir, 'data'), data);
  writeFileSync(join(dir, 'sig'), sig);
  const r = spawnSync(
    'openssl',
    ['dgst', '-sha256', '-verify', join(dir, 'pub.pem'), '-signature', join(dir, 'sig'), join(dir, 'data')],
    { encoding: 'utf8' },
  );
  return `${r.stdout}${r.stderr}`.trim();
}

beforeAll(async () => {
  pcscd = await startPcscd();
  // libpcsclite reads the socket path once per process, before the first PC/SC call.
  process.env.PCSCLITE_CSOCK_NAME = pcscd.socketPath;
  m = await testCardMaterial();
  watcher = await watchReaders((e) => events.push(e));
  virtual = await insert();
});

afterAll(async () => {
  watcher?.stop();
  await virtual?.close();
  await pcscd?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('pcscd + vpcd + virtual card', () => {
  it('lists the vpcd reader with the card and its ATR; the second slot is empty', async () => {
    const readers = await listReaders();
    expect(readers).toContainEqual({
      name: pcscd.readerName,
      cardPresent: true,
      atr: Buffer.from(MY_NUMBER_CARD_ATR).toString('hex').toUpperCase(),
    });
    expect(readers.find((r) => r.name.endsWith(' 00 01'))).toMatchObject({ cardPresent: false });
    // The watcher learns of the insertion on its own schedule (busy machines: later than the listing).
    await expect
      .poll(() => events.some((e) => e.type === 'card-inserted' && e.reader === pcscd.readerName), { timeout: 5000 })
      .toBe(true);
  });

  it('reads the auth certificate, checks PIN status, signs a challenge, reads the signing certificate with the password', async () => {
    const transport = await PcscTransport.open({ reader: pcscd.readerName });
    const log: ApduExchange[] = [];
    transport.onApdu((e) => log.push(e));
    const card = new MyNumberCard(transport, { cvcCaKeys: [cvcAnchorOf(m.cvc.ca)] });
    const received = (await virtual.stats()).received;
    try {
      const authCert = await card.readAuthCertificate();
      expect(Buffer.from(authCert)).toEqual(Buffer.from(m.material('card').authCertDer));
      expect(card.lastOperation?.apdus).toBe(2); // one extended-Le READ BINARY through pcscd
      expect(await card.pinStatus()).toEqual({ auth: 3, sign: 5, cardInfo: 3 });
      const sig = await card.signWithAuthKey(TEST_PINS.auth, sha256DigestInfo(challenge));
      verifySignature(parseCertificate(authCert), challenge, sig);
      expect(opensslVerify(authCert, challenge, sig)).toBe('Verified OK');

      const signCert = await card.readSignCertificate(TEST_PINS.sign);
      expect(parseCertificate(signCert).kind).toBe('sign');
      const signSig = await card.signWithSignKey(TEST_PINS.sign, sha256DigestInfo(challenge));
      verifySignature(parseCertificate(signCert), challenge, signSig);
      expect(opensslVerify(signCert, challenge, signSig)).toBe('Verified OK');

      const info = await card.readBasicInfo(TEST_PINS.cardInfo);
      expect(info).toMatchObject({ name: TEST_HOLDER.name, birthDate: '1980-02-17', integrity: { verified: true } });
    } finally {
      await card.close();
    }
    // Every APDU went through pcscd to the card, and none touched the My Number EF.
    const after = await virtual.stats();
    expect(after.received - received).toBe(card.stats.apdus);
    expect(log.length).toBe(card.stats.apdus);
    expect(after.myNumberProbe).toEqual({ selected: 0, read: 0, verifyTargeted: 0 });
  });

  it('a wrong password is reported with the remaining tries and not retried; the right one resets the counter', async () => {
    const card = new MyNumberCard(await PcscTransport.open({ reader: pcscd.readerName }));
    try {
      expect(
        (await card.signWithSignKey('NOTIT1', sha256DigestInfo(challenge)).catch((e: unknown) => e)) as WrongPin,
      ).toMatchObject({ code: 'WRONG_PIN', remaining: 4 });
      expect((await virtual.stats()).tries.sign).toBe(4);
      await card.signWithSignKey(TEST_PINS.sign, sha256DigestInfo(challenge));
      expect((await virtual.stats()).tries.sign).toBe(5);
    } finally {
      await card.close();
    }
  });

  it('falls back to 256-byte reads through pcscd when the card refuses extended Le', async () => {
    await virtual.setExtendedLength(false);
    const card = new MyNumberCard(await PcscTransport.open({ reader: pcscd.readerName }));
    try {
      const der = await card.readAuthCertificate();
      expect(Buffer.from(der)).toEqual(Buffer.from(m.material('card').authCertDer));
      expect(card.session.extendedLength).toBe(false);
      expect(card.lastOperation?.apdus).toBe(1 + 1 + Math.ceil(der.length / 256));
    } finally {
      await card.close();
      await virtual.setExtendedLength(true);
    }
  });

  it('the kakunin CLI works through the reader (--reader, --pin-stdin, --json with apdus and bytes)', async () => {
    const env = { PCSCLITE_CSOCK_NAME: pcscd.socketPath };
    const readers = await kakuninAsync(['card', 'readers', '--json'], { env });
    expect(readers.code, readers.stderr).toBe(0);
    expect(JSON.parse(readers.stdout).readers).toContainEqual(
      expect.objectContaining({ name: pcscd.readerName, cardPresent: true }),
    );
    const status = await kakuninAsync(['card', 'pin-status', '--reader', pcscd.readerName, '--json'], { env });
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({
      auth: 3,
      sign: 5,
      cardInfo: 3,
      apdus: expect.any(Number),
      bytes: expect.any(Number),
    });
    const data = join(tmp, 'data.bin');
    const sig = join(tmp, 'data.sig');
    writeFileSync(data, challenge);
    const signed = await kakuninAsync(['card', 'sign', '--data', data, '--out', sig, '--pin-stdin', '--json'], {
      env,
      input: `${TEST_PINS.auth}\n`,
    });
    expect(signed.code, signed.stderr).toBe(0);
    expect(JSON.parse(signed.stdout)).toMatchObject({ key: 'auth', size: 256, source: `pcsc:${pcscd.readerName}` });
    expect(opensslVerify(m.material('card').authCertDer, challenge, readFileSync(sig))).toBe('Verified OK');
  });

  it('ReaderNotFound for an unknown reader; CardRemoved for an empty slot and for a card pulled mid-session', async () => {
    await expect(PcscTransport.open({ reader: 'No Such Reader' })).rejects.toBeInstanceOf(ReaderNotFound);
    await expect(
      PcscTransport.open({ reader: `${pcscd.readerName.slice(0, -6)} 00 01`, waitForCardMs: 300 }),
    ).rejects.toBeInstanceOf(CardRemoved);
    const card = new MyNumberCard(await PcscTransport.open({ reader: pcscd.readerName }));
    await card.tokenKind();
    await virtual.close();
    await until('the card to leave the reader', async () => !(await cardPresent()));
    await expect(card.readAuthCertificate()).rejects.toBeInstanceOf(CardRemoved);
    await card.close();
    await until('the card-removed event', () =>
      events.some((e) => e.type === 'card-removed' && e.reader === pcscd.readerName),
    );
    virtual = await insert();
  });

  it('Timeout when the card stops answering', async () => {
    const hanging = {
      atr: MY_NUMBER_CARD_ATR,
      reset: () => undefined,
      powerOff: () => undefined,
      transmit: () => new Promise<Uint8Array>(() => undefined),
    };
    const slot1 = await connectVpcd(hanging, { port: pcscd.port + 1 });
    const name = `${pcscd.readerName.slice(0, -6)} 00 01`;
    try {
      await until('the second card', async () => (await listReaders()).some((r) => r.name === name && r.cardPresent));
      const card = new MyNumberCard(await PcscTransport.open({ reader: name, apduTimeoutMs: 500 }));
      await expect(card.tokenKind()).rejects.toBeInstanceOf(Timeout);
      // Pull the dead card first: disconnecting while pcscd still waits on it would block until vpcd gives up.
      await slot1.close();
      await card.close();
    } finally {
      await slot1.close();
    }
  });
});
