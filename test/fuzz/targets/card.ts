// Fuzz targets of @kakunin/card: the APDU codec, BER-TLV reading, the card-info files (EF 0002,
// EF 0003, the CVC in EF 0004) and whole MyNumberCard sessions over a transport whose answers are
// fuzzed (truncated, wrong status words, garbage, failures, a card stuck on one answer).
// Typed errors: CardError (isCardError).

import fc from 'fast-check';
import { sha256DigestInfo } from '@kakunin/jpki';
import {
  CardRemoved,
  InProcessTransport,
  MyNumberCard,
  cardInfoCvcAnchors,
  decodeApdu,
  describeCommand,
  encodeApdu,
  hexBytes,
  isCardError,
  parseBasicInfoEf,
  parseCvc,
  parseIntegrityEf,
  parseResponse,
  readTlv,
  readTlvs,
  redactCommand,
  swHex,
  tlvTotalLength,
  verifyCardInfoIntegrity,
  verifyCvc,
  type ApduProcessor,
  type Transport,
} from '@kakunin/card';
import type { VirtualCard } from '@kakunin/sim/card';
import { cardSeeds, type CardSeeds, type CardVariant } from '../seeds.js';
import {
  Attempts,
  HANG_MS,
  applyPlan,
  concatBytes,
  defineTarget,
  hex,
  mutated,
  mutatedFrom,
  mutationPlan,
  wildBytes,
  withHex,
  type MutationOp,
  type Target,
} from '../support.js';

// ---------------------------------------------------------------------------------------------
// APDU codec

/** Commands of every ISO 7816-4 case, short and extended, and responses as the card sends them. */
function apduSeeds(): Uint8Array[] {
  const commands = [
    { cla: 0, ins: 0xa4, p1: 4, p2: 0x0c, data: Uint8Array.from(Buffer.from('D392F000260100000001', 'hex')) },
    { cla: 0, ins: 0xb0, p1: 0x8a, p2: 0, le: 65536 },
    { cla: 0, ins: 0xb0, p1: 0x01, p2: 0x00, le: 256 },
    { cla: 0, ins: 0x20, p1: 0, p2: 0x98 },
    { cla: 0, ins: 0x20, p1: 0, p2: 0x98, data: Buffer.from('1234') },
    { cla: 0x80, ins: 0x2a, p1: 0, p2: 0x97, data: new Uint8Array(51).fill(0x42), le: 256 },
    { cla: 0x80, ins: 0x2a, p1: 0, p2: 0x80, data: new Uint8Array(300).fill(7), le: 65536 },
    { cla: 0, ins: 0xb0, p1: 0, p2: 0, le: 300 },
    { cla: 0, ins: 0xd6, p1: 0, p2: 0, data: new Uint8Array(256).fill(1), extended: true },
    { cla: 0, ins: 0x84, p1: 0, p2: 0, le: 8, extended: true },
  ].map((c) => encodeApdu(c));
  const responses = [
    '9000',
    '6982',
    '63C2',
    '6A86',
    '6700',
    '6C10',
    '6110',
    'FF200E90000102039000',
    '308203E23082021A9000',
    '00',
  ].map((h) => Uint8Array.from(Buffer.from(h, 'hex')));
  return [...commands, ...responses];
}

export const apduTarget: Target = defineTarget({
  name: 'apdu',
  description:
    'parseResponse, decodeApdu (all cases; encodeApdu must give the same bytes back), redactCommand, describeCommand, tlvTotalLength',
  isTyped: isCardError,
  setup: async () => ({ seeds: apduSeeds() }),
  input: (ctx) =>
    fc.oneof(
      { weight: 6, arbitrary: mutated(ctx.seeds) },
      { weight: 1, arbitrary: wildBytes },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 12 }).map(withHex) },
    ),
  run: (_ctx, b) => {
    const a = new Attempts(isCardError);
    const r = a.try(() => parseResponse(b));
    if (r) a.try(() => swHex(r.sw));
    const c = a.try(() => decodeApdu(b));
    if (c) {
      const again = encodeApdu(c);
      if (hex(again) !== hex(b)) throw new Error(`encodeApdu(decodeApdu(x)) is ${hex(again)}, not x`);
    }
    // Logging helpers see every command, PIN-carrying or malformed: they must never throw.
    redactCommand(b);
    describeCommand(b);
    hexBytes(b);
    tlvTotalLength(b);
    a.done();
  },
  show: (b) => b,
});

// ---------------------------------------------------------------------------------------------
// BER-TLV and the card-info files

interface InfoCtx {
  readonly seeds: CardSeeds;
  readonly files: readonly Uint8Array[];
}

async function infoSetup(): Promise<InfoCtx> {
  const seeds = await cardSeeds();
  const filler = (b: Uint8Array, n: number, v: number): Uint8Array => concatBytes([b, new Uint8Array(n).fill(v)]);
  return {
    seeds,
    files: [
      seeds.basicInfo,
      seeds.integrity,
      seeds.cvc,
      seeds.apBasicInfo,
      filler(seeds.basicInfo, 60, 0xff),
      filler(seeds.cvc, 8, 0x00),
    ],
  };
}

export const cardTlvTarget: Target = defineTarget({
  name: 'card-tlv',
  description:
    'readTlv / readTlvs / tlvTotalLength of the card layer (multi-byte tags, 81/82/83 lengths) over mutated card files',
  isTyped: isCardError,
  setup: infoSetup,
  input: (ctx) =>
    fc.tuple(fc.oneof({ weight: 8, arbitrary: mutated(ctx.files) }, { weight: 1, arbitrary: wildBytes }), fc.nat()),
  run: (_ctx, [b, offset]) => {
    const a = new Attempts(isCardError);
    const first = a.try(() => readTlv(b));
    a.try(() => readTlv(b, offset % (b.length + 1), 'fuzz'));
    a.try(() => readTlvs(b));
    if (first) a.try(() => readTlvs(first.value));
    tlvTotalLength(b);
    a.done();
  },
  show: ([b]) => b,
});

/** Runs `fn`, ignoring a typed error (a secondary check whose rejection says nothing about the input). */
function secondary(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!isCardError(e)) throw e;
  }
}

export const cardInfoTarget: Target = defineTarget({
  name: 'card-info',
  description:
    'parseBasicInfoEf (EF 0002) and parseIntegrityEf (EF 0003), then verifyCardInfoIntegrity against the real CVC',
  isTyped: isCardError,
  setup: async () => {
    const ctx = await infoSetup();
    const cvc = parseCvc(ctx.seeds.cvc);
    return { ...ctx, cvc, info: parseBasicInfoEf(ctx.seeds.basicInfo), record: parseIntegrityEf(ctx.seeds.integrity) };
  },
  input: (ctx) =>
    fc.oneof(
      { weight: 10, arbitrary: mutatedFrom(ctx.files) },
      { weight: 1, arbitrary: wildBytes.map((bytes) => ({ seed: 0, bytes })) },
    ),
  run: (ctx, { seed, bytes }) => {
    // The parser the seed is for decides the verdict; the other one runs too.
    const asInfo = (): void => {
      const info = parseBasicInfoEf(bytes);
      verifyCardInfoIntegrity(info, ctx.record, ctx.cvc, ctx.seeds.anchor);
    };
    const asRecord = (): void => {
      const record = parseIntegrityEf(bytes);
      verifyCardInfoIntegrity(ctx.info, record, ctx.cvc, ctx.seeds.anchor);
    };
    const [primary, other] = seed === 1 ? [asRecord, asInfo] : [asInfo, asRecord];
    secondary(other);
    primary();
  },
  show: ({ bytes }) => bytes,
});

export const cvcTarget: Target = defineTarget({
  name: 'cvc',
  description:
    'parseCvc (EF 0004) of mutated CVCs, verifyCvc against the pinned anchors, then the integrity check with that key',
  isTyped: isCardError,
  setup: async () => {
    const ctx = await infoSetup();
    return {
      ...ctx,
      anchors: [ctx.seeds.anchor, ...cardInfoCvcAnchors()],
      info: parseBasicInfoEf(ctx.seeds.basicInfo),
      record: parseIntegrityEf(ctx.seeds.integrity),
    };
  },
  input: (ctx) =>
    fc.oneof(
      { weight: 10, arbitrary: mutated(ctx.seeds.cvc) },
      { weight: 1, arbitrary: mutated(ctx.files) },
      { weight: 1, arbitrary: wildBytes },
    ),
  run: (ctx, b) => {
    const cvc = parseCvc(b);
    const a = new Attempts(isCardError);
    a.try(() => verifyCvc(cvc, ctx.anchors));
    a.try(() => verifyCardInfoIntegrity(ctx.info, ctx.record, cvc, ctx.seeds.anchor));
    a.done();
  },
  show: (b) => b,
});

// ---------------------------------------------------------------------------------------------
// Whole sessions over a fuzzed transport

export const INTERESTING_SW = [
  0x9000, 0x6100, 0x6101, 0x6110, 0x61ff, 0x6c00, 0x6c01, 0x6c10, 0x6cff, 0x6700, 0x6a86, 0x6a82, 0x6982, 0x63c0,
  0x63c1, 0x63c3, 0x63cf, 0x6300, 0x6984, 0x6983, 0x6b00, 0x6282, 0x6d00, 0x6e00, 0x6f00, 0x6a88, 0x6581, 0x0000,
  0xffff,
];

export type Fault =
  | { f: 'truncate'; n: number }
  | { f: 'sw'; sw: number; keepData: boolean }
  | { f: 'mutate'; plan: MutationOp[] }
  | { f: 'garbage'; bytes: Uint8Array }
  | { f: 'extra'; bytes: Uint8Array }
  | { f: 'huge'; n: number }
  | { f: 'throw'; what: 'error' | 'typeError' | 'string' | 'cardRemoved' | 'undefined' }
  | { f: 'notBytes'; what: 'null' | 'undefined' | 'string' | 'array' | 'arrayBuffer' | 'number' };

export const OPERATIONS = [
  'tokenInfo',
  'status',
  'availability',
  'pinStatus',
  'authCert',
  'authCertPin',
  'signCert',
  'caAuth',
  'caSign',
  'signAuth',
  'signSign',
  'basicInfo',
] as const;
export type Operation = (typeof OPERATIONS)[number];

export interface SessionInput {
  readonly variant: number;
  readonly ops: readonly Operation[];
  /** Fault on the n-th exchange of the session. */
  readonly faults: readonly { readonly call: number; readonly fault: Fault }[];
  /** A fault on every exchange from `from` on, every `period` exchanges (a card stuck in a bad state). */
  readonly repeat?: { readonly from: number; readonly period: number; readonly fault: Fault };
  /** From exchange `from` on, the card always gives this one answer. */
  readonly stuck?: { readonly from: number; readonly answer: Uint8Array };
  /** A plain Transport object (not BaseTransport): errors reach MyNumberCard as thrown. */
  readonly raw: boolean;
  readonly reader: { readonly extendedLength: 'auto' | 'never'; readonly sfi: 'auto' | 'never' };
  /** Wrong-format PINs (refused before anything is sent). */
  readonly pins?: { readonly auth: string; readonly sign: string; readonly cardInfo: string };
}

const VARIANTS: readonly CardVariant[] = [
  { medium: 'card', extendedLength: true, sfi: true },
  { medium: 'card', extendedLength: false, sfi: true },
  { medium: 'card', extendedLength: true, sfi: false },
  { medium: 'card', extendedLength: false, sfi: false },
  { medium: 'android', extendedLength: true, sfi: true },
];

const fault: fc.Arbitrary<Fault> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ f: fc.constant('truncate' as const), n: fc.nat(300) }) },
  {
    weight: 5,
    arbitrary: fc.record({
      f: fc.constant('sw' as const),
      sw: fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom(...INTERESTING_SW) },
        { weight: 1, arbitrary: fc.nat(0xffff) },
      ),
      keepData: fc.boolean(),
    }),
  },
  { weight: 4, arbitrary: fc.record({ f: fc.constant('mutate' as const), plan: mutationPlan(3) }) },
  { weight: 1, arbitrary: fc.record({ f: fc.constant('garbage' as const), bytes: fc.uint8Array({ maxLength: 300 }) }) },
  {
    weight: 1,
    arbitrary: fc.record({ f: fc.constant('extra' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 40 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ f: fc.constant('huge' as const), n: fc.constantFrom(257, 4096, 65535, 70_000) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      f: fc.constant('throw' as const),
      what: fc.constantFrom(
        'error' as const,
        'typeError' as const,
        'string' as const,
        'cardRemoved' as const,
        'undefined' as const,
      ),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      f: fc.constant('notBytes' as const),
      what: fc.constantFrom(
        'null' as const,
        'undefined' as const,
        'string' as const,
        'array' as const,
        'arrayBuffer' as const,
        'number' as const,
      ),
    }),
  },
);

const sessionInput: fc.Arbitrary<SessionInput> = fc.record(
  {
    variant: fc.nat(VARIANTS.length - 1),
    ops: fc.array(fc.constantFrom(...OPERATIONS), { minLength: 1, maxLength: 3 }),
    faults: fc.array(fc.record({ call: fc.oneof(fc.nat(12), fc.nat(40)), fault }), { minLength: 0, maxLength: 3 }),
    repeat: fc.option(fc.record({ from: fc.nat(10), period: fc.integer({ min: 1, max: 4 }), fault }), { freq: 8 }),
    stuck: fc.option(
      fc.record({
        from: fc.nat(10),
        answer: fc.oneof(
          fc.constantFrom(...INTERESTING_SW).map((sw) => Uint8Array.of(sw >> 8, sw & 0xff)),
          fc.uint8Array({ maxLength: 40 }),
        ),
      }),
      { freq: 10 },
    ),
    raw: fc.boolean(),
    reader: fc.record({
      extendedLength: fc.constantFrom('auto' as const, 'never' as const),
      sfi: fc.constantFrom('auto' as const, 'never' as const),
    }),
    pins: fc.option(
      fc.record({
        auth: fc.string({ maxLength: 6 }),
        sign: fc.string({ maxLength: 18 }),
        cardInfo: fc.string({ maxLength: 6 }),
      }),
      { freq: 20 },
    ),
  },
  { requiredKeys: ['variant', 'ops', 'faults', 'raw', 'reader'] },
) as fc.Arbitrary<SessionInput>;

/** A live virtual card per variant, its answers cached by command (sessions mostly repeat the same exchanges). */
class ReplayCard {
  private card: VirtualCard;
  private readonly cache = new Map<string, Uint8Array>();
  private calls = 0;
  private readonly seeds: CardSeeds;
  private readonly variant: CardVariant;

  constructor(seeds: CardSeeds, variant: CardVariant) {
    this.seeds = seeds;
    this.variant = variant;
    this.card = seeds.card(variant);
  }

  answer(cmd: Uint8Array): Uint8Array {
    const key = hex(cmd);
    const hit = this.cache.get(key);
    if (hit) return Uint8Array.from(hit);
    // PIN state and the selected file change as commands go; rebuild the card now and then so long runs stay bounded.
    if (++this.calls % 2000 === 0) this.card = this.seeds.card(this.variant);
    const r = this.card.transmit(cmd);
    this.card.received.length = 0;
    if (this.cache.size < 4096) this.cache.set(key, Uint8Array.from(r));
    return r;
  }
}

const THROWN_STRING: unknown = 'fuzz: a string thrown';
const THROWN_UNDEFINED: unknown = undefined;

function applyFault(answer: unknown, f: Fault): unknown {
  if (!(answer instanceof Uint8Array)) return f.f === 'throw' ? applyFault(new Uint8Array(0), f) : answer; // an earlier fault already replaced the bytes
  const base = answer;
  const data = base.subarray(0, Math.max(0, base.length - 2));
  const sw = base.subarray(Math.max(0, base.length - 2));
  switch (f.f) {
    case 'truncate':
      return base.slice(0, f.n % (base.length + 1));
    case 'sw':
      return concatBytes([f.keepData ? data : new Uint8Array(0), Uint8Array.of(f.sw >> 8, f.sw & 0xff)]);
    case 'mutate':
      return concatBytes([applyPlan(data, f.plan), sw]);
    case 'garbage':
      return Uint8Array.from(f.bytes);
    case 'extra':
      return concatBytes([data, f.bytes, sw]);
    case 'huge':
      return concatBytes([new Uint8Array(f.n).fill(0x30), Uint8Array.of(0x90, 0x00)]);
    case 'throw':
      switch (f.what) {
        case 'error':
          throw new Error('fuzz: the reader failed');
        case 'typeError':
          throw new TypeError('fuzz: a bug in the transport');
        case 'string':
          throw THROWN_STRING;
        case 'cardRemoved':
          throw new CardRemoved('fuzz: card removed');
        case 'undefined':
          throw THROWN_UNDEFINED;
      }
      break;
    case 'notBytes':
      return {
        null: null,
        undefined: undefined,
        string: '9000',
        array: [0x90, 0x00],
        arrayBuffer: new ArrayBuffer(2),
        number: 0x9000,
      }[f.what];
  }
  return base;
}

/** The card side of one session: the replayed answer, with the input's faults applied; dead once the session is over budget. */
class FuzzedCard implements ApduProcessor {
  private n = 0;
  private readonly started = performance.now();
  dead = false;
  private readonly replay: ReplayCard;
  private readonly input: SessionInput;

  constructor(replay: ReplayCard, input: SessionInput) {
    this.replay = replay;
    this.input = input;
  }

  /** Exchanges so far. */
  get exchanges(): number {
    return this.n;
  }

  transmit(cmd: Uint8Array): Uint8Array {
    // A loop that only awaits in-process answers never yields to timers, so the card itself enforces
    // the session's time budget: past it, it fails (the oracle then reports the hang).
    if (!this.dead && (this.n & 0xff) === 0 && performance.now() - this.started > HANG_MS) this.dead = true;
    if (this.dead) throw new CardRemoved(`fuzz: the session ran over its time budget after ${this.n} exchanges`);
    const i = this.n++;
    const stuck = this.input.stuck && i >= this.input.stuck.from ? Uint8Array.from(this.input.stuck.answer) : undefined;
    let out: unknown = stuck ?? this.replay.answer(cmd);
    for (const f of this.input.faults) if (f.call === i) out = applyFault(out, f.fault);
    const r = this.input.repeat;
    if (r && i >= r.from && (i - r.from) % r.period === 0) out = applyFault(out, r.fault);
    return out as Uint8Array;
  }
}

const DIGEST_INFO = sha256DigestInfo(Buffer.from('kakunin fuzz'));

function operation(
  card: MyNumberCard,
  op: Operation,
  pins: { auth: string; sign: string; cardInfo: string },
): Promise<unknown> {
  switch (op) {
    case 'tokenInfo':
      return card.tokenInfo();
    case 'status':
      return card.status();
    case 'availability':
      return card.certificateAvailability();
    case 'pinStatus':
      return card.pinStatus();
    case 'authCert':
      return card.readAuthCertificate();
    case 'authCertPin':
      return card.readAuthCertificate(pins.auth);
    case 'signCert':
      return card.readSignCertificate(pins.sign);
    case 'caAuth':
      return card.readCaCertificate('auth');
    case 'caSign':
      return card.readCaCertificate('sign');
    case 'signAuth':
      return card.signWithAuthKey(pins.auth, DIGEST_INFO);
    case 'signSign':
      return card.signWithSignKey(pins.sign, DIGEST_INFO);
    case 'basicInfo':
      return card.readBasicInfo(pins.cardInfo);
  }
}

interface SessionCtx {
  readonly seeds: CardSeeds;
  readonly replays: readonly ReplayCard[];
  current?: FuzzedCard;
}

export const cardSessionTarget: Target = defineTarget<SessionCtx, SessionInput>({
  name: 'card-session',
  description:
    'MyNumberCard operations (token info, PIN status, certificates, signatures, basic 4 info) over a transport with fuzzed answers',
  isTyped: isCardError,
  async: true,
  weight: 0.5,
  setup: async () => {
    const seeds = await cardSeeds();
    return { seeds, replays: VARIANTS.map((v) => new ReplayCard(seeds, v)) };
  },
  input: () => sessionInput,
  run: async (ctx, input) => {
    const fuzzed = new FuzzedCard(ctx.replays[input.variant]!, input);
    ctx.current = fuzzed;
    // A plain Transport relays whatever the card does, throws included (but only byte answers: the interface's contract).
    const transport: Transport = input.raw
      ? {
          transmit: async (apdu) => {
            const r = fuzzed.transmit(apdu);
            if (!(r instanceof Uint8Array)) throw new Error(`fuzz: the transport got ${String(r)}`);
            return r;
          },
          description: 'fuzz-raw',
        }
      : new InProcessTransport(fuzzed, 'fuzz');
    const person = input.variant === 4 ? ctx.seeds.phonePerson : ctx.seeds.person;
    const pins = input.pins ?? { auth: person.pins.auth, sign: person.pins.sign, cardInfo: person.pins.cardInfo };
    const card = new MyNumberCard(transport, { ...input.reader, cvcCaKeys: [ctx.seeds.anchor] });
    const a = new Attempts(isCardError);
    for (const op of input.ops) await a.tryAsync(() => operation(card, op, pins));
    a.done();
  },
  onHang: (ctx) => {
    if (ctx.current) ctx.current.dead = true;
  },
  show: (input) => JSON.stringify(input, (_k, v: unknown) => (v instanceof Uint8Array ? `hex:${hex(v)}` : v)),
});

export const cardTargets: readonly Target[] = [apduTarget, cardTlvTarget, cardInfoTarget, cvcTarget, cardSessionTarget];
