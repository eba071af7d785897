// BER-TLV as the card's data files use it (spec §9): multi-byte tags parsed generically (FF 20 is a
// private constructed tag written in the non-minimal high-tag form), lengths 1, 81 xx, 82 xx xx.

import { TruncatedResponse } from './errors.js';

export interface Tlv {
  /** Tag as a number over its bytes, e.g. 0xFF20, 0xDF21, 0x7F21, 0x5F4E, 0x90. */
  readonly tag: number;
  /** Offset of the tag in the buffer. */
  readonly start: number;
  /** Offset of the value. */
  readonly valueStart: number;
  readonly length: number;
  /** Offset just after the value. */
  readonly end: number;
  readonly value: Uint8Array;
  /** The whole TLV as stored (tag, length and value). */
  readonly raw: Uint8Array;
}

/** Reads one TLV at `offset`; throws TruncatedResponse when it runs past `buf`. */
export function readTlv(buf: Uint8Array, offset = 0, what = 'TLV'): Tlv {
  let i = offset;
  const need = (n: number): void => {
    if (i + n > buf.length)
      throw new TruncatedResponse(`${what} ends at byte ${buf.length}, inside a TLV starting at ${offset}`);
  };
  need(1);
  let tag = buf[i++]!;
  if ((tag & 0x1f) === 0x1f) {
    let more = true;
    for (let k = 0; more; k++) {
      if (k >= 3) throw new TruncatedResponse(`${what}: tag longer than 4 bytes at ${offset}`);
      need(1);
      const t = buf[i++]!;
      tag = tag * 256 + t;
      more = (t & 0x80) !== 0;
    }
  }
  need(1);
  let length = buf[i++]!;
  if (length & 0x80) {
    const n = length & 0x7f;
    if (n === 0 || n > 3)
      throw new TruncatedResponse(`${what}: unsupported length form ${length.toString(16)} at ${offset}`);
    need(n);
    length = 0;
    for (let k = 0; k < n; k++) length = length * 256 + buf[i++]!;
  }
  const valueStart = i;
  if (valueStart + length > buf.length) {
    throw new TruncatedResponse(
      `${what}: value of ${length} bytes at ${valueStart} runs past the ${buf.length} bytes read`,
      { tag: tag.toString(16).toUpperCase() },
    );
  }
  const end = valueStart + length;
  return {
    tag,
    start: offset,
    valueStart,
    length,
    end,
    value: buf.subarray(valueStart, end),
    raw: buf.subarray(offset, end),
  };
}

/** The consecutive TLVs filling `buf` exactly. */
export function readTlvs(buf: Uint8Array, what = 'TLV list'): Tlv[] {
  const out: Tlv[] = [];
  for (let i = 0; i < buf.length;) {
    const t = readTlv(buf, i, what);
    out.push(t);
    i = t.end;
  }
  return out;
}

/** Total length (header + value) of the TLV that starts `buf`, from its header only; undefined if the header is incomplete. */
export function tlvTotalLength(buf: Uint8Array): number | undefined {
  try {
    let i = 0;
    if (buf.length < 2) return undefined;
    if ((buf[i++]! & 0x1f) === 0x1f) while (i < buf.length && buf[i++]! & 0x80);
    if (i >= buf.length) return undefined;
    let length = buf[i++]!;
    if (length & 0x80) {
      const n = length & 0x7f;
      if (n === 0 || n > 3 || i + n > buf.length) return undefined;
      length = 0;
      for (let k = 0; k < n; k++) length = length * 256 + buf[i++]!;
    }
    return i + length;
  } catch {
    return undefined;
  }
}
