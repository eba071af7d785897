// `kakunin records verify|check-proof|export|purge|end-relationship`: the verification records log,
// straight in the platform database (PostgreSQL, or the embedded database of --data-dir when no
// server holds it); `check-proof` works offline, on a proof bundle an RP saved.

import {
  createWriteStream,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  type WriteStream,
} from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import type { Database, RunningServer } from '@kakunin/server/data';
import { pgliteDir } from '@kakunin/server/paths';
import type { LogProblem, LogVerification, PurgeResult, RecordOutcome, RelationshipEnd } from '@kakunin/server/records';
import { checkConsistency, checkInclusionBundle, openCheckpoint, parseVerifierKey } from '@kakunin/tlog';
import { DATABASE_URL_OPTION, DATA_DIR_OPTION, type DataOptions as BaseDataOptions } from '../data-options.js';
import { CliError, EXIT, choice, parseDateOption, printJson } from '../output.js';

// The platform's records store and database access, loaded by the commands that use a database:
// `check-proof` works offline and starts without the platform's modules (its database engines).
const recordsStore = () => import('@kakunin/server/records');
const platformData = () => import('../platform-data.js');

/** With DATA_DIR_OPTION's default, the data dir is always set. */
export type DataOptions = BaseDataOptions & { dataDir: string };

/**
 * Runs one command on the platform database; while a server holds the embedded database, `viaApi`
 * does the same through that server's admin API.
 */
export async function withDatabase<T>(
  o: DataOptions,
  fn: (db: Database) => Promise<T>,
  viaApi: (server: RunningServer) => Promise<T>,
): Promise<T> {
  const databaseUrl = o.databaseUrl || process.env.DATABASE_URL || undefined;
  // Never create an empty embedded database by mistake (a wrong --data-dir would "verify" 0 records).
  if (!databaseUrl && !existsSync(pgliteDir({ dataDir: o.dataDir }))) {
    throw new CliError(
      `no Kakunin database in ${o.dataDir} (expected ${pgliteDir({ dataDir: o.dataDir })}): pass the server's --data-dir, or --database-url`,
      EXIT.failed,
    );
  }
  const { withPlatformData } = await platformData();
  try {
    return await withPlatformData({ dataDir: o.dataDir, ...(databaseUrl ? { databaseUrl } : {}) }, fn, viaApi);
  } catch (e) {
    if (e instanceof RangeError) throw new CliError(e.message, EXIT.usage);
    throw e;
  }
}

/** Progress on standard error, at most once a second, so long runs show life and short ones stay quiet. */
function progress(what: string): { tick: (n: number) => void; done: () => void } {
  const started = Date.now();
  let last = started;
  let shown = false;
  return {
    tick: (n) => {
      const now = Date.now();
      if (now - last < 1000) return;
      last = now;
      shown = true;
      process.stderr.write(`kakunin: ${n.toLocaleString('en')} ${what}…\n`);
    },
    done: () => {
      if (shown) process.stderr.write(`kakunin: done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    },
  };
}

/** A writer with back-pressure; to a file it writes FILE.partial and renames it when complete. */
function sink(out: string | undefined): {
  write: (chunk: string) => Promise<void>;
  finish: () => Promise<void>;
  abort: () => void;
} {
  const partial = out ? `${out}.partial` : undefined;
  const fail = (e: unknown): CliError =>
    new CliError(
      `cannot write ${out ?? 'standard output'}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      EXIT.failed,
    );
  let stream: WriteStream | NodeJS.WriteStream;
  try {
    // Opened synchronously so that a bad path fails before any database work.
    if (partial) mkdirSync(dirname(resolve(partial)), { recursive: true });
    stream = partial ? createWriteStream('', { fd: openSync(partial, 'w') }) : process.stdout;
  } catch (e) {
    throw fail(e);
  }
  let failed: unknown;
  stream.on('error', (e: Error) => (failed = e));
  const settled = (event: string): Promise<void> =>
    new Promise((ok, ko) => {
      if (failed) return ko(fail(failed));
      stream.once(event, () => ok());
      stream.once('error', (e) => ko(fail(e)));
    });
  return {
    write: async (chunk) => {
      if (failed) throw fail(failed);
      if (!stream.write(chunk)) await settled('drain');
    },
    finish: async () => {
      if (!partial || !out) return;
      const done = settled('finish');
      stream.end();
      await done;
      renameSync(partial, out);
    },
    abort: () => {
      if (!partial) return;
      (stream as WriteStream).destroy();
      rmSync(partial, { force: true });
    },
  };
}

/** A file's text, or a clear error naming the option. */
function readText(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new CliError(
      `cannot read ${what} ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      EXIT.failed,
    );
  }
}

/** --key: a verifier key (`<origin>+<key id>+<key>`) or a file holding one (as GET /records/v1/key answers). */
function verifierKeyOption(value: string): string {
  const text = existsSync(value) ? readText(value, '--key file').trim() : value.trim();
  try {
    parseVerifierKey(text);
  } catch (e) {
    throw new CliError(
      `--key is not a log verifier key (<origin>+<key id>+<base64 key>, as GET /records/v1/key answers): ${(e as Error).message}`,
      EXIT.usage,
    );
  }
  return text;
}

/**
 * Through a running server the log is verified with the server's own key: a key given with --key
 * (an auditor's copy, fetched elsewhere) must still have signed the checkpoint the server verified.
 */
function checkedWithKey(result: LogVerification, key: string): LogVerification {
  if (!result.checkpoint) return result;
  try {
    openCheckpoint(result.checkpoint, key);
    return result;
  } catch (e) {
    const size = Number(/^[^\n]*\n(\d+)\n/.exec(result.checkpoint)?.[1] ?? result.treeSize);
    const problem: LogProblem = {
      code: 'signature',
      leafIndex: size,
      reason: `the latest checkpoint, of size ${size}, does not verify with the log's key: ${(e as Error).message}`,
    };
    return { ...result, ok: false, problems: [...result.problems, problem] };
  }
}

/** Where a problem is: a leaf, or (checkpoint, signature, consistency) the tree size it concerns. */
const problemPlace = (p: LogProblem): string =>
  p.leafIndex === undefined
    ? 'log'
    : ['checkpoint', 'signature', 'consistency'].includes(p.code)
      ? `tree size ${p.leafIndex}`
      : `leaf ${p.leafIndex}`;

const counts = (byFramework: Record<string, number>): string =>
  Object.keys(byFramework).length
    ? ` (${Object.entries(byFramework)
        .map(([f, n]) => `${f} ${n}`)
        .join(', ')})`
    : '';

export function registerRecordsCommands(program: Command): void {
  const cmd = program
    .command('records')
    .description(
      'verification records (確認記録): verify the log, check a saved proof, export, retention purge, end relationships',
    );

  cmd
    .command('verify')
    .description(
      'recompute the records log from the rows and check it against its stored nodes and signed checkpoints; exit 1 and one line per problem when a record, an index, a node or the order of records was changed',
    )
    .option(...DATA_DIR_OPTION)
    .option(...DATABASE_URL_OPTION)
    .option('--since <file>', 'a signed checkpoint saved earlier (e.g. by --save): the log must still extend it')
    .option(
      '--save <file>',
      'write the latest signed checkpoint to FILE when the log verifies (keep it elsewhere; pass it to --since next time)',
    )
    .option(
      '--key <key>',
      "the log's verifier key, or a file holding it (default: the platform's own, which needs its master key)",
    )
    .option('--json', 'print the result object')
    .action(async (o: DataOptions & { since?: string; save?: string; key?: string; json?: boolean }) => {
      const since = o.since === undefined ? undefined : readText(o.since, '--since checkpoint');
      const givenKey = o.key === undefined ? undefined : verifierKeyOption(o.key);
      const p = progress('records checked');
      const [{ storedLogVerifierKey, verifyLog }, { adminApi, masterKeyOf }] = await Promise.all([
        recordsStore(),
        platformData(),
      ]);
      const result = await withDatabase(
        o,
        async (db) => {
          const key = givenKey ?? (await storedLogVerifierKey(db, masterKeyOf(o)));
          if (!key)
            throw new CliError(
              'this database has no records log key yet (no server has started on it): nothing to verify',
              EXIT.failed,
            );
          return verifyLog(db, { key, onProgress: p.tick, ...(since ? { since } : {}) });
        },
        async (server) => {
          const r = await adminApi<LogVerification>(server, 'POST', '/records/verify', since ? { since } : {});
          return givenKey ? checkedWithKey(r, givenKey) : r;
        },
      );
      p.done();
      if (!result.ok) process.exitCode = EXIT.failed;
      if (result.ok && o.save && result.checkpoint) {
        const out = sink(o.save);
        await out.write(result.checkpoint);
        await out.finish();
      }
      if (o.json) return printJson(result);
      if (result.ok) {
        const pending = result.pending
          ? `; ${result.pending} newer record(s) not in a checkpoint yet (checked too)`
          : '';
        process.stdout
          .write(`OK: ${result.checked} records, log intact: tree size ${result.treeSize}, root ${result.root} (${result.purged} purged)${since ? ', extends the earlier checkpoint' : ''}${pending}
`);
        if (o.save)
          process.stderr.write(`kakunin: saved the latest checkpoint to ${o.save}
`);
        return;
      }
      for (const problem of result.problems)
        process.stdout
          .write(`${problemPlace(problem)}${problem.recordId ? ` ${problem.recordId}` : ''}: ${problem.reason} (${problem.code})
`);
      process.stderr.write(`kakunin: FAILED: ${result.checked} records checked, ${result.problems.length} problem(s)
`);
    });

  cmd
    .command('check-proof')
    .description(
      "check offline a proof saved from GET /records/v1/proof/inclusion (the record's entry is in the signed tree) or /proof/consistency (the newer tree extends the older), with the log's verifier key",
    )
    .argument('<file>', 'the JSON the proof endpoint answered')
    .requiredOption('--key <key>', "the log's verifier key, or a file holding it (GET /records/v1/key)")
    .option(
      '--checkpoint <file>',
      'check an inclusion proof against this signed checkpoint instead of the one in the file (same tree size)',
    )
    .option('--origin <origin>', "the log's origin the checkpoint must name (default: the key's name)")
    .option('--json', 'print the result object')
    .action((file: string, o: { key: string; checkpoint?: string; origin?: string; json?: boolean }) => {
      const key = verifierKeyOption(o.key);
      const origin = o.origin ?? parseVerifierKey(key).name;
      let bundle: Record<string, unknown>;
      try {
        bundle = JSON.parse(readText(file, 'proof')) as Record<string, unknown>;
        if (typeof bundle !== 'object' || bundle === null) throw new Error('not an object');
      } catch (e) {
        throw new CliError(
          `${file} is not a proof (JSON from /records/v1/proof/…): ${(e as Error).message}`,
          EXIT.failed,
        );
      }
      try {
        if ('first_checkpoint' in bundle) {
          const r = checkConsistency({
            older: String(bundle.first_checkpoint),
            newer: String(bundle.second_checkpoint),
            proof: bundle.proof as string[],
            key,
            origin,
          });
          if (o.json)
            return printJson({
              ok: true,
              kind: 'consistency',
              first: r.older.size,
              second: r.newer.size,
              origin: r.newer.origin,
            });
          process.stdout.write(
            `OK: the tree of size ${r.newer.size} extends the tree of size ${r.older.size} (both checkpoints signed by ${r.newer.origin})\n`,
          );
          return;
        }
        const checkpoint = o.checkpoint ? readText(o.checkpoint, '--checkpoint') : String(bundle.checkpoint ?? '');
        const r = checkInclusionBundle(
          {
            entry: String(bundle.entry ?? ''),
            leafIndex: Number(bundle.leaf_index),
            treeSize: Number(bundle.tree_size),
            proof: bundle.proof as string[],
            checkpoint,
          },
          key,
          { origin },
        );
        const entry = JSON.parse(String(bundle.entry)) as unknown[];
        const recordId =
          typeof entry[1] === 'string' && String(entry[1]).startsWith('rec_')
            ? String(entry[1])
            : typeof entry[2] === 'string'
              ? String(entry[2])
              : '?';
        if (o.json)
          return printJson({
            ok: true,
            kind: 'inclusion',
            recordId,
            leafIndex: Number(bundle.leaf_index),
            treeSize: r.checkpoint.size,
            origin: r.checkpoint.origin,
            leafHash: r.leafHash.toString('hex'),
          });
        process.stdout.write(
          `OK: record ${recordId} is leaf ${Number(bundle.leaf_index)} of the tree of size ${r.checkpoint.size} signed by ${r.checkpoint.origin}\n`,
        );
      } catch (e) {
        if (e instanceof CliError) throw e;
        const code = (e as { code?: string }).code;
        throw new CliError(`the proof does not hold: ${(e as Error).message}${code ? ` (${code})` : ''}`, EXIT.failed);
      }
    });

  cmd
    .command('export')
    .description('write records as CSV (one flattened row each, formulas neutralised) or as one JSON array')
    .option(...DATA_DIR_OPTION)
    .option(...DATABASE_URL_OPTION)
    .option('--format <format>', 'csv or json', 'csv')
    .option('--out <file>', 'write to a file (default standard output)')
    .option('--rp <clientId>', 'only this relying party')
    .option('--from <date>', 'created at or after DATE (ISO 8601)')
    .option('--to <date>', 'created before DATE (exclusive)')
    .option('--outcome <outcome>', 'verified, rejected or note')
    .option('--bom', 'CSV: start with a UTF-8 byte order mark (for Excel)')
    .action(
      async (
        o: DataOptions & {
          format: string;
          out?: string;
          rp?: string;
          from?: string;
          to?: string;
          outcome?: string;
          bom?: boolean;
        },
      ) => {
        const format = choice(o.format, ['csv', 'json'] as const, '--format');
        const outcome =
          o.outcome === undefined
            ? undefined
            : choice(
                o.outcome,
                ['verified', 'rejected', 'note'] as const satisfies readonly RecordOutcome[],
                '--outcome',
              );
        const from = o.from === undefined ? undefined : parseDateOption(o.from, '--from');
        const to = o.to === undefined ? undefined : parseDateOption(o.to, '--to');
        const p = progress('records exported');
        const [{ exportRecords }, { serverFetch }] = await Promise.all([recordsStore(), platformData()]);
        const filters = {
          ...(o.rp !== undefined ? { rpClientId: o.rp } : {}),
          ...(from ? { from } : {}),
          ...(to ? { to } : {}),
          ...(outcome ? { outcome } : {}),
          ...(o.bom ? { bom: true } : {}),
        };
        const toSink = async (
          run: (write: (chunk: string) => Promise<void>) => Promise<number>,
        ): Promise<{ exported: number }> => {
          const out = sink(o.out);
          try {
            const exported = await run(out.write);
            await out.finish();
            return { exported };
          } catch (e) {
            out.abort();
            throw e;
          }
        };
        const { exported } = await withDatabase(
          o,
          (db) =>
            toSink(
              async (write) => (await exportRecords(db, { format, ...filters, onProgress: p.tick }, write)).exported,
            ),
          (server) =>
            toSink(async (write) => {
              const q = new URLSearchParams({
                format,
                ...(o.rp ? { rp: o.rp } : {}),
                ...(from ? { from: from.toISOString() } : {}),
                ...(to ? { to: to.toISOString() } : {}),
                ...(outcome ? { outcome } : {}),
                ...(o.bom ? { bom: 'true' } : {}),
              });
              const res = await serverFetch(server, `/records/export?${q}`);
              if (!res.ok || !res.body)
                throw new CliError(`the server refused the export: HTTP ${res.status}`, EXIT.failed);
              const decoder = new TextDecoder();
              let rows = 0;
              for await (const chunk of res.body) {
                const text = decoder.decode(chunk as Uint8Array, { stream: true });
                rows += text.split('\n').length - 1;
                await write(text);
              }
              return format === 'csv' ? Math.max(0, rows - 1) : Math.max(0, rows - 2);
            }),
        );
        p.done();
        if (o.out) process.stderr.write(`kakunin: wrote ${exported} records to ${o.out}\n`);
      },
    );

  cmd
    .command('purge')
    .description(
      'blank the payload of records past their retention (犯収法 7 years, 携帯法 3 years, others 1 year after the relationship ends)',
    )
    .option(...DATA_DIR_OPTION)
    .option(...DATABASE_URL_OPTION)
    .option('--dry-run', 'count what would be purged; change nothing')
    .option('--now <date>', 'evaluate retention at DATE (a future date only with --dry-run)')
    .option('--json', 'print the result object')
    .action(async (o: DataOptions & { dryRun?: boolean; now?: string; json?: boolean }) => {
      const now = o.now === undefined ? new Date() : parseDateOption(o.now, '--now');
      if (!o.dryRun && now.getTime() > Date.now() + 60_000)
        throw new CliError('--now may be in the future only with --dry-run (a purge cannot be undone)');
      const p = progress('records purged');
      const [{ purgeExpired }, { adminApi }] = await Promise.all([recordsStore(), platformData()]);
      const result = await withDatabase(
        o,
        (db) => purgeExpired(db, { now, dryRun: o.dryRun ?? false, onProgress: p.tick }),
        async (server) => {
          const r = await adminApi<PurgeResult & { now: string }>(server, 'POST', '/records/purge', {
            now: now.toISOString(),
            dry_run: o.dryRun ?? false,
          });
          return { ...r, now: new Date(r.now) };
        },
      );
      p.done();
      if (o.json) return printJson(result);
      process.stdout.write(
        result.dryRun
          ? `dry run: ${result.purged} records past retention at ${now.toISOString()}${counts(result.byFramework)}; nothing changed\n`
          : `purged ${result.purged} records${counts(result.byFramework)}; ${result.notes.length} retention_purge note(s) appended\n`,
      );
    });

  cmd
    .command('end-relationship')
    .description(
      'record that the business relationship between a relying party and a subject ended (retention counts from here)',
    )
    .option(...DATA_DIR_OPTION)
    .option(...DATABASE_URL_OPTION)
    .requiredOption('--rp <clientId>', 'relying party client id')
    .requiredOption('--subject <id>', 'platform subject id')
    .option('--at <date>', 'when it ended (default now)')
    .option('--json', 'print the result object')
    .action(async (o: DataOptions & { rp: string; subject: string; at?: string; json?: boolean }) => {
      const at = o.at === undefined ? new Date() : parseDateOption(o.at, '--at');
      const [{ endRelationship }, { adminApi }] = await Promise.all([recordsStore(), platformData()]);
      const result = await withDatabase(
        o,
        (db) => endRelationship(db, o.rp, o.subject, at),
        async (server) => {
          const r = await adminApi<RelationshipEnd & { retainedUntil: string }>(server, 'POST', '/relationships/end', {
            rp_client_id: o.rp,
            subject_id: o.subject,
            at: at.toISOString(),
          });
          return { ...r, retainedUntil: new Date(r.retainedUntil) };
        },
      );
      if (o.json) return printJson(result);
      const note = result.record ? `note ${result.record.id} appended` : 'already ended then; nothing appended';
      process.stdout.write(
        `relationship ${o.rp} / ${o.subject} ended at ${at.toISOString()} (${note}); ${result.framework} records kept until ${result.retainedUntil.toISOString()}\n`,
      );
    });
}
