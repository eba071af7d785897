// The security probe (issue 15) against a fresh sandbox platform, as an operator would run it
// against theirs: every check passes. Short timeouts and a small connection cap keep it quick.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSandbox, startTestPlatform, type TestPlatform } from '@kakunin/server/testing';
import { runProbe } from './security-probe.js';

let sim: Awaited<ReturnType<typeof createTestSandbox>>;
let p: TestPlatform;
beforeAll(async () => {
  sim = await createTestSandbox();
  p = await startTestPlatform('pglite', sim.dir, {
    config: { requestTimeoutSeconds: 2, headersTimeoutSeconds: 2, maxConnectionsPerAddress: 12 },
  });
}, 180_000);
afterAll(async () => {
  await p?.close();
  sim?.remove();
});

describe('security probe', () => {
  it('every request of the review gets the answer it must', async () => {
    const results = await runProbe({
      url: p.server.url,
      adminToken: p.server.adminToken,
      simDir: sim.dir,
      requestTimeoutSeconds: 2,
      maxConnectionsPerAddress: 12,
    });
    const failed = results.filter((r) => !r.ok);
    expect(failed, failed.map((r) => `${r.id}: ${r.detail}`).join('\n')).toEqual([]);
    // Every item of the review but 9 (a database check, A84) is probed over HTTP.
    expect(new Set(results.map((r) => r.item))).toEqual(new Set([1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12]));
  }, 120_000);
});
