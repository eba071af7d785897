// The long fuzz run: every parser with at least 1,000,000 inputs (the test suite's CI profile runs a
// few hundred). Each parser runs in a child process of its own — without vitest, for speed — so a
// watchdog can kill a hung one and the others still report. Progress (inputs/s) goes to stderr,
// the final table to stdout; the exit status is 1 when any input crashed or hung, and each such
// input is printed (bytes in hex) with the arguments that replay it.
//
//   node --import tsx scripts/fuzz.ts [--runs N] [--only a,b] [--jobs N] [--seed S] [--max-failures N] [--list]
//   node --import tsx scripts/fuzz.ts --only x509 --seed S --replay BATCH:INDEX     (one input again)
//
// Environment: FUZZ_HANG_MS (per-input budget, default 1000), FUZZ_SANDBOX_DIR (simulator cache).

import { fork } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { FuzzFailure, HANG_MS, startWatchdog, stopWatchdog, type Target, type Verdict } from '../test/fuzz/support.js';
import { cardTargets } from '../test/fuzz/targets/card.js';
import { holderTargets } from '../test/fuzz/targets/holder.js';
import { jpkiTargets } from '../test/fuzz/targets/jpki.js';

const TARGETS: readonly Target[] = [...jpkiTargets, ...cardTargets, ...holderTargets];
const SCRIPT = fileURLToPath(import.meta.url);

interface Options {
  runs: number;
  only: string[] | undefined;
  jobs: number;
  seed: number;
  maxFailures: number;
  list: boolean;
  child: string | undefined;
  replay: [number, number] | undefined;
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    runs: 1_000_000,
    only: undefined,
    jobs: 1,
    seed: Date.now() % 1_000_000_007,
    maxFailures: 20,
    list: false,
    child: undefined,
    replay: undefined,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) usage(`${a} needs a value`);
      return v;
    };
    const int = (): number => {
      const v = value();
      const n = Number(v.replace(/_/g, ''));
      if (!Number.isFinite(n) || n < 0) usage(`${a} needs a number (got "${v}")`);
      return Math.floor(n);
    };
    if (a === '--runs') o.runs = int();
    else if (a === '--only') o.only = value().split(',').filter(Boolean);
    else if (a === '--jobs') o.jobs = Math.max(1, int());
    else if (a === '--seed') o.seed = int();
    else if (a === '--max-failures') o.maxFailures = Math.max(1, int());
    else if (a === '--list') o.list = true;
    else if (a === '--child') o.child = value();
    else if (a === '--replay') {
      const m = /^(\d+):(\d+)$/.exec(value());
      if (!m) usage('--replay needs BATCH:INDEX');
      o.replay = [Number(m[1]), Number(m[2])];
    } else if (a === '--help' || a === '-h') usage();
    else usage(`unknown argument ${a}`);
  }
  for (const name of o.only ?? [])
    if (!TARGETS.some((t) => t.name === name)) usage(`unknown parser "${name}" (--list shows them)`);
  return o;
}

function usage(error?: string): never {
  if (error) process.stderr.write(`fuzz: ${error}\n`);
  process.stderr.write(
    'usage: node --import tsx scripts/fuzz.ts [--runs N (default 1000000)] [--only a,b] [--jobs N (default 1)] [--seed S] [--max-failures N (default 20)] [--list]\n' +
      '       node --import tsx scripts/fuzz.ts --only NAME --seed S --replay BATCH:INDEX\n',
  );
  process.exit(error ? 2 : 0);
}

// ---------------------------------------------------------------------------------------------
// Child: one parser

interface Stats {
  inputs: number;
  typed: number;
  accepted: number;
  crashes: number;
  hangs: number;
  seconds: number;
  setupSeconds: number;
}

interface FailureReport {
  kind: 'crash' | 'hang';
  message: string;
  replay: string;
}

type ChildMessage =
  | { type: 'progress'; stats: Stats }
  | { type: 'failure'; failure: FailureReport }
  | { type: 'done'; stats: Stats; stoppedEarly: boolean };

const BATCH = 1000;
const isThenable = (v: unknown): v is Promise<Verdict> =>
  typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';

async function child(o: Options): Promise<void> {
  const target = TARGETS.find((t) => t.name === o.child)!;
  const send = (m: ChildMessage): void => {
    process.send?.(m);
  };
  const t0 = performance.now();
  const open = await target.open();
  const stats: Stats = {
    inputs: 0,
    typed: 0,
    accepted: 0,
    crashes: 0,
    hangs: 0,
    seconds: 0,
    setupSeconds: (performance.now() - t0) / 1000,
  };
  startWatchdog(
    `fuzz target ${target.name} (replay: --only ${target.name} --seed ${o.seed} --replay <batch:index> of the input below)`,
  );
  process.on('unhandledRejection', (e) => {
    // A rejection nobody handles is a crash too (it would kill a server process).
    send({
      type: 'failure',
      failure: {
        kind: 'crash',
        message: `FUZZ CRASH in ${target.name}: an unhandled promise rejection: ${(e as Error)?.stack ?? String(e)}`,
        replay: `--only ${target.name} --seed ${o.seed}`,
      },
    });
    stats.crashes++;
  });
  const seen = new Set<string>();
  const failures = (): number => stats.crashes + stats.hangs;
  let lastProgress = performance.now();
  const started = performance.now();
  let stoppedEarly = false;

  const one = async (input: unknown, batch: number, index: number): Promise<void> => {
    try {
      const v = open.check(input);
      stats[isThenable(v) ? await v : v]++;
    } catch (e) {
      if (!(e instanceof FuzzFailure)) throw e;
      stats[e.kind === 'crash' ? 'crashes' : 'hangs']++;
      // Report each distinct crash (message + top frames) once, and the first hang.
      const key =
        e.kind === 'hang'
          ? 'hang'
          : `crash|${e.message.split('\n')[0]}|${((e.error as Error | undefined)?.stack ?? '').split('\n').slice(1, 3).join('|')}`;
      if (!seen.has(key)) {
        seen.add(key);
        send({
          type: 'failure',
          failure: {
            kind: e.kind,
            message: e.message,
            replay: `--only ${target.name} --seed ${o.seed} --replay ${batch}:${index}`,
          },
        });
      }
    }
    stats.inputs++;
  };

  if (o.replay) {
    const [batch, index] = o.replay;
    const inputs = fc.sample(open.arbitrary, { seed: o.seed + batch, numRuns: index + 1 });
    await one(inputs[index], batch, index);
  } else {
    for (let batch = 0; stats.inputs < o.runs; batch++) {
      const inputs = fc.sample(open.arbitrary, {
        seed: o.seed + batch,
        numRuns: Math.min(BATCH, o.runs - stats.inputs),
      });
      for (let i = 0; i < inputs.length; i++) {
        await one(inputs[i], batch, i);
        if ((stats.inputs & 31) === 0 && performance.now() - lastProgress > 1000) {
          lastProgress = performance.now();
          stats.seconds = (lastProgress - started) / 1000;
          send({ type: 'progress', stats });
        }
      }
      if (failures() >= o.maxFailures) {
        stoppedEarly = stats.inputs < o.runs;
        break;
      }
    }
  }
  stats.seconds = (performance.now() - started) / 1000;
  await stopWatchdog();
  await open.close();
  send({ type: 'done', stats, stoppedEarly });
  process.exit(0);
}

// ---------------------------------------------------------------------------------------------
// Parent: run the children, show progress, print the table

interface Result {
  target: Target;
  stats: Stats;
  failures: FailureReport[];
  status: 'done' | 'stopped' | 'died';
  note?: string;
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const duration = (s: number): string =>
  s >= 3600
    ? `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`
    : s >= 60
      ? `${Math.floor(s / 60)}m${Math.round(s % 60)}s`
      : `${s.toFixed(1)}s`;

function runChild(target: Target, o: Options, onProgress: (s: Stats) => void): Promise<Result> {
  const reportFile = join(tmpdir(), `kakunin-fuzz-hang-${process.pid}-${target.name}.txt`);
  rmSync(reportFile, { force: true });
  const args = [
    '--child',
    target.name,
    '--runs',
    String(o.runs),
    '--seed',
    String(o.seed),
    '--max-failures',
    String(o.maxFailures),
    ...(o.replay ? ['--replay', o.replay.join(':')] : []),
  ];
  const proc = fork(SCRIPT, args, {
    env: { ...process.env, FUZZ_HANG_REPORT: reportFile },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  const result: Result = {
    target,
    stats: { inputs: 0, typed: 0, accepted: 0, crashes: 0, hangs: 0, seconds: 0, setupSeconds: 0 },
    failures: [],
    status: 'died',
  };
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-20_000);
  });
  proc.on('message', (m: ChildMessage) => {
    if (m.type === 'progress') {
      result.stats = m.stats;
      onProgress(m.stats);
    } else if (m.type === 'failure') result.failures.push(m.failure);
    else {
      result.stats = m.stats;
      result.status = m.stoppedEarly ? 'stopped' : 'done';
    }
  });
  return new Promise((resolve) => {
    proc.on('exit', (code, signal) => {
      if (result.status === 'died') {
        if (existsSync(reportFile)) {
          // The watchdog killed it: an input that never returned.
          result.stats.hangs++;
          result.failures.push({
            kind: 'hang',
            message: readFileSync(reportFile, 'utf8'),
            replay: `--only ${target.name} --seed ${o.seed}`,
          });
          result.note = 'killed by the watchdog';
        } else {
          result.stats.crashes++;
          result.failures.push({
            kind: 'crash',
            message: `the fuzz process of ${target.name} died (${signal ?? `exit code ${code}`}):\n${stderr}`,
            replay: `--only ${target.name} --seed ${o.seed}`,
          });
          result.note = `process died (${signal ?? code})`;
        }
      }
      rmSync(reportFile, { force: true });
      resolve(result);
    });
  });
}

async function parent(o: Options): Promise<void> {
  const targets = TARGETS.filter((t) => !o.only || o.only.includes(t.name));
  if (o.list) {
    for (const t of TARGETS) process.stdout.write(`${t.name.padEnd(14)} ${t.description}\n`);
    return;
  }
  process.stderr.write(
    `fuzz: ${targets.length} parser(s) × ${fmt(o.runs)} inputs, seed ${o.seed}, ${o.jobs} at a time, time budget ${HANG_MS} ms per input\n`,
  );
  const running = new Map<string, Stats>();
  let lastLine = 0;
  const progress = (name: string, s: Stats): void => {
    running.set(name, s);
    if (performance.now() - lastLine < 3000) return;
    lastLine = performance.now();
    for (const [n, st] of running) {
      const rate = st.seconds > 0 ? st.inputs / st.seconds : 0;
      const eta = rate > 0 ? duration((o.runs - st.inputs) / rate) : '?';
      process.stderr.write(
        `[${n}] ${fmt(st.inputs)}/${fmt(o.runs)}  ${fmt(rate)} inputs/s  typed ${fmt(st.typed)}  accepted ${fmt(st.accepted)}  crashes ${st.crashes}  hangs ${st.hangs}  eta ${eta}\n`,
      );
    }
  };
  const queue = [...targets];
  const results: Result[] = [];
  const worker = async (): Promise<void> => {
    for (let t = queue.shift(); t; t = queue.shift()) {
      const target = t;
      process.stderr.write(`[${target.name}] starting: ${target.description}\n`);
      const r = await runChild(target, o, (s) => progress(target.name, s));
      running.delete(target.name);
      const s = r.stats;
      process.stderr.write(
        `[${target.name}] ${r.status === 'died' ? r.note : r.status === 'stopped' ? `stopped after ${o.maxFailures} failures` : 'done'}: ${fmt(s.inputs)} inputs in ${duration(s.seconds)} (${fmt(s.seconds > 0 ? s.inputs / s.seconds : 0)}/s), ${s.crashes} crashes, ${s.hangs} hangs\n`,
      );
      results.push(r);
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.jobs, targets.length) }, worker));
  results.sort((a, b) => targets.indexOf(a.target) - targets.indexOf(b.target));

  const header = ['parser', 'inputs', 'typed errors', 'accepted', 'crashes', 'hangs', 'seconds', 'inputs/s', 'setup s'];
  const rows = results.map((r) => [
    r.target.name + (r.status === 'done' ? '' : r.status === 'stopped' ? ' (stopped)' : ' (died)'),
    fmt(r.stats.inputs),
    fmt(r.stats.typed),
    fmt(r.stats.accepted),
    String(r.stats.crashes),
    String(r.stats.hangs),
    r.stats.seconds.toFixed(1),
    fmt(r.stats.seconds > 0 ? r.stats.inputs / r.stats.seconds : 0),
    r.stats.setupSeconds.toFixed(1),
  ]);
  const total = results.reduce(
    (a, r) => ({
      inputs: a.inputs + r.stats.inputs,
      crashes: a.crashes + r.stats.crashes,
      hangs: a.hangs + r.stats.hangs,
      seconds: a.seconds + r.stats.seconds,
    }),
    { inputs: 0, crashes: 0, hangs: 0, seconds: 0 },
  );
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  process.stdout.write(
    `\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${rows.map(line).join('\n')}\n`,
  );
  process.stdout.write(
    `\n${fmt(total.inputs)} inputs, ${total.crashes} crashes, ${total.hangs} hangs (seed ${o.seed})\n`,
  );

  const failed = results.filter((r) => r.failures.length > 0);
  for (const r of failed) {
    for (const f of r.failures) {
      process.stdout.write(
        `\n=== ${f.kind.toUpperCase()} in ${r.target.name} — replay: node --import tsx scripts/fuzz.ts ${f.replay}\n${f.message}\n`,
      );
    }
  }
  process.exitCode = total.crashes + total.hangs > 0 ? 1 : 0;
}

const options = parseArgs(process.argv.slice(2));
if (options.child) {
  await child(options);
} else {
  await parent(options);
}
