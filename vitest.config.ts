import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// Most test files wait on something else (PostgreSQL, a child process, the browser, a timer) much of
// the time, so more files run at once than there are cores (vitest's default is one fewer). Files
// share nothing that would collide: databases, ports, pcscd instances and temp dirs are their own.
const workers = Number(process.env.KAKUNIN_TEST_WORKERS) || availableParallelism() + 1;

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts', 'examples/test/**/*.test.ts'],
    reporters: ['default', './scripts/summary-reporter.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: workers,
    // A worker runs file after file with the modules it has loaded (the server, the OIDC provider, the
    // simulator): loading them afresh for every file cost ~4 minutes of CPU a run. Files keep nothing
    // global between them: each makes its own databases, servers and sandboxes, and puts back any
    // environment variable it sets.
    isolate: false,
    globalSetup: ['./test/setup/global.ts'],
  },
});
