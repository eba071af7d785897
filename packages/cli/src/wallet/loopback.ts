// The authorization code flow as a native app does it (RFC 8252): the holder's own browser shows the
// platform's pages (the ceremony with a phone or the local agent, the consent) and comes back to a
// one-shot listener on 127.0.0.1 (any port: the platform's wallet client allows it), which takes the
// code and tells the browser to go back to the terminal.

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { authorizationRequest, type IssuerInfo } from './issuance.js';
import { WalletError } from './store.js';

const PAGE = (ok: boolean, text: string): string =>
  `<!doctype html><html lang="ja"><meta charset="utf-8"><title>Kakunin wallet</title><body><h1 id="${ok ? 'wallet-done' : 'wallet-error'}">${ok ? 'ウォレットに戻ってください / Return to your wallet' : 'エラー / Error'}</h1><p>${text.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`)}</p></body></html>`;

/**
 * Starts the flow: returns the URL to open in a browser and a promise of the code (and the PKCE
 * verifier) that settles when the browser comes back, or after `timeoutMs`.
 */
export async function authorizeInBrowser(
  info: IssuerInfo,
  o: { lang?: 'ja' | 'en'; timeoutMs?: number } = {},
): Promise<{ url: string; result: Promise<{ code: string; verifier: string; redirectUri: string }> }> {
  let settle!: (r: { code: string } | Error) => void;
  const outcome = new Promise<{ code: string } | Error>((resolve) => (settle = resolve));
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/callback') return void res.writeHead(404).end();
    const send = (ok: boolean, text: string): void =>
      void res.writeHead(ok ? 200 : 400, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE(ok, text));
    if (url.searchParams.get('state') !== state) return send(false, 'this answer belongs to another request');
    const error = url.searchParams.get('error');
    if (error) {
      send(false, `${error} ${url.searchParams.get('error_description') ?? ''}`);
      return settle(
        new WalletError(`authorization refused: ${error} ${url.searchParams.get('error_description') ?? ''}`.trim()),
      );
    }
    const code = url.searchParams.get('code');
    if (!code) return send(false, 'no code');
    send(true, 'the credential is being issued to your wallet');
    settle({ code });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const redirectUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`;
  let request: ReturnType<typeof authorizationRequest>;
  try {
    request = authorizationRequest(info, { redirectUri, lang: o.lang });
  } catch (e) {
    server.close();
    throw e;
  }
  const { url, verifier, state } = request;
  const timer = setTimeout(
    () => settle(new WalletError('the browser did not come back in time (no authorization answer)')),
    o.timeoutMs ?? 600_000,
  );
  const result = outcome.then((r) => {
    clearTimeout(timer);
    server.close();
    if (r instanceof Error) throw r;
    return { code: r.code, verifier, redirectUri };
  });
  return { url, result };
}
