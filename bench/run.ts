// `npm run bench`: prints comparable figures and ratios against references measured in the same run.
// BENCH_SECONDS sets the time per measurement (default 2); BENCH_CRL_SIZES the CRL sizes (default 1M and 10M).
import { cpus } from 'node:os';
import { apduCounts, formatApduCounts } from '../packages/card/bench/apdu-count.js';
import { benchCrl } from './crl.js';
import { benchOcsp } from './ocsp.js';
import { benchVerify } from './verify.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 2);
console.log(
  `kakunin benchmarks — node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'} × ${cpus().length}, ${seconds} s per figure`,
);
await benchVerify(seconds);
console.log(`\n${formatApduCounts(await apduCounts())}`);
await benchOcsp(seconds);
await benchCrl((process.env.BENCH_CRL_SIZES ?? '1000000,10000000').split(',').map(Number));
