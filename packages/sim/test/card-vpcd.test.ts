// The vpcd bridge speaks vsmartcard's protocol: checked here against a stand-in vpcd (a TCP server
// written from the protocol description), so framing and control messages are tested without pcscd.

import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  connectVpcd,
  MemoryPinStateStore,
  MY_NUMBER_CARD_ATR,
  testCardMaterial,
  VirtualCard,
} from '../src/card/index.js';

/** A minimal vpcd: accepts one virtual ICC and exchanges 2-byte-length frames with it. */
function fakeVpcd(): Promise<{
  server: Server;
  port: number;
  peer: Promise<Socket>;
  exchange: (payload: Buffer) => Promise<Buffer>;
}> {
  return new Promise((resolve) => {
    let onPeer: (s: Socket) => void = () => undefined;
    const peer = new Promise<Socket>((r) => (onPeer = r));
    let buffered = Buffer.alloc(0);
    const waiting: ((b: Buffer) => void)[] = [];
    const server = createServer((s) => {
      s.setNoDelay(true);
      s.on('data', (d: Buffer) => {
        buffered = Buffer.concat([buffered, d]);
        while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
          const n = buffered.readUInt16BE(0);
          const payload = buffered.subarray(2, 2 + n);
          buffered = buffered.subarray(2 + n);
          waiting.shift()?.(Buffer.from(payload));
        }
      });
      onPeer(s);
    });
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      const exchange = async (payload: Buffer): Promise<Buffer> => {
        const s = await peer;
        const frame = Buffer.alloc(2 + payload.length);
        frame.writeUInt16BE(payload.length, 0);
        payload.copy(frame, 2);
        const answer = new Promise<Buffer>((r) => waiting.push(r));
        s.write(frame);
        return answer;
      };
      resolve({ server, port, peer, exchange });
    });
  });
}

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup = [];
});

describe('vpcd bridge', () => {
  it('answers GET ATR, APDUs (including an extended one), and resets the card on power on / reset', async () => {
    const vpcd = await fakeVpcd();
    cleanup.push(() => new Promise((r) => vpcd.server.close(() => r())));
    const m = await testCardMaterial();
    const card = new VirtualCard({ ...m.material('card'), stateStore: new MemoryPinStateStore() });
    const conn = await connectVpcd(card, { port: vpcd.port });
    cleanup.push(() => conn.close());

    expect(await vpcd.exchange(Buffer.of(4))).toEqual(Buffer.from(MY_NUMBER_CARD_ATR));
    const peer = await vpcd.peer;
    peer.write(Buffer.of(0, 1, 1)); // power on: no answer expected
    expect((await vpcd.exchange(Buffer.from('00A4040C0AD392F000260100000001', 'hex'))).toString('hex')).toBe('9000');
    const cert = await vpcd.exchange(Buffer.from('00B08A00000000', 'hex'));
    expect(cert.length).toBe(2050);
    expect(cert.subarray(-2).toString('hex')).toBe('9000');
    peer.write(Buffer.of(0, 1, 2)); // reset: the AP is no longer selected
    expect((await vpcd.exchange(Buffer.from('00A40000', 'hex'))).toString('hex')).toBe('6a86');
    expect(conn.apdus).toBe(3);
  });

  it('several frames in one TCP segment are answered in order; close() ends the connection', async () => {
    const vpcd = await fakeVpcd();
    cleanup.push(() => new Promise((r) => vpcd.server.close(() => r())));
    const m = await testCardMaterial();
    const conn = await connectVpcd(
      new VirtualCard({ ...m.material('android'), stateStore: new MemoryPinStateStore() }),
      { port: vpcd.port },
    );
    const peer = await vpcd.peer;
    const answers: Buffer[] = [];
    peer.on('data', (d: Buffer) => answers.push(d));
    const select = Buffer.from('000f00a4040c0ad392f000260100000001', 'hex');
    const label = Buffer.from('000500b0860010', 'hex');
    peer.write(Buffer.concat([select, label]));
    await new Promise((r) => setTimeout(r, 200));
    const all = Buffer.concat(answers);
    expect(all.subarray(0, 4).toString('hex')).toBe('00029000');
    expect(all.readUInt16BE(4)).toBe(18);
    expect(all.subarray(6, 21).toString('ascii')).toBe('JPKIAPGPSETOKEN');
    await conn.close();
    await conn.closed;
  });

  it('retries until vpcd listens, then gives up with a clear error', async () => {
    const m = await testCardMaterial();
    const card = new VirtualCard({ ...m.material('card'), stateStore: new MemoryPinStateStore() });
    await expect(connectVpcd(card, { port: 1, connectTimeoutMs: 200 })).rejects.toThrow(
      /cannot connect to vpcd at 127.0.0.1:1/,
    );
  });
});
