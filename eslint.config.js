// One lint setup for the whole workspace (flat config).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import kakunin from './scripts/eslint/package-boundaries.js';
import cycles from './scripts/eslint/import-cycles.js';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', '.kakunin/**', 'coverage/**', 'test-artifacts/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    // Packages meet through their names and exported subpaths only (scripts/eslint/package-boundaries.js).
    plugins: { kakunin },
    rules: { 'kakunin/no-foreign-package-path': 'error' },
  },
  {
    // A production server never loads the simulator: the CLI hands the simulated J-LIS in (sandbox-mode.ts).
    files: ['packages/server/src/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            { name: '@kakunin/sim', message: 'Take the simulated J-LIS from StartOptions.', allowTypeImports: true },
          ],
          patterns: [
            {
              group: ['@kakunin/sim/*'],
              message: 'Take the simulated J-LIS from StartOptions.',
              allowTypeImports: true,
            },
          ],
        },
      ],
    },
  },
  {
    // No import circles in any package, type-only imports included (scripts/eslint/import-cycles.js).
    plugins: { cycles },
    rules: { 'cycles/no-import-cycle': 'error' },
  },
);
