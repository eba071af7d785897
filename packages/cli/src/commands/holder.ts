// `kakunin holder URL`: the holder side of a ceremony (holder protocol v1, docs/holder-protocol.md)
// with a sandbox virtual card (--sim PERSON) or a card in a PC/SC reader. Shows who asks and what is
// signed, asks the PIN (or reads it from standard input), signs on the card, posts the response.
// The protocol itself is @kakunin/agent's holder client (shared with `kakunin agent`).

import type { Command } from 'commander';
import {
  completeCeremony,
  fetchCeremony,
  InvalidHolderUrl,
  isHolderError,
  PlatformRejected,
  reportCardError,
  type HolderView,
} from '@kakunin/agent';
import { CliError, EXIT, printJson } from '../output.js';
import { askPin, cardChoiceOptions, openCard, toCliError, type CardOptions } from './card.js';

/** Holder-client errors → one line, exit 1 (2 for a URL that is not a ceremony link). */
function holderCliError(e: unknown): unknown {
  if (e instanceof InvalidHolderUrl) return new CliError(e.message, EXIT.usage);
  if (e instanceof PlatformRejected) {
    const what = e.step === 'response' ? 'the platform rejected the response' : 'the platform refused the ceremony';
    return new CliError(`${what}: ${e.describe()}`, EXIT.failed);
  }
  if (isHolderError(e)) return new CliError(e.message, EXIT.failed);
  return toCliError(e);
}

export function registerHolderCommand(program: Command): void {
  cardChoiceOptions(
    program
      .command('holder')
      .description('complete the holder side of a ceremony (the link behind the QR code) with a card')
      .argument('<url>', 'holder-protocol URL of the ceremony (…/holder/v1/ceremonies/<id>)'),
  )
    .option('--wait <seconds>', 'with a PC/SC reader: wait this long for a card')
    .option('--pin-stdin', 'read the PIN or password from one line of standard input (for automation)')
    .option('--json', 'print the outcome as JSON')
    .action(async (url: string, o: CardOptions & { json?: boolean }) => {
      const { view, result } = await holderSide(url, o, (e, view) => {
        if (e instanceof PlatformRejected && e.step === 'response' && o.json) {
          printJson({
            ceremony_id: view.ceremony_id,
            state: 'failed',
            error: e.platformError ?? { code: e.code, message: e.message },
          });
        }
      });
      if (o.json) printJson({ ceremony_id: view.ceremony_id, state: result.state, kind: view.kind, rp: view.rp });
      else
        process.stdout.write(
          `OK: ceremony ${view.ceremony_id} ${result.state} — return to the page of ${view.rp.name}\n`,
        );
    });
}

/**
 * The holder side of one ceremony: shows who asks and what is signed (standard error), opens the
 * card, asks the PIN, signs and posts the response. Shared by `kakunin holder` and `kakunin wallet get`.
 * `onRejected` sees a platform refusal before it becomes a CLI error.
 */
export async function holderSide(
  url: string,
  o: CardOptions,
  onRejected?: (e: unknown, view: HolderView) => void,
): Promise<{ view: HolderView; result: Awaited<ReturnType<typeof completeCeremony>> }> {
  let view: HolderView;
  try {
    view = await fetchCeremony(url);
  } catch (e) {
    throw holderCliError(e);
  }
  // Show the holder who asks and exactly what will be signed, before any PIN is used.
  const info = [
    `${view.kind === 'login' ? 'ログイン / login' : '本人確認 / identity verification'} for ${view.rp.name} (${view.rp.client_id})`,
    `purpose: ${view.purpose}`,
    ...(view.statement ? ['text to be signed:', ...view.statement.split('\n').map((l) => `  ${l}`)] : []),
    `key: ${view.certificate === 'auth' ? 'user authentication (4-digit PIN)' : 'signing (password)'}`,
  ];
  process.stderr.write(`${info.join('\n')}\n`);

  let opened: Awaited<ReturnType<typeof openCard>>;
  try {
    opened = await openCard(o);
  } catch (e) {
    await reportCardError(view, e); // e.g. READER_NOT_FOUND on the ceremony page
    throw toCliError(e);
  }
  try {
    const pin = await askPin(view.certificate, o);
    return { view, result: await completeCeremony(view, opened.card, pin) };
  } catch (e) {
    onRejected?.(e, view);
    throw holderCliError(e);
  } finally {
    await opened.close().catch(() => undefined);
  }
}
