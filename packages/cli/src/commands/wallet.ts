// `kakunin wallet …`: the reference wallet for the digital ID credential (OpenID4VCI issuance of an
// SD-JWT VC, OpenID4VP presentation). Credentials and their holder keys live in a local directory,
// encrypted at rest (wallet/store.ts).

import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { CliError, EXIT, printJson } from '../output.js';
import { cardChoiceOptions, readStdinLine, stdinHasLines, type CardOptions } from './card.js';
import { holderSide } from './holder.js';
import {
  PRE_AUTHORIZED_GRANT,
  authorizeWithCard,
  codeGrant,
  discoverIssuer,
  readOffer,
  receiveCredential,
  requestToken,
  type Consent,
} from '../wallet/issuance.js';
import { authorizeInBrowser } from '../wallet/loopback.js';
import { PASSPHRASE_ENV, Wallet, WalletError, nextCopy, type StoredCredential } from '../wallet/store.js';
import { chooseCredentials, disclosureSummary, present, resolveRequest } from '../wallet/presentation.js';

const DEFAULT_WALLET_DIR = '.kakunin-wallet';

interface WalletOptions {
  wallet?: string;
  json?: boolean;
}

const openWallet = (o: WalletOptions, create = true): Wallet =>
  Wallet.open(o.wallet ?? DEFAULT_WALLET_DIR, process.env[PASSPHRASE_ENV], create);

const asCliError = (e: unknown): unknown => (e instanceof WalletError ? new CliError(e.message, EXIT.failed) : e);

async function ask(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await rl.question(question);
  } finally {
    rl.close();
  }
}

/** Prints the platform's consent; agrees with --yes, else asks (the terminal, or the next line of standard input). */
async function consentStep(c: Consent, yes: boolean | undefined): Promise<boolean> {
  process.stderr.write(
    `${c.rpName} will put into your credential (the platform's consent):\n${c.items.map((i) => `  - ${i}`).join('\n')}\n`,
  );
  if (yes) {
    process.stderr.write('consent: yes (--yes)\n');
    return true;
  }
  const agreed = (answer: string | undefined): boolean => /^(y|yes|はい)$/i.test((answer ?? '').trim());
  if (!process.stdin.isTTY) {
    process.stderr.write('Agree? [y/N] ');
    const answer = await readStdinLine();
    process.stderr.write(`${answer ?? ''}\n`);
    return agreed(answer);
  }
  return agreed(await ask('Agree? [y/N] '));
}

function summary(c: StoredCredential): string {
  const claims = c.claims as { name?: string; birthdate?: string; address?: { prefecture_code?: string } };
  return `${c.id}: ${c.vct} from ${c.issuer} — ${claims.name ?? '?'} (${claims.birthdate ?? '?'})${c.expires_at ? `, valid until ${c.expires_at}` : ''}`;
}

function saved(wallet: Wallet, c: StoredCredential, json: boolean | undefined): void {
  wallet.save(c);
  if (json) printJson({ id: c.id, issuer: c.issuer, vct: c.vct, expires_at: c.expires_at ?? null, claims: c.claims });
  else process.stdout.write(`OK: credential saved in ${wallet.dir}\n${summary(c)}\n`);
}

export function registerWalletCommands(program: Command): void {
  const wallet = program
    .command('wallet')
    .description('the reference wallet of the digital ID credential (OpenID4VCI / SD-JWT VC / OpenID4VP)');
  const walletOption = `wallet directory (default ./${DEFAULT_WALLET_DIR}); encrypted at rest, see KAKUNIN_WALLET_PASSPHRASE`;

  cardChoiceOptions(
    wallet
      .command('get')
      .description('obtain a credential: sign in with the card at the issuer (authorization code flow)')
      .requiredOption('--issuer <url>', 'credential issuer (the platform base URL)')
      .option('--wallet <dir>', walletOption),
  )
    .option('--pin-stdin', 'read the signing password from one line of standard input (for automation)')
    .option('--yes', "accept the platform's consent without asking (it is printed)")
    .option('--lang <lang>', 'language of the pages: ja or en (default ja)')
    .option(
      '--browser',
      'sign in in your own browser instead (the URL is printed; the card through a phone or the local agent, the consent on the page); the browser comes back to this command on 127.0.0.1',
    )
    .option('--json', 'print the credential received as JSON')
    .action(
      async (o: CardOptions & WalletOptions & { issuer: string; yes?: boolean; lang?: string; browser?: boolean }) => {
        try {
          const lang = o.lang === 'en' ? 'en' : 'ja';
          if (o.browser) {
            const w = openWallet(o);
            const info = await discoverIssuer(o.issuer);
            const flow = await authorizeInBrowser(info, { lang });
            process.stderr.write(`open this address in your browser to sign in with your card:\n${flow.url}\n`);
            const { code, verifier, redirectUri } = await flow.result;
            const token = await requestToken(info, codeGrant(code, verifier, redirectUri));
            return saved(w, await receiveCredential(info, token), o.json);
          }
          // Before the card signs: without a terminal, the answer to the consent must already be on
          // standard input (the line after the password), or nobody could give it at the end.
          if (!o.yes && !process.stdin.isTTY && !(o.pinStdin && (await stdinHasLines(2))))
            throw new CliError(
              'the platform will ask for your consent and standard input is not a terminal: pass --yes to accept it, or give the answer (yes) on the line after the password (nothing was done)',
            );
          const w = openWallet(o);
          const info = await discoverIssuer(o.issuer);
          const { code, verifier } = await authorizeWithCard(info, {
            holder: async (url) => {
              await holderSide(url, o);
            },
            consent: (c) => consentStep(c, o.yes),
            lang,
          });
          const token = await requestToken(info, codeGrant(code, verifier));
          saved(w, await receiveCredential(info, token), o.json);
        } catch (e) {
          throw asCliError(e);
        }
      },
    );

  wallet
    .command('accept')
    .description('obtain a credential from a credential offer (QR code or link, pre-authorized code)')
    .argument('<offer>', 'openid-credential-offer://… link (or the offer JSON)')
    .option('--wallet <dir>', walletOption)
    .option('--tx-code <code>', 'the transaction code the offer asks for, if any')
    .option('--json', 'print the credential received as JSON')
    .action(async (offerText: string, o: WalletOptions & { txCode?: string }) => {
      try {
        const w = openWallet(o);
        const offer = await readOffer(offerText);
        const grant = offer.grants?.[PRE_AUTHORIZED_GRANT];
        if (!grant)
          throw new CliError(
            'this offer has no pre-authorized code: use `kakunin wallet get --issuer` for the authorization code flow',
          );
        if (grant.tx_code && !o.txCode)
          throw new CliError(
            `this offer needs a transaction code${grant.tx_code.description ? ` (${grant.tx_code.description})` : ''}: pass --tx-code`,
          );
        const info = await discoverIssuer(offer.credential_issuer, offer.credential_configuration_ids[0]);
        const token = await requestToken(info, {
          grant_type: PRE_AUTHORIZED_GRANT,
          'pre-authorized_code': grant['pre-authorized_code'],
          ...(o.txCode ? { tx_code: o.txCode } : {}),
        });
        saved(w, await receiveCredential(info, token), o.json);
      } catch (e) {
        throw asCliError(e);
      }
    });

  wallet
    .command('list')
    .description('the credentials in the wallet')
    .option('--wallet <dir>', walletOption)
    .option('--json', 'print them as JSON (with the compact SD-JWT of each in sd_jwt)')
    .action((o: WalletOptions) => {
      try {
        const list = openWallet(o, false).list();
        if (o.json)
          printJson(
            list.map((c) => ({
              id: c.id,
              issuer: c.issuer,
              format: c.format,
              vct: c.vct,
              received_at: c.received_at,
              expires_at: c.expires_at ?? null,
              claims: c.claims,
              sd_jwt: c.sd_jwt,
              copies: c.copies?.length ?? 1,
              presented: c.presented ?? 0,
            })),
          );
        else if (list.length === 0) process.stdout.write('no credentials\n');
        else for (const c of list) process.stdout.write(`${summary(c)}\n`);
      } catch (e) {
        throw asCliError(e);
      }
    });

  wallet
    .command('present')
    .description('answer a verifier: OpenID4VP request (QR code or link) → only the asked claims, key bound')
    .argument('<request>', 'openid4vp://?… link (or an https link with the same query)')
    .option('--wallet <dir>', walletOption)
    .option('--credential <id>', 'present this credential (default: the first valid one that answers)')
    .option('--yes', 'present without asking (what is disclosed, and to whom, is still printed)')
    .option('--json', 'print the outcome as JSON (redirect_uri, what was disclosed)')
    .action(async (text: string, o: WalletOptions & { credential?: string; yes?: boolean }) => {
      try {
        const w = openWallet(o, false);
        const request = await resolveRequest(text);
        const answers = chooseCredentials(request, w.list(), o.credential ? { credentialId: o.credential } : {});
        process.stderr.write(`${disclosureSummary(request, answers)}\n`);
        for (const a of answers)
          if (nextCopy(a.credential).reused)
            process.stderr.write(
              `every copy of ${a.credential.id} has been shown once: this presentation can be linked to an earlier one (kakunin wallet get gives fresh copies)\n`,
            );
        if (o.yes) process.stderr.write('present: yes (--yes)\n');
        else {
          if (!process.stdin.isTTY)
            throw new CliError('the holder must agree: run in a terminal to answer, or pass --yes', EXIT.failed);
          if (!/^(y|yes|はい)$/i.test((await ask('Present? [y/N] ')).trim()))
            throw new CliError('not presented (declined)', EXIT.failed);
        }
        const done = await present(request, answers);
        // The next presentation shows the next copy.
        for (const a of answers) w.save({ ...a.credential, presented: (a.credential.presented ?? 0) + 1 });
        if (o.json)
          printJson({ client_id: request.clientId, redirect_uri: done.redirectUri ?? null, disclosed: done.disclosed });
        else
          process.stdout.write(
            `OK: presented to ${request.clientId}\n${done.redirectUri ? `redirect_uri: ${done.redirectUri}\n` : ''}`,
          );
      } catch (e) {
        throw asCliError(e);
      }
    });
}
