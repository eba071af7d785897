// The production trust store: the J-LIS roots embedded in @kakunin/jpki plus the roots the operator
// names in the configuration (`trustAnchors`), each by file AND SHA-256 pin. There is no directory
// of trusted files: a root is trusted only when someone wrote its fingerprint down.

import { readFileSync } from 'node:fs';
import { basename, extname, resolve } from 'node:path';
import { TrustStore, isJpkiError } from '@kakunin/jpki';
import { ConfigError } from './config.js';

const SHAPE = '{ "file": PATH, "sha256": HEX, "label"?: NAME }';

/**
 * Adds the configured roots to `store` (the J-LIS roots by default). Any problem — not a list, an
 * entry without file or pin, an unreadable file, a pin that does not match, a root that is not a
 * production CA — is a ConfigError naming the entry and the file, so the server refuses to start.
 */
export function withConfiguredAnchors(entries: unknown, store: TrustStore = TrustStore.jlis()): TrustStore {
  if (entries === undefined || entries === null) return store;
  if (!Array.isArray(entries)) throw new ConfigError(`trustAnchors must be a list of ${SHAPE}`);
  entries.forEach((entry: unknown, i) => {
    const where = `trustAnchors[${i}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
      throw new ConfigError(`${where} must be an object ${SHAPE}`);
    const e = entry as Record<string, unknown>;
    const unknownKeys = Object.keys(e).filter((k) => !['file', 'sha256', 'label'].includes(k));
    if (unknownKeys.length)
      throw new ConfigError(`${where} has unknown keys ${unknownKeys.join(', ')} (expected ${SHAPE})`);
    if (typeof e.file !== 'string' || !e.file)
      throw new ConfigError(`${where} needs "file": the root certificate (PEM or DER)`);
    const file = resolve(e.file);
    if (e.label !== undefined && (typeof e.label !== 'string' || !e.label))
      throw new ConfigError(`${where} (${file}): "label" must be a non-empty string`);
    if (e.sha256 === undefined || e.sha256 === '') {
      throw new ConfigError(
        `${where} (${file}) has no "sha256": a root is trusted only with its SHA-256 fingerprint written next to it`,
      );
    }
    let data: Buffer;
    try {
      data = readFileSync(file);
    } catch (err) {
      throw new ConfigError(
        `${where}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      );
    }
    try {
      store.addPinned(data, e.sha256 as string, {
        label: (e.label as string | undefined) ?? basename(file, extname(file)),
      });
    } catch (err) {
      if (isJpkiError(err)) throw new ConfigError(`${where} (${file}): ${err.message}`);
      throw err;
    }
  });
  return store;
}
