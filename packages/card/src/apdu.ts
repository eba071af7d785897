// ISO/IEC 7816-4 command and response APDUs: cases 1–4 in short and extended form (spec §3).

import { InvalidInput, TruncatedResponse } from './errors.js';

export interface CommandApdu {
  readonly cla: number;
  readonly ins: number;
  readonly p1: number;
  readonly p2: number;
  /** Command data (Lc = its length). Absent or empty: no Lc field. */
  readonly data?: Uint8Array;
  /**
   * Expected response length Ne: absent = no Le field; 1–256 short (256 is written `00`),
   * up to 65536 extended (65536 is written `00 00`).
   */
  readonly le?: number;
  /** Force the extended form even when the lengths fit the short one. */
  readonly extended?: boolean;
}

export interface ResponseApdu {
  readonly data: Uint8Array;
  readonly sw1: number;
  readonly sw2: number;
  /** `sw1 << 8 | sw2`. */
  readonly sw: number;
}

const byte = (v: number, what: string): number => {
  if (!Number.isInteger(v) || v < 0 || v > 0xff) throw new InvalidInput(`${what} must be a byte (got ${v})`);
  return v;
};

/** Encodes a command APDU; chooses the extended form when Lc > 255 or Ne > 256 (or when asked). */
export function encodeApdu(c: CommandApdu): Uint8Array {
  const header = [byte(c.cla, 'CLA'), byte(c.ins, 'INS'), byte(c.p1, 'P1'), byte(c.p2, 'P2')];
  const data = c.data ?? new Uint8Array(0);
  const nc = data.length;
  const ne = c.le;
  if (nc > 65535) throw new InvalidInput(`command data of ${nc} bytes exceeds 65535`);
  if (ne !== undefined && (!Number.isInteger(ne) || ne < 1 || ne > 65536))
    throw new InvalidInput(`Le must be 1..65536 (got ${ne})`);
  const extended = c.extended === true || nc > 255 || (ne !== undefined && ne > 256);
  const out: number[] = [...header];
  if (!extended) {
    if (nc > 0) out.push(nc, ...data);
    if (ne !== undefined) out.push(ne === 256 ? 0 : ne);
  } else {
    if (nc > 0) out.push(0, nc >> 8, nc & 0xff, ...data);
    if (ne !== undefined) {
      const v = ne === 65536 ? 0 : ne;
      if (nc > 0) out.push(v >> 8, v & 0xff);
      else out.push(0, v >> 8, v & 0xff);
    }
  }
  return Uint8Array.from(out);
}

/** Decodes a command APDU (all of ISO 7816-4 cases 1, 2S/2E, 3S/3E, 4S/4E); throws InvalidInput on a bad length. */
export function decodeApdu(b: Uint8Array): CommandApdu {
  if (b.length < 4) throw new InvalidInput(`a command APDU needs at least 4 bytes, got ${b.length}`);
  const [cla, ins, p1, p2] = [b[0]!, b[1]!, b[2]!, b[3]!];
  const n = b.length;
  if (n === 4) return { cla, ins, p1, p2 };
  const b4 = b[4]!;
  if (n === 5) return { cla, ins, p1, p2, le: b4 === 0 ? 256 : b4 };
  if (b4 !== 0) {
    if (n === 5 + b4) return { cla, ins, p1, p2, data: b.slice(5) };
    if (n === 6 + b4) return { cla, ins, p1, p2, data: b.slice(5, 5 + b4), le: b[n - 1] === 0 ? 256 : b[n - 1]! };
    throw new InvalidInput(`short APDU: Lc ${b4} does not match ${n} bytes`);
  }
  if (n < 7) throw new InvalidInput(`extended APDU of ${n} bytes is too short`);
  const x = (b[5]! << 8) | b[6]!;
  if (n === 7) return { cla, ins, p1, p2, le: x === 0 ? 65536 : x, extended: true };
  if (x === 0) throw new InvalidInput('extended APDU with Lc = 0');
  if (n === 7 + x) return { cla, ins, p1, p2, data: b.slice(7), extended: true };
  if (n === 9 + x) {
    const le = (b[n - 2]! << 8) | b[n - 1]!;
    return { cla, ins, p1, p2, data: b.slice(7, 7 + x), le: le === 0 ? 65536 : le, extended: true };
  }
  throw new InvalidInput(`extended APDU: Lc ${x} does not match ${n} bytes`);
}

/** The most data one response APDU can carry (extended length, Le = 0000), and the most a GET RESPONSE chain may gather. */
export const MAX_RESPONSE_DATA = 65_536;

/** Parses a response APDU (data ‖ SW1 SW2). Fewer than two bytes, or more than MAX_RESPONSE_DATA + 2 → TruncatedResponse. */
export function parseResponse(r: Uint8Array): ResponseApdu {
  if (!(r instanceof Uint8Array) || r.length < 2) {
    throw new TruncatedResponse(
      `a response APDU needs at least the two status bytes, got ${r instanceof Uint8Array ? r.length : typeof r}`,
    );
  }
  // A broken reader or relay must not make us hold (and parse) megabytes for one answer.
  if (r.length > MAX_RESPONSE_DATA + 2)
    throw new TruncatedResponse(
      `a response APDU carries at most ${MAX_RESPONSE_DATA} data bytes and its status word, got ${r.length} bytes`,
      { length: r.length },
    );
  const sw1 = r[r.length - 2]!;
  const sw2 = r[r.length - 1]!;
  return { data: r.subarray(0, r.length - 2), sw1, sw2, sw: (sw1 << 8) | sw2 };
}

/** `90 00` → `9000`. */
export function swHex(sw: number): string {
  return sw.toString(16).toUpperCase().padStart(4, '0');
}

/** Upper-case hex with a space between bytes (for messages and logs). */
export function hexBytes(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength)
    .toString('hex')
    .toUpperCase()
    .replace(/(..)(?!$)/g, '$1 ');
}

/** Short human description of a command for error messages (header only: never data). */
export function describeCommand(cmd: Uint8Array): string {
  const h = cmd.subarray(0, 4);
  const names: Record<number, string> = {
    0xa4: 'SELECT',
    0xb0: 'READ BINARY',
    0x20: 'VERIFY',
    0x24: 'CHANGE REFERENCE DATA',
    0x2a: 'COMPUTE DIGITAL SIGNATURE',
    0x84: 'GET CHALLENGE',
  };
  return `${names[h[1] ?? -1] ?? 'command'} ${hexBytes(h)}`;
}
