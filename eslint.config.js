// One lint setup for the whole workspace (flat config).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
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
    // No import circles in any package, type-only imports included (scripts/eslint/import-cycles.js).
    plugins: { cycles },
    rules: { 'cycles/no-import-cycle': 'error' },
  },
);
