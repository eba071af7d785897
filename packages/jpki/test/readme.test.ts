// The README's ordered lists of checks are the code's: same names, same order, same error codes.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OCSP_CHECKS, VALIDATION_STEPS } from '../src/index.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

/** The numbered items between `<!-- marker … -->` and `<!-- /marker -->`: name and codes of each. */
function listed(marker: string): { name: string; codes: string[] }[] {
  const start = readme.indexOf(`<!-- ${marker}`);
  const end = readme.indexOf(`<!-- /${marker} -->`);
  expect(start, `README section ${marker}`).toBeGreaterThan(-1);
  expect(end).toBeGreaterThan(start);
  return [...readme.slice(start, end).matchAll(/^ *\d+\. `([a-z-]+)` \(([^)]*)\)/gm)].map((m) => ({
    name: m[1]!,
    codes: [...m[2]!.matchAll(/`([A-Z_]+)`/g)].map((c) => c[1]!),
  }));
}

const inCode = (steps: readonly { name: string; codes: readonly string[] }[]) =>
  steps.map((s) => ({ name: s.name, codes: [...s.codes] }));

describe('README', () => {
  it('lists the validation steps in order, with their codes', () => {
    expect(listed('validation-steps')).toEqual(inCode(VALIDATION_STEPS));
  });

  it('lists the OCSP checks in order, with their codes', () => {
    expect(listed('ocsp-checks')).toEqual(inCode(OCSP_CHECKS));
  });
});
