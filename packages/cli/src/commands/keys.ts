// `kakunin keys …`: the ID token signing keys and the master key that seals the platform's secrets.
// They work on the database directly: servers read their keys when they start, so a running server
// that holds the embedded database has to be stopped first (PostgreSQL: restart the servers after).

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import {
  MasterKey,
  listSigningKeys,
  retireSigningKey,
  rotateMasterKey,
  rotateSigningKey,
  type Database,
  type KeyRing,
  type SigningKeyInfo,
} from '@kakunin/server/data';
import { CliError, EXIT, printJson } from '../output.js';
import {
  DATABASE_URL_OPTION,
  DATA_DIR_OPTION,
  masterKeyOf,
  withPlatformData,
  type DataOptions,
} from '../platform-data.js';

type Options = DataOptions & { json?: boolean; credential?: boolean };

/** --credential: the digital ID credential's ES256 keys (/.well-known/jwt-vc-issuer) instead of the ID token keys. */
const ringOf = (o: Options): KeyRing => (o.credential ? 'credential' : 'idToken');

/** Runs on the database itself; a server holding the embedded one must be stopped (it reads keys at start). */
function direct<T>(o: DataOptions, run: (db: Database) => Promise<T>): Promise<T> {
  return withPlatformData(o, run, (server) => {
    throw new CliError(
      `the server at ${server.url} (pid ${server.pid}) holds the embedded database: stop it, run this again, then start it (keys are read at start)`,
      EXIT.failed,
    );
  });
}

function printKeys(keys: SigningKeyInfo[], o: Options): void {
  if (o.json) return printJson(keys);
  for (const k of keys) process.stdout.write(`${k.kid}  ${k.createdAt}  ${k.signing ? 'signing' : 'published'}\n`);
}

export function registerKeysCommands(program: Command): void {
  const keys = program.command('keys').description('ID token signing keys and the master key (see docs/security.md)');
  const common = (c: Command): Command =>
    c
      .option('--json', 'print JSON')
      .option(
        '--credential',
        "the digital ID credential's signing keys (/.well-known/jwt-vc-issuer), not the ID token keys",
      )
      .option(...DATA_DIR_OPTION)
      .option(...DATABASE_URL_OPTION);

  common(keys.command('list').description('the signing keys published in /jwks (the first signs)')).action(
    async (o: Options) => printKeys(await direct(o, (db) => listSigningKeys(db, masterKeyOf(o), ringOf(o))), o),
  );

  common(
    keys
      .command('rotate')
      .description(
        'add a new signing key: servers sign with it from their next start and keep publishing the older ones',
      ),
  ).action(async (o: Options) => {
    printKeys(await direct(o, (db) => rotateSigningKey(db, masterKeyOf(o), ringOf(o))), o);
    if (!o.json)
      process.stderr.write(
        o.credential
          ? 'restart the servers to sign new credentials with the new key; retiring the old one makes the credentials it signed unverifiable (they expire with their certificates)\n'
          : 'restart the servers to sign with the new key; retire the old one once the ID tokens it signed have expired (kakunin keys retire <kid>)\n',
      );
  });

  common(
    keys
      .command('retire')
      .argument('<kid>', 'an older signing key')
      .description('stop publishing an older signing key (tokens it signed no longer verify)'),
  ).action(async (kid: string, o: Options) =>
    printKeys(await direct(o, (db) => retireSigningKey(db, masterKeyOf(o), kid, ringOf(o))), o),
  );

  keys
    .command('new-master-key')
    .description('print a new random master key (for KAKUNIN_MASTER_KEY or a key file)')
    .action(() => void process.stdout.write(`${MasterKey.generate().export()}\n`));

  common(
    keys
      .command('rotate-master')
      .description('re-seal every secret in the database under a new master key (stop the servers first)')
      .requiredOption('--new-key-file <file>', 'the new master key; created (0600) when the file does not exist'),
  ).action(async (o: Options & { newKeyFile: string }) => {
    const file = resolve(o.newKeyFile);
    const from = masterKeyOf(o);
    let to: MasterKey;
    if (existsSync(file)) to = MasterKey.parse(readFileSync(file, 'utf8'), file);
    else {
      to = MasterKey.generate();
      writeFileSync(file, `${to.export()}\n`, { mode: 0o600, flag: 'wx' });
    }
    if (to.id === from.id) throw new CliError(`${file} holds the current master key`, EXIT.usage);
    const { resealed } = await direct(o, (db) => rotateMasterKey(db, from, to));
    if (o.json) printJson({ resealed, from: from.id, to: to.id, file });
    else
      process.stdout.write(
        `re-sealed ${resealed} secrets under master key ${to.id}; start the servers with KAKUNIN_MASTER_KEY_FILE=${file} (or move it to DATA_DIR/master-key)\n`,
      );
  });
}
