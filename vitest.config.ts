import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// Most test files wait on something else (PostgreSQL, a child process, the browser, a timer) much of
// the time, so more files run at once than there are cores (vitest's default is one fewer). Files
// share nothing that would collide: databases, ports, pcscd instances and temp dirs are their own.
const workers = Number(process.env.KAKUNIN_TEST_WORKERS) || availableParallelism() + 2;

const ALL = ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts', 'examples/test/**/*.test.ts'];
// libpcsclite reads its socket path (PCSCLITE_CSOCK_NAME, each file's own pcscd) once per process:
// the files that talk PC/SC need a process of their own.
const PCSC = ['packages/card/test/pcsc.test.ts', 'packages/agent/test/pcsc.test.ts', 'test/e2e/pcsc-browser.test.ts'];

// What both projects take from here (not `extends: true`: it would run the global set-up once more
// for each project).
// Workers run WebAssembly (the embedded PostgreSQL, PGlite) on V8's baseline compiler only: a test's
// databases are small and short-lived, and the optimising tier's background compilations cost more
// CPU than they save (measured on eight server and demo files: 20% less CPU, 11% less time).
const common = {
  testTimeout: 60_000,
  hookTimeout: 120_000,
  pool: 'forks' as const,
  execArgv: ['--liftoff-only'],
};

export default defineConfig({
  test: {
    reporters: ['default', './scripts/summary-reporter.ts'],
    ...common,
    maxWorkers: workers,
    globalSetup: ['./test/setup/global.ts'],
    projects: [
      {
        // A worker runs file after file with the modules it has loaded (the server, the OIDC provider,
        // the simulator): loading them afresh for every file cost ~4 minutes of CPU a run. Files keep
        // nothing global between them: each makes its own databases, servers and sandboxes, and puts
        // back any environment variable it sets.
        // Before each file: the simulator's key pool starts again (see test/setup/per-file.ts).
        test: {
          ...common,
          name: 'shared',
          include: ALL,
          exclude: PCSC,
          isolate: false,
          setupFiles: ['./test/setup/per-file.ts'],
        },
      },
      { test: { ...common, name: 'pcsc', include: PCSC, isolate: true } },
    ],
  },
});
