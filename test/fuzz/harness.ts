// Runs a fuzz target as a vitest test: FUZZ_RUNS × weight inputs through fast-check (seed printed on
// failure; FUZZ_SEED=… replays a run), each checked by the oracle (typed error or return; crash and
// hang fail with the input). Synchronous targets shrink a failing input; asynchronous ones (card
// sessions, the platform) stop at the first failure, since shrinking a hang costs a second a step.

import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { FUZZ_SEED, HANG_MS, runsFor, startWatchdog, type OpenTarget, type Target, type Verdict } from './support.js';

export interface FuzzOptions {
  /** Inputs (default FUZZ_RUNS × the target's weight). */
  runs?: number;
}

export function fuzzTarget(target: Target, o: FuzzOptions = {}): void {
  const runs = o.runs ?? runsFor(target.weight);
  describe(`${target.name} — ${target.description}`, () => {
    let open: OpenTarget | undefined;
    beforeAll(async () => {
      open = await target.open();
    }, 300_000);
    afterAll(async () => {
      await open?.close();
    }, 60_000);

    it(`${runs} fuzzed inputs: each returns or throws its typed error; no crash, no input over ${HANG_MS} ms`, async () => {
      const t = open!;
      startWatchdog(`fuzz target ${target.name} (FUZZ_SEED=${FUZZ_SEED})`);
      const stats: Record<Verdict, number> = { typed: 0, accepted: 0 };
      if (target.async) {
        await fc.assert(
          fc.asyncProperty(t.arbitrary, async (input) => {
            stats[await t.check(input)]++;
          }),
          { numRuns: runs, seed: FUZZ_SEED, endOnFailure: true },
        );
      } else {
        fc.assert(
          fc.property(t.arbitrary, (input) => {
            stats[t.check(input) as Verdict]++;
          }),
          { numRuns: runs, seed: FUZZ_SEED },
        );
      }
      console.info(
        `fuzz ${target.name}: ${runs} inputs, ${stats.typed} typed errors, ${stats.accepted} accepted (seed ${FUZZ_SEED})`,
      );
    }, 900_000);
  });
}
