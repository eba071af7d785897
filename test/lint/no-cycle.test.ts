// The repository's lint setup refuses an import circle (scripts/eslint/import-cycles.js), type-only
// imports included, and lets a one-way import pass. The files live in a folder under the repository
// so that its eslint.config.js applies to them as to any source.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(root, 'test/lint/cycle-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function lint(files: Record<string, string>): Promise<{ file: string; rule: string | null; message: string }[]> {
  const sub = mkdtempSync(join(dir, 'case-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(sub, name), text);
  const results = await new ESLint({ cwd: root }).lintFiles(Object.keys(files).map((f) => join(sub, f)));
  return results.flatMap((r) =>
    r.messages.map((m) => ({ file: r.filePath.slice(sub.length + 1), rule: m.ruleId, message: m.message })),
  );
}

describe('lint: no import circles', () => {
  it('fails on two modules that import each other', async () => {
    const problems = await lint({
      'a.ts': "import { b } from './b.js';\nexport const a = (): number => b + 1;\n",
      'b.ts': "import { a } from './a.js';\nexport const b = 1;\nexport const c = (): number => a();\n",
    });
    expect(problems.map((p) => [p.file, p.rule])).toEqual([
      ['a.ts', 'cycles/no-import-cycle'],
      ['b.ts', 'cycles/no-import-cycle'],
    ]);
    expect(problems[0]!.message).toMatch(/a\.ts → .*b\.ts → .*a\.ts/);
  });

  it('fails on a circle of three closed by a type-only import', async () => {
    const problems = await lint({
      'x.ts': "import { y } from './y.js';\nexport interface X {\n  n: number;\n}\nexport const x = y;\n",
      'y.ts': "import { z } from './z.js';\nexport const y = z;\n",
      'z.ts': "import type { X } from './x.js';\nexport const z: X = { n: 1 };\n",
    });
    expect(problems.filter((p) => p.rule === 'cycles/no-import-cycle').map((p) => p.file)).toEqual([
      'x.ts',
      'y.ts',
      'z.ts',
    ]);
  });

  it('passes imports that go one way', async () => {
    const problems = await lint({
      'leaf.ts': 'export const leaf = 1;\n',
      'user.ts': "import { leaf } from './leaf.js';\nexport const user = leaf;\n",
    });
    expect(problems).toEqual([]);
  });
});
