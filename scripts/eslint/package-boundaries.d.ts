// Types of the local ESLint plugin (package-boundaries.js), for the rule's test.
import type { ESLint, Rule } from 'eslint';

declare const plugin: ESLint.Plugin & { rules: { 'no-foreign-package-path': Rule.RuleModule } };
export default plugin;
