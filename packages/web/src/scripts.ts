// The pages' scripts: TypeScript under browser/, type-checked and linted with the rest, transpiled
// once per process and served by the platform from a fixed path. A page loads its script by URL,
// so its Content-Security-Policy allows scripts from 'self' only, never 'unsafe-inline'.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { transformSync } from 'esbuild';

/** Where the platform serves the ceremony page's script. */
export const CEREMONY_SCRIPT_PATH = '/assets/ceremony.js';

export interface PageScript {
  /** JavaScript (ES2019, one IIFE). */
  source: string;
  /** A short hash of the source: the page adds it to the URL so that a cached old script is never used. */
  version: string;
}

let ceremony: PageScript | undefined;

/** The ceremony page's script (browser/ceremony.ts), transpiled on first use. */
export function ceremonyScript(): PageScript {
  ceremony ??= transpile(new URL('./browser/ceremony.ts', import.meta.url));
  return ceremony;
}

export const ceremonyScriptUrl = (): string => `${CEREMONY_SCRIPT_PATH}?v=${ceremonyScript().version}`;

function transpile(file: URL): PageScript {
  const { code } = transformSync(readFileSync(file, 'utf8'), {
    loader: 'ts',
    format: 'iife',
    target: 'es2019',
    sourcefile: file.pathname,
  });
  return { source: code, version: createHash('sha256').update(code).digest('base64url').slice(0, 12) };
}
