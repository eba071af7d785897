// One simulated J-LIS for all fault tests of a vitest run. Creating a sandbox generates dozens of RSA
// keys (seconds, tens of seconds on a busy machine); the fault tests only need *a* sandbox each, so
// the first test file of the run builds a template in the temp directory and every test copies it
// (copies, so that no test sees another's changes). The template is keyed by the vitest process
// (the parent of the test workers); templates of runs that have ended are swept away.

import {
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initSandbox, startSimServices } from '@kakunin/sim';

const PREFIX = 'kakunin-faults-sim-';
const MAX_AGE_MS = 6 * 3_600_000;
/** How long a test waits for another to finish the template; a lock older than this is stale. */
const WAIT_MS = 90_000;

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

function sweep(): void {
  for (const name of readdirSync(tmpdir())) {
    const pid = Number(name.startsWith(PREFIX) ? name.slice(PREFIX.length) : NaN);
    if (Number.isInteger(pid) && pid !== process.ppid && !alive(pid))
      rmSync(join(tmpdir(), name), { recursive: true, force: true });
  }
}

const fresh = (template: string): boolean =>
  existsSync(join(template, 'state.json')) && Date.now() - statSync(join(template, 'state.json')).mtimeMs < MAX_AGE_MS;

/** Puts a complete simulator sandbox at `target` (which must not exist yet). */
export async function copySharedSandbox(target: string): Promise<void> {
  sweep();
  const base = join(tmpdir(), `${PREFIX}${process.ppid}`);
  const template = join(base, 'sim');
  const lock = join(base, 'building');
  mkdirSync(base, { recursive: true });
  if (!fresh(template)) {
    let builder = false;
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      builder = true;
    } catch {
      // another test file is building it: wait for it below
    }
    if (builder) {
      try {
        rmSync(template, { recursive: true, force: true });
        const tmp = join(base, `sim.tmp-${process.pid}`);
        const sandbox = await initSandbox({ dir: tmp, seed: 'faults' });
        // Starting the services once issues the OCSP responder certificates (more keys) into the template.
        await (await startSimServices({ sandbox })).close();
        renameSync(tmp, template); // state.json appears complete or not at all
      } finally {
        rmSync(lock, { recursive: true, force: true });
      }
    } else {
      const until = Date.now() + WAIT_MS;
      const building = (): boolean => {
        try {
          const pid = Number(readFileSync(join(lock, 'pid'), 'utf8'));
          return (!pid || alive(pid)) && Date.now() - statSync(lock).mtimeMs < WAIT_MS;
        } catch {
          return existsSync(lock); // between mkdir and writing the pid
        }
      };
      while (!fresh(template) && building() && Date.now() < until) await new Promise((r) => setTimeout(r, 250));
      if (!fresh(template)) {
        // The builder gave up or died: build a private one.
        await initSandbox({ dir: target, seed: 'faults' });
        return;
      }
    }
  }
  cpSync(template, target, { recursive: true });
}
