// Trust anchors beyond the embedded J-LIS roots: a future generation added by its SHA-256 pin (the
// only way a production root gets in), and roots that have expired but still answer for old dates.
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  Expired,
  PinMismatch,
  TrustAnchorRejected,
  TrustStore,
  UnknownIssuerGeneration,
  validate,
  type JpkiError,
} from '@kakunin/jpki';
import { SimCa } from '@kakunin/sim';
import { futureJlisRoot, type FutureRoot } from '../../../test/support/future-root.js';

const YEAR = 365.25 * 86_400_000;
const now = new Date();
const shift = (years: number): Date => new Date(now.getTime() + years * YEAR);

let future: FutureRoot;
let expired: FutureRoot;

beforeAll(async () => {
  [future, expired] = await Promise.all([
    futureJlisRoot({ notBefore: shift(-1), notAfter: shift(9) }),
    // Valid six years ago to one year ago: what authca01/signca01 are now.
    futureJlisRoot({ label: 'authca00', notBefore: shift(-6), notAfter: shift(-1), issuedAt: shift(-3) }),
  ]);
});

function thrown(fn: () => unknown): JpkiError {
  try {
    fn();
  } catch (e) {
    return e as JpkiError;
  }
  throw new Error('expected an error');
}

const colons = (hex: string): string => hex.toLowerCase().match(/../g)!.join(':');

describe('TrustStore.addPinned', () => {
  it('a future J-LIS generation is used only once pinned, and validation names it', () => {
    expect(() => validate(future.endEntity, { mode: 'production', at: now, trustStore: TrustStore.jlis() })).toThrow(
      UnknownIssuerGeneration,
    );
    const store = TrustStore.jlis();
    const anchor = store.addPinned(future.pem, colons(future.sha256), { label: 'authca04' });
    expect(anchor).toMatchObject({ label: 'authca04', source: 'pinned', environment: 'production', kind: 'auth' });
    expect(validate(future.endEntity, { mode: 'production', at: now, trustStore: store })).toMatchObject({
      generation: 'authca04',
      environment: 'production',
      kind: 'auth',
    });
  });

  it('a pin that does not match refuses the root, naming both fingerprints', () => {
    const other = expired.sha256;
    const e = thrown(() => new TrustStore().addPinned(future.der, other, { label: 'authca04' }));
    expect(e).toBeInstanceOf(PinMismatch);
    expect(e.code).toBe('PIN_MISMATCH');
    expect(e.message).toContain(future.sha256);
    expect(e.message).toContain(other);
    expect(e.messageJa.length).toBeGreaterThan(0);
  });

  it('a missing or malformed pin refuses the root', () => {
    for (const pin of ['', '   ', 'not-a-hash', future.sha256.slice(2), undefined as unknown as string]) {
      const e = thrown(() => new TrustStore().addPinned(future.der, pin, { label: 'authca04' }));
      expect(e, `pin ${String(pin)}`).toBeInstanceOf(TrustAnchorRejected);
      expect(e.message).toMatch(/authca04/);
    }
  });

  it('only production roots can be pinned', async () => {
    const sim = await SimCa.create([
      { id: 'sim-authca09', kind: 'auth', medium: 'card', generation: 9, notBefore: shift(-1), notAfter: shift(1) },
    ]);
    const root = sim.root('sim-authca09');
    const e = thrown(() =>
      new TrustStore().addPinned(root.der, createHash('sha256').update(root.der).digest('hex'), {
        label: 'sim-authca09',
      }),
    );
    expect(e).toBeInstanceOf(TrustAnchorRejected);
    expect(e.message).toMatch(/simulator CA; only production roots are pinned/);
  });
});

describe('an expired root', () => {
  it('still verifies certificates for a date inside its validity, and refuses them after it', () => {
    const store = TrustStore.jlis();
    store.addPinned(expired.der, expired.sha256, { label: 'authca00' });
    expect(validate(expired.endEntity, { mode: 'production', at: shift(-2), trustStore: store })).toMatchObject({
      generation: 'authca00',
      isAnchor: false,
    });
    const e = thrown(() => validate(expired.endEntity, { mode: 'production', at: now, trustStore: store }));
    expect(e).toBeInstanceOf(Expired);
    expect(e.message).toMatch(/issuing CA authca00 expired/);
  });
});
