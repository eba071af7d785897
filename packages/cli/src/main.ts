// The `kakunin` command. It wires packages together; the logic lives in the packages.
import { Command, CommanderError } from 'commander';
import { isJpkiError } from '@kakunin/jpki';
import { registerAgentCommand } from './commands/agent.js';
import { registerCardCommands } from './commands/card.js';
import { registerCertCommands } from './commands/cert.js';
import { registerHolderCommand } from './commands/holder.js';
import { registerKeysCommands } from './commands/keys.js';
import { registerRecordsCommands } from './commands/records.js';
import { registerRpCommands } from './commands/rp.js';
import { registerServeCommand } from './commands/serve.js';
import { registerSimCommands } from './commands/sim.js';
import { registerTrustCommands } from './commands/trust.js';
import { registerUsageCommand } from './commands/usage.js';
import { CliError, EXIT } from './output.js';

export function buildProgram(): Command {
  const program = new Command('kakunin')
    .description('Kakunin (確認): identity verification with JPKI, the My Number Card certificates')
    .version('0.1.0')
    .exitOverride()
    .showHelpAfterError('(add --help for usage)');
  registerCardCommands(program);
  registerCertCommands(program);
  registerTrustCommands(program);
  registerSimCommands(program);
  registerServeCommand(program);
  registerRpCommands(program);
  registerHolderCommand(program);
  registerAgentCommand(program);
  registerRecordsCommands(program);
  registerKeysCommands(program);
  registerUsageCommand(program);
  return program;
}

/** Runs the command line and returns the process exit code (never throws). */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
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
