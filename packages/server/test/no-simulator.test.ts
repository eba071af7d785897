// A production process never loads the simulator: @kakunin/server takes the simulated J-LIS from
// its caller (StartOptions.simulatedJlis) and does not import @kakunin/sim, statically or not (the
// lint forbids it in src/; this checks the modules a real start loads).
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadConfig, MasterKey, startServer, ConfigError } from '../src/index.js';

const SCRIPT = fileURLToPath(new URL('./fixtures/modules-loaded.ts', import.meta.url));
const SIM_SOURCES = fileURLToPath(new URL('../../sim/', import.meta.url));

const files = (urls: string[]): string[] => urls.filter((u) => u.startsWith('file:')).map((u) => fileURLToPath(u));
const fromSim = (paths: string[]): string[] => paths.filter((f) => f.startsWith(SIM_SOURCES));

describe('the simulator stays out of production', () => {
  it('a production start loads the server and none of @kakunin/sim (which the same check sees when imported)', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', SCRIPT], { encoding: 'utf8' });
    const loaded = JSON.parse(stdout) as { start: string[]; simImport: string[] };
    const start = files(loaded.start);
    expect(start.some((f) => f.endsWith('/packages/server/src/app.ts'))).toBe(true);
    expect(fromSim(start)).toEqual([]);
    expect(fromSim(files(loaded.simImport))).toContain(`${SIM_SOURCES}src/index.ts`);
  }, 120_000);

  it('sandbox mode without the simulated J-LIS refuses to start, before opening anything', async () => {
    const config = loadConfig(
      { mode: 'sandbox', dataDir: '/nonexistent/kakunin', masterKey: MasterKey.generate().export() },
      {},
    );
    await expect(startServer(config)).rejects.toThrow(ConfigError);
    await expect(startServer(config)).rejects.toThrow(/simulated J-LIS/);
  });

  it('@kakunin/sim is no dependency of the server (a devDependency for its tests)', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    expect(pkg.dependencies['@kakunin/sim']).toBeUndefined();
    expect(pkg.devDependencies['@kakunin/sim']).toBeDefined();
  });
});
