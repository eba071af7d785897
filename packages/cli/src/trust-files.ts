// Loading extra trust anchors from a directory of PEM / DER files (the `--trust DIR` option).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { TrustStore } from '@kakunin/jpki';
import { CliError } from './output.js';

const CERT_FILE = /\.(pem|crt|cer|der)$/i;

/** The J-LIS roots plus every certificate found in `dir`. */
export function trustStoreWith(dir: string | undefined): TrustStore {
  const store = TrustStore.jlis();
  if (dir === undefined) return store;
  let files: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new Error('not a directory');
    files = readdirSync(dir)
      .filter((f) => CERT_FILE.test(f))
      .sort();
  } catch (e) {
    throw new CliError(`--trust ${dir}: ${(e as Error).message}`);
  }
  if (files.length === 0) throw new CliError(`--trust ${dir}: no .pem, .crt, .cer or .der files found`);
  for (const file of files) {
    const data = readFileSync(join(dir, file));
    const label = basename(file, extname(file));
    const text = data.toString('latin1');
    const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
    if (blocks) blocks.forEach((pem, i) => store.add(pem, { label: blocks.length > 1 ? `${label}#${i + 1}` : label }));
    else store.add(data, { label });
  }
  return store;
}
