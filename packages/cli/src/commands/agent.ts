// `kakunin agent`: the local holder agent for the same-device flow (packages/agent). The first line
// of standard output is its base URL; events go to standard error (never a PIN). Ctrl-C stops it.

import type { Command } from 'commander';
import { AgentConfigError, DEFAULT_AGENT_PORT, startAgent, type AgentCard } from '@kakunin/agent';
import { DEFAULT_SANDBOX_DIR, isSimError } from '@kakunin/sim';
import { CliError, EXIT, choice, untilStopped } from '../output.js';

interface AgentCliOptions {
  port?: string;
  host?: string;
  platform: string[];
  sim?: boolean;
  dir?: string;
  medium?: string;
  reader?: string;
  prompt?: string;
}

const DEFAULT_PLATFORM = 'http://127.0.0.1:8080';

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function registerAgentCommand(program: Command): void {
  program
    .command('agent')
    .description(
      'run the local holder agent: the platform page\'s "use the card reader on this computer" button (same-device flow)',
    )
    .option(
      '--port <n>',
      `port on 127.0.0.1 (default ${DEFAULT_AGENT_PORT}, the platform's default KAKUNIN_AGENT_URL; 0 picks a free one)`,
    )
    .option('--host <host>', 'loopback address to listen on (default 127.0.0.1; anything else is refused)')
    .option(
      '--platform <url>',
      `origin of a platform whose pages may use the agent; repeat for several (default ${DEFAULT_PLATFORM})`,
      collect,
      [],
    )
    .option('--sim', "use sandbox residents' virtual cards (chosen on the confirmation page) instead of a PC/SC reader")
    .option(
      '--dir <dir>',
      `sandbox directory for --sim (default ${DEFAULT_SANDBOX_DIR}; for \`kakunin serve --data-dir D\` use D/sim)`,
    )
    .option('--medium <medium>', 'with --sim: card, android or iphone (default card)')
    .option('--reader <name>', 'PC/SC reader (default: chosen on the confirmation page)')
    .option(
      '--prompt <where>',
      "where the PIN is typed: page (the agent's own page, default) or terminal (a masked prompt here)",
    )
    .action(async (o: AgentCliOptions) => {
      if (o.sim && o.reader !== undefined) throw new CliError('choose one of --sim and --reader');
      if (!o.sim && (o.dir !== undefined || o.medium !== undefined))
        throw new CliError('--dir and --medium go with --sim');
      const port = o.port === undefined ? DEFAULT_AGENT_PORT : Number(o.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new CliError(`--port: "${o.port}" is not a port number`);
      const pinPrompt = o.prompt === undefined ? 'page' : choice(o.prompt, ['page', 'terminal'] as const, '--prompt');
      if (pinPrompt === 'terminal' && !process.stdin.isTTY)
        throw new CliError('--prompt terminal needs a terminal on standard input (use --prompt page)', EXIT.usage);
      const card: AgentCard = o.sim
        ? {
            kind: 'sim',
            sandboxDir: o.dir ?? DEFAULT_SANDBOX_DIR,
            ...(o.medium ? { medium: choice(o.medium, ['card', 'android', 'iphone'] as const, '--medium') } : {}),
          }
        : { kind: 'pcsc', ...(o.reader !== undefined ? { reader: o.reader } : {}) };
      const platformOrigins = o.platform.length > 0 ? o.platform : [DEFAULT_PLATFORM];
      const progress = (line: string): void => void process.stderr.write(`kakunin agent: ${line}\n`);
      let agent;
      try {
        agent = await startAgent({
          port,
          ...(o.host ? { host: o.host } : {}),
          platformOrigins,
          card,
          pinPrompt,
          log: progress,
        });
      } catch (e) {
        if (e instanceof AgentConfigError) throw new CliError(e.message, EXIT.usage);
        if (isSimError(e)) throw new CliError(`${e.name} (${e.code}): ${e.message}`, EXIT.failed);
        const err = e as NodeJS.ErrnoException;
        if (err.code === 'EADDRINUSE')
          throw new CliError(
            `port ${port} is in use (is another agent running?): choose another with --port`,
            EXIT.failed,
          );
        if (err.code === 'EADDRNOTAVAIL') throw new CliError(`cannot listen on ${o.host}: ${err.message}`, EXIT.failed);
        throw e;
      }
      process.stdout.write(`${agent.url}\n`);
      progress(
        `${card.kind === 'sim' ? `sandbox cards from ${card.sandboxDir} (PINs: kakunin sim people --dir ${card.sandboxDir})` : `PC/SC${card.reader ? ` reader "${card.reader}"` : ''}`}; PIN on the ${pinPrompt === 'page' ? "agent's page" : 'terminal'}`,
      );
      progress(`serving ceremony pages of ${platformOrigins.join(', ')} — Ctrl-C stops`);
      await untilStopped(() => agent.close(), progress);
    });
}
