// `kakunin rp add|list`: the relying-party registry, straight in the database or, while a server
// holds the embedded database, through that server's admin API.

import type { Command } from 'commander';
import {
  CEREMONY_KINDS,
  createRelyingParty,
  listRelyingParties,
  publicView,
  type CeremonyKind,
} from '@kakunin/server/data';
import { CliError, printJson } from '../output.js';
import {
  DATABASE_URL_OPTION,
  DATA_DIR_OPTION,
  adminApi,
  masterKeyOf,
  withPlatformData,
  type DataOptions,
} from '../platform-data.js';

const collect = (v: string, acc: string[] = []): string[] => [...acc, v];

export function registerRpCommands(program: Command): void {
  const rp = program.command('rp').description('relying parties (OIDC clients) of the platform');
  rp.command('add')
    .description('register a relying party; prints its client id and secret (shown once)')
    .requiredOption('--name <name>', 'name shown to holders')
    .requiredOption('--redirect-uri <uri>', 'OIDC redirect URI (repeatable)', collect)
    .option(
      '--framework <id>',
      'trust framework: jp_aml (犯収法), jp_mpiupa (携帯法), jp_municipal, … (default jp_aml)',
    )
    .option('--ceremonies <list>', 'allowed ceremonies, comma-separated: login,identity (default both)')
    .option('--purpose <text>', 'purpose shown to holders and written into records')
    .option('--webhook-url <url>', 'where revocation webhooks are sent')
    .option('--token-auth <method>', 'client_secret_basic (default) or client_secret_post')
    .option('--client-id <id>', 'a fixed client id (default: generated)')
    .option('--json', 'print JSON')
    .option(...DATA_DIR_OPTION)
    .option(...DATABASE_URL_OPTION)
    .action(
      async (
        o: DataOptions & {
          name: string;
          redirectUri: string[];
          framework?: string;
          ceremonies?: string;
          purpose?: string;
          webhookUrl?: string;
          tokenAuth?: string;
          clientId?: string;
          json?: boolean;
        },
      ) => {
        const ceremonies = o.ceremonies?.split(',').map((c) => c.trim()) as CeremonyKind[] | undefined;
        for (const c of ceremonies ?? [])
          if (!CEREMONY_KINDS.includes(c))
            throw new CliError(`--ceremonies: unknown ceremony "${c}" (login, identity)`);
        if (o.tokenAuth && o.tokenAuth !== 'client_secret_basic' && o.tokenAuth !== 'client_secret_post')
          throw new CliError('--token-auth must be client_secret_basic or client_secret_post');
        const input = {
          name: o.name,
          redirect_uris: o.redirectUri,
          ...(ceremonies ? { ceremonies } : {}),
          ...(o.framework ? { framework: o.framework } : {}),
          ...(o.purpose ? { purpose: o.purpose } : {}),
          ...(o.webhookUrl ? { webhook_url: o.webhookUrl } : {}),
          ...(o.tokenAuth ? { token_endpoint_auth_method: o.tokenAuth } : {}),
          ...(o.clientId ? { client_id: o.clientId } : {}),
        };
        const created = await withPlatformData<Record<string, unknown>>(
          o,
          async (db) => {
            const r = await createRelyingParty(
              { db, masterKey: masterKeyOf(o) },
              {
                name: o.name,
                redirectUris: o.redirectUri,
                ...(ceremonies ? { ceremonies } : {}),
                ...(o.framework ? { framework: o.framework } : {}),
                ...(o.purpose ? { purpose: o.purpose } : {}),
                ...(o.webhookUrl ? { webhookUrl: o.webhookUrl } : {}),
                ...(o.tokenAuth ? { tokenEndpointAuthMethod: o.tokenAuth as 'client_secret_basic' } : {}),
                ...(o.clientId ? { clientId: o.clientId } : {}),
              },
            );
            return { ...publicView(r), client_secret: r.clientSecret, webhook_secret: r.webhookSecret };
          },
          (server) => adminApi(server, 'POST', '/relying-parties', input),
        );
        const { client_id, client_secret, webhook_secret, ...rest } = created;
        if (o.json) printJson({ client_id, client_secret, webhook_secret, ...rest });
        else
          process.stdout.write(
            `client_id      ${String(client_id)}\nclient_secret  ${String(client_secret)}\nwebhook_secret ${String(webhook_secret)}\n(the secrets are shown only now)\n`,
          );
      },
    );

  rp.command('list')
    .description('list relying parties (no secrets)')
    .option('--json', 'print JSON')
    .option(...DATA_DIR_OPTION)
    .option(...DATABASE_URL_OPTION)
    .action(async (o: DataOptions & { json?: boolean }) => {
      const list = await withPlatformData<Record<string, unknown>[]>(
        o,
        async (db) => (await listRelyingParties(db)).map(publicView),
        (server) => adminApi(server, 'GET', '/relying-parties'),
      );
      if (o.json) return printJson(list);
      if (list.length === 0) return void process.stdout.write('no relying parties (add one with `kakunin rp add`)\n');
      for (const r of list)
        process.stdout.write(
          `${String(r.client_id)}  ${String(r.name)}  ${String(r.framework)}  ${(r.ceremonies as string[]).join(',')}  ${(r.redirect_uris as string[]).join(' ')}${r.disabled ? '  (disabled)' : ''}\n`,
        );
    });
}
