// `npm start` as written in the web issue: the sandbox stack prints `NAME URL` for platform, admin,
// wallet, bank, mvno, municipal (and the agent), every service answers, and Ctrl-C stops it cleanly.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { expect, it } from 'vitest';

it('npm start brings the sandbox up and Ctrl-C stops it', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'kakunin-start-'));
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
    env: { ...process.env, KAKUNIN_DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  try {
    const lines: string[] = [];
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: child.stdout }).on('line', (line) => {
        lines.push(line);
        if (lines.length === 7) resolve();
      });
      child.once('exit', (code) => reject(new Error(`npm start exited with ${code}: ${stderr}`)));
    });
    const services = new Map(lines.map((l) => l.split(' ') as [string, string]));
    expect([...services.keys()]).toEqual(['platform', 'admin', 'wallet', 'bank', 'mvno', 'municipal', 'agent']);
    for (const [name, url] of services) {
      expect(url, name).toMatch(/^http:\/\/127\.0\.0\.1:\d+/);
      const res = await fetch(name === 'agent' ? `${url}/v1/hello` : url, {
        redirect: 'manual',
        headers: name === 'agent' ? { origin: services.get('platform')! } : {},
      });
      expect(res.status, name).toBeLessThan(400);
    }
    const discovery = (await (await fetch(`${services.get('platform')}/.well-known/openid-configuration`)).json()) as {
      verified_claims_supported: boolean;
    };
    expect(discovery.verified_claims_supported).toBe(true);
  } finally {
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) =>
      child.exitCode !== null ? r(child.exitCode) : child.once('exit', (c) => r(c)),
    );
    rmSync(dataDir, { recursive: true, force: true });
    expect(code).toBe(0);
  }
}, 120_000);
