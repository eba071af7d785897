// Child process of the CRL benchmark, so that its peak RSS is its own: load + verify + index a CRL
// file, then time lookups of known-revoked and absent serials. Prints one JSON line.
import { readFileSync } from 'node:fs';
import { CrlIndex, parseX509 } from '@kakunin/jpki';
import { syntheticSerial } from '@kakunin/sim';

const [crlFile, rootFile, countText] = process.argv.slice(2);
const count = Number(countText);
const issuer = parseX509(readFileSync(rootFile!, 'utf8'));
const started = performance.now();
const index = CrlIndex.load(readFileSync(crlFile!), { issuer });
const loadMs = performance.now() - started;

const LOOKUPS = 2_000_000;
const hits = Array.from({ length: 1000 }, (_, i) => syntheticSerial(Math.floor((i * count) / 1000)));
const misses = Array.from({ length: 1000 }, (_, i) => (0x10000000 + i * 7).toString(16).toUpperCase());
let found = 0;
const t0 = performance.now();
for (let i = 0; i < LOOKUPS; i++) if (index.lookup(i & 1 ? hits[i % 1000]! : misses[i % 1000]!)) found++;
const lookupNs = ((performance.now() - t0) * 1e6) / LOOKUPS;
if (found !== LOOKUPS / 2) throw new Error(`expected ${LOOKUPS / 2} hits, found ${found}`);
console.log(
  JSON.stringify({
    entries: index.size,
    loadMs,
    lookupNs,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    indexMb: index.indexBytes / 2 ** 20,
  }),
);
