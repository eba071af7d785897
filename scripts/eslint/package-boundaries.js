// Local ESLint plugin: honest package boundaries. A package is used through its name and the
// subpaths its package.json exports (`@kakunin/sim/card`), never by a relative path into its
// folder (`../../sim/src/card/index.js`) nor by a bare path into its sources (`@kakunin/sim/src/…`):
// what it does not export is not its API, and a relative path skips the dependency it declares.
import { dirname, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** `packages/<name>/…` of a path under the repository, or undefined. */
function packageOf(file) {
  const parts = relative(ROOT, file).split(sep);
  return parts[0] === 'packages' && parts.length > 2 ? parts[1] : undefined;
}

const noForeignPackagePath = {
  meta: {
    type: 'problem',
    docs: { description: "Forbids reaching into another workspace package's files (its src/ above all)" },
    schema: [],
    messages: {
      relative:
        "'{{specifier}}' reaches into packages/{{target}}: import '@kakunin/{{target}}' or a subpath it exports (add one to its package.json)",
      bare: "'{{specifier}}' names a file of @kakunin/{{target}}: import '@kakunin/{{target}}' or a subpath it exports",
    },
  },
  create(context) {
    const file = context.filename;
    const own = packageOf(file);
    const check = (source) => {
      if (!source || source.type !== 'Literal' || typeof source.value !== 'string') return;
      const specifier = source.value;
      const bare = /^@kakunin\/([^/]+)\/src(?:\/|$)/.exec(specifier);
      if (bare) {
        context.report({ node: source, messageId: 'bare', data: { specifier, target: bare[1] } });
        return;
      }
      if (!specifier.startsWith('.')) return;
      const target = packageOf(resolve(dirname(file), specifier));
      if (target !== undefined && target !== own)
        context.report({ node: source, messageId: 'relative', data: { specifier, target } });
    };
    return {
      ImportDeclaration: (node) => check(node.source),
      ExportNamedDeclaration: (node) => check(node.source),
      ExportAllDeclaration: (node) => check(node.source),
      ImportExpression: (node) => check(node.source),
      // `typeof import('…')` and `import('…').Name` in types (`source` since typescript-eslint 8.x, `argument` before).
      TSImportType: (node) => {
        const argument = node.source ?? node.argument;
        check(argument?.type === 'TSLiteralType' ? argument.literal : argument);
      },
    };
  },
};

export default { meta: { name: 'kakunin' }, rules: { 'no-foreign-package-path': noForeignPackagePath } };
