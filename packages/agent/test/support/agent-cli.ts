// `kakunin agent` as main.ts will register it (run with `node --import tsx`): the command on its own.
import { Command } from 'commander';
import { registerAgentCommand } from '../../../cli/src/commands/agent.js';

const program = new Command('kakunin').exitOverride();
registerAgentCommand(program);
await program.parseAsync(process.argv);
