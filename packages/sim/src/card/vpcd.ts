// Bridge a virtual card into a real pcscd through vsmartcard's vpcd driver: we are the "virtual ICC",
// a TCP client of the vpcd port. Frames are a 2-byte big-endian length then the payload; a 1-byte
// payload is a control message (0 power off, 1 power on, 2 reset, 4 get ATR), anything longer an APDU
// to answer with the response APDU. Closing the socket is the card leaving the reader.

import { connect, type Socket } from 'node:net';

/** What the bridge needs from a card (VirtualCard has all of it). */
export interface VpcdCard {
  readonly atr: Uint8Array;
  transmit(apdu: Uint8Array): Uint8Array | Promise<Uint8Array>;
  reset(): unknown;
  powerOff(): unknown;
}

export interface VpcdOptions {
  host?: string;
  /** vpcd port of the reader slot (Debian default 35963 for reader 0, +1 for the next slot). */
  port?: number;
  /** Keep retrying the connection this long while vpcd is not listening yet (ms). Default 10000. */
  connectTimeoutMs?: number;
}

export interface VpcdConnection {
  /** APDUs answered so far. */
  readonly apdus: number;
  /** Removes the card from the reader (closes the socket). */
  close(): Promise<void>;
  /** Resolves when the connection ends, from either side. */
  readonly closed: Promise<void>;
}

const CONTROL = { powerOff: 0, powerOn: 1, reset: 2, getAtr: 4 } as const;

function frame(payload: Uint8Array): Buffer {
  if (payload.length > 0xffff) throw new RangeError(`vpcd frames carry at most 65535 bytes (got ${payload.length})`);
  const b = Buffer.alloc(2 + payload.length);
  b.writeUInt16BE(payload.length, 0);
  b.set(payload, 2);
  return b;
}

function tryConnect(host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port });
    s.once('connect', () => {
      s.removeListener('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

/** Inserts `card` into the vpcd reader at host:port; resolves once connected. */
export async function connectVpcd(card: VpcdCard, o: VpcdOptions = {}): Promise<VpcdConnection> {
  const host = o.host ?? '127.0.0.1';
  const port = o.port ?? 35963;
  const deadline = Date.now() + (o.connectTimeoutMs ?? 10_000);
  let socket: Socket;
  for (;;) {
    try {
      socket = await tryConnect(host, port);
      break;
    } catch (e) {
      if (Date.now() >= deadline) throw new Error(`cannot connect to vpcd at ${host}:${port}: ${(e as Error).message}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  socket.setNoDelay(true);
  let apdus = 0;
  let buffered = Buffer.alloc(0);
  let queue: Promise<void> = Promise.resolve();

  const handle = async (payload: Buffer): Promise<void> => {
    if (payload.length === 1) {
      switch (payload[0]) {
        case CONTROL.powerOff:
          card.powerOff();
          return;
        case CONTROL.powerOn:
        case CONTROL.reset:
          card.reset();
          return;
        case CONTROL.getAtr:
          socket.write(frame(card.atr));
          return;
        default:
          return;
      }
    }
    const response = await card.transmit(Uint8Array.from(payload));
    apdus++;
    if (!socket.destroyed) socket.write(frame(response));
  };

  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    while (buffered.length >= 2) {
      const n = buffered.readUInt16BE(0);
      if (buffered.length < 2 + n) break;
      const payload = Buffer.from(buffered.subarray(2, 2 + n));
      buffered = buffered.subarray(2 + n);
      queue = queue
        .then(() => handle(payload))
        .catch(() => {
          socket.destroy();
        });
    }
  });

  const closed = new Promise<void>((resolve) => {
    socket.once('close', () => resolve());
  });
  socket.on('error', () => socket.destroy());

  return {
    get apdus() {
      return apdus;
    },
    closed,
    async close() {
      socket.end();
      socket.destroy();
      await closed;
    },
  };
}
