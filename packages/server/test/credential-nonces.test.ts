// c_nonces are stateless until spent: time, random bits and an HMAC under the platform's key.
import { describe, expect, it } from 'vitest';
import { NONCE_SECONDS, mintNonce, readNonce } from '../src/credentials/nonces.js';

const key = Buffer.alloc(32, 1);

describe('credential c_nonces', () => {
  it('a nonce of ours reads back with its expiry; each is different', () => {
    const at = new Date('2026-12-06T00:00:00Z');
    const nonce = mintNonce(key, at);
    expect(nonce).toMatch(/^[A-Za-z0-9_-]{54}$/);
    expect(readNonce(key, nonce, at)).toEqual({ expiresAt: new Date(at.getTime() + NONCE_SECONDS * 1000) });
    expect(mintNonce(key, at)).not.toBe(nonce);
  });

  it('refuses another key, a changed character, another shape; expired after its lifetime', () => {
    const at = new Date('2026-12-06T00:00:00Z');
    const nonce = mintNonce(key, at);
    expect(readNonce(Buffer.alloc(32, 2), nonce, at)).toBe('unknown');
    const flipped = `${nonce.slice(0, 10)}${nonce[10] === 'A' ? 'B' : 'A'}${nonce.slice(11)}`;
    expect(readNonce(key, flipped, at)).toBe('unknown');
    for (const bad of ['', 'n'.repeat(32), `${nonce}x`, nonce.slice(1)])
      expect(readNonce(key, bad, at)).toBe('unknown');
    expect(readNonce(key, nonce, new Date(at.getTime() + NONCE_SECONDS * 1000 - 1))).not.toBe('expired');
    expect(readNonce(key, nonce, new Date(at.getTime() + NONCE_SECONDS * 1000))).toBe('expired');
    // Minted by a clock far ahead: not a way to make a nonce that lives longer.
    expect(readNonce(key, mintNonce(key, new Date(at.getTime() + 2 * NONCE_SECONDS * 1000)), at)).toBe('expired');
  });
});
