// The catalogue and its tests agree: at least 40 named cases, unique ids in order, and each case is
// exactly one test, in the file of its layer, titled `<id> <name> → <expected>`.

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CATALOGUE, title } from './catalogue.js';

const here = dirname(fileURLToPath(import.meta.url));

describe('adversarial catalogue', () => {
  it('has at least 40 distinct cases, numbered in order, each with a threat and an expected code', () => {
    expect(CATALOGUE.length).toBeGreaterThanOrEqual(40);
    expect(CATALOGUE.map((c) => c.id)).toEqual(CATALOGUE.map((_, i) => `A${String(i + 1).padStart(2, '0')}`));
    expect(new Set(CATALOGUE.map((c) => c.name)).size).toBe(CATALOGUE.length);
    for (const c of CATALOGUE) {
      expect(c.threat.length, c.id).toBeGreaterThan(10);
      expect(c.expected, c.id).toMatch(/^[A-Za-z_|]+$/);
      expect(title(c.id)).toBe(`${c.id} ${c.name} → ${c.expected}`);
    }
  });

  it('every case is exactly one test, in the file of its layer', () => {
    const layers = [...new Set(CATALOGUE.map((c) => c.layer))];
    const sources = Object.fromEntries(layers.map((l) => [l, readFileSync(join(here, `${l}.test.ts`), 'utf8')]));
    for (const c of CATALOGUE) {
      for (const [layer, source] of Object.entries(sources)) {
        // The formatter may break `it(` and `title(` across lines.
        const uses = source.match(new RegExp(`\\bit\\(\\s*title\\('${c.id}'\\)`, 'g'))?.length ?? 0;
        expect(uses, `${c.id} in ${layer}.test.ts`).toBe(layer === c.layer ? 1 : 0);
      }
    }
  });
});
