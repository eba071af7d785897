// The project runs on Node.js 24 LTS (node_modules/.bin/node, from the node-linux-* package), also
// where the machine's own Node.js is older: the tests, and every process they start through PATH.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('runtime', () => {
  it('the tests run on Node.js 24', () => {
    expect(process.versions.node.split('.')[0]).toBe('24');
  });

  it('`node` on the PATH npm gives its scripts is Node.js 24 too (child processes, the kakunin command)', () => {
    const version = execFileSync('node', ['-p', 'process.version'], { encoding: 'utf8' }).trim();
    expect(version).toMatch(/^v24\./);
  });
});
