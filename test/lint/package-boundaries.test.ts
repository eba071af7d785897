// The repository's lint rule against reaching into another package (scripts/eslint/package-boundaries.js):
// a relative path into another package's folder, its src/ above all, or a bare `@kakunin/x/src/…`
// fails; a package's own files, its name and the subpaths it exports pass.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint, RuleTester } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';
import kakunin from '../../scripts/eslint/package-boundaries.js';

RuleTester.describe = describe;
RuleTester.it = it;
RuleTester.itOnly = it.only;

const root = fileURLToPath(new URL('../..', import.meta.url));
const at = (path: string): string => join(root, path);
const tester = new RuleTester({ languageOptions: { parser: tseslint.parser } });

tester.run('kakunin/no-foreign-package-path', kakunin.rules['no-foreign-package-path'], {
  valid: [
    { filename: at('packages/cli/src/commands/card.ts'), code: "import { cardForPerson } from '@kakunin/sim/card';" },
    { filename: at('packages/cli/src/commands/card.ts'), code: "import { CliError } from '../output.js';" },
    { filename: at('packages/server/test/keys.test.ts'), code: "import { startServer } from '../src/app.js';" },
    {
      filename: at('packages/server/test/support/index.ts'),
      code: "export { MasterKey } from '../../src/master-key.js';",
    },
    { filename: at('test/adversarial/oidc.test.ts'), code: "import { REDIRECT } from '@kakunin/server/testing';" },
    { filename: at('test/adversarial/oidc.test.ts'), code: "import { openSandbox } from '../support/sandbox.js';" },
    { filename: at('bench/run.ts'), code: "const m = await import('./crl.js');" },
  ],
  invalid: [
    {
      filename: at('packages/cli/src/commands/card.ts'),
      code: "import { cardForPerson } from '../../../sim/src/card/index.js';",
      errors: [{ messageId: 'relative', data: { specifier: '../../../sim/src/card/index.js', target: 'sim' } }],
    },
    {
      filename: at('test/adversarial/secrets.test.ts'),
      code: "import type { MasterKey } from '../../packages/server/src/master-key.js';",
      errors: [{ messageId: 'relative' }],
    },
    {
      filename: at('packages/agent/test/agent.test.ts'),
      code: "export { createRelyingParty } from '../../server/src/relying-parties.js';",
      errors: [{ messageId: 'relative' }],
    },
    {
      filename: at('examples/test/support.ts'),
      code: "export * from '../../packages/server/test/support/platform.js';",
      errors: [
        {
          messageId: 'relative',
          data: { specifier: '../../packages/server/test/support/platform.js', target: 'server' },
        },
      ],
    },
    {
      filename: at('test/fuzz/targets/holder.ts'),
      code: "const app = await import('../../../packages/server/src/app.js');",
      errors: [{ messageId: 'relative' }],
    },
    {
      filename: at('bench/load.ts'),
      code: "type Db = import('../packages/server/src/db/database.js').Database;",
      errors: [{ messageId: 'relative' }],
    },
    {
      filename: at('packages/cli/src/commands/usage.ts'),
      code: "import { usageReport } from '@kakunin/server/src/usage.js';",
      errors: [{ messageId: 'bare', data: { specifier: '@kakunin/server/src/usage.js', target: 'server' } }],
    },
  ],
});

describe("the repository's lint setup", () => {
  const lint = async (path: string, code: string): Promise<(string | null)[]> =>
    (await new ESLint({ cwd: root }).lintText(code, { filePath: at(path) })).flatMap((r) =>
      r.messages.map((m) => m.ruleId),
    );

  it("fails on an import of another package's src/, passes the same through the package's name", async () => {
    expect(
      await lint('packages/agent/src/x.ts', "export { cardForPerson } from '../../sim/src/card/index.js';\n"),
    ).toEqual(['kakunin/no-foreign-package-path']);
    expect(await lint('packages/agent/src/x.ts', "export { cardForPerson } from '@kakunin/sim/card';\n")).toEqual([]);
  });

  it('keeps the simulator out of the server: a type import only', async () => {
    expect(await lint('packages/server/src/x.ts', "export { openSandbox } from '@kakunin/sim';\n")).toEqual([
      '@typescript-eslint/no-restricted-imports',
    ]);
    expect(
      await lint(
        'packages/server/src/x.ts',
        "import { startSimServices } from '@kakunin/sim';\nvoid startSimServices;\n",
      ),
    ).toEqual(['@typescript-eslint/no-restricted-imports']);
    expect(
      await lint(
        'packages/server/src/x.ts',
        "import type { Sandbox } from '@kakunin/sim';\nexport type S = Sandbox;\n",
      ),
    ).toEqual([]);
  });
});
