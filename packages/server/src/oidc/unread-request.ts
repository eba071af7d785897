// oidc-provider reads a request's body itself. Here fastify has read it first (client-auth.ts needs
// the token request's form, and may rewrite it); given such a request oidc-provider falls back to
// `req.body` but prints a warning on the process's console. So it is handed a view of the request
// whose body reads again, exactly what oidc-provider would have read had it been mounted alone.

import type { IncomingMessage } from 'node:http';

/**
 * The request with `body` (a form string, or a JSON value) to be read again; headers, socket and
 * every other property are the request's own. Without a body, the request itself.
 */
export function unreadRequest(raw: IncomingMessage, body: unknown): IncomingMessage {
  if (body === undefined) return raw;
  const bytes = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  // The body may have been rewritten (client-auth.ts): its length is the one oidc-provider checks.
  const headers = { ...raw.headers, 'content-length': String(bytes.length) };
  async function* iterator(): AsyncGenerator<Buffer> {
    yield bytes;
  }
  return new Proxy(raw, {
    get(target, key) {
      if (key === 'readable') return true;
      if (key === 'headers') return headers;
      if (key === 'iterator') return iterator;
      const value: unknown = Reflect.get(target, key, target);
      // Methods run on the request itself, so its state (listeners, stream state) stays in one place.
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
