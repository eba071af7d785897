// Fuzz targets of the holder protocol (docs/holder-protocol.md): the response a holder app posts
// for a ceremony — `{ nonce, certificate, signature }` — decoded and verified by the platform.
//   holder-json  submitResponse(platform, id, body) in process: returns, or throws a ServerError or
//                a JpkiError (the typed errors of the platform), for any body.
//   holder-http  POST /holder/v1/ceremonies/:id/response: 200 or 4xx with a JSON `{ error: { code } }`
//                body, never 5xx, never a hang, for any bytes, content type and ceremony id.
// A sandbox platform (in-memory PGlite, simulated J-LIS) runs in this process. A body carrying the right nonce
// ends its ceremony, so those inputs get a fresh ceremony each; the others go to long-lived ones.

import { sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { isJpkiError } from '@kakunin/jpki';
import { startSimulatedJlis } from '@kakunin/sim';
import {
  startServer,
  type RunningPlatform,
  createCeremony,
  submitResponse,
  type Ceremony,
  loadConfig,
  isServerError,
  openDatabase,
  createRelyingParty,
  type RelyingParty,
} from '@kakunin/server';
import { cardSeeds } from '../seeds.js';
import { applyPlan, defineTarget, hex, mutationPlan, type MutationOp, type Target } from '../support.js';

// ---------------------------------------------------------------------------------------------
// The platform (shared by both targets of a process)

interface Holder {
  readonly certificate: Uint8Array;
  readonly key: KeyObject;
}

export interface HolderPlatform {
  readonly server: RunningPlatform;
  readonly rp: RelyingParty;
  /** Long-lived ceremonies: never answered with their own nonce (a body with it goes to a fresh one). */
  readonly pending: Ceremony;
  readonly pendingIdentity: Ceremony;
  /** Finished (its nonce used), expired, and a second pending one (its nonce is "another ceremony's"). */
  readonly finished: Ceremony;
  readonly expired: Ceremony;
  readonly sibling: Ceremony;
  readonly holders: { readonly login: Holder; readonly identity: Holder };
  fresh(kind: 'login' | 'identity'): Promise<Ceremony>;
}

let shared: { users: number; platform: Promise<HolderPlatform>; close: () => Promise<void> } | undefined;

async function startPlatform(): Promise<{ platform: HolderPlatform; close: () => Promise<void> }> {
  const seeds = await cardSeeds();
  const sandbox = seeds.sandbox;
  const dataDir = mkdtempSync(join(tmpdir(), 'kakunin-fuzz-platform-'));
  const config = loadConfig(
    { mode: 'sandbox', port: 0, dataDir, logLevel: 'silent', ceremonyTtlSeconds: 24 * 3600 },
    {},
  );
  // An in-memory PGlite: the platform's queries as written, without a file system under every write
  // (about 2.5 times as many inputs per second as an on-disk data directory).
  const db = await openDatabase({ dataDir: 'memory://' });
  const server = await startServer(config, {
    simulatedJlis: startSimulatedJlis,
    simDir: sandbox.dir,
    noJobs: true,
    db,
  });
  const rp = await createRelyingParty(server.platform, {
    name: 'Kakunin fuzz RP',
    redirectUris: ['http://127.0.0.1:9/callback'],
  });
  const fresh = (kind: 'login' | 'identity', now?: Date): Promise<Ceremony> =>
    createCeremony(server.platform, { kind, rpClientId: rp.clientId, ...(now ? { now } : {}) });
  const holder = (kind: 'auth' | 'sign'): Holder => {
    const rec = sandbox.currentCertificateRecord(seeds.person.id, kind, 'card');
    return {
      certificate: sandbox.certificateDer(rec.issuerId, rec.serial),
      key: sandbox.privateKey(seeds.person.id, kind, 'card'),
    };
  };
  const holders = { login: holder('auth'), identity: holder('sign') };
  const finished = await fresh('login');
  // End it with a rejected answer (right nonce, a signature that does not verify).
  await submitResponse(server.platform, finished.id, {
    nonce: finished.nonce,
    certificate: Buffer.from(holders.login.certificate).toString('base64'),
    signature: Buffer.alloc(256, 1).toString('base64'),
  }).catch(() => undefined);
  const platform: HolderPlatform = {
    server,
    rp,
    pending: await fresh('login'),
    pendingIdentity: await fresh('identity'),
    finished,
    expired: await fresh('login', new Date(Date.now() - 48 * 3600_000)),
    sibling: await fresh('login'),
    holders,
    fresh: (kind) => fresh(kind),
  };
  return {
    platform,
    close: async () => {
      await server.close();
      await db.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The process's fuzz platform (started on first use, closed when the last user releases it). */
export function holderPlatform(): Promise<HolderPlatform> {
  if (!shared) {
    const started = startPlatform();
    shared = { users: 0, platform: started.then((s) => s.platform), close: () => started.then((s) => s.close()) };
  }
  shared.users++;
  return shared.platform;
}

export async function releaseHolderPlatform(): Promise<void> {
  if (!shared) return;
  if (--shared.users > 0) return;
  const s = shared;
  shared = undefined;
  await s.close();
}

// ---------------------------------------------------------------------------------------------
// Bodies

type Encoding = 'base64' | 'base64url' | 'unpadded' | 'wrapped' | 'mixed';

/** One field of the body, resolved against the ceremony when the input runs. */
export type Field =
  | { readonly t: 'absent' }
  | { readonly t: 'value'; readonly v: unknown }
  | { readonly t: 'nonce'; readonly which: 'own' | 'used' | 'sibling' | 'expired' }
  | { readonly t: 'certificate'; readonly enc: Encoding; readonly plan: readonly MutationOp[] }
  | { readonly t: 'signature'; readonly enc: Encoding; readonly plan: readonly MutationOp[] }
  | { readonly t: 'bytes'; readonly enc: Encoding; readonly bytes: Uint8Array };

export interface BodySpec {
  readonly nonce: Field;
  readonly certificate: Field;
  readonly signature: Field;
  readonly extra: readonly (readonly [string, unknown])[];
}

/** `fresh`: a new ceremony for this input (as for any body carrying its own nonce). */
export type Target0 = 'pending' | 'fresh' | 'identity' | 'finished' | 'expired' | 'unknown';

export interface HolderInput {
  /** Which ceremony the body is posted to (a body with its own nonce always gets a fresh ceremony). */
  readonly ceremony: Target0;
  readonly body: { readonly t: 'spec'; readonly spec: BodySpec } | { readonly t: 'any'; readonly v: unknown };
}

const weirdStrings = fc.constantFrom(
  '',
  '=',
  '==',
  'A',
  'AA',
  'AA==',
  'AAA=',
  '====',
  '\u0000',
  'A\u0000',
  '\ud800',
  '😀',
  'A'.repeat(128),
  'A'.repeat(129),
  'A'.repeat(32_768),
  'A'.repeat(40_000),
  '-_-_',
  '+/+/',
  ' QUJD',
  'QUJD\n',
  'null',
);
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 160 }) },
  { weight: 3, arbitrary: weirdStrings },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom<unknown>(null, true, 0, -1, Number.MAX_VALUE, 2 ** 53 + 2, [], {}, ['a'], { length: 1 }),
  },
);
const encoding = fc.constantFrom<Encoding>('base64', 'base64', 'base64url', 'unpadded', 'wrapped', 'mixed');
const plan = fc.oneof(
  { weight: 1, arbitrary: fc.constant<MutationOp[]>([]) },
  { weight: 2, arbitrary: mutationPlan(3) },
);

const field = (own: 'certificate' | 'signature'): fc.Arbitrary<Field> =>
  fc.oneof(
    { weight: 6, arbitrary: fc.record({ t: fc.constant(own), enc: encoding, plan }) },
    {
      weight: 1,
      arbitrary: fc.record({
        t: fc.constant('bytes' as const),
        enc: encoding,
        bytes: fc.uint8Array({ maxLength: 400 }),
      }),
    },
    { weight: 2, arbitrary: fc.record({ t: fc.constant('value' as const), v: anyValue }) },
    { weight: 1, arbitrary: fc.constant({ t: 'absent' as const }) },
  ) as fc.Arbitrary<Field>;

const nonceField: fc.Arbitrary<Field> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ t: 'nonce' as const, which: 'own' as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('nonce' as const),
      which: fc.constantFrom('used' as const, 'sibling' as const, 'expired' as const),
    }),
  },
  // Well-formed (43 base64url characters) but never issued, and near misses.
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('value' as const),
      v: fc.oneof(fc.stringMatching(/^[A-Za-z0-9_-]{43}$/), fc.stringMatching(/^[A-Za-z0-9_=+/-]{42,44}$/)),
    }),
  },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('value' as const), v: anyValue }) },
  { weight: 1, arbitrary: fc.constant({ t: 'absent' as const }) },
) as fc.Arbitrary<Field>;

export const bodySpec: fc.Arbitrary<BodySpec> = fc.record({
  nonce: nonceField,
  certificate: field('certificate'),
  signature: field('signature'),
  extra: fc.array(
    fc.tuple(
      fc.oneof(
        fc.constantFrom('__proto__', 'constructor', 'prototype', 'nonce ', 'Nonce', 'certificate\u0000', 'toString'),
        fc.string({ maxLength: 8 }),
      ),
      anyValue,
    ),
    { maxLength: 2 },
  ),
});

export const holderInput: fc.Arbitrary<HolderInput> = fc.record({
  ceremony: fc.constantFrom<Target0>(
    'pending',
    'pending',
    'pending',
    'fresh',
    'identity',
    'finished',
    'expired',
    'unknown',
  ),
  body: fc.oneof(
    { weight: 12, arbitrary: bodySpec.map((spec) => ({ t: 'spec' as const, spec })) },
    {
      weight: 1,
      arbitrary: fc
        .anything({
          maxDepth: 2,
          withBigInt: true,
          withDate: true,
          withMap: true,
          withSet: true,
          withTypedArray: true,
          withNullPrototype: true,
          withBoxedValues: true,
          withSparseArray: true,
        })
        .map((v) => ({ t: 'any' as const, v })),
    },
  ),
});

function encode(bytes: Uint8Array, enc: Encoding): string {
  const b = Buffer.from(bytes);
  switch (enc) {
    case 'base64':
      return b.toString('base64');
    case 'base64url':
      return b.toString('base64url');
    case 'unpadded':
      return b.toString('base64').replace(/=+$/, '');
    case 'wrapped':
      return b.toString('base64').replace(/.{64}/g, '$&\n');
    case 'mixed':
      return b.toString('base64').replace(/\+/g, '-');
  }
}

/** The ceremony an input goes to, and the body with its ceremony-dependent fields filled in. */
export async function resolve(p: HolderPlatform, input: HolderInput): Promise<{ id: string; body: unknown }> {
  const spec = input.body.t === 'spec' ? input.body.spec : undefined;
  const kind = input.ceremony === 'identity' ? 'identity' : 'login';
  let ceremony: Ceremony | undefined;
  if ((spec?.nonce.t === 'nonce' && spec.nonce.which === 'own') || input.ceremony === 'fresh')
    ceremony = await p.fresh(kind);
  else if (input.ceremony === 'pending') ceremony = p.pending;
  else if (input.ceremony === 'identity') ceremony = p.pendingIdentity;
  else if (input.ceremony === 'finished') ceremony = p.finished;
  else if (input.ceremony === 'expired') ceremony = p.expired;
  const id = ceremony?.id ?? 'cer_NoSuchCeremonyAtAll00';
  if (!spec) return { id, body: input.body.t === 'any' ? input.body.v : undefined };
  const holder = p.holders[kind];
  const value = (f: Field): unknown => {
    switch (f.t) {
      case 'absent':
        return undefined;
      case 'value':
        return f.v;
      case 'nonce':
        return { own: ceremony?.nonce, used: p.finished.nonce, sibling: p.sibling.nonce, expired: p.expired.nonce }[
          f.which
        ];
      case 'certificate':
        return encode(applyPlan(holder.certificate, f.plan), f.enc);
      case 'signature':
        return encode(
          applyPlan(sign('sha256', ceremony?.toBeSigned ?? Buffer.from('none'), holder.key), f.plan),
          f.enc,
        );
      case 'bytes':
        return encode(f.bytes, f.enc);
    }
  };
  const entries: [string, unknown][] = [];
  for (const [k, f] of [
    ['nonce', spec.nonce],
    ['certificate', spec.certificate],
    ['signature', spec.signature],
  ] as const)
    if (f.t !== 'absent') entries.push([k, value(f)]);
  for (const [k, v] of spec.extra) entries.push([k, v]);
  // fromEntries defines own properties, so a "__proto__" key stays data (as JSON.parse makes it).
  return { id, body: Object.fromEntries(entries) };
}

const showValue = (_k: string, v: unknown): unknown =>
  v instanceof Uint8Array ? `hex:${hex(v)}` : typeof v === 'bigint' ? `${v}n` : v;
const showInput = (input: unknown): string => {
  try {
    return JSON.stringify(input, showValue) ?? String(input);
  } catch {
    return String(input);
  }
};

/**
 * Every ceremony lookup scans the nonces table (no index on nonces.ceremony_id, see FINDINGS.md), so
 * a long run gets slower as ceremonies pile up: it starts on a fresh database every so often.
 */
const RECYCLE_EVERY = 20_000;

async function recycle(ctx: { p: HolderPlatform }): Promise<void> {
  await releaseHolderPlatform();
  ctx.p = await holderPlatform();
}

export const holderJsonTarget: Target = defineTarget<{ p: HolderPlatform }, HolderInput>({
  name: 'holder-json',
  description:
    'submitResponse (holder protocol v1 response decoding, nonce checks, verification) in process for any body',
  isTyped: (e) => isServerError(e) || isJpkiError(e),
  async: true,
  weight: 0.25,
  setup: async () => ({ p: await holderPlatform() }),
  input: () => holderInput,
  run: async (ctx, input) => {
    const { id, body } = await resolve(ctx.p, input);
    await submitResponse(ctx.p.server.platform, id, body);
  },
  maintain: { every: RECYCLE_EVERY, run: recycle },
  show: showInput,
  teardown: () => releaseHolderPlatform(),
});

// ---------------------------------------------------------------------------------------------
// Over HTTP

/** A 4xx answer with the JSON error body: the typed rejection over HTTP. */
export class HttpRejection extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string) {
    super(`HTTP ${status} ${code}`);
    this.status = status;
    this.code = code;
  }
}

export interface HttpInput {
  readonly holder: HolderInput;
  /** How the body is sent: the JSON of the resolved body (then mutated as bytes), or something else entirely. */
  readonly form:
    | { readonly t: 'json'; readonly plan: readonly MutationOp[] }
    | { readonly t: 'deep'; readonly depth: number; readonly open: string }
    | { readonly t: 'raw'; readonly bytes: Uint8Array }
    | { readonly t: 'large'; readonly size: number };
  readonly contentType: string | null;
  readonly path: 'ceremony' | 'badId' | 'longId';
}

export const httpInput: fc.Arbitrary<HttpInput> = fc.record({
  holder: holderInput.filter((h) => h.body.t === 'spec'),
  form: fc.oneof(
    {
      weight: 8,
      arbitrary: fc.record({
        t: fc.constant('json' as const),
        plan: fc.oneof(
          { weight: 2, arbitrary: fc.constant<MutationOp[]>([]) },
          { weight: 3, arbitrary: mutationPlan(3) },
        ),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        t: fc.constant('deep' as const),
        depth: fc.oneof(fc.integer({ min: 1, max: 200 }), fc.constantFrom(10_000, 30_000)),
        open: fc.constantFrom('[', '{"a":', '{"nonce":'),
      }),
    },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('raw' as const), bytes: fc.uint8Array({ maxLength: 300 }) }) },
    {
      weight: 1,
      arbitrary: fc.record({
        t: fc.constant('large' as const),
        size: fc.constantFrom(65_000, 65_537, 70_000, 300_000),
      }),
    },
  ),
  contentType: fc.constantFrom<string | null>(
    'application/json',
    'application/json',
    'application/json',
    'application/json; charset=utf-8',
    'application/json; charset=latin1',
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/octet-stream',
    null,
    'application/json; x',
  ),
  path: fc.constantFrom(
    'ceremony' as const,
    'ceremony' as const,
    'ceremony' as const,
    'ceremony' as const,
    'badId' as const,
    'longId' as const,
  ),
}) as fc.Arbitrary<HttpInput>;

function bodyBytes(form: HttpInput['form'], body: unknown): Uint8Array {
  switch (form.t) {
    case 'json':
      return applyPlan(Buffer.from(JSON.stringify(body ?? null), 'utf8'), form.plan);
    case 'deep': {
      const close = form.open === '[' ? ']' : '}';
      return Buffer.from(`${form.open.repeat(form.depth)}1${close.repeat(form.depth)}`);
    }
    case 'raw':
      return form.bytes;
    case 'large':
      return Buffer.from(JSON.stringify({ nonce: 'x', certificate: 'A'.repeat(form.size), signature: 'A' }));
  }
}

/** One POST on its own connection (closed afterwards, so a server shutdown never waits for a client). */
function post(
  url: URL,
  contentType: string | null,
  body: Uint8Array,
  signal: AbortSignal,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent: false,
        signal,
        headers: {
          connection: 'close',
          'content-length': String(body.length),
          ...(contentType ? { 'content-type': contentType } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
          req.destroy();
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

interface HttpCtx {
  p: HolderPlatform;
  abort?: AbortController;
}

export const holderHttpTarget: Target = defineTarget<HttpCtx, HttpInput>({
  name: 'holder-http',
  description:
    'POST /holder/v1/ceremonies/:id/response with any bytes, content type and id: 200 or 4xx JSON {error:{code}}, never 5xx, never a hang',
  isTyped: (e) => e instanceof HttpRejection,
  async: true,
  weight: 0.15,
  setup: async () => ({ p: await holderPlatform() }),
  input: () => httpInput,
  run: async (ctx, input) => {
    const { id, body } = await resolve(ctx.p, input.holder);
    const path = input.path === 'ceremony' ? id : input.path === 'badId' ? 'cer_../../x' : `cer_${'A'.repeat(70)}`;
    const abort = new AbortController();
    ctx.abort = abort;
    const bytes = bodyBytes(input.form, body);
    const res = await post(
      new URL(`${ctx.p.server.url}/holder/v1/ceremonies/${encodeURIComponent(path)}/response`),
      input.contentType,
      bytes,
      abort.signal,
    ).catch((e: unknown) => {
      // A server may answer an oversized upload early (413) and close while the client still sends.
      const code = (e as NodeJS.ErrnoException).code;
      if (bytes.length > 64 * 1024 && (code === 'EPIPE' || code === 'ECONNRESET'))
        throw new HttpRejection(413, `connection closed during an oversized upload (${code})`);
      throw e;
    });
    const text = res.text;
    if (res.status >= 500) throw new Error(`HTTP ${res.status}: ${text.slice(0, 500)}`);
    let json: { state?: unknown; error?: { code?: unknown } } | undefined;
    try {
      json = JSON.parse(text) as typeof json;
    } catch {
      throw new Error(`HTTP ${res.status} with a body that is not JSON: ${text.slice(0, 300)}`);
    }
    if (res.status === 200 && typeof json?.state === 'string') return;
    if (res.status >= 400 && res.status < 500 && typeof json?.error?.code === 'string')
      throw new HttpRejection(res.status, json.error.code);
    throw new Error(`unexpected answer HTTP ${res.status}: ${text.slice(0, 500)}`);
  },
  onHang: (ctx) => ctx.abort?.abort(),
  maintain: { every: RECYCLE_EVERY, run: recycle },
  show: (input) => showInput(input),
  teardown: () => releaseHolderPlatform(),
});

export const holderTargets: readonly Target[] = [holderJsonTarget, holderHttpTarget];
