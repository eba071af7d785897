// The one small HTTP(S) client of the revocation fetchers (OCSP, CRL): node:http over kept-alive
// connections, an idle and a total time limit, and a cap on the response size, so that a slow or
// hostile server can neither hang a verification nor fill the memory.

import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

export interface HttpBytesRequest {
  method: 'GET' | 'POST';
  body?: Uint8Array;
  headers?: Record<string, string | number>;
  /** Idle time on the socket, and (unless `deadlineMs`) the whole exchange. */
  timeoutMs: number;
  /** The whole exchange (default `timeoutMs`); a large CRL needs longer than its idle limit. */
  deadlineMs?: number;
  /** Larger answers are abandoned with an error. */
  maxBytes: number;
  /** What is fetched, for error messages ("OCSP", "CRL"). */
  what: string;
}

/** Sends one request and returns the body of a 200 answer; anything else rejects with a plain message. */
export type HttpBytes = (url: string, request: HttpBytesRequest) => Promise<Uint8Array>;

/** A client with its own kept-alive agents (one per fetcher, so fetchers do not share sockets). */
export function httpBytesClient(): HttpBytes {
  const agents = { 'http:': new HttpAgent({ keepAlive: true }), 'https:': new HttpsAgent({ keepAlive: true }) };
  const send = (url: string, r: HttpBytesRequest, retry: boolean): Promise<Uint8Array> =>
    new Promise<Uint8Array>((resolve, reject) => {
      const target = new URL(url);
      if (target.protocol !== 'http:' && target.protocol !== 'https:')
        return reject(new Error(`unsupported ${r.what} URL scheme ${target.protocol}`));
      const requestFn = target.protocol === 'https:' ? httpsRequest : httpRequest;
      const headers = { ...r.headers, ...(r.body ? { 'content-length': r.body.length } : {}) };
      const req = requestFn(
        target,
        { method: r.method, agent: agents[target.protocol], timeout: r.timeoutMs, headers },
        (res) => {
          if (res.statusCode !== 200) {
            res.resume();
            return reject(new Error(`HTTP ${res.statusCode}`));
          }
          const declared = Number(res.headers['content-length']);
          if (declared > r.maxBytes)
            return req.destroy(new Error(`the ${r.what} response exceeds ${r.maxBytes} bytes`));
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > r.maxBytes) req.destroy(new Error(`the ${r.what} response exceeds ${r.maxBytes} bytes`));
            else chunks.push(chunk);
          });
          res.on('end', () => resolve(new Uint8Array(Buffer.concat(chunks))));
          res.on('error', reject);
        },
      );
      // `timeout` is idle time on the socket; the whole exchange is bounded too.
      const total = r.deadlineMs ?? r.timeoutMs;
      const deadline = setTimeout(
        () => req.destroy(new Error(`${r.what} timeout: no answer within ${total} ms`)),
        total,
      );
      req.on('timeout', () => req.destroy(new Error(`${r.what} timeout: no answer within ${r.timeoutMs} ms`)));
      req.on('error', (e: NodeJS.ErrnoException) => {
        // A kept-alive connection the server closed just as we reused it: once more on a new one.
        if (retry && req.reusedSocket && e.code === 'ECONNRESET') send(url, r, false).then(resolve, reject);
        else reject(e);
      });
      req.on('close', () => clearTimeout(deadline));
      req.end(r.body);
    });
  return (url, r) => send(url, r, true);
}

/** Fetches a CRL's bytes from a URL (throw on transport errors). */
export type CrlFetcher = (url: string) => Promise<Uint8Array>;

/** The biggest CRL accepted: the national CRL is tens of MB (about 35 bytes per revoked certificate). */
export const MAX_CRL_BYTES = 512 * 1024 * 1024;

/** The default CRL fetcher: GET over node:http(s), `timeoutMs` idle, `deadlineMs` in all, `maxBytes` at most. */
export function httpCrlFetcher(o: { timeoutMs?: number; deadlineMs?: number; maxBytes?: number } = {}): CrlFetcher {
  const http = httpBytesClient();
  return (url) =>
    http(url, {
      method: 'GET',
      headers: { accept: 'application/pkix-crl, application/x-pkcs7-crl, */*' },
      timeoutMs: o.timeoutMs ?? 30_000,
      deadlineMs: o.deadlineMs ?? 600_000,
      maxBytes: o.maxBytes ?? MAX_CRL_BYTES,
      what: 'CRL',
    });
}
