// `npm run bench`: prints comparable figures and ratios against references measured in the same run.
// BENCH_SECONDS sets the time per measurement (default 2); BENCH_CRL_SIZES the CRL sizes (default 1M and 10M).
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { benchCrl } from './crl.js';
import { benchOcsp } from './ocsp.js';
import { benchVerify } from './verify.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 2);
console.log(
  `kakunin benchmarks — node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'} × ${cpus().length}, ${seconds} s per figure`,
);
await benchVerify(seconds);
// The card package's own benchmark, run as its script (a package is imported by name, not by path).
const apduCount = fileURLToPath(new URL('../packages/card/bench/apdu-count.ts', import.meta.url));
console.log(`\n${execFileSync(process.execPath, ['--import', 'tsx', apduCount], { encoding: 'utf8' }).trimEnd()}`);
await benchOcsp(seconds);
await benchCrl((process.env.BENCH_CRL_SIZES ?? '1000000,10000000').split(',').map(Number));
