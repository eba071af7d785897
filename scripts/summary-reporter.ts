// Vitest reporter that ends the run with the plain line CI reads: "tests: N passed, N failed".
// With KAKUNIN_TEST_RESULT_FILE set it also writes the counts and the files a dead worker left
// unfinished and each file's duration, for scripts/test-unit.mjs and scripts/test-times.mjs.
import { writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';

export interface RunResult {
  passed: number;
  failed: number;
  skipped: number;
  /** Files whose worker process died before they finished (they never reported a result). */
  unfinished: string[];
  /** Errors outside any test (e.g. "Worker exited unexpectedly"). */
  errors: string[];
  /** Each file's duration in milliseconds (set-up, import and tests), by path from the repository root. */
  durations: Record<string, number>;
}

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown> = []): void {
    const result: RunResult = {
      passed: 0,
      failed: 0,
      skipped: 0,
      unfinished: [],
      errors: unhandledErrors.map((e) => (e as Error)?.message ?? String(e)),
      durations: {},
    };
    for (const mod of testModules) {
      const unfinished = mod.state() === 'pending' || mod.state() === 'queued';
      if (unfinished) result.unfinished.push(mod.moduleId);
      else {
        const d = mod.diagnostic();
        result.durations[relative(process.cwd(), mod.moduleId)] = Math.round(
          d.prepareDuration + d.setupDuration + d.collectDuration + d.duration,
        );
      }
      for (const test of mod.children.allTests()) {
        if (unfinished) {
          result.skipped++; // counted when the file is run to its end
          continue;
        }
        const state = test.result().state;
        if (state === 'passed') result.passed++;
        else if (state === 'failed') result.failed++;
        else result.skipped++;
      }
      // A file that failed to load, or whose hooks failed (its tests skipped), still counts as a failure.
      if (mod.state() === 'failed' && ![...mod.children.allTests()].some((t) => t.result().state === 'failed'))
        result.failed++;
    }
    if (process.env.KAKUNIN_TEST_RESULT_FILE)
      writeFileSync(process.env.KAKUNIN_TEST_RESULT_FILE, JSON.stringify(result));
    const tail = result.skipped > 0 ? `, ${result.skipped} skipped` : '';
    process.stdout.write(`\ntests: ${result.passed} passed, ${result.failed} failed${tail}\n`);
  }
}
