// The CRL sources of a process: the configured URLs and files (`crlSources`) plus every CRL file of
// KAKUNIN_CRL_DIR, each with a stable key that names it in the database and in job payloads.

import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError, type CrlSourceConfig, type ServerConfig } from '../config.js';

export interface CrlSource {
  /** `url:<url>` or `file:<absolute path>`: the same in every process configured alike. */
  readonly key: string;
  readonly kind: 'url' | 'file';
  /** The URL or the absolute path. */
  readonly location: string;
  /** Label of the trust anchor that must sign it; without it, whichever anchor's key verifies it. */
  readonly issuer?: string;
}

export function crlSource(c: CrlSourceConfig): CrlSource {
  const issuer = c.issuer ? { issuer: c.issuer } : {};
  if (c.url) return { key: `url:${c.url}`, kind: 'url', location: c.url, ...issuer };
  if (c.file) {
    const path = resolve(c.file);
    return { key: `file:${path}`, kind: 'file', location: path, ...issuer };
  }
  throw new ConfigError('a CRL source needs a url or a file');
}

/** Files a CRL directory holds (`.crl`, `.der`, `.pem`), as file sources. */
export function crlDirSources(dir: string): CrlSource[] {
  let files: string[];
  try {
    files = readdirSync(dir);
  } catch (e) {
    throw new ConfigError(`the CRL directory ${dir} cannot be read: ${(e as Error).message}`);
  }
  return files
    .filter((f) => /\.(crl|der|pem)$/i.test(f))
    .sort()
    .map((f) => crlSource({ file: join(dir, f) }));
}

/** Every source of a configuration, each once (a file may be both in the directory and listed). */
export function crlSourcesOf(
  config: Pick<ServerConfig, 'crlDir' | 'crlSources'>,
  extra: readonly CrlSourceConfig[] = [],
): CrlSource[] {
  const all = [
    ...(config.crlDir ? crlDirSources(config.crlDir) : []),
    ...[...config.crlSources, ...extra].map(crlSource),
  ];
  const byKey = new Map<string, CrlSource>();
  // A listed source (which may name its issuer) wins over the same file found in the directory.
  for (const s of all) byKey.set(s.key, s);
  return [...byKey.values()];
}
