// `kakunin holder URL`: the holder side of a ceremony (holder protocol v1, docs/holder-protocol.md)
// with a sandbox virtual card (--sim PERSON) or a card in a PC/SC reader. Shows who asks and what is
// signed, asks the PIN (or reads it from standard input), signs on the card, posts the response.

import type { Command } from 'commander';
import { sha256DigestInfo } from '@kakunin/jpki';
import { DEFAULT_SANDBOX_DIR } from '@kakunin/sim';
import { CliError, EXIT, printJson } from '../output.js';
import { askPin, openCard, toCliError, type CardOptions } from './card.js';

interface HolderView {
  protocol: string;
  ceremony_id: string;
  kind: 'login' | 'identity';
  state: string;
  certificate: 'auth' | 'sign';
  rp: { client_id: string; name: string };
  purpose: string;
  statement?: string;
  nonce: string;
  to_be_signed: string;
  expires_at: string;
  response_url: string;
}

interface ErrorBody {
  error?: { code: string; message: string; message_ja?: string };
}

async function getJson(url: string): Promise<{ status: number; body: unknown }> {
  let res: Response;
  try {
    res = await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(15_000) });
  } catch (e) {
    throw new CliError(`cannot reach ${url}: ${(e as Error).cause ? String((e as { cause: Error }).cause.message) : (e as Error).message}`, EXIT.failed);
  }
  return { status: res.status, body: await res.json().catch(() => undefined) };
}

function checkView(v: unknown): HolderView {
  const view = v as Partial<HolderView> | undefined;
  if (!view || view.protocol !== 'kakunin-holder/1') throw new CliError(`this is not a Kakunin holder-protocol v1 ceremony (protocol: ${String(view?.protocol)})`, EXIT.failed);
  for (const k of ['ceremony_id', 'nonce', 'to_be_signed', 'response_url'] as const) if (typeof view[k] !== 'string') throw new CliError(`the ceremony has no ${k}`, EXIT.failed);
  if (view.certificate !== 'auth' && view.certificate !== 'sign') throw new CliError(`unknown certificate kind ${String(view.certificate)}`, EXIT.failed);
  return view as HolderView;
}

export function registerHolderCommand(program: Command): void {
  program
    .command('holder')
    .description('complete the holder side of a ceremony (the link behind the QR code) with a card')
    .argument('<url>', 'holder-protocol URL of the ceremony (…/holder/v1/ceremonies/<id>)')
    .option('--sim <person>', 'use the virtual card of a sandbox resident, e.g. p001')
    .option('--dir <dir>', `sandbox directory for --sim (default ${DEFAULT_SANDBOX_DIR}; for \`kakunin serve --data-dir D\` use D/sim)`)
    .option('--medium <medium>', 'with --sim: card, android or iphone (default card)')
    .option('--reader <name>', 'PC/SC reader (default: the first reader with a card)')
    .option('--wait <seconds>', 'with a PC/SC reader: wait this long for a card')
    .option('--pin-stdin', 'read the PIN or password from one line of standard input (for automation)')
    .option('--json', 'print the outcome as JSON')
    .action(async (url: string, o: CardOptions & { json?: boolean }) => {
      let parsed: URL;
      try {
        parsed = new URL(url);
      } catch {
        throw new CliError(`"${url}" is not a URL`);
      }
      if (!/\/holder\/v1\/ceremonies\/[^/]+$/.test(parsed.pathname)) throw new CliError(`"${url}" is not a holder-protocol ceremony URL (…/holder/v1/ceremonies/<id>)`);
      const got = await getJson(parsed.toString());
      if (got.status !== 200) {
        const err = (got.body as ErrorBody | undefined)?.error;
        throw new CliError(`the platform refused the ceremony: ${err ? `${err.message} (${err.code})` : `HTTP ${got.status}`}`, EXIT.failed);
      }
      const view = checkView(got.body);
      if (view.state !== 'pending') throw new CliError(`ceremony ${view.ceremony_id} is already ${view.state}`, EXIT.failed);
      if (Date.parse(view.expires_at) <= Date.now()) throw new CliError(`ceremony ${view.ceremony_id} expired at ${view.expires_at}`, EXIT.failed);
      // Show the holder who asks and exactly what will be signed, before any PIN is used.
      const info = [
        `${view.kind === 'login' ? 'ログイン / login' : '本人確認 / identity verification'} for ${view.rp.name} (${view.rp.client_id})`,
        `purpose: ${view.purpose}`,
        ...(view.statement ? ['text to be signed:', ...view.statement.split('\n').map((l) => `  ${l}`)] : []),
        `key: ${view.certificate === 'auth' ? 'user authentication (4-digit PIN)' : 'signing (password)'}`,
      ];
      process.stderr.write(`${info.join('\n')}\n`);

      const toBeSigned = Buffer.from(view.to_be_signed, 'base64url');
      let certificate: Uint8Array;
      let signature: Uint8Array;
      const opened = await openCard(o).catch((e: unknown) => {
        throw toCliError(e);
      });
      try {
        const pin = await askPin(view.certificate, o);
        const digestInfo = sha256DigestInfo(toBeSigned);
        if (view.certificate === 'auth') {
          signature = await opened.card.signWithAuthKey(pin, digestInfo);
          certificate = await opened.card.readAuthCertificate(pin);
        } else {
          signature = await opened.card.signWithSignKey(pin, digestInfo);
          certificate = await opened.card.readSignCertificate(pin);
        }
      } catch (e) {
        throw toCliError(e);
      } finally {
        await opened.close().catch(() => undefined);
      }

      let res: Response;
      try {
        res = await fetch(view.response_url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json' },
          body: JSON.stringify({ nonce: view.nonce, certificate: Buffer.from(certificate).toString('base64'), signature: Buffer.from(signature).toString('base64') }),
          signal: AbortSignal.timeout(30_000),
        });
      } catch (e) {
        throw new CliError(`cannot post the response to ${view.response_url}: ${(e as Error).message}`, EXIT.failed);
      }
      const body = (await res.json().catch(() => ({}))) as ErrorBody & { state?: string };
      if (!res.ok) {
        const err = body.error;
        if (o.json) printJson({ ceremony_id: view.ceremony_id, state: 'failed', error: err ?? { code: `HTTP_${res.status}`, message: `HTTP ${res.status}` } });
        throw new CliError(`the platform rejected the response: ${err ? `${err.message} (${err.code})` : `HTTP ${res.status}`}`, EXIT.failed);
      }
      if (o.json) printJson({ ceremony_id: view.ceremony_id, state: body.state ?? 'completed', kind: view.kind, rp: view.rp });
      else process.stdout.write(`OK: ceremony ${view.ceremony_id} ${body.state ?? 'completed'} — return to the page of ${view.rp.name}\n`);
    });
}
