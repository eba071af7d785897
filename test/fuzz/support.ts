// Fuzzing support shared by the fuzz tests (test/fuzz/*.fuzz.test.ts) and the long run
// (scripts/fuzz.ts): mutation operators over bytes and over a lenient TLV tree, the `mutated(seed)`
// fast-check arbitrary, nesting bombs, and `expectTyped`, the oracle every fuzz target goes
// through: a parser may return or throw its typed error; any other exception is a crash, and an
// input that takes longer than the time budget (1 s) is a hang. Both are reported with the input.

import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';

// ---------------------------------------------------------------------------------------------
// Configuration (environment)

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number (got "${raw}")`);
  return Math.floor(n);
}

/** Inputs per fuzz property in the test suite (CI profile). `npm run fuzz` runs 1,000,000 per parser instead. */
export const FUZZ_RUNS = envInt('FUZZ_RUNS', 1000);
/** Per-input time budget: an input taking longer is a hang. */
export const HANG_MS = envInt('FUZZ_HANG_MS', 1000);
/** fast-check seed for every property of a run (printed on failure); random when unset. */
export const FUZZ_SEED = process.env.FUZZ_SEED
  ? Number(process.env.FUZZ_SEED) | 0
  : (Date.now() ^ Math.floor(Math.random() * 0x7fffffff)) & 0x7fffffff;
if (process.env.FUZZ_SEED && !/^-?\d+$/.test(process.env.FUZZ_SEED))
  throw new Error(`FUZZ_SEED must be an integer (got "${process.env.FUZZ_SEED}")`);

/** Runs for one property: FUZZ_RUNS scaled by the target's relative cost (at least 1). */
export const runsFor = (weight = 1, base = FUZZ_RUNS): number => Math.max(1, Math.round(base * weight));

// ---------------------------------------------------------------------------------------------
// Bytes helpers

export const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
export const fromHex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

/** Hex for messages: complete up to `max` bytes, else head … tail with the length. */
export function shortHex(b: Uint8Array, max = 4096): string {
  if (b.length <= max) return hex(b);
  return `${hex(b.subarray(0, max / 2))}…(${b.length} bytes in all)…${hex(b.subarray(b.length - 64))}`;
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** The input as fast-check prints it in a counterexample: hex, not a list of numbers. */
export function withHex(b: Uint8Array): Uint8Array {
  Object.defineProperty(b, fc.toStringMethod, {
    value: () => `hex:${shortHex(b)}`,
    enumerable: false,
    configurable: true,
  });
  return b;
}

/** DER length octets (minimal). */
export function derLength(n: number): Uint8Array {
  if (n < 0x80) return Uint8Array.of(n);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Uint8Array.from([0x80 | bytes.length, ...bytes]);
}

/** Tag number (as the parsers report it: the identifier octets as one number) → octets. */
export function tagOctets(tag: number): Uint8Array {
  const bytes: number[] = [];
  for (let v = tag; v > 0 || bytes.length === 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Uint8Array.from(bytes);
}

export function tlv(tag: number | Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const value = concatBytes(parts);
  return concatBytes([typeof tag === 'number' ? tagOctets(tag) : tag, derLength(value.length), value]);
}

// ---------------------------------------------------------------------------------------------
// Lenient TLV scanning: header positions in a buffer that may already be corrupt.

export interface Header {
  readonly start: number;
  /** Offset of the first length octet. */
  readonly lenStart: number;
  readonly valueStart: number;
  readonly end: number;
  readonly constructed: boolean;
  readonly depth: number;
}

/** Reads one header without DER strictness (any definite length form up to 4 octets); undefined when unreadable. */
export function lenientHeader(buf: Uint8Array, pos: number, limit: number, depth = 0): Header | undefined {
  if (pos >= limit) return undefined;
  const first = buf[pos]!;
  let i = pos + 1;
  if ((first & 0x1f) === 0x1f) {
    let n = 0;
    for (;;) {
      if (i >= limit || ++n > 4) return undefined;
      if ((buf[i++]! & 0x80) === 0) break;
    }
  }
  if (i >= limit) return undefined;
  const lenStart = i;
  const l = buf[i++]!;
  let length = l;
  if (l & 0x80) {
    const count = l & 0x7f;
    if (count === 0 || count > 4 || i + count > limit) return undefined;
    length = 0;
    for (let k = 0; k < count; k++) length = length * 256 + buf[i++]!;
  }
  if (i + length > limit) return undefined;
  return { start: pos, lenStart, valueStart: i, end: i + length, constructed: (first & 0x20) !== 0, depth };
}

/** Headers of every readable TLV, pre-order, at most `max` (iterative: nesting bombs are fine). */
export function tlvHeaders(buf: Uint8Array, max = 4096): Header[] {
  const out: Header[] = [];
  const stack: [number, number, number][] = [[0, buf.length, 0]];
  while (stack.length && out.length < max) {
    const [pos, limit, depth] = stack.pop()!;
    const h = lenientHeader(buf, pos, limit, depth);
    if (!h) continue;
    out.push(h);
    if (h.end < limit) stack.push([h.end, limit, depth]);
    if (h.constructed && h.end > h.valueStart) stack.push([h.valueStart, h.end, depth + 1]);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Lenient TLV tree: edit a node, then encode again with correct lengths everywhere above it.

/** Bytes `b[s..e)`: tree nodes point into the parsed buffer instead of copying (subarray is slow). */
export interface Span {
  readonly b: Uint8Array;
  readonly s: number;
  readonly e: number;
}
export const span = (b: Uint8Array): Span => ({ b, s: 0, e: b.length });
export const spanBytes = (x: Span): Uint8Array => x.b.subarray(x.s, x.e);

export type TreeNode =
  | { kind: 'tlv'; tag: Span; value: Span; children?: TreeNode[]; prefix?: Span; size?: number }
  | { kind: 'raw'; bytes: Span };
type TlvNode = Extract<TreeNode, { kind: 'tlv' }>;

const MAX_TREE_DEPTH = 64;
const MAX_TREE_NODES = 3000;

function spanTag(x: Span): number {
  let n = 0;
  for (let i = x.s; i < x.e; i++) n = n * 256 + x.b[i]!;
  return n;
}

/** Parses consecutive TLVs of `b[s..e)`; what does not parse is kept as raw bytes. OCTET/BIT STRINGs holding DER are opened too. */
export function parseTree(buf: Uint8Array, s = 0, e = buf.length, depth = 0, budget = { nodes: 0 }): TreeNode[] {
  const out: TreeNode[] = [];
  let pos = s;
  while (pos < e) {
    const h = depth < MAX_TREE_DEPTH && budget.nodes < MAX_TREE_NODES ? lenientHeader(buf, pos, e) : undefined;
    if (!h) {
      out.push({ kind: 'raw', bytes: { b: buf, s: pos, e } });
      break;
    }
    budget.nodes++;
    const node: TlvNode = {
      kind: 'tlv',
      tag: { b: buf, s: h.start, e: h.lenStart },
      value: { b: buf, s: h.valueStart, e: h.end },
    };
    if (h.constructed && h.end > h.valueStart) {
      node.children = parseTree(buf, h.valueStart, h.end, depth + 1, budget);
    } else if (
      h.lenStart === h.start + 1 &&
      (buf[h.start] === 0x04 || buf[h.start] === 0x03) &&
      h.end - h.valueStart >= 2
    ) {
      // Encapsulated DER (extension values, keys): open it when it parses completely.
      const inner = h.valueStart + (buf[h.start] === 0x03 ? 1 : 0);
      const first = lenientHeader(buf, inner, h.end);
      if (first && (first.end === h.end || lenientHeader(buf, first.end, h.end))) {
        const children = parseTree(buf, inner, h.end, depth + 1, budget);
        if (children.every((c) => c.kind === 'tlv')) {
          node.children = children;
          node.prefix = { b: buf, s: h.valueStart, e: inner };
        }
      }
    }
    out.push(node);
    pos = h.end;
  }
  return out;
}

export const lengthOctets = (n: number): number =>
  n < 0x80 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : n < 0x1000000 ? 4 : 5;

/** Content size of a node (computed once, bottom-up). */
function contentSize(n: TlvNode): number {
  if (n.size === undefined)
    n.size = n.children ? (n.prefix ? n.prefix.e - n.prefix.s : 0) + listSize(n.children) : n.value.e - n.value.s;
  return n.size;
}

function listSize(nodes: readonly TreeNode[]): number {
  let total = 0;
  for (const c of nodes) {
    if (c.kind === 'raw') total += c.bytes.e - c.bytes.s;
    else {
      const inner = contentSize(c);
      total += c.tag.e - c.tag.s + lengthOctets(inner) + inner;
    }
  }
  return total;
}

function put(out: Uint8Array, at: number, x: Span): number {
  const n = x.e - x.s;
  if (n > 32) out.set(x.b.subarray(x.s, x.e), at);
  else for (let i = 0; i < n; i++) out[at + i] = x.b[x.s + i]!;
  return at + n;
}

function writeLength(out: Uint8Array, at: number, size: number): number {
  if (size < 0x80) {
    out[at] = size;
    return at + 1;
  }
  const k = lengthOctets(size) - 1;
  out[at++] = 0x80 | k;
  for (let i = k - 1; i >= 0; i--) out[at++] = Math.floor(size / 256 ** i) & 0xff;
  return at;
}

function writeList(nodes: readonly TreeNode[], out: Uint8Array, at: number): number {
  for (const n of nodes) {
    if (n.kind === 'raw') {
      at = put(out, at, n.bytes);
      continue;
    }
    at = put(out, at, n.tag);
    at = writeLength(out, at, contentSize(n));
    if (n.children) {
      if (n.prefix) at = put(out, at, n.prefix);
      at = writeList(n.children, out, at);
    } else {
      at = put(out, at, n.value);
    }
  }
  return at;
}

/** Encodes the nodes with minimal definite lengths (two passes: sizes, then one buffer). Nodes must not be reused after an edit. */
export function encodeTree(nodes: readonly TreeNode[]): Uint8Array {
  const out = new Uint8Array(listSize(nodes));
  writeList(nodes, out, 0);
  return out;
}

/** Pre-order list of the tree's TLV nodes with their parent list and index (depth is bounded by MAX_TREE_DEPTH). */
function flatten(
  nodes: TreeNode[],
  out: { node: TlvNode; parent: TreeNode[]; index: number }[] = [],
): { node: TlvNode; parent: TreeNode[]; index: number }[] {
  nodes.forEach((node, index) => {
    if (node.kind !== 'tlv') return;
    out.push({ node, parent: nodes, index });
    if (node.children) flatten(node.children, out);
  });
  return out;
}

/** The parent chain of a node changes size after an edit: forget the cached sizes. */
function invalidate(nodes: TreeNode[]): void {
  for (const n of nodes) {
    if (n.kind !== 'tlv') continue;
    n.size = undefined;
    if (n.children) invalidate(n.children);
  }
}

// ---------------------------------------------------------------------------------------------
// Interesting values (what parsers special-case)

export const INTERESTING_BYTES = [
  0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x0a, 0x0c, 0x13, 0x16, 0x17, 0x18, 0x1e, 0x1f, 0x30, 0x31, 0x3f, 0x5a,
  0x7f, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x9f, 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xbf, 0xdf, 0xfe, 0xff,
];

const oid = (h: string): Uint8Array => fromHex(h);
const ascii = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'latin1'));

/** Values worth putting into a TLV of a given universal tag. */
const INTERESTING_VALUES: Record<number, Uint8Array[]> = {
  0x01: [new Uint8Array(0), Uint8Array.of(0), Uint8Array.of(0xff), Uint8Array.of(1), Uint8Array.of(0xff, 0xff)],
  0x02: [
    new Uint8Array(0),
    Uint8Array.of(0),
    Uint8Array.of(0x80),
    Uint8Array.of(0xff),
    Uint8Array.of(0, 1),
    Uint8Array.of(0xff, 0x80),
    Uint8Array.of(0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
    new Uint8Array(21).fill(0x11),
    Uint8Array.of(2),
    Uint8Array.of(3),
    Uint8Array.of(1, 0, 1),
  ],
  0x03: [
    new Uint8Array(0),
    Uint8Array.of(0),
    Uint8Array.of(8),
    Uint8Array.of(7),
    Uint8Array.of(1, 0x80),
    Uint8Array.of(0, 0xff, 0xff),
    Uint8Array.of(7, 0x80),
  ],
  0x05: [new Uint8Array(0), Uint8Array.of(0)],
  0x06: [
    new Uint8Array(0),
    Uint8Array.of(0x80),
    Uint8Array.of(0x2a, 0x81),
    Uint8Array.of(0x80, 0x01),
    Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f),
    oid('551d0f'), // keyUsage
    oid('551d13'), // basicConstraints
    oid('551d20'), // certificatePolicies
    oid('551d11'), // subjectAltName
    oid('551d12'), // issuerAltName
    oid('551d23'), // authorityKeyIdentifier
    oid('551d0e'), // subjectKeyIdentifier
    oid('551d1f'), // cRLDistributionPoints
    oid('551d25'), // extKeyUsage
    oid('2b06010505070101'), // authorityInfoAccess
    oid('2b06010505073001'), // ocsp
    oid('2b0601050507300101'), // ocsp basic
    oid('2b0601050507300102'), // ocsp nonce
    oid('551d14'), // cRLNumber
    oid('551d15'), // reasonCode
    oid('551d1c'), // issuingDistributionPoint
    oid('2a864886f70d010101'), // rsaEncryption
    oid('2a864886f70d01010b'), // sha256WithRSA
    oid('2b0e03021a'), // sha1
    oid('550403'), // CN
    oid('55040a'), // O
    oid('55040b'), // OU
    oid('2a83088c9b55080501'), // JPKI name (1.2.392.200149.8.5.5.1)
    oid('2a83088c9b55080504'), // JPKI birth date
  ],
  0x0a: [
    new Uint8Array(0),
    Uint8Array.of(0),
    Uint8Array.of(1),
    Uint8Array.of(7),
    Uint8Array.of(10),
    Uint8Array.of(11),
    Uint8Array.of(0xff),
    Uint8Array.of(0, 1),
  ],
  0x0c: [
    new Uint8Array(0),
    Uint8Array.of(0xc3, 0x28),
    Uint8Array.of(0xed, 0xa0, 0x80),
    Uint8Array.of(0xf4, 0x90, 0x80, 0x80),
    ascii('537686677188'),
    Uint8Array.of(0xe3, 0x80, 0x80),
    Uint8Array.of(0),
  ],
  0x13: [new Uint8Array(0), Uint8Array.of(0x80), Uint8Array.of(0xff), ascii('JP'), ascii('JPKI-SIM')],
  0x1e: [Uint8Array.of(0), Uint8Array.of(0xd8, 0x00), Uint8Array.of(0, 0x41, 0)],
  0x17: [
    '000229000000Z',
    '991231235960Z',
    '491231235959Z',
    '500101000000Z',
    '240230000000Z',
    '2401010000Z',
    '240101000000+0900',
    '240101000000.5Z',
    '24010100000aZ',
    '',
    'Z',
    '-10101000000Z',
  ].map(ascii),
  0x18: [
    '00000101000000Z',
    '99991231235959Z',
    '20240230000000Z',
    '20380119031408Z',
    '19691231235959Z',
    '00500101000000Z',
    '2024010100000Z',
    '20240101000000.123Z',
    '+0240101000000Z',
  ].map(ascii),
};

// ---------------------------------------------------------------------------------------------
// Mutation plans

export type LengthForm =
  | 'indefinite'
  | 'huge'
  | 'tooManyOctets'
  | 'count127'
  | 'nonMinimal'
  | 'zero'
  | 'plus'
  | 'minus'
  | 'max3'
  | 'missingOctets'
  | 'random';
export const LENGTH_FORMS: readonly LengthForm[] = [
  'indefinite',
  'huge',
  'tooManyOctets',
  'count127',
  'nonMinimal',
  'zero',
  'plus',
  'minus',
  'max3',
  'missingOctets',
  'random',
];

export type TreeEdit =
  | 'flipValue'
  | 'setValue'
  | 'interesting'
  | 'truncValue'
  | 'drop'
  | 'dup'
  | 'swap'
  | 'retag'
  | 'graft'
  | 'insert'
  | 'wrap'
  | 'unwrap'
  | 'empty';
const TREE_EDITS: readonly TreeEdit[] = [
  'flipValue',
  'setValue',
  'interesting',
  'truncValue',
  'drop',
  'dup',
  'swap',
  'retag',
  'graft',
  'insert',
  'wrap',
  'unwrap',
  'empty',
];

export type MutationOp =
  | { op: 'flip'; at: number; bit: number }
  | { op: 'set'; at: number; byte: number }
  | { op: 'insert'; at: number; bytes: Uint8Array }
  | { op: 'delete'; at: number; len: number }
  | { op: 'duplicate'; at: number; len: number }
  | { op: 'truncate'; at: number }
  | { op: 'splice'; at: number; from: number; len: number }
  | { op: 'length'; node: number; form: LengthForm; arg: number }
  | { op: 'tag'; node: number; byte: number }
  | { op: 'tree'; node: number; edit: TreeEdit; arg: number; bytes: Uint8Array }
  | { op: 'nest'; node: number; depth: number; tag: number; indefinite: boolean }
  | { op: 'random'; bytes: Uint8Array };

/** New length octets for a header whose content is `len` bytes long. */
export function corruptLength(len: number, form: LengthForm, arg = 0): Uint8Array {
  switch (form) {
    case 'indefinite':
      return Uint8Array.of(0x80);
    case 'huge':
      return Uint8Array.of(0x84, 0xff, 0xff, 0xff, 0xff);
    case 'tooManyOctets':
      return Uint8Array.of(0x85, 0, 0, 0, 0, len & 0xff);
    case 'count127':
      return Uint8Array.of(0xff);
    case 'nonMinimal':
      return len < 0x80
        ? Uint8Array.of(0x81, len)
        : concatBytes([Uint8Array.of(0x80 | (derLength(len).length - 1 + 1), 0), derLength(len).subarray(1)]);
    case 'zero':
      return Uint8Array.of(0);
    case 'plus':
      return derLength(len + 1 + (arg % 3));
    case 'minus':
      return derLength(Math.max(0, len - 1 - (arg % 3)));
    case 'max3':
      return Uint8Array.of(0x83, 0xff, 0xff, 0xff);
    case 'missingOctets':
      return Uint8Array.of(0x82);
    case 'random': {
      const count = arg % 6;
      return Uint8Array.from([
        count === 0 ? (arg >> 3) & 0xff : 0x80 | count,
        ...Array.from({ length: count }, (_, k) => (arg >> (k * 5)) & 0xff),
      ]);
    }
  }
}

/**
 * Nested TLVs `depth` levels deep around `inner` (default NULL), built without recursion.
 * Definite lengths are exact; `indefinite` writes 0x80 lengths (and no end-of-contents octets).
 */
export function nestingBomb(
  depth: number,
  o: { tag?: number; inner?: Uint8Array; indefinite?: boolean } = {},
): Uint8Array {
  const tag = tagOctets(o.tag ?? 0x30);
  const inner = o.inner ?? Uint8Array.of(0x05, 0x00);
  if (o.indefinite) {
    const out = new Uint8Array(depth * (tag.length + 1) + inner.length);
    for (let i = 0; i < depth; i++) {
      out.set(tag, i * (tag.length + 1));
      out[i * (tag.length + 1) + tag.length] = 0x80;
    }
    out.set(inner, depth * (tag.length + 1));
    return out;
  }
  // Content length at each level, from the inside out; then one buffer written from the outside in.
  const sizes = new Float64Array(depth + 1);
  sizes[depth] = inner.length;
  for (let i = depth - 1; i >= 0; i--) sizes[i] = tag.length + lengthOctets(sizes[i + 1]!) + sizes[i + 1]!;
  const out = new Uint8Array(sizes[0]!);
  let at = 0;
  for (let i = 0; i < depth; i++) {
    out.set(tag, at);
    at += tag.length;
    const size = sizes[i + 1]!;
    if (size < 0x80) out[at++] = size;
    else {
      const k = lengthOctets(size) - 1;
      out[at++] = 0x80 | k;
      for (let j = k - 1; j >= 0; j--) out[at++] = Math.floor(size / 256 ** j) & 0xff;
    }
  }
  out.set(inner, at);
  return out;
}

/** Applies one mutation. Positions are taken modulo the current length, so any plan fits any input. */
export function applyOp(buf: Uint8Array, m: MutationOp): Uint8Array {
  const n = buf.length;
  switch (m.op) {
    case 'flip': {
      if (n === 0) return buf;
      const out = Uint8Array.from(buf);
      out[m.at % n]! ^= 1 << (m.bit & 7);
      return out;
    }
    case 'set': {
      if (n === 0) return Uint8Array.of(m.byte & 0xff);
      const out = Uint8Array.from(buf);
      out[m.at % n] = m.byte & 0xff;
      return out;
    }
    case 'insert': {
      const at = m.at % (n + 1);
      return concatBytes([buf.subarray(0, at), m.bytes, buf.subarray(at)]);
    }
    case 'delete': {
      if (n === 0) return buf;
      const at = m.at % n;
      return concatBytes([buf.subarray(0, at), buf.subarray(Math.min(n, at + 1 + (m.len % 64)))]);
    }
    case 'duplicate': {
      if (n === 0) return buf;
      const at = m.at % n;
      const end = Math.min(n, at + 1 + (m.len % 256));
      return concatBytes([buf.subarray(0, end), buf.subarray(at, end), buf.subarray(end)]);
    }
    case 'truncate':
      return buf.slice(0, m.at % (n + 1));
    case 'splice': {
      if (n === 0) return buf;
      const at = m.at % n;
      const from = m.from % n;
      const len = Math.min(1 + (m.len % 128), n - from, n - at);
      const out = Uint8Array.from(buf);
      out.set(buf.subarray(from, from + len), at);
      return out;
    }
    case 'length': {
      const hs = tlvHeaders(buf, 1024);
      if (hs.length === 0) return buf;
      const h = hs[m.node % hs.length]!;
      return concatBytes([
        buf.subarray(0, h.lenStart),
        corruptLength(h.end - h.valueStart, m.form, m.arg),
        buf.subarray(h.valueStart),
      ]);
    }
    case 'tag': {
      const hs = tlvHeaders(buf, 1024);
      if (hs.length === 0) return buf;
      const out = Uint8Array.from(buf);
      out[hs[m.node % hs.length]!.start] = m.byte & 0xff;
      return out;
    }
    case 'tree':
      return treeEdit(buf, m);
    case 'nest': {
      const roots = parseTree(buf);
      const flat = flatten(roots);
      if (flat.length === 0) return concatBytes([nestingBomb(m.depth, { tag: m.tag, indefinite: m.indefinite }), buf]);
      const { parent, index } = flat[m.node % flat.length]!;
      const target = encodeTree([parent[index]!]);
      const bomb = m.indefinite
        ? concatBytes([nestingBomb(m.depth, { tag: m.tag, indefinite: true, inner: new Uint8Array(0) }), target])
        : nestingBomb(m.depth, { tag: m.tag, inner: target });
      parent[index] = { kind: 'raw', bytes: span(bomb) };
      invalidate(roots);
      return encodeTree(roots);
    }
    case 'random':
      return m.bytes;
  }
}

const tlvOf = (tag: Span, value: Uint8Array): TreeNode => ({ kind: 'tlv', tag, value: span(value) });

function treeEdit(buf: Uint8Array, m: Extract<MutationOp, { op: 'tree' }>): Uint8Array {
  const roots = parseTree(buf);
  const flat = flatten(roots);
  if (flat.length === 0) return buf;
  const { node, parent, index } = flat[m.node % flat.length]!;
  const contents = (): Uint8Array =>
    node.children ? encodeTree(node.children) : Uint8Array.from(spanBytes(node.value));
  switch (m.edit) {
    case 'flipValue': {
      const v = contents();
      if (v.length === 0) return buf;
      v[(m.arg >> 3) % v.length]! ^= 1 << (m.arg & 7);
      parent[index] = tlvOf(node.tag, node.prefix ? concatBytes([spanBytes(node.prefix), v]) : v);
      break;
    }
    case 'setValue':
      parent[index] = tlvOf(node.tag, m.bytes);
      break;
    case 'interesting': {
      const choices = INTERESTING_VALUES[spanTag(node.tag)] ?? INTERESTING_VALUES[0x02]!;
      parent[index] = tlvOf(node.tag, choices[m.arg % choices.length]!);
      break;
    }
    case 'truncValue': {
      const v = contents();
      parent[index] = tlvOf(node.tag, v.subarray(0, m.arg % (v.length + 1)));
      break;
    }
    case 'drop':
      parent.splice(index, 1);
      break;
    case 'dup':
      parent.splice(index, 0, { kind: 'raw', bytes: span(encodeTree([node])) });
      break;
    case 'swap': {
      const other = parent[index + 1];
      if (!other) return buf;
      parent[index + 1] = node;
      parent[index] = other;
      break;
    }
    case 'retag': {
      const tag = Uint8Array.from(spanBytes(node.tag));
      tag[0] = INTERESTING_BYTES[m.arg % INTERESTING_BYTES.length]!;
      // A high-tag-number first octet needs a following octet; keep the original ones when present.
      node.tag = span((tag[0] & 0x1f) === 0x1f && tag.length === 1 ? Uint8Array.of(tag[0], 0x20) : tag);
      break;
    }
    case 'graft': {
      const donor = flat[m.arg % flat.length]!.node;
      parent[index] = { kind: 'raw', bytes: span(encodeTree([donor])) };
      break;
    }
    case 'insert':
      parent.splice(
        index,
        0,
        tlvOf(span(Uint8Array.of(INTERESTING_BYTES[m.arg % INTERESTING_BYTES.length]!)), m.bytes),
      );
      break;
    case 'wrap':
      parent[index] = {
        kind: 'raw',
        bytes: span(nestingBomb(1 + (m.arg % 8), { tag: m.arg & 0x100 ? 0x31 : 0x30, inner: encodeTree([node]) })),
      };
      break;
    case 'unwrap':
      if (!node.children) return buf;
      parent.splice(index, 1, ...node.children);
      break;
    case 'empty':
      parent[index] = tlvOf(node.tag, new Uint8Array(0));
      break;
  }
  invalidate(roots);
  return encodeTree(roots);
}

export function applyPlan(seed: Uint8Array, plan: readonly MutationOp[]): Uint8Array {
  let b: Uint8Array = Uint8Array.from(seed); // never hand out the seed itself: some callers mask buffers in place
  for (const m of plan) b = applyOp(b, m);
  return b;
}

// ---------------------------------------------------------------------------------------------
// fast-check arbitraries

const pos = fc.nat();
const smallBytes = fc.uint8Array({ maxLength: 24 });

export const mutationOp: fc.Arbitrary<MutationOp> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant('flip' as const), at: pos, bit: fc.nat(7) }) },
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('set' as const),
      at: pos,
      byte: fc.oneof(fc.constantFrom(...INTERESTING_BYTES), fc.nat(255)),
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('insert' as const), at: pos, bytes: smallBytes }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), at: pos, len: fc.nat(63) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('duplicate' as const), at: pos, len: fc.nat(255) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('truncate' as const), at: pos }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('splice' as const), at: pos, from: pos, len: fc.nat(127) }) },
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('length' as const),
      node: pos,
      form: fc.constantFrom(...LENGTH_FORMS),
      arg: fc.nat(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('tag' as const),
      node: pos,
      byte: fc.oneof(fc.constantFrom(...INTERESTING_BYTES), fc.nat(255)),
    }),
  },
  {
    weight: 10,
    arbitrary: fc.record({
      op: fc.constant('tree' as const),
      node: pos,
      edit: fc.constantFrom(...TREE_EDITS),
      arg: fc.nat(),
      bytes: smallBytes,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('nest' as const),
      node: pos,
      depth: fc.oneof(
        { weight: 20, arbitrary: fc.integer({ min: 1, max: 64 }) },
        { weight: 1, arbitrary: fc.constantFrom(1000, 10_000, 100_000) },
      ),
      tag: fc.constantFrom(0x30, 0x31, 0xa0, 0xa3, 0x04),
      indefinite: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('random' as const), bytes: fc.uint8Array({ maxLength: 512 }) }) },
);

export const mutationPlan = (maxOps = 4): fc.Arbitrary<MutationOp[]> =>
  fc.array(mutationOp, { minLength: 1, maxLength: maxOps });

/**
 * Mutants of the seed(s): 1–`maxOps` mutations (bit flips, byte insert/delete/duplicate,
 * truncation, length-field and tag corruption, structure-aware TLV edits that keep the outer
 * lengths right, nesting bombs, random bytes); now and then the seed itself.
 */
export function mutated(
  seed: Uint8Array | readonly Uint8Array[],
  o: { maxOps?: number } = {},
): fc.Arbitrary<Uint8Array> {
  return mutatedFrom(seed instanceof Uint8Array ? [seed] : seed, o).map((m) => m.bytes);
}

/** Like `mutated`, also telling which seed the mutant comes from (when seeds carry context, e.g. an OCSP request). */
export function mutatedFrom(
  seeds: readonly Uint8Array[],
  o: { maxOps?: number } = {},
): fc.Arbitrary<{ seed: number; bytes: Uint8Array }> {
  if (seeds.length === 0) throw new Error('mutated() needs at least one seed');
  const pick = fc.nat(seeds.length - 1);
  return fc
    .oneof(
      { weight: 1, arbitrary: fc.tuple(pick, fc.constant([] as MutationOp[])) },
      { weight: 30, arbitrary: fc.tuple(pick, mutationPlan(o.maxOps ?? 4)) },
    )
    .map(([i, plan]) => ({ seed: i, bytes: withHex(applyPlan(seeds[i]!, plan)) }));
}

/** Arbitrary bytes of the kinds no seed leads to: random, and nesting bombs. */
export const wildBytes: fc.Arbitrary<Uint8Array> = fc
  .oneof(
    { weight: 8, arbitrary: fc.uint8Array({ maxLength: 600 }) },
    {
      weight: 1,
      arbitrary: fc
        .record({
          depth: fc.oneof(
            { weight: 20, arbitrary: fc.integer({ min: 1, max: 300 }) },
            { weight: 1, arbitrary: fc.constantFrom(10_000, 100_000) },
          ),
          tag: fc.constantFrom(0x30, 0x31, 0xa0, 0x04, 0xff20, 0x7f21, 0xa1),
          indefinite: fc.boolean(),
        })
        .map((b) => nestingBomb(b.depth, b)),
    },
  )
  .map(withHex);

/** Every prefix of `b` (truncation at every length), including the empty one and `b` itself. */
export function* truncations(b: Uint8Array): Generator<Uint8Array> {
  for (let n = 0; n <= b.length; n++) yield b.subarray(0, n);
}

/** Every header of `b` with every length corruption. */
export function* lengthCorruptions(b: Uint8Array): Generator<Uint8Array> {
  for (const h of tlvHeaders(b)) {
    for (const form of LENGTH_FORMS) {
      for (const arg of form === 'random'
        ? [0x01, 0x7a, 0x3ff, 0x5]
        : form === 'plus' || form === 'minus'
          ? [0, 2]
          : [0]) {
        yield concatBytes([
          b.subarray(0, h.lenStart),
          corruptLength(h.end - h.valueStart, form, arg),
          b.subarray(h.valueStart),
        ]);
      }
    }
  }
}

/** Deep nestings that must neither overflow the stack nor take long. */
export function* bombs(): Generator<{ name: string; bytes: Uint8Array }> {
  for (const depth of [1000, 100_000]) {
    for (const tag of [0x30, 0x31, 0xa0, 0xa3, 0x04, 0xff20, 0x7f21]) {
      yield { name: `${depth} levels of ${tag.toString(16)} (definite)`, bytes: nestingBomb(depth, { tag }) };
      yield {
        name: `${depth} levels of ${tag.toString(16)} (indefinite)`,
        bytes: nestingBomb(depth, { tag, indefinite: true }),
      };
    }
  }
  // Lengths that claim the maximum, repeated.
  const liar = new Uint8Array(5 * 20_000);
  for (let i = 0; i < 20_000; i++) liar.set([0x30, 0x84, 0xff, 0xff, 0xff], i * 5);
  yield { name: '20000 × 30 84 FFFFFFFF', bytes: liar };
  yield { name: '100000 × 30 80', bytes: nestingBomb(100_000, { indefinite: true, inner: new Uint8Array(0) }) };
}

// ---------------------------------------------------------------------------------------------
// The oracle

export type Verdict = 'typed' | 'accepted';

export interface ExpectOptions {
  /** The input, for the report (bytes are shown in hex). */
  input?: Uint8Array | string | (() => string);
  /** Name of the parser, for the report. */
  parser?: string;
  /** Time budget in ms (default HANG_MS). */
  budgetMs?: number;
  /** Called when an async call exceeds the budget (e.g. to make a fuzzed transport fail from then on). */
  onHang?: () => void;
}

/** A crash (non-typed exception) or a hang (input over the time budget), with the input. */
export class FuzzFailure extends Error {
  readonly kind: 'crash' | 'hang';
  readonly parser: string;
  readonly input: string;
  readonly error: unknown;
  readonly ms: number;
  constructor(kind: 'crash' | 'hang', parser: string, input: string, error: unknown, ms: number) {
    const e = error as { name?: string; message?: string; stack?: string } | undefined;
    const what =
      kind === 'hang'
        ? `took ${Math.round(ms)} ms (budget ${HANG_MS} ms)`
        : `threw a non-typed ${e?.name ?? typeof error}: ${e?.message ?? String(error)}`;
    super(
      `FUZZ ${kind.toUpperCase()} in ${parser}: ${what}\ninput: ${input}${kind === 'crash' && e?.stack ? `\nstack: ${e.stack}` : ''}`,
    );
    this.kind = kind;
    this.parser = parser;
    this.input = input;
    this.error = error;
    this.ms = ms;
    this.name = 'FuzzFailure';
  }
}

function describeInput(input: ExpectOptions['input']): string {
  if (input === undefined) return '(not given)';
  if (typeof input === 'function') return input();
  if (typeof input === 'string')
    return input.length > 20_000 ? `${input.slice(0, 20_000)}…(${input.length} chars)` : input;
  return `hex:${shortHex(input, 65536)}`;
}

const isThenable = (v: unknown): v is PromiseLike<unknown> =>
  typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';

/**
 * Runs `fn` on one fuzz input: returning, or throwing an error `isTypedError` accepts, passes
 * ('accepted' / 'typed'); any other exception (TypeError, RangeError, stack overflow, a string…)
 * throws a FuzzFailure 'crash', and a call over the time budget a FuzzFailure 'hang', both with
 * the input. Synchronous for a synchronous `fn`; a promise when `fn` returns one.
 */
export function expectTyped(
  fn: () => PromiseLike<unknown>,
  isTypedError: (e: unknown) => boolean,
  o?: ExpectOptions,
): Promise<Verdict>;
export function expectTyped(
  fn: () => unknown,
  isTypedError: (e: unknown) => boolean,
  o?: ExpectOptions,
): Verdict | Promise<Verdict>;
export function expectTyped(
  fn: () => unknown,
  isTypedError: (e: unknown) => boolean,
  o: ExpectOptions = {},
): Verdict | Promise<Verdict> {
  const budget = o.budgetMs ?? HANG_MS;
  const parser = o.parser ?? 'parser';
  const t0 = performance.now();
  watchdog?.enter(o.input);
  let result: unknown;
  try {
    result = fn();
  } catch (e) {
    watchdog?.exit();
    return settle(e, true);
  }
  if (!isThenable(result)) {
    watchdog?.exit();
    return settle(undefined, false);
  }
  return new Promise<Verdict>((resolve, reject) => {
    const timer = setTimeout(() => {
      watchdog?.exit();
      o.onHang?.();
      reject(new FuzzFailure('hang', parser, describeInput(o.input), undefined, performance.now() - t0));
    }, budget);
    result.then(
      () => {
        clearTimeout(timer);
        watchdog?.exit();
        try {
          resolve(settle(undefined, false));
        } catch (f) {
          reject(f);
        }
      },
      (e: unknown) => {
        clearTimeout(timer);
        watchdog?.exit();
        try {
          resolve(settle(e, true));
        } catch (f) {
          reject(f);
        }
      },
    );
  });

  function settle(e: unknown, threw: boolean): Verdict {
    const ms = performance.now() - t0;
    if (threw && !isTypedError(e)) throw new FuzzFailure('crash', parser, describeInput(o.input), e, ms);
    if (ms > budget) throw new FuzzFailure('hang', parser, describeInput(o.input), e, ms);
    return threw ? 'typed' : 'accepted';
  }
}

// ---------------------------------------------------------------------------------------------
// Watchdog: a synchronous infinite loop never returns to expectTyped, so a worker thread watches
// the current input and, past a hard limit, writes it out and kills the process.

class Watchdog {
  private readonly meta: Int32Array;
  private readonly started: Float64Array;
  private readonly label: Uint8Array;
  private readonly input: Uint8Array;
  private readonly worker: Worker;

  constructor(limitMs: number, reportFile: string) {
    const inputCap = 1 << 20;
    const sab = new SharedArrayBuffer(32 + 4096 + inputCap);
    this.meta = new Int32Array(sab, 0, 4); // busy, input length, label length, input is text
    this.started = new Float64Array(sab, 16, 1);
    this.label = new Uint8Array(sab, 32, 4096);
    this.input = new Uint8Array(sab, 32 + 4096, inputCap);
    const code = `
      const { workerData } = require('node:worker_threads');
      const { writeSync, writeFileSync } = require('node:fs');
      const { sab, limitMs, reportFile } = workerData;
      const meta = new Int32Array(sab, 0, 4);
      const started = new Float64Array(sab, 16, 1);
      const label = new Uint8Array(sab, 32, 4096);
      const input = new Uint8Array(sab, 32 + 4096);
      setInterval(() => {
        if (Atomics.load(meta, 0) !== 1) return;
        const ms = Date.now() - started[0];
        if (ms < limitMs) return;
        const n = meta[1];
        const bytes = Buffer.from(input.subarray(0, Math.min(n, input.length)));
        const shown = meta[3] ? bytes.toString('utf8') : 'hex:' + bytes.toString('hex');
        const text = 'FUZZ HANG (watchdog): ' + Buffer.from(label.subarray(0, meta[2])).toString('utf8') + ' has not returned after ' + ms + ' ms\\ninput (' + n + (meta[3] ? ' chars' : ' bytes') + (n > input.length ? ', first ' + input.length + ' shown' : '') + '): ' + shown + '\\n';
        try { writeFileSync(reportFile, text); } catch {}
        try { writeSync(2, '\\n' + text + '(report: ' + reportFile + ')\\n'); } catch {}
        process.kill(process.pid, 'SIGKILL');
      }, Math.min(250, limitMs / 4));
    `;
    this.worker = new Worker(code, { eval: true, workerData: { sab, limitMs, reportFile } });
    this.worker.unref();
  }

  setLabel(text: string): void {
    const b = Buffer.from(text.slice(0, 1000), 'utf8');
    this.label.set(b.subarray(0, this.label.length));
    this.meta[2] = Math.min(b.length, this.label.length);
  }

  enter(input: ExpectOptions['input']): void {
    if (input instanceof Uint8Array) {
      this.input.set(input.length > this.input.length ? input.subarray(0, this.input.length) : input);
      this.meta[1] = input.length;
      this.meta[3] = 0;
    } else if (typeof input === 'string') {
      this.meta[1] = Buffer.from(this.input.buffer, this.input.byteOffset, this.input.length).write(
        input.length > 300_000 ? input.slice(0, 300_000) : input,
        'utf8',
      );
      this.meta[3] = 1;
    } else {
      this.meta[1] = 0;
      this.meta[3] = 1;
    }
    this.started[0] = Date.now();
    Atomics.store(this.meta, 0, 1);
  }

  exit(): void {
    Atomics.store(this.meta, 0, 0);
  }

  stop(): Promise<number> {
    return this.worker.terminate();
  }
}

let watchdog: Watchdog | undefined;

/**
 * Starts the watchdog of this process (idempotent): an input that has not returned after
 * `limitMs` (default 10 × HANG_MS) is written to stderr and to a report file, then the process
 * is killed, since nothing else can interrupt a synchronous infinite loop.
 */
export function startWatchdog(label: string, o: { limitMs?: number; reportFile?: string } = {}): void {
  watchdog ??= new Watchdog(
    o.limitMs ?? Math.max(10 * HANG_MS, 5000),
    o.reportFile ?? process.env.FUZZ_HANG_REPORT ?? join(tmpdir(), `kakunin-fuzz-hang-${process.pid}.txt`),
  );
  watchdog.setLabel(label);
}

export async function stopWatchdog(): Promise<void> {
  const w = watchdog;
  watchdog = undefined;
  await w?.stop();
}

// ---------------------------------------------------------------------------------------------
// Fuzz targets: one parser (or one family of entry points) with its seeds, shared by the vitest
// suite and scripts/fuzz.ts.

export interface TargetSpec<C, I> {
  readonly name: string;
  readonly description: string;
  /** The typed errors of this parser. */
  readonly isTyped: (e: unknown) => boolean;
  /** Relative cost per input: the CI profile runs FUZZ_RUNS × weight inputs. */
  readonly weight?: number;
  /** Whether `run` returns a promise. */
  readonly async?: boolean;
  setup(): Promise<C>;
  input(ctx: C): fc.Arbitrary<I>;
  /** Feeds one input to the parser(s); returns or throws. */
  run(ctx: C, input: I): unknown;
  /** The input as reported on a crash or hang (bytes → hex). */
  show(input: I): Uint8Array | string;
  /** Called when an input exceeded the time budget (async targets: stop background work). */
  onHang?(ctx: C, input: I): void;
  /** Upkeep every `every` inputs, outside any input's time budget (e.g. a fresh database in long runs). */
  maintain?: { readonly every: number; run(ctx: C): Promise<void> };
  teardown?(ctx: C): Promise<void>;
}

export interface OpenTarget {
  readonly arbitrary: fc.Arbitrary<unknown>;
  check(input: unknown): Verdict | Promise<Verdict>;
  close(): Promise<void>;
}

export interface Target {
  readonly name: string;
  readonly description: string;
  readonly weight: number;
  readonly async: boolean;
  open(): Promise<OpenTarget>;
}

export function defineTarget<C, I>(spec: TargetSpec<C, I>): Target {
  return {
    name: spec.name,
    description: spec.description,
    weight: spec.weight ?? 1,
    async: spec.async ?? false,
    async open(): Promise<OpenTarget> {
      const ctx = await spec.setup();
      let inputs = 0;
      const one = (i: I): Verdict | Promise<Verdict> =>
        expectTyped(() => spec.run(ctx, i), spec.isTyped, {
          input: spec.show(i),
          parser: spec.name,
          ...(spec.onHang ? { onHang: () => spec.onHang!(ctx, i) } : {}),
        });
      return {
        arbitrary: spec.input(ctx) as fc.Arbitrary<unknown>,
        check: (input) => {
          const i = input as I;
          if (spec.maintain && ++inputs % spec.maintain.every === 0) return spec.maintain.run(ctx).then(() => one(i));
          return one(i);
        },
        close: async () => spec.teardown?.(ctx),
      };
    },
  };
}

/**
 * Several calls on one input: each may throw a typed error without stopping the others; a
 * non-typed one propagates at once. `done()` rethrows the first typed error, so the input counts
 * as 'typed' when any call rejected it.
 */
export class Attempts {
  private first: unknown;
  private failed = false;
  private readonly isTyped: (e: unknown) => boolean;

  constructor(isTyped: (e: unknown) => boolean) {
    this.isTyped = isTyped;
  }

  try<T>(fn: () => T): T | undefined {
    try {
      return fn();
    } catch (e) {
      if (!this.isTyped(e)) throw e;
      if (!this.failed) {
        this.failed = true;
        this.first = e;
      }
      return undefined;
    }
  }

  async tryAsync<T>(fn: () => Promise<T>): Promise<T | undefined> {
    try {
      return await fn();
    } catch (e) {
      if (!this.isTyped(e)) throw e;
      if (!this.failed) {
        this.failed = true;
        this.first = e;
      }
      return undefined;
    }
  }

  done(): void {
    if (this.failed) throw this.first;
  }
}
