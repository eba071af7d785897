// `kakunin sim …`: the simulated J-LIS sandbox (roots, people, certificates, life events).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { resetCardPins } from '@kakunin/sim/card';
import type { CertKind, Medium } from '@kakunin/jpki';
import {
  DEFAULT_BASE_URL,
  DEFAULT_SANDBOX_DIR,
  certificateStatus,
  buildSyntheticCrl,
  crlIssuerOf,
  currentCardRoot,
  initSandbox,
  isSimError,
  sandboxCrl,
  startSimServices,
  openSandbox,
  type CertificateRecord,
  type Person,
  type Sandbox,
  type SimEvent,
} from '@kakunin/sim';
import { CliError, EXIT, choice, parseDateOption, printJson, untilStopped } from '../output.js';

const MEDIA = ['card', 'android', 'iphone'] as const;
const EVENTS = ['move', 'renew', 'lose', 'rename', 'expire'] as const;

const DIR_OPTION = ['--dir <dir>', `sandbox directory (default ${DEFAULT_SANDBOX_DIR})`] as const;

/** Simulator errors are user-facing (unknown person, no sandbox): one line, exit 1. */
async function sim<T>(fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (isSimError(e)) throw new CliError(`${e.name} (${e.code}): ${e.message}`, EXIT.failed);
    throw e;
  }
}

const open = (dir: string | undefined): Promise<Sandbox> => sim(() => openSandbox(dir ?? DEFAULT_SANDBOX_DIR));

function writeOut(file: string, data: Uint8Array | string): void {
  try {
    mkdirSync(dirname(resolve(file)), { recursive: true });
    writeFileSync(file, data);
  } catch (e) {
    throw new CliError(`cannot write ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function currentRecord(
  sandbox: Sandbox,
  personId: string,
  kind: CertKind,
  medium: Medium,
): CertificateRecord | undefined {
  try {
    return sandbox.currentCertificateRecord(personId, kind, medium);
  } catch (e) {
    if (isSimError(e) && e.code === 'NO_SUCH_CERTIFICATE') return undefined;
    throw e;
  }
}

/** One person as `sim people` lists it: the name and address as the certificate carries them. */
function personJson(sandbox: Sandbox, p: Person): Record<string, unknown> {
  const sign = currentRecord(sandbox, p.id, 'sign', 'card');
  return {
    id: p.id,
    name: p.name,
    trueName: p.trueName,
    birthDate: p.birthDate,
    sex: p.sex,
    address: p.address,
    prefecture: p.prefecture,
    municipality: p.municipality,
    municipalityCode: p.municipalityCode,
    hasSignCert: sign !== undefined && certificateStatus(sign) === 'valid',
    pins: p.pins,
  };
}

function describeEvent(e: SimEvent): string {
  const lines = [`${e.id} ${e.type} of ${e.personId} at ${e.at}`];
  for (const r of e.revoked)
    lines.push(`  revoked  ${r.kind}/${r.medium} ${r.issuerId} serial ${r.serial} (${r.reason})`);
  for (const i of e.issued) lines.push(`  issued   ${i.kind}/${i.medium} ${i.issuerId} serial ${i.serial}`);
  for (const l of e.links) lines.push(`  linked   ${l.old.serial} → ${l.new.serial} (${l.new.kind}/${l.new.medium})`);
  if (e.changes?.trueAddress) lines.push(`  address  ${e.changes.trueAddress.from} → ${e.changes.trueAddress.to}`);
  if (e.changes?.trueName) lines.push(`  name     ${e.changes.trueName.from} → ${e.changes.trueName.to}`);
  return lines.join('\n');
}

export function registerSimCommands(program: Command): void {
  const cmd = program.command('sim').description('the simulated J-LIS: sandbox, people, certificates, life events');

  cmd
    .command('init')
    .description(
      'create a sandbox: simulator roots (two generations, smartphone issuers) and synthetic residents with certificates',
    )
    .option(...DIR_OPTION)
    .option(
      '--base-url <url>',
      `base URL of the simulator services written into certificates (AIA OCSP = <url>/ocsp)`,
      DEFAULT_BASE_URL,
    )
    .option('--seed <seed>', 'seed of the people registry (names, dates, addresses, PINs)')
    .option('--force', 'replace an existing sandbox')
    .option('--if-missing', 'do nothing when a sandbox already exists')
    .action(async (o: { dir?: string; baseUrl: string; seed?: string; force?: boolean; ifMissing?: boolean }) => {
      const dir = o.dir ?? DEFAULT_SANDBOX_DIR;
      if (o.ifMissing && existsSync(join(dir, 'state.json'))) {
        process.stderr.write(`sandbox already exists at ${dir}\n`);
        return;
      }
      try {
        new URL(o.baseUrl);
      } catch {
        throw new CliError(`--base-url: "${o.baseUrl}" is not a URL`);
      }
      process.stderr.write(`creating the simulator sandbox at ${dir} (generating RSA keys; a few seconds)…\n`);
      const started = Date.now();
      const sandbox = await sim(() =>
        initSandbox({
          dir,
          baseUrl: o.baseUrl,
          ...(o.seed ? { seed: o.seed } : {}),
          ...(o.force ? { force: true } : {}),
        }),
      );
      const people = sandbox.people();
      process.stdout.write(
        `sandbox ready at ${dir} in ${((Date.now() - started) / 1000).toFixed(1)} s: ${people.length} people, ` +
          `${sandbox.roots().length} roots (${sandbox
            .roots()
            .map((r) => r.id)
            .join(', ')}), base URL ${sandbox.baseUrl}\n`,
      );
    });

  cmd
    .command('people')
    .description(
      'list the sandbox residents as a JSON array (id, name, birthDate, municipalityCode, hasSignCert, pins, …)',
    )
    .option(...DIR_OPTION)
    .option('--json', 'print a JSON array (the default when standard output is not a terminal)')
    .action(async (o: { dir?: string; json?: boolean }) => {
      const sandbox = await open(o.dir);
      const people = sandbox.people().map((p) => personJson(sandbox, p));
      if (o.json || !process.stdout.isTTY) return printJson(people);
      for (const p of people) {
        process.stdout.write(
          `${p.id}  ${String(p.name).padEnd(10, '\u3000')}  ${p.birthDate}  ${p.municipalityCode}  ${p.hasSignCert ? 'sign+auth' : 'auth only'}  PIN ${(p.pins as Person['pins']).auth} / password ${(p.pins as Person['pins']).sign}\n`,
        );
      }
    });

  cmd
    .command('cert')
    .description("write a person's current certificate (DER)")
    .requiredOption('--person <id>', 'person id (see `kakunin sim people`)')
    .requiredOption('--kind <kind>', 'auth or sign')
    .option('--medium <medium>', 'card, android or iphone', 'card')
    .requiredOption('--out <file>', 'where to write the DER certificate')
    .option(...DIR_OPTION)
    .action(async (o: { person: string; kind: string; medium: string; out: string; dir?: string }) => {
      const kind = choice(o.kind, ['auth', 'sign'] as const, '--kind');
      const medium = choice(o.medium, MEDIA, '--medium');
      const sandbox = await open(o.dir);
      const record = await sim(() => sandbox.currentCertificateRecord(o.person, kind, medium));
      writeOut(o.out, await sim(() => sandbox.currentCertificate(o.person, kind, medium)));
      process.stdout.write(
        `wrote ${o.out}: ${kind}/${medium} certificate of ${o.person}, serial ${record.serial}, issued by ${record.issuerId}, status ${certificateStatus(record)}\n`,
      );
    });

  cmd
    .command('roots')
    .description('write the simulator root certificates as PEM files (for --trust and openssl -CAfile)')
    .requiredOption('--out <dir>', 'directory to write <root id>.pem files into')
    .option(...DIR_OPTION)
    .action(async (o: { out: string; dir?: string }) => {
      const sandbox = await open(o.dir);
      for (const r of sandbox.roots()) {
        const file = join(o.out, `${r.id}.pem`);
        writeOut(file, r.pem);
        process.stdout.write(
          `${file}  ${r.kind}/${r.medium} generation ${r.generation}, serial ${r.serial}, ${r.notBefore.toISOString()} → ${r.notAfter.toISOString()}\n`,
        );
      }
    });

  cmd
    .command('event')
    .description('apply a life event to a person: move, renew, lose, rename or expire')
    .requiredOption('--person <id>', 'person id')
    .argument('<event>', EVENTS.join(' | '))
    .option('--address <text>', 'move: the new address (default: a generated address in another municipality)')
    .option('--municipality-code <code>', 'move: the 5-digit code of the new municipality')
    .option('--name <name>', 'rename: the new name (default: another family name)')
    .option('--at <date>', 'when the event happens (default now)')
    .option('--media <list>', 'renew / lose / expire: media affected, comma-separated (default card)')
    .option('--json', 'print the recorded event as JSON')
    .option(...DIR_OPTION)
    .action(
      async (
        type: string,
        o: {
          person: string;
          address?: string;
          municipalityCode?: string;
          name?: string;
          at?: string;
          media?: string;
          json?: boolean;
          dir?: string;
        },
      ) => {
        const event = choice(type, EVENTS, 'event');
        if (o.municipalityCode !== undefined && !/^\d{5}$/.test(o.municipalityCode))
          throw new CliError('--municipality-code must be 5 digits');
        const sandbox = await open(o.dir);
        const applied = await sim(() =>
          sandbox.applyEvent(o.person, event, {
            ...(o.at ? { at: parseDateOption(o.at, '--at') } : {}),
            ...(o.address ? { address: o.address } : {}),
            ...(o.municipalityCode ? { municipalityCode: o.municipalityCode } : {}),
            ...(o.name ? { name: o.name } : {}),
            ...(o.media ? { media: o.media.split(',').map((m) => choice(m.trim(), MEDIA, '--media')) } : {}),
          }),
        );
        if (o.json) printJson(applied);
        else process.stdout.write(`${describeEvent(applied)}\n`);
      },
    );

  const card = cmd.command('card').description("a resident's virtual My Number Card");
  card
    .command('reset-pin')
    .description(
      "the sandbox's municipal counter: unblock a virtual card's PINs and restore the initial ones (`kakunin sim people` lists them)",
    )
    .requiredOption('--person <id>', 'person id')
    .option('--media <medium>', `${MEDIA.join(' | ')} (default card)`, 'card')
    .option('--json', 'print the result as JSON')
    .option(...DIR_OPTION)
    .action(async (o: { person: string; media: string; json?: boolean; dir?: string }) => {
      const medium = choice(o.media, MEDIA, '--media');
      const sandbox = await open(o.dir);
      const reset = await sim(() => resetCardPins(sandbox, o.person, medium));
      if (o.json) return printJson(reset);
      const before = Object.entries(reset.before).map(
        ([pin, n]) => `${pin} ${n} ${n === 1 ? 'try' : 'tries'} left${n === 0 ? ' (blocked)' : ''}`,
      );
      process.stdout.write(
        `${o.person}'s ${medium} PINs are reset to the initial ones${before.length ? ` (were: ${before.join(', ')})` : ''}; \`kakunin sim people\` lists them\n`,
      );
    });

  cmd
    .command('crl')
    .description('write the full CRL (DER) of a simulator root, or a synthetic CRL of N entries for benchmarks')
    .requiredOption('--kind <kind>', 'auth or sign (the newest card root of that kind)')
    .requiredOption('--out <file>', 'where to write the DER CRL')
    .option('--issuer <id>', 'another root (see `kakunin sim roots`)')
    .option('--revoked <n>', 'a synthetic CRL of N entries signed by the same CA (serials from syntheticSerial(i))')
    .option(...DIR_OPTION)
    .action(async (o: { kind: string; out: string; issuer?: string; revoked?: string; dir?: string }) => {
      const kind = choice(o.kind, ['auth', 'sign'] as const, '--kind');
      const sandbox = await open(o.dir);
      const issuerId = o.issuer ?? currentCardRoot(sandbox, kind);
      const root = await sim(() => sandbox.ca.root(issuerId));
      if (root.kind !== kind) throw new CliError(`--issuer ${issuerId} is a ${root.kind} root, not ${kind}`);
      let der: Buffer;
      if (o.revoked !== undefined) {
        const n = Number(o.revoked);
        if (!Number.isInteger(n) || n < 0 || n > 2 ** 30)
          throw new CliError('--revoked must be a whole number from 0 to 1073741824');
        const started = Date.now();
        der = buildSyntheticCrl(crlIssuerOf(root), n, {
          onProgress: (done) =>
            process.stderr.write(`  ${done.toLocaleString('en')} of ${n.toLocaleString('en')} entries\n`),
        });
        process.stderr.write(`built in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
      } else {
        der = sandboxCrl(sandbox, issuerId);
      }
      writeOut(o.out, der);
      process.stdout.write(`wrote ${o.out}: CRL of ${issuerId}, ${der.length.toLocaleString('en')} bytes\n`);
    });

  cmd
    .command('serve')
    .description('serve the simulator OCSP responder (/ocsp), CRLs (/crl/…) and linkage API (/linkage/…) on 127.0.0.1')
    .option('--port <n>', "port (default: the sandbox's base URL port, 8900 unless set at init; 0 picks a free one)")
    .option(...DIR_OPTION)
    .action(async (o: { port?: string; dir?: string }) => {
      const sandbox = await open(o.dir);
      const port = o.port !== undefined ? Number(o.port) : Number(new URL(sandbox.baseUrl).port || 80);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new CliError('--port must be a port number (0 picks a free one)');
      let services: Awaited<ReturnType<typeof startSimServices>>;
      try {
        services = await startSimServices({
          sandbox,
          port,
          onRequest: (line) => process.stderr.write(`${new Date().toISOString()} ${line}\n`),
        });
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw new CliError(
          code === 'EADDRINUSE'
            ? `port ${port} is already in use (another "kakunin sim serve"?); pass --port`
            : `cannot listen on 127.0.0.1:${port}: ${(e as Error).message}`,
          EXIT.failed,
        );
      }
      process.stdout.write(`${services.url}\n`);
      process.stderr.write(
        `simulator services for ${sandbox.dir}: OCSP ${services.url}/ocsp, CRLs ${services.url}/crl/index.json, linkage ${services.url}/linkage/latest?serial=… (Ctrl-C stops)\n`,
      );
      await untilStopped(
        () => services.close(),
        (line) => void process.stderr.write(`kakunin: ${line}\n`),
      );
    });
}
