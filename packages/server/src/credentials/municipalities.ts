// The municipality code (全国地方公共団体コード, 5 digits without the check digit) of an address as the
// signing certificate writes it, from a table the operator supplies (config municipalityCodesFile):
// the longest address prefix that matches wins (政令指定都市の区 before the city).

import { readFileSync } from 'node:fs';
import { ConfigError } from '../config.js';

export type MunicipalityLookup = (address: string) => string | undefined;

/** Parses `code,address prefix` lines (a header line, blank lines and `#` comments are skipped). */
export function parseMunicipalityCodes(text: string, file: string): MunicipalityLookup {
  const entries: [prefix: string, code: string][] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const t = line.trim();
    if (!t || t.startsWith('#')) return;
    const [code = '', prefix = ''] = t.split(',').map((x) => x.trim());
    if (i === 0 && !/^\d/.test(code)) return; // a header
    if (!/^\d{5}$/.test(code) || !prefix)
      throw new ConfigError(`${file}:${i + 1}: expected "<5-digit code>,<address prefix>", got "${t.slice(0, 60)}"`);
    entries.push([prefix, code]);
  });
  entries.sort((a, b) => b[0].length - a[0].length);
  return (address) => entries.find(([prefix]) => address.startsWith(prefix))?.[1];
}

export function loadMunicipalityCodes(file: string): MunicipalityLookup {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(
      `municipalityCodesFile ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  return parseMunicipalityCodes(text, file);
}
