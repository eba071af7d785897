import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import * as api from '@kakunin/sd-jwt';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('documents every error code', () => {
    for (const code of api.SD_JWT_ERROR_CODES) expect(readme, code).toContain(`\`${code}\``);
  });

  it('names every run-time export', () => {
    for (const name of Object.keys(api)) expect(readme, name).toContain(name);
  });
});
