// `kakunin serve`: one platform process. The first line of standard output is the base URL (scripts
// read it); progress and logs go to standard error. Ctrl-C / SIGTERM stop it cleanly.

import type { Command } from 'commander';
import { ConfigError, loadConfig, simDir, startServer } from '@kakunin/server';
import { CliError, EXIT, untilStopped } from '../output.js';

interface ServeOptions {
  sandbox?: boolean;
  port?: string;
  host?: string;
  dataDir?: string;
  databaseUrl?: string;
  publicUrl?: string;
  logLevel?: string;
}

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('run the platform: OpenID Provider, holder protocol, admin API, revocation monitor')
    .option('--sandbox', 'use the simulated J-LIS (DATA_DIR/sim) and trust its roots')
    .option('--port <n>', 'port (default 8080; 0 picks a free one)')
    .option('--host <host>', 'interface to listen on (default 127.0.0.1)')
    .option('--data-dir <dir>', 'state directory: embedded database, simulator, admin token (default .kakunin)')
    .option('--database-url <url>', 'PostgreSQL instead of the embedded database (default: env DATABASE_URL)')
    .option('--public-url <url>', 'URL holders and relying parties use (default http://HOST:PORT)')
    .option('--log-level <level>', 'silent, error, warn, info or debug (default info)')
    .action(async (o: ServeOptions) => {
      let config;
      try {
        config = loadConfig({
          ...(o.sandbox ? { mode: 'sandbox' as const } : {}),
          ...(o.port !== undefined ? { port: Number(o.port) } : {}),
          ...(o.host ? { host: o.host } : {}),
          ...(o.dataDir ? { dataDir: o.dataDir } : {}),
          ...(o.databaseUrl ? { databaseUrl: o.databaseUrl } : {}),
          ...(o.publicUrl ? { publicUrl: o.publicUrl } : {}),
          ...(o.logLevel ? { logLevel: o.logLevel } : {}),
        });
      } catch (e) {
        if (e instanceof ConfigError) throw new CliError(e.message, EXIT.usage);
        throw e;
      }
      const progress = (line: string): void => void process.stderr.write(`kakunin: ${line}\n`);
      let server;
      try {
        server = await startServer(config, {
          onProgress: progress,
          // The simulated J-LIS is the CLI's to hand in (the server never loads it); only sandbox mode loads it.
          ...(config.mode === 'sandbox' ? { simulatedJlis: (await import('@kakunin/sim')).startSimulatedJlis } : {}),
        });
      } catch (e) {
        // e.g. a configured trust anchor whose pin does not match: the server refused to start.
        if (e instanceof ConfigError) throw new CliError(e.message, EXIT.usage);
        const err = e as NodeJS.ErrnoException;
        if (err.code === 'EADDRINUSE')
          throw new CliError(
            `port ${config.port} on ${config.host} is in use: choose another with --port (0 picks a free one)`,
            EXIT.failed,
          );
        if (err.code === 'DATABASE_BUSY')
          throw new CliError(`${err.message}: stop it first, or give this server another --data-dir`, EXIT.failed);
        if (err.code === 'ECONNREFUSED') throw new CliError(`cannot reach PostgreSQL (${err.message})`, EXIT.failed);
        throw e;
      }
      process.stdout.write(`${server.url}\n`);
      progress(
        `${config.mode} mode, ${config.databaseUrl ? 'PostgreSQL' : `embedded database in ${config.dataDir}`}; admin token in ${config.adminToken ? 'KAKUNIN_ADMIN_TOKEN' : `${config.dataDir}/admin-token`}`,
      );
      if (config.mode === 'sandbox')
        progress(`simulated J-LIS in ${simDir(config)} (kakunin sim people --dir ${simDir(config)})`);
      progress(`discovery: ${server.url}/.well-known/openid-configuration — Ctrl-C stops`);
      await untilStopped(() => server.close(), progress);
    });
}
