// The card side of ISO/IEC 7816-4 command APDUs: an independent decoder (the reader in @kakunin/card
// has its own encoder, so a shared bug cannot hide on both sides).

export interface Command {
  readonly cla: number;
  readonly ins: number;
  readonly p1: number;
  readonly p2: number;
  /** Command data; empty when there is no Lc. */
  readonly data: Uint8Array;
  /** Ne: undefined when there is no Le field; 256 / 65536 for a zero short / extended Le. */
  readonly ne: number | undefined;
  readonly extended: boolean;
}

/** Decodes cases 1, 2S, 3S, 4S, 2E, 3E, 4E; undefined when the length bytes are inconsistent (→ 6700). */
export function decodeCommand(b: Uint8Array): Command | undefined {
  const n = b.length;
  if (n < 4) return undefined;
  const head = { cla: b[0]!, ins: b[1]!, p1: b[2]!, p2: b[3]! };
  if (n === 4) return { ...head, data: new Uint8Array(0), ne: undefined, extended: false };
  const b4 = b[4]!;
  if (n === 5) return { ...head, data: new Uint8Array(0), ne: b4 === 0 ? 256 : b4, extended: false };
  if (b4 !== 0) {
    if (n === 5 + b4) return { ...head, data: b.slice(5), ne: undefined, extended: false };
    if (n === 6 + b4)
      return { ...head, data: b.slice(5, n - 1), ne: b[n - 1] === 0 ? 256 : b[n - 1]!, extended: false };
    return undefined;
  }
  if (n === 7) {
    const le = (b[5]! << 8) | b[6]!;
    return { ...head, data: new Uint8Array(0), ne: le === 0 ? 65536 : le, extended: true };
  }
  if (n < 8) return undefined;
  const lc = (b[5]! << 8) | b[6]!;
  if (lc === 0) return undefined;
  if (n === 7 + lc) return { ...head, data: b.slice(7), ne: undefined, extended: true };
  if (n === 9 + lc) {
    const le = (b[n - 2]! << 8) | b[n - 1]!;
    return { ...head, data: b.slice(7, 7 + lc), ne: le === 0 ? 65536 : le, extended: true };
  }
  return undefined;
}

/** Status word helpers. */
export const SW = {
  OK: 0x9000,
  WRONG_LENGTH: 0x6700,
  LOGICAL_CHANNEL_NOT_SUPPORTED: 0x6881,
  SM_NOT_SUPPORTED: 0x6882,
  INCOMPATIBLE_FILE: 0x6981,
  SECURITY_NOT_SATISFIED: 0x6982,
  PIN_BLOCKED: 0x6984,
  CONDITIONS_NOT_SATISFIED: 0x6985,
  NO_CURRENT_EF: 0x6986,
  SM_DATA_INCORRECT: 0x69fc,
  WRONG_DATA: 0x6a80,
  FILE_NOT_FOUND: 0x6a82,
  WRONG_P1P2: 0x6a86,
  REFERENCED_DATA_NOT_FOUND: 0x6a88,
  WRONG_OFFSET: 0x6b00,
  INS_NOT_SUPPORTED: 0x6d00,
  CLA_NOT_SUPPORTED: 0x6e00,
} as const;

export function respond(sw: number, data?: Uint8Array): Uint8Array {
  const out = new Uint8Array((data?.length ?? 0) + 2);
  if (data) out.set(data, 0);
  out[out.length - 2] = sw >> 8;
  out[out.length - 1] = sw & 0xff;
  return out;
}
