// `kakunin usage --month YYYY-MM [--json]`: the J-LIS revocation lookups the platform made in a month
// (OCSP requests, CRL downloads, linkage calls) by RP and purpose — what J-LIS bills and what an
// operator re-bills. Reads the database like `kakunin records`, or asks the running server that holds it.

import type { Command } from 'commander';
import { type RunningServer, usageReport, type UsageReport } from '@kakunin/server/data';
import { printJson } from '../output.js';
import { DATABASE_URL_OPTION, DATA_DIR_OPTION, adminApi } from '../platform-data.js';
import { withDatabase, type DataOptions } from './records.js';

function printReport(r: UsageReport): void {
  const out = process.stdout;
  if (r.rows.length === 0) return void out.write(`no J-LIS lookups recorded in ${r.month}\n`);
  out.write(
    `J-LIS lookups in ${r.month} (requests sent; reused: answered from the OCSP answer-reuse window instead)\n\n`,
  );
  const lines = r.byRp.map((b) => [
    b.rpClientId ?? '(platform)',
    b.purpose,
    b.lookup,
    String(b.requests),
    String(b.reused),
  ]);
  const head = ['rp', 'purpose', 'lookup', 'requests', 'reused'];
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const row = (cells: string[]): string =>
    cells.map((c, i) => (i >= 3 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
  out.write(`${row(head)}\n`);
  for (const l of lines) out.write(`${row(l)}\n`);
  out.write(
    `\ntotal: ${r.totals.map((t) => `${t.lookup} ${t.requests} requests${t.reused ? ` (+${t.reused} reused)` : ''}`).join(', ')}\n`,
  );
}

export function registerUsageCommand(program: Command): void {
  program
    .command('usage')
    .description('J-LIS revocation lookups of a month (OCSP requests, CRL downloads, linkage calls) by RP and purpose')
    .requiredOption('--month <YYYY-MM>', 'the month (UTC days)')
    .option(...DATA_DIR_OPTION)
    .option(...DATABASE_URL_OPTION)
    .option('--json', 'print the report object (with the rows per day and ceremony kind)')
    .action(async (o: DataOptions & { month: string; json?: boolean }) => {
      const report = await withDatabase(
        o,
        (db) => usageReport(db, o.month),
        (server: RunningServer) => adminApi<UsageReport>(server, 'GET', `/usage?month=${encodeURIComponent(o.month)}`),
      );
      if (o.json) return printJson(report);
      printReport(report);
    });
}
