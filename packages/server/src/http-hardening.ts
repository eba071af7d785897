// The platform's HTTP edge: whose forwarded headers count (configured proxies only), where URLs come
// from (the public URL, never the request), time and connection limits against slow clients, and
// the security headers of every response, including those oidc-provider writes itself.

import type { Server } from 'node:http';
import { BlockList, isIP } from 'node:net';
import type { FastifyBaseLogger, FastifyHttpOptions, FastifyInstance } from 'fastify';
import type { ServerConfig } from './config.js';

type HttpConfig = Pick<
  ServerConfig,
  | 'trustedProxies'
  | 'requestTimeoutSeconds'
  | 'headersTimeoutSeconds'
  | 'keepAliveTimeoutSeconds'
  | 'maxConnectionsPerAddress'
>;

/** Matches an address (IPv4, IPv6, IPv4-mapped IPv6) against the configured proxies. */
export function proxyMatcher(trusted: readonly string[]): (address: string | undefined) => boolean {
  if (trusted.length === 0) return () => false;
  const list = new BlockList();
  for (const entry of trusted) {
    const [address, prefix] = entry.split('/') as [string, string | undefined];
    const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(prefix), type);
  }
  return (address) => {
    const family = isIP(address ?? '');
    return family !== 0 && list.check(address!, family === 6 ? 'ipv6' : 'ipv4');
  };
}

/**
 * Fastify options: X-Forwarded-For is read (right to left) only while the hop that sent it is a
 * configured proxy, so `req.ip` (logs, failure limits) is the client and never what a client wrote.
 * The request timeout covers receiving a request only: a response in progress (the progress
 * stream) is never cut by it. No idle-socket timeout (fastify connectionTimeout) for the same
 * reason; an idle connection ends by the headers or keep-alive timeout.
 */
export function httpServerOptions(
  config: HttpConfig,
): Pick<
  FastifyHttpOptions<Server>,
  'trustProxy' | 'requestTimeout' | 'keepAliveTimeout' | 'connectionTimeout' | 'http'
> {
  const trusted = proxyMatcher(config.trustedProxies);
  const requestTimeout = config.requestTimeoutSeconds * 1000;
  const headersTimeout = config.headersTimeoutSeconds * 1000;
  return {
    trustProxy: (address: string) => trusted(address),
    requestTimeout,
    keepAliveTimeout: config.keepAliveTimeoutSeconds * 1000,
    connectionTimeout: 0,
    // Node checks the two timeouts on this period (default 30 s, which would let a slow client
    // keep its socket up to 30 s longer than configured).
    http: { requestTimeout, headersTimeout, connectionsCheckingInterval: 1000 },
  };
}

/**
 * At most `maxConnectionsPerAddress` open connections per client address; more are closed at once,
 * before a byte is read. A trusted proxy carries many clients and is not counted.
 */
export function limitConnectionsPerAddress(server: Server, config: HttpConfig, log: FastifyBaseLogger): void {
  const max = config.maxConnectionsPerAddress;
  if (max === 0) return;
  const trusted = proxyMatcher(config.trustedProxies);
  const open = new Map<string, number>();
  // Logged once per address while it stays at the limit, not once per refused socket.
  const warned = new Set<string>();
  server.on('connection', (socket) => {
    const address = socket.remoteAddress;
    if (!address || trusted(address)) return;
    const count = open.get(address) ?? 0;
    if (count >= max) {
      if (!warned.has(address))
        log.warn({ address, limit: max }, 'connection limit per address reached: refusing more connections from it');
      warned.add(address);
      socket.destroy();
      return;
    }
    open.set(address, count + 1);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left > 0) open.set(address, left);
      else open.delete(address);
      warned.delete(address);
    });
  });
}

// Pages may load scripts from this origin only (oidc-provider adds the hash of its form_post script
// to script-src); no form-action: form_post and the consent redirect go to the RP's origin.
const DEFAULT_CSP =
  "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'";

/**
 * Every response: security headers, set on the raw response before anything is written, so that
 * routes which set their own (a page's CSP) override them and those that hijack the response
 * (oidc-provider, progress streams) keep them. And every request reaches oidc-provider (Koa with
 * `proxy = true`) as addressed to the public URL from the client fastify determined: it builds
 * its endpoint URLs and cookies' Secure flag from X-Forwarded-Host/-Proto and reads X-Forwarded-For.
 */
export function secureEveryResponse(app: FastifyInstance, publicUrl: string): void {
  const { host, protocol } = new URL(publicUrl);
  const headers: [string, string][] = [
    ['content-security-policy', DEFAULT_CSP],
    ['x-frame-options', 'DENY'],
    ['x-content-type-options', 'nosniff'],
    // Our paths carry interaction and ceremony ids: other origins see the origin only (an RP
    // still gets it as Origin of a form_post).
    ['referrer-policy', 'strict-origin-when-cross-origin'],
    ...(protocol === 'https:' ? [['strict-transport-security', 'max-age=31536000'] as [string, string]] : []),
  ];
  app.addHook('onRequest', async (req, reply) => {
    for (const [name, value] of headers) reply.raw.setHeader(name, value);
    const forwarded = req.raw.headers;
    const client = req.ip;
    if (client) forwarded['x-forwarded-for'] = client;
    else delete forwarded['x-forwarded-for'];
    forwarded['x-forwarded-host'] = host;
    forwarded['x-forwarded-proto'] = protocol.slice(0, -1);
  });
}
