// The `kakunin` command. It wires packages together; the logic lives in the packages.
import { Command, CommanderError } from 'commander';
import { isJpkiError } from '@kakunin/jpki';
import { CliError, EXIT } from './output.js';

type Register = (program: Command) => void;

// Each top-level command and the module that defines it, in the order help lists them. Only the
// module of the command being run is loaded: `kakunin sim …` or `kakunin card …` never loads the
// platform's server (its web framework, OIDC provider and database engines), so they start quickly.
const COMMANDS: Record<string, () => Promise<Register>> = {
  card: async () => (await import('./commands/card.js')).registerCardCommands,
  cert: async () => (await import('./commands/cert.js')).registerCertCommands,
  trust: async () => (await import('./commands/trust.js')).registerTrustCommands,
  sim: async () => (await import('./commands/sim.js')).registerSimCommands,
  serve: async () => (await import('./commands/serve.js')).registerServeCommand,
  rp: async () => (await import('./commands/rp.js')).registerRpCommands,
  holder: async () => (await import('./commands/holder.js')).registerHolderCommand,
  agent: async () => (await import('./commands/agent.js')).registerAgentCommand,
  records: async () => (await import('./commands/records.js')).registerRecordsCommands,
  keys: async () => (await import('./commands/keys.js')).registerKeysCommands,
  usage: async () => (await import('./commands/usage.js')).registerUsageCommand,
  wallet: async () => (await import('./commands/wallet.js')).registerWalletCommands,
};

/**
 * The command line program. Given the arguments it will parse, it defines only the command they
 * name; without them, or for help, a version or an unknown command, every command.
 */
export async function buildProgram(argv?: readonly string[]): Promise<Command> {
  const program = new Command('kakunin')
    .description('Kakunin (確認): identity verification with JPKI, the My Number Card certificates')
    .version('0.1.0')
    .exitOverride()
    .showHelpAfterError('(add --help for usage)');
  const named = argv?.slice(2).find((a) => !a.startsWith('-'));
  const wanted = named !== undefined && Object.hasOwn(COMMANDS, named) ? [named] : Object.keys(COMMANDS);
  const registers = await Promise.all(wanted.map((name) => COMMANDS[name]!()));
  for (const register of registers) register(program);
  return program;
}

/** Runs the command line and returns the process exit code (never throws). */
export async function main(argv: string[]): Promise<number> {
  try {
    const program = await buildProgram(argv);
    await program.parseAsync(argv);
    return process.exitCode === undefined ? EXIT.ok : Number(process.exitCode);
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end here too, with exit code 0.
      return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (e instanceof CliError) {
      process.stderr.write(`kakunin: ${e.message}\n`);
      return e.exitCode;
    }
    if (isJpkiError(e)) {
      process.stderr.write(`kakunin: error ${e.name} (${e.code}): ${e.message}\n`);
      return EXIT.failed;
    }
    const err = e as Error & { code?: unknown };
    if (typeof err?.code === 'string' && err.name !== 'Error') {
      process.stderr.write(`kakunin: error ${err.name} (${err.code}): ${err.message}\n`);
      return EXIT.failed;
    }
    process.stderr.write(`kakunin: unexpected error: ${err?.stack ?? String(e)}\n`);
    return EXIT.internal;
  }
}
