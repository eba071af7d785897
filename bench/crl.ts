// CRLs at national scale: load + verify signature + index, peak RSS and lookup time, against
// `openssl crl -noout -CAfile` on the same file in the same run.
import 'reflect-metadata';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimCa, buildSyntheticCrl, crlIssuerOf } from '@kakunin/sim';
import { printTable } from './table.js';

const YEAR = 365.25 * 86_400_000;

export async function benchCrl(sizes: readonly number[]): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kakunin-bench-crl-'));
  try {
    const now = Date.now();
    const ca = await SimCa.create([
      {
        id: 'bench-signca01',
        kind: 'sign',
        medium: 'card',
        generation: 1,
        notBefore: new Date(now - YEAR),
        notAfter: new Date(now + 9 * YEAR),
      },
    ]);
    const root = ca.root('bench-signca01');
    writeFileSync(join(dir, 'root.pem'), root.pem);
    const rows: string[][] = [];
    for (const n of sizes) {
      const file = join(dir, `${n}.crl`);
      const t = performance.now();
      const der = buildSyntheticCrl(crlIssuerOf(root), n);
      const buildS = (performance.now() - t) / 1000;
      writeFileSync(file, der);
      const o0 = performance.now();
      const r = spawnSync(
        'openssl',
        ['crl', '-inform', 'DER', '-in', file, '-noout', '-CAfile', join(dir, 'root.pem')],
        { encoding: 'utf8' },
      );
      const opensslMs = performance.now() - o0;
      const out = `${r.stdout}${r.stderr}`;
      if (!/verify OK/.test(out)) throw new Error(`openssl did not verify the CRL: ${out}`);
      const ours = JSON.parse(
        execFileSync(
          process.execPath,
          [
            '--max-old-space-size=4096',
            '--import',
            'tsx',
            join(import.meta.dirname, 'crl-load.ts'),
            file,
            join(dir, 'root.pem'),
            String(n),
          ],
          { encoding: 'utf8' },
        ),
      ) as { entries: number; loadMs: number; lookupNs: number; peakRssMb: number; indexMb: number };
      if (ours.entries !== n) throw new Error(`indexed ${ours.entries} of ${n}`);
      rows.push([
        n.toLocaleString('en'),
        `${(der.length / 2 ** 20).toFixed(0)} MB`,
        `${buildS.toFixed(1)} s`,
        `${(opensslMs / 1000).toFixed(2)} s`,
        `${(ours.loadMs / 1000).toFixed(2)} s`,
        `${(opensslMs / ours.loadMs).toFixed(1)}×`,
        `${ours.lookupNs.toFixed(0)} ns`,
        `${ours.peakRssMb.toFixed(0)} MB`,
        `${ours.indexMb.toFixed(0)} MB`,
      ]);
      rmSync(file);
    }
    printTable(
      'CRL: load + verify signature + index (kakunin, in a child process) vs openssl crl -noout -CAfile',
      ['revoked', 'DER', 'built in', 'openssl', 'kakunin', 'openssl ÷ kakunin', 'lookup', 'peak RSS', 'index'],
      rows,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
