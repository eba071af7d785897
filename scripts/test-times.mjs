// Prints the per-file durations of one test run, or of two side by side (before → after), slowest
// first, from the result files scripts/test-unit.mjs leaves (test-artifacts/vitest-result.json).
// Usage: node scripts/test-times.mjs AFTER.json [BEFORE.json]
import { readFileSync } from 'node:fs';

// A reader that stops early (`| head`) is not an error.
process.stdout.on('error', (e) => process.exit(e.code === 'EPIPE' ? 0 : 1));

const [afterFile, beforeFile] = process.argv.slice(2);
if (!afterFile) {
  process.stderr.write('usage: node scripts/test-times.mjs AFTER.json [BEFORE.json]\n');
  process.exit(2);
}
const read = (f) => JSON.parse(readFileSync(f, 'utf8')).durations ?? {};
const after = read(afterFile);
const before = beforeFile ? read(beforeFile) : {};
const files = [...new Set([...Object.keys(after), ...Object.keys(before)])].sort(
  (a, b) => (after[b] ?? before[b] ?? 0) - (after[a] ?? before[a] ?? 0) || a.localeCompare(b),
);
const s = (ms) => (ms === undefined ? '—' : `${(ms / 1000).toFixed(1)} s`);
const sum = (o) => Object.values(o).reduce((a, b) => a + b, 0);
for (const f of files)
  process.stdout.write(`${beforeFile ? `${s(before[f]).padStart(8)} → ` : ''}${s(after[f]).padStart(8)}  ${f}\n`);
process.stdout.write(
  `${beforeFile ? `${s(sum(before)).padStart(8)} → ` : ''}${s(sum(after)).padStart(8)}  all files (sum)\n`,
);
