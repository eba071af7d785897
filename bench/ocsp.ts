// OCSP round trip against the simulator responder on 127.0.0.1: requests/s and latency percentiles,
// with a fresh nonce per request (every answer signed) and without (cached answers). Bounded in
// count and time; the server runs in its own process so client and server do not share a loop.
import 'reflect-metadata';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildOcspRequest, parseX509, validateOcspResponse } from '@kakunin/jpki';
import { initSandbox } from '@kakunin/sim';
import { printTable } from './table.js';

const BIN = fileURLToPath(new URL('../packages/cli/bin/kakunin.js', import.meta.url));

export async function benchOcsp(seconds: number, concurrency = 16): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kakunin-bench-ocsp-'));
  const sb = await initSandbox({ dir: join(dir, 'sim') });
  const server = spawn(process.execPath, [BIN, 'sim', 'serve', '--dir', join(dir, 'sim'), '--port', '0'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      server.stdout!.once('data', (d: Buffer) => resolve(d.toString().split('\n')[0]!));
      server.once('exit', () => reject(new Error('sim serve exited')));
    });
    const person = sb.people()[0]!.id;
    const rec = sb.currentCertificateRecord(person, 'auth', 'card');
    const cert = parseX509(sb.currentCertificate(person, 'auth', 'card'));
    const issuer = parseX509(sb.ca.root(rec.issuerId).der);
    const rows: string[][] = [];
    for (const nonce of [true, false]) {
      const latencies: number[] = [];
      const end = performance.now() + seconds * 1000;
      const worker = async (): Promise<void> => {
        while (performance.now() < end && latencies.length < 200_000) {
          const request = buildOcspRequest(cert, issuer, { nonce });
          const t = performance.now();
          const res = await fetch(`${url}/ocsp`, {
            method: 'POST',
            headers: { 'content-type': 'application/ocsp-request' },
            body: request.der,
          });
          const der = new Uint8Array(await res.arrayBuffer());
          latencies.push(performance.now() - t);
          if (validateOcspResponse(der, request, issuer).status !== 'good') throw new Error('unexpected OCSP status');
        }
      };
      const started = performance.now();
      await Promise.all(Array.from({ length: concurrency }, worker));
      const elapsed = (performance.now() - started) / 1000;
      latencies.sort((a, b) => a - b);
      const pct = (p: number): string =>
        `${latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))]!.toFixed(1)} ms`;
      rows.push([
        nonce ? 'fresh nonce (signed per request)' : 'no nonce (cached signature)',
        (latencies.length / elapsed).toFixed(0),
        pct(0.5),
        pct(0.99),
        String(latencies.length),
      ]);
    }
    printTable(
      `OCSP round trip over HTTP on 127.0.0.1 (${concurrency} concurrent clients, validated responses)`,
      ['requests', 'per second', 'p50', 'p99', 'count'],
      rows,
    );
  } finally {
    server.kill('SIGINT');
    rmSync(dir, { recursive: true, force: true });
  }
}
