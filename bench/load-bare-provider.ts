// `npm run load`, the comparison for the OIDC login: the bare oidc-provider — the very package and
// version the platform uses (resolved from packages/server) — in a process of its own, with the
// platform's provider settings that shape a login (code flow, PKCE required, pairwise subjects,
// the claims parameter, userinfo, RS256 ID tokens, signed cookies, a consent per authorization) and a
// trivial login: the interaction page is a form whose POST logs the user in at once (no ceremony,
// no database: the provider's in-memory storage). Started by load-oidc.ts with process.execPath; its
// first line on standard output is its URL. Configuration in the environment: LOAD_BARE_CLIENT,
// JSON { client_id, client_secret, redirect_uri }.

import { createHmac, generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import type * as OidcProvider from 'oidc-provider';

// Standard output carries the URL only (oidc-provider writes its notices with console.info). Its
// warning about in-memory storage is moot here: that storage is part of what "bare" means.
console.info = (...args: unknown[]): void => console.error(...args);
const warn = console.warn;
console.warn = (...args: unknown[]): void => {
  if (!String(args[0]).includes('development-only in-memory adapter')) warn(...args);
};

const require = createRequire(new URL('../packages/server/package.json', import.meta.url));
const { default: Provider } = (await import(
  pathToFileURL(require.resolve('oidc-provider')).href
)) as typeof OidcProvider;

const client = JSON.parse(process.env.LOAD_BARE_CLIENT ?? '{}') as {
  client_id: string;
  client_secret: string;
  redirect_uri: string;
};
if (!client.client_id || !client.client_secret || !client.redirect_uri)
  throw new Error('LOAD_BARE_CLIENT: { client_id, client_secret, redirect_uri } expected');

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = {
  ...(privateKey.export({ format: 'jwk' }) as Record<string, unknown>),
  kid: 'bare-1',
  use: 'sig',
  alg: 'RS256',
};
const pairwiseSalt = randomBytes(32);

const server = createServer();
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${(server.address() as { port: number }).port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: client.client_id,
      client_secret: client.client_secret,
      redirect_uris: [client.redirect_uri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      subject_type: 'pairwise',
    },
  ],
  scopes: ['openid'],
  claims: { acr: null, amr: null, auth_time: null, sid: null, openid: ['sub'] },
  subjectTypes: ['pairwise'],
  pairwiseIdentifier: async (_ctx, accountId, c) =>
    createHmac('sha256', pairwiseSalt).update(`${c.clientId}\n${accountId}`).digest('base64url'),
  pkce: { required: () => true },
  responseTypes: ['code'],
  features: {
    claimsParameter: { enabled: true },
    devInteractions: { enabled: false },
    userinfo: { enabled: true },
    revocation: { enabled: true },
    rpInitiatedLogout: { enabled: false },
  },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  cookies: { keys: [randomBytes(32).toString('base64url')], long: { signed: true }, short: { signed: true } },
  jwks: { keys: [jwk as never] },
  ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 1800, Session: 1800, Grant: 1800 },
  findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
  // As the platform: never reuse an earlier grant, every authorization gets its own consent.
  loadExistingGrant: async (ctx) => {
    const grantId = ctx.oidc.result?.consent?.grantId;
    return grantId ? ctx.oidc.provider.Grant.find(grantId) : undefined;
  },
});

const page = (res: ServerResponse, body: string): void => {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(`<!doctype html><html><body>${body}</body></html>`);
};
const drain = (req: IncomingMessage): Promise<void> => new Promise((resolve) => req.resume().once('end', resolve));

let accounts = 0;
async function interaction(
  req: IncomingMessage,
  res: ServerResponse,
  uid: string,
  action: string | undefined,
): Promise<void> {
  const d = await provider.interactionDetails(req, res);
  if (!action && req.method === 'GET') {
    return d.prompt.name === 'login'
      ? page(res, `<form method="post" action="/interaction/${uid}/login"><button>Log in</button></form>`)
      : page(res, `<form method="post" action="/interaction/${uid}/consent"><button>Allow</button></form>`);
  }
  await drain(req);
  if (action === 'login' && req.method === 'POST' && d.prompt.name === 'login') {
    return provider.interactionFinished(
      req,
      res,
      { login: { accountId: `user-${accounts++ % 1000}` } },
      { mergeWithLastSubmission: false },
    );
  }
  if (action === 'consent' && req.method === 'POST' && d.prompt.name === 'consent') {
    const accountId = d.session!.accountId;
    const grant = new provider.Grant({ accountId, clientId: String(d.params.client_id) });
    const missing = d.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[] };
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    const grantId = await grant.save();
    return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }
  res.writeHead(400).end('unexpected interaction step');
}

const oidc = provider.callback();
server.on('request', (req: IncomingMessage, res: ServerResponse) => {
  const m = /^\/interaction\/([^/?]+)(?:\/(login|consent))?(?:\?|$)/.exec(req.url ?? '');
  if (!m) return void oidc(req, res);
  interaction(req, res, m[1]!, m[2]).catch((e: Error) => {
    if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
    res.end(`interaction failed: ${e.message}`);
  });
});
server.keepAliveTimeout = 60_000;

process.stdout.write(`${issuer}\n`);
const stop = (): void => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
