// `kakunin card …`: talk to a My Number Card in a PC/SC reader (--reader) or to a sandbox resident's
// virtual card in process (--sim PERSON [--dir DIR]). PINs come from a masked prompt or, for
// automation, one line of standard input (--pin-stdin); they are never printed or logged.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import type { Command } from 'commander';
import {
  InProcessTransport,
  InvalidPinFormat,
  isCardError,
  listReaders,
  MyNumberCard,
  PcscTransport,
  PinBlocked,
  SEX_LABEL,
  WrongPin,
  type CvcAnchor,
  type PinKind,
} from '@kakunin/card';
import { sha256DigestInfo } from '@kakunin/jpki';
import { DEFAULT_SANDBOX_DIR, isSimError, openSandbox, type Sandbox } from '@kakunin/sim';
import { cardForPerson, cardsDir, sandboxCvcAnchor } from '@kakunin/sim/card';
import { CliError, EXIT, choice, printJson } from '../output.js';
import { PinCancelled, readMasked } from '@kakunin/agent';

const MEDIA = ['card', 'android', 'iphone'] as const;

export interface CardOptions {
  reader?: string;
  sim?: string;
  dir?: string;
  medium?: string;
  pinStdin?: boolean;
  json?: boolean;
  wait?: string;
}

interface OpenedCard {
  readonly card: MyNumberCard;
  /** `pcsc:<reader>` or `sim:<person>/<medium>`. */
  readonly source: string;
  close(): Promise<void>;
}

const PIN_PROMPT: Record<PinKind, string> = {
  auth: 'Auth PIN (利用者証明用暗証番号, 4 digits): ',
  sign: 'Signing password (署名用暗証番号, 6–16 characters): ',
  cardInfo: 'Card-info PIN (券面事項入力補助用暗証番号, 4 digits): ',
};

/** Card, PIN and simulator errors → one line with the card exit codes (3 wrong PIN, 4 blocked). */
export function toCliError(e: unknown, sim?: { person: string; dir?: string }): unknown {
  if (e instanceof WrongPin) return new CliError(`${e.message} (${e.code})`, EXIT.wrongPin);
  if (e instanceof PinBlocked) {
    // A virtual card: the sandbox has its own counter.
    const counter = sim
      ? `; in the sandbox: kakunin sim card reset-pin --person ${sim.person}${sim.dir ? ` --dir ${sim.dir}` : ''}`
      : '';
    return new CliError(`${e.message} (${e.code})${counter}`, EXIT.pinBlocked);
  }
  if (e instanceof InvalidPinFormat) return new CliError(`${e.message} (${e.code})`, EXIT.usage);
  if (isCardError(e)) return new CliError(`error ${e.name} (${e.code}): ${e.message}`, EXIT.failed);
  if (isSimError(e)) return new CliError(`${e.name} (${e.code}): ${e.message}`, EXIT.failed);
  return e;
}

function withCardOptions(cmd: Command): Command {
  return cmd
    .option('--reader <name>', 'PC/SC reader (default: the first reader with a card)')
    .option('--sim <person>', 'use the virtual card of a sandbox resident (in process), e.g. p001')
    .option(
      '--dir <dir>',
      `sandbox directory for --sim (default ${DEFAULT_SANDBOX_DIR}); with --reader, also trust that sandbox's card-info CVC CA`,
    )
    .option('--medium <medium>', 'with --sim: card, android or iphone (default card)')
    .option('--wait <seconds>', 'with a PC/SC reader: wait this long for a card (default 0)')
    .option('--pin-stdin', 'read the PIN or password from one line of standard input (for automation)')
    .option('--json', 'print one JSON object (includes "apdus" and "bytes")');
}

function openSimSandbox(dir: string | undefined): Sandbox {
  try {
    return openSandbox(dir ?? DEFAULT_SANDBOX_DIR);
  } catch (e) {
    throw toCliError(e);
  }
}

export async function openCard(o: CardOptions): Promise<OpenedCard> {
  if (o.sim !== undefined && o.reader !== undefined) throw new CliError('choose one of --reader and --sim');
  if (o.sim !== undefined) {
    const medium = o.medium ? choice(o.medium, MEDIA, '--medium') : 'card';
    const sandbox = openSimSandbox(o.dir);
    let virtual;
    try {
      virtual = cardForPerson(sandbox, o.sim, medium);
    } catch (e) {
      throw toCliError(e);
    }
    const card = new MyNumberCard(new InProcessTransport(virtual, `sim:${o.sim}/${medium}`), {
      cvcCaKeys: [sandboxCvcAnchor(sandbox) as CvcAnchor],
    });
    return { card, source: `sim:${o.sim}/${medium}`, close: () => card.close() };
  }
  if (o.medium !== undefined) throw new CliError('--medium goes with --sim');
  const extra: CvcAnchor[] = [];
  if (o.dir !== undefined) {
    const sandbox = openSimSandbox(o.dir);
    if (existsSync(join(cardsDir(sandbox), 'cvc-ca.pem'))) extra.push(sandboxCvcAnchor(sandbox) as CvcAnchor);
  }
  const waitSeconds = o.wait === undefined ? 0 : Number(o.wait);
  if (!Number.isFinite(waitSeconds) || waitSeconds < 0)
    throw new CliError(`--wait: "${o.wait}" is not a number of seconds`);
  const transport = await PcscTransport.open({
    ...(o.reader !== undefined ? { reader: o.reader } : {}),
    waitForCardMs: waitSeconds * 1000,
  });
  const card = new MyNumberCard(transport, { cvcCaKeys: extra });
  return { card, source: `pcsc:${transport.readerName}`, close: () => card.close() };
}

/** One line of standard input (without the line end). */
// Standard input read line by line for the whole command (a PIN, then maybe an answer): one reader,
// paused between reads so that an open pipe never keeps the process alive.
interface StdinReader {
  queue: string[];
  waiting: ((line: string | undefined) => void)[];
  closed: boolean;
  rl: Interface;
}
let stdin: StdinReader | undefined;

function stdinReader(): StdinReader {
  if (stdin) return stdin;
  const rl = createInterface({ input: process.stdin, terminal: false });
  const reader: StdinReader = { queue: [], waiting: [], closed: false, rl };
  rl.on('line', (line) => {
    const text = line.replace(/\r$/, '');
    const waiter = reader.waiting.shift();
    if (waiter) waiter(text);
    else reader.queue.push(text);
    if (reader.waiting.length === 0) {
      rl.pause();
      // A pipe left open by the writer must not keep the command from ending.
      (process.stdin as { unref?: () => void }).unref?.();
    }
  });
  rl.on('close', () => {
    reader.closed = true;
    for (const w of reader.waiting.splice(0)) w(undefined);
  });
  stdin = reader;
  return reader;
}

/** The next line of standard input (undefined at its end). */
export function readStdinLine(): Promise<string | undefined> {
  const reader = stdinReader();
  if (reader.queue.length) return Promise.resolve(reader.queue.shift());
  if (reader.closed) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    reader.waiting.push(resolve);
    (process.stdin as { ref?: () => void }).ref?.();
    reader.rl.resume();
  });
}

/** How many of the next `n` lines standard input has (waits for them or its end; consumes none). */
export async function stdinHasLines(n: number): Promise<boolean> {
  const reader = stdinReader();
  const taken: string[] = [];
  while (taken.length < n) {
    const line = await readStdinLine();
    if (line === undefined) break;
    taken.push(line);
  }
  reader.queue.unshift(...taken);
  return taken.length === n;
}

/** A masked prompt on the terminal (shared with the agent): '*' per character; Ctrl-C aborts. */
async function promptMasked(question: string): Promise<string> {
  try {
    return await readMasked(question);
  } catch (e) {
    if (e instanceof PinCancelled) throw new CliError('cancelled', 130);
    throw e;
  }
}

/** The options that choose a card: a sandbox resident's virtual card (--sim, --dir, --medium) or a PC/SC reader. */
export function cardChoiceOptions(command: Command): Command {
  return command
    .option('--sim <person>', 'use the virtual card of a sandbox resident, e.g. p001')
    .option(
      '--dir <dir>',
      `sandbox directory for --sim (default ${DEFAULT_SANDBOX_DIR}; for \`kakunin serve --data-dir D\` use D/sim)`,
    )
    .option('--medium <medium>', 'with --sim: card, android or iphone (default card)')
    .option('--reader <name>', 'PC/SC reader (default: the first reader with a card)');
}

export async function askPin(kind: PinKind, o: CardOptions): Promise<string> {
  if (o.pinStdin) {
    const line = await readStdinLine();
    if (line === undefined || line === '')
      throw new CliError(`--pin-stdin: no ${kind === 'sign' ? 'password' : 'PIN'} on standard input`);
    return line;
  }
  if (!process.stdin.isTTY) {
    throw new CliError(
      `this command needs the ${kind === 'sign' ? 'signing password' : `${kind === 'auth' ? 'auth' : 'card-info'} PIN`} and standard input is not a terminal: pass --pin-stdin and write it on one line of standard input`,
      EXIT.usage,
    );
  }
  return promptMasked(PIN_PROMPT[kind]);
}

function writeOut(file: string, data: Uint8Array): void {
  try {
    mkdirSync(dirname(resolve(file)), { recursive: true });
    writeFileSync(file, data);
  } catch (e) {
    throw new CliError(`cannot write ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** Opens the card, runs `fn`, prints, closes; maps typed errors to exit codes. */
async function withCard(
  o: CardOptions,
  fn: (c: OpenedCard) => Promise<Record<string, unknown>>,
  text: (r: Record<string, unknown>) => string,
): Promise<void> {
  let opened: OpenedCard | undefined;
  try {
    opened = await openCard(o);
    const result = await fn(opened);
    const { apdus, bytes } = opened.card.stats;
    const out = { ...result, source: opened.source, apdus, bytes };
    if (o.json) printJson(out);
    else process.stdout.write(`${text(out)}\n`);
  } catch (e) {
    throw toCliError(e, o.sim !== undefined ? { person: o.sim, ...(o.dir ? { dir: o.dir } : {}) } : undefined);
  } finally {
    await opened?.close().catch(() => undefined);
  }
}

const yesNo = (b: unknown): string => (b ? 'yes' : 'no');

export function registerCardCommands(program: Command): void {
  const card = program
    .command('card')
    .description('read and use a My Number Card (PC/SC reader) or a sandbox virtual card');

  card
    .command('readers')
    .description('list the PC/SC readers and whether a card is present')
    .option('--json', 'print one JSON object')
    .action(async (o: { json?: boolean }) => {
      let readers;
      try {
        readers = await listReaders();
      } catch (e) {
        throw toCliError(e);
      }
      if (o.json) printJson({ readers, apdus: 0, bytes: 0 });
      else if (readers.length === 0) process.stdout.write('no readers\n');
      else
        process.stdout.write(
          readers
            .map((r) => `${r.name}\t${r.cardPresent ? `card present${r.atr ? ` (ATR ${r.atr})` : ''}` : 'no card'}`)
            .join('\n') + '\n',
        );
    });

  withCardOptions(
    card.command('status').description('token kind (card, android, iphone, juki) and which certificates it holds'),
  ).action((o: CardOptions) =>
    withCard(
      o,
      async ({ card: c }) => {
        const s = await c.status();
        return { token: s.kind, label: s.label, certificates: s.certificates };
      },
      (r) => {
        const certs = r.certificates as { auth: boolean; sign: boolean };
        return `token: ${r.token} (${r.label})\nauth certificate: ${yesNo(certs.auth)}\nsigning certificate: ${yesNo(certs.sign)}\nsource: ${r.source}\nAPDUs: ${r.apdus}, bytes: ${r.bytes}`;
      },
    ),
  );

  withCardOptions(card.command('pin-status').description('remaining tries of every PIN (none consumed)')).action(
    (o: CardOptions) =>
      withCard(
        o,
        async ({ card: c }) => {
          const s = await c.pinStatus();
          return { auth: s.auth, sign: s.sign, cardInfo: s.cardInfo };
        },
        (r) => {
          const t = (n: unknown): string =>
            n === null ? 'not on this token' : n === 0 ? '0 tries remaining (blocked)' : `${n} tries remaining`;
          return `auth PIN: ${t(r.auth)}\nsigning password: ${t(r.sign)}\ncard-info PIN: ${t(r.cardInfo)}\nAPDUs: ${r.apdus}, bytes: ${r.bytes}`;
        },
      ),
  );

  withCardOptions(
    card
      .command('read-cert')
      .description(
        'write the auth certificate (DER), or with --sign the signing certificate (needs the signing password)',
      )
      .option('--sign', 'the signing certificate (署名用電子証明書)')
      .requiredOption('--out <file>', 'DER output file'),
  ).action((o: CardOptions & { sign?: boolean; out: string }) =>
    withCard(
      o,
      async ({ card: c }) => {
        let der: Uint8Array;
        if (o.sign) der = await c.readSignCertificate(await askPin('sign', o));
        else {
          try {
            der = await c.readAuthCertificate();
          } catch (e) {
            // Smartphone tokens ask for the auth PIN before their certificate can be read (spec §6.5).
            if (!(isCardError(e) && e.code === 'SECURITY_STATUS_NOT_SATISFIED')) throw e;
            der = await c.readAuthCertificate(await askPin('auth', o));
          }
        }
        writeOut(o.out, der);
        return {
          kind: o.sign ? 'sign' : 'auth',
          out: o.out,
          size: der.length,
          sha256: createHash('sha256').update(der).digest('hex'),
        };
      },
      (r) =>
        `wrote the ${r.kind} certificate (${r.size} bytes, SHA-256 ${r.sha256}) to ${r.out}\nAPDUs: ${r.apdus}, bytes: ${r.bytes}`,
    ),
  );

  withCardOptions(
    card
      .command('sign')
      .description(
        'sign the SHA-256 DigestInfo of a file on the card: auth key (PIN) by default, signing key (password) with --sign-key',
      )
      .requiredOption('--data <file>', 'file to sign')
      .requiredOption('--out <sig>', 'raw 256-byte RSA signature output')
      .option('--sign-key', 'use the signing key (署名用) instead of the auth key (利用者証明用)'),
  ).action((o: CardOptions & { data: string; out: string; signKey?: boolean }) =>
    withCard(
      o,
      async ({ card: c }) => {
        let data: Buffer;
        try {
          data = readFileSync(o.data);
        } catch (e) {
          throw new CliError(`cannot read ${o.data}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
        }
        const digestInfo = sha256DigestInfo(data);
        const sig = o.signKey
          ? await c.signWithSignKey(await askPin('sign', o), digestInfo)
          : await c.signWithAuthKey(await askPin('auth', o), digestInfo);
        writeOut(o.out, sig);
        return {
          key: o.signKey ? 'sign' : 'auth',
          algorithm: 'sha256WithRSAEncryption',
          data: o.data,
          out: o.out,
          size: sig.length,
        };
      },
      (r) =>
        `wrote a ${r.size}-byte ${r.algorithm} signature with the ${r.key} key to ${r.out}\nAPDUs: ${r.apdus}, bytes: ${r.bytes}`,
    ),
  );

  withCardOptions(
    card
      .command('basic-info')
      .description(
        "name, address, birth date and sex from the card-info AP, with the issuer's integrity signature checked (never the My Number)",
      ),
  ).action((o: CardOptions) =>
    withCard(
      o,
      async ({ card: c }) => {
        const b = await c.readBasicInfo(await askPin('cardInfo', o));
        return {
          name: b.name,
          address: b.address,
          birthDate: b.birthDate,
          sex: b.sex,
          sexLabel: SEX_LABEL[b.sex],
          integrity: b.integrity,
        };
      },
      (r) => {
        const i = r.integrity as { cvcIssuer: string; cvcSubject: string; anchor: string };
        return [
          `name (氏名): ${r.name}`,
          `address (住所): ${r.address}`,
          `birth date (生年月日): ${r.birthDate}`,
          `sex (性別): ${r.sex} ${r.sexLabel}`,
          `integrity: verified (CVC ${i.cvcSubject} issued by ${i.cvcIssuer}, pinned key: ${i.anchor})`,
          `APDUs: ${r.apdus}, bytes: ${r.bytes}`,
        ].join('\n');
      },
    ),
  );
}
