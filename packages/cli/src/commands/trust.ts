// `kakunin trust list`: every trust anchor the verifier would use — the embedded J-LIS roots, the
// pinned roots of the server configuration, and sandbox roots from --trust DIR — with its pin.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { AnchorSource, TrustAnchor } from '@kakunin/jpki';
import { ConfigError, withConfiguredAnchors } from '@kakunin/server/data';
import { CliError, EXIT, parseDateOption, printJson } from '../output.js';
import { trustStoreWith } from '../trust-files.js';

/** Where an anchor came from, in the words of the command line. */
const SOURCE: Record<AnchorSource, string> = { embedded: 'embedded', pinned: 'config', added: 'trust-dir' };

export interface AnchorRow {
  label: string;
  kind: string;
  medium: string;
  environment: string;
  source: string;
  serial: string;
  notBefore: string;
  notAfter: string;
  sha256: string;
  expired: boolean;
}

function row(a: TrustAnchor, at: Date): AnchorRow {
  const x = a.certificate.x509;
  return {
    label: a.label,
    kind: a.kind,
    medium: a.medium ?? 'unknown',
    environment: a.environment,
    source: SOURCE[a.source],
    serial: x.serial,
    notBefore: x.notBefore.toISOString(),
    notAfter: x.notAfter.toISOString(),
    sha256: x.fingerprintSha256,
    // An expired root still answers for dates inside its validity (`cert verify --at`).
    expired: at > x.notAfter,
  };
}

/** The `trustAnchors` of a server configuration file (KAKUNIN_CONFIG format), added with the server's own checks. */
function configuredAnchors(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new CliError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    return (JSON.parse(text) as { trustAnchors?: unknown }).trustAnchors;
  } catch (e) {
    throw new CliError(`${file} is not JSON: ${(e as Error).message}`);
  }
}

function printTable(rows: AnchorRow[], at: Date): void {
  const day = (iso: string): string => iso.slice(0, 10);
  const header = [
    'label',
    'kind',
    'medium',
    'environment',
    'source',
    'serial',
    'valid from',
    'valid to',
    'state',
    'SHA-256',
  ];
  const cells = rows.map((r) => [
    r.label,
    r.kind,
    r.medium,
    r.environment,
    r.source,
    r.serial,
    day(r.notBefore),
    day(r.notAfter),
    r.expired ? 'EXPIRED' : 'valid',
    r.sha256,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]): string => c.map((v, i) => (i === c.length - 1 ? v : v.padEnd(widths[i]!))).join('  ');
  process.stdout.write(`${[line(header), ...cells.map(line)].join('\n')}\n`);
  process.stdout.write(
    `${rows.length} trust anchors; expiry as of ${at.toISOString()} (an expired root still verifies certificates for dates inside its validity)\n`,
  );
}

export function registerTrustCommands(program: Command): void {
  const trust = program
    .command('trust')
    .description('trust anchors: the J-LIS roots and any configured or sandbox roots');

  trust
    .command('list')
    .description(
      'list every trust anchor: label, kind, medium, environment, source, serial, validity, SHA-256, expired',
    )
    .option('--at <date>', 'say which anchors are expired at this time (ISO 8601; default now)')
    .option('--trust <dir>', 'also list the sandbox anchors (PEM/DER files) in DIR, as `cert verify --trust` uses them')
    .option(
      '--config <file>',
      'also list the pinned `trustAnchors` of this server configuration file (default: env KAKUNIN_CONFIG)',
    )
    .option('--json', 'print a JSON array')
    .action((opts: { at?: string; trust?: string; config?: string; json?: boolean }) => {
      const at = opts.at ? parseDateOption(opts.at, '--at') : new Date();
      const store = trustStoreWith(opts.trust);
      const configFile = opts.config ?? (process.env.KAKUNIN_CONFIG || undefined);
      if (configFile) {
        try {
          withConfiguredAnchors(configuredAnchors(configFile), store);
        } catch (e) {
          if (e instanceof ConfigError) throw new CliError(`${configFile}: ${e.message}`, EXIT.failed);
          throw e;
        }
      }
      const rows = store.list().map((a) => row(a, at));
      if (opts.json) printJson(rows);
      else printTable(rows, at);
    });
}
