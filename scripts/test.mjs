// `npm test` after the machine check: the static checks (type check, lint, format check) and the test
// files at the same time. The test run leaves part of the two cores idle (its files wait on children,
// PostgreSQL, browsers and timers), which the static checks fill: run one after the other they added
// half a minute. Their output is held and printed as one block when they end; a failed check fails
// `npm test` as a failed test does. Arguments go to vitest.
import { spawn } from 'node:child_process';

const STATIC_CHECKS = ['typecheck', 'lint', 'format:check'];

/** Runs `npm run NAME` with its output held; resolves with the exit code and the output. */
function held(name) {
  return new Promise((resolve) => {
    const child = spawn('npm', ['run', '--silent', name], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', (e) => resolve({ code: 1, output: String(e) }));
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

async function staticChecks() {
  const failed = [];
  for (const name of STATIC_CHECKS) {
    const started = Date.now();
    const { code, output } = await held(name);
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    process.stdout.write(`\n[npm test] ${name}: ${code === 0 ? 'ok' : `FAILED (exit ${code})`} in ${seconds} s\n`);
    if (code !== 0) {
      process.stdout.write(output.endsWith('\n') ? output : `${output}\n`);
      failed.push(name);
    }
  }
  return failed;
}

const tests = new Promise((resolve) => {
  const child = spawn(process.execPath, ['scripts/test-unit.mjs', ...process.argv.slice(2)], { stdio: 'inherit' });
  child.on('close', (code) => resolve(code ?? 1));
});
const [failedChecks, testsCode] = await Promise.all([staticChecks(), tests]);
if (failedChecks.length > 0) {
  process.stdout.write(`\nnpm test: FAILED static check(s): ${failedChecks.join(', ')} (output above)\n`);
  process.exit(1);
}
process.exit(testsCode);
