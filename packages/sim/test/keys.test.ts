// The simulator's RSA keys: fresh, or drawn from a pool generated once (the test run's), each pooled
// key at most once per process, and never handed down to the processes it starts.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { KEY_POOL_ENV, writeRsaKeyPool } from '../src/keys.js';

const spki = (k: KeyObject): string => k.export({ type: 'spki', format: 'der' }).toString('hex');

describe('RSA keys of the simulator', () => {
  let dir: string;
  let pool: string;
  const saved = process.env[KEY_POOL_ENV];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kakunin-keys-'));
    const steps: number[] = [];
    pool = await writeRsaKeyPool(join(dir, 'pool.pem'), 3, (n) => steps.push(n), 2);
    expect(steps).toEqual([2, 3]);
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    if (saved === undefined) delete process.env[KEY_POOL_ENV];
    else process.env[KEY_POOL_ENV] = saved;
  });

  it('takes each pooled key once, then generates; all distinct; the variable leaves the environment', async () => {
    vi.resetModules();
    process.env[KEY_POOL_ENV] = pool;
    const keys = await import('../src/keys.js');
    expect(process.env[KEY_POOL_ENV]).toBeUndefined(); // a child process started now generates its own
    const a = await keys.generateRsaKeyPair();
    const b = keys.generateRsaKeyPairSync();
    const c = await keys.generateRsaKeyPair();
    const d = await keys.generateRsaKeyPair(); // the pool had 3
    const all = [a, b, c, d].map((p) => spki(p.publicKey));
    expect(new Set(all).size).toBe(4);
    for (const p of [a, b, c, d]) {
      expect(p.privateKey.asymmetricKeyDetails).toMatchObject({ modulusLength: 2048, publicExponent: 65537n });
      expect(spki(p.publicKey)).toBe(spki(createPublicKey(p.privateKey))); // the private key's public key
    }
  });

  it('without a pool every key is fresh', async () => {
    vi.resetModules();
    delete process.env[KEY_POOL_ENV];
    const keys = await import('../src/keys.js');
    const [a, b] = [keys.generateRsaKeyPairSync(), await keys.generateRsaKeyPair()];
    expect(spki(a.publicKey)).not.toBe(spki(b.publicKey));
  });
});
