// Fuzzing the holder protocol's response submission (docs/holder-protocol.md) on a sandbox platform:
// submitResponse in process (every body returns or throws a ServerError / JpkiError) and
// POST /holder/v1/ceremonies/:id/response over HTTP (200 or 4xx JSON {error:{code}}, never 5xx,
// never a hang).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fuzzTarget } from './harness.js';
import { FuzzFailure, tlvHeaders, type OpenTarget } from './support.js';
import {
  holderHttpTarget,
  holderJsonTarget,
  holderPlatform,
  releaseHolderPlatform,
  type HolderInput,
  type HttpInput,
} from './targets/holder.js';

// One platform for the whole file (the targets share it; this reference keeps it up between them).
beforeAll(async () => {
  await holderPlatform();
}, 300_000);
afterAll(() => releaseHolderPlatform(), 60_000);

fuzzTarget(holderJsonTarget);
fuzzTarget(holderHttpTarget);

async function verdict(t: OpenTarget, input: unknown): Promise<string> {
  try {
    return await t.check(input);
  } catch (e) {
    if (e instanceof FuzzFailure) return `${e.kind}: ${e.message.split('\n')[0]}`;
    throw e;
  }
}

const validCertAndSignature = {
  certificate: { t: 'certificate', enc: 'base64', plan: [] },
  signature: { t: 'signature', enc: 'base64', plan: [] },
  extra: [],
} as const;
const spec = (nonce: unknown): HolderInput => ({
  ceremony: 'fresh',
  body: { t: 'spec', spec: { ...validCertAndSignature, nonce: { t: 'value', v: nonce } } },
});
const http = (
  body: HttpInput['form'],
  contentType: string | null = 'application/json',
  holder: HolderInput = spec('x'),
): HttpInput => ({ holder, form: body, contentType, path: 'ceremony' });

describe('holder protocol: edge cases', () => {
  let json: OpenTarget;
  let overHttp: OpenTarget;
  beforeAll(async () => {
    json = await holderJsonTarget.open();
    overHttp = await holderHttpTarget.open();
  }, 300_000);
  afterAll(async () => {
    await json?.close();
    await overHttp?.close();
  });

  it('bodies the schema or the decoder must refuse over HTTP: 4xx JSON, never 5xx', async () => {
    const cases: HttpInput[] = [
      http({ t: 'raw', bytes: new Uint8Array(0) }),
      http({ t: 'raw', bytes: Buffer.from('{"nonce":') }),
      http({ t: 'raw', bytes: Uint8Array.of(0xff, 0xfe, 0x7b, 0x7d) }),
      http({
        t: 'raw',
        bytes: Buffer.from('{"__proto__":{"x":1},"nonce":"a","certificate":"QQ==","signature":"QQ=="}'),
      }),
      http({ t: 'deep', depth: 30_000, open: '[' }),
      http({ t: 'deep', depth: 10_000, open: '{"a":' }),
      http({ t: 'large', size: 70_000 }),
      http({ t: 'large', size: 300_000 }),
      http({ t: 'json', plan: [] }, 'text/plain'),
      http({ t: 'json', plan: [] }, null),
      http({ t: 'json', plan: [] }, 'application/x-www-form-urlencoded'),
    ];
    const verdicts = [];
    for (const c of cases) verdicts.push(await verdict(overHttp, c));
    expect(verdicts.filter((v) => v !== 'typed')).toEqual([]);
  });

  /** The right nonce and the holder's certificate with U+0000 as the first digit of its notBefore. */
  async function nulInCertificate(): Promise<HolderInput> {
    const p = await holderPlatform();
    try {
      const notBefore = tlvHeaders(p.holders.login.certificate).find(
        (h) => p.holders.login.certificate[h.start] === 0x17,
      )!;
      return {
        ceremony: 'fresh',
        body: {
          t: 'spec',
          spec: {
            nonce: { t: 'nonce', which: 'own' },
            certificate: { t: 'certificate', enc: 'base64', plan: [{ op: 'set', at: notBefore.valueStart, byte: 0 }] },
            signature: { t: 'signature', enc: 'base64', plan: [] },
            extra: [],
          },
        },
      };
    } finally {
      await releaseHolderPlatform();
    }
  }

  it('FINDING H2: a certificate whose rejection message quotes U+0000 (in process): a typed error, not a database error', async () => {
    expect(await verdict(json, await nulInCertificate())).toBe('typed');
  });

  it('FINDING H2: a certificate whose rejection message quotes U+0000 (over HTTP): 4xx, not 500', async () => {
    expect(await verdict(overHttp, http({ t: 'json', plan: [] }, 'application/json', await nulInCertificate()))).toBe(
      'typed',
    );
  });

  it('FINDING H1: a nonce containing U+0000 (in process): a typed error, not a database error', async () => {
    expect(await verdict(json, spec('A\u0000'))).toBe('typed');
  });

  it('FINDING H1: a nonce containing U+0000 (over HTTP): 4xx, not 500', async () => {
    expect(await verdict(overHttp, http({ t: 'json', plan: [] }, 'application/json', spec('A\u0000')))).toBe('typed');
  });
});
