// Local ESLint plugin: no import circles anywhere in the workspace, type-only imports included.
// eslint-plugin-import-x's no-cycle skips `import type` with no option to count it, yet a circle of
// types still ties modules into one knot (db/database.ts ↔ db/migrations.ts was one). So the graph
// here is TypeScript's own: `ts.preProcessFile` lists every import, export-from, `import()` and
// `import('…')` type of a file, and `ts.resolveModuleName` resolves them as the typecheck does
// (`.js` specifiers to `.ts` sources, workspace packages through their symlink to packages/*/src).
import { readFileSync, statSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CONFIG = ts.getParsedCommandLineOfConfigFile(
  `${ROOT}tsconfig.json`,
  {},
  { ...ts.sys, onUnRecoverableConfigFileDiagnostic() {} },
);
const OPTIONS = CONFIG?.options ?? {
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
};
const resolutionCache = ts.createModuleResolutionCache(ROOT, (f) => f, OPTIONS);

/** A file's imports (resolved paths of the workspace's own sources), kept while the file is unchanged. */
const importsCache = new Map();

function importsOf(file) {
  let mtime;
  try {
    mtime = statSync(file).mtimeMs;
  } catch {
    return new Map();
  }
  const hit = importsCache.get(file);
  if (hit && hit.mtime === mtime) return hit.imports;
  const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  /** resolved path → specifier as written */
  const imports = new Map();
  for (const { fileName } of info.importedFiles) {
    const target = resolve(fileName, file);
    if (target !== undefined && !imports.has(target)) imports.set(target, fileName);
  }
  importsCache.set(file, { mtime, imports });
  return imports;
}

function resolve(specifier, from) {
  const r = ts.resolveModuleName(specifier, from, OPTIONS, ts.sys, resolutionCache).resolvedModule;
  if (!r || r.isExternalLibraryImport || r.resolvedFileName.includes('/node_modules/')) return undefined;
  return r.resolvedFileName;
}

/** A path of imports from `start` back to `file` (the files after `file`), or undefined. */
function pathBack(start, file) {
  const seen = new Set([start]);
  const stack = [[start, [start]]];
  while (stack.length) {
    const [at, path] = stack.pop();
    for (const next of importsOf(at).keys()) {
      if (next === file) return path;
      if (!seen.has(next)) {
        seen.add(next);
        stack.push([next, [...path, next]]);
      }
    }
  }
  return undefined;
}

const noImportCycle = {
  meta: {
    type: 'problem',
    docs: { description: 'Forbids an import that leads back to the importing file (type-only imports count)' },
    schema: [],
    messages: { cycle: "'{{specifier}}' closes an import circle: {{circle}}" },
  },
  create(context) {
    const file = context.filename;
    return {
      Program(program) {
        for (const [target, specifier] of importsOf(file)) {
          const back = target === file ? [] : pathBack(target, file);
          if (!back) continue;
          const circle = [file, ...back, file].map((f) => relative(ROOT, f)).join(' → ');
          const node = program.body.find((n) => n.source?.value === specifier) ?? program;
          context.report({ node, messageId: 'cycle', data: { specifier, circle } });
        }
      },
    };
  },
};

export default { meta: { name: 'kakunin-import-cycles' }, rules: { 'no-import-cycle': noImportCycle } };
