// The project runs on Node.js 24 LTS (node_modules/.bin/node, from the node-linux-* package), also
// where the machine's own Node.js is older: the tests, and every process they start through PATH.
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

describe('runtime', () => {
  it('the tests run on Node.js 24', () => {
    expect(process.versions.node.split('.')[0]).toBe('24');
  });

  it('`node` on the PATH npm gives its scripts is Node.js 24 too (child processes, the kakunin command)', () => {
    const version = execFileSync('node', ['-p', 'process.version'], { encoding: 'utf8' }).trim();
    expect(version).toMatch(/^v24\./);
  });

  it("the kakunin command runs its TypeScript on Node's type stripping, and through tsx where Node has none", () => {
    const bin = resolve('packages/cli/bin/kakunin.js');
    // What each way loads: the same command line, the same answer.
    const native = execFileSync(process.execPath, [bin, 'trust', 'list', '--json'], { encoding: 'utf8' });
    const viaTsx = execFileSync(process.execPath, ['--no-experimental-strip-types', bin, 'trust', 'list', '--json'], {
      encoding: 'utf8',
    });
    expect(JSON.parse(viaTsx)).toEqual(JSON.parse(native));
    expect((JSON.parse(native) as unknown[]).length).toBeGreaterThanOrEqual(6);
  });
});
