// `npm run load`, the client side of HTTP. It shares the cores with the servers, so it costs as
// little as it can: kept-alive node:http, no fetch, except inside openid-client (token, userinfo).

import { Agent, request, type IncomingHttpHeaders } from 'node:http';

export const agent = new Agent({ keepAlive: true, maxSockets: 2048 });

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One request; the body is read only when `read` (a 200 of the holder protocol is not). */
export function send(
  url: string,
  o: { method?: string; headers?: Record<string, string>; body?: string; read?: boolean } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...o.headers };
    if (o.body !== undefined) headers['content-length'] = Buffer.byteLength(o.body);
    const req = request(url, { method: o.method ?? 'GET', agent, headers }, (res) => {
      const status = res.statusCode ?? 0;
      if (o.read === false && status === 200) {
        res.resume();
        res.once('end', () => resolve({ status, headers: res.headers, body: '' }));
        return;
      }
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.once('end', () => resolve({ status, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.once('error', reject);
    });
    req.once('error', reject);
    req.end(o.body);
  });
}

/** The error code and message of a failed API answer, or its first 200 characters. */
export function errorOf(a: Answer): string {
  try {
    const e = (
      JSON.parse(a.body) as { error?: { code?: string; message?: string } | string; error_description?: string }
    ).error;
    if (typeof e === 'string') return e;
    if (e?.code) return `${e.code}: ${e.message ?? ''}`;
  } catch {
    // not JSON: the text
  }
  return `${a.status} ${a.body.replace(/\s+/g, ' ').slice(0, 200)}`;
}

/**
 * Several servers behind one public URL: `route` sends a URL of the public origin (or of any
 * server) to the next server, round robin, as a load balancer in front of them would.
 */
export class Origins {
  private readonly origins: string[];
  private readonly ours: Set<string>;
  private n = 0;
  readonly publicUrl: string;

  constructor(publicUrl: string, urls: string[]) {
    this.publicUrl = publicUrl;
    this.origins = urls.map((u) => new URL(u).origin);
    this.ours = new Set([new URL(publicUrl).origin, ...this.origins]);
  }

  /** The next server's origin. */
  next(): string {
    return this.origins[this.n++ % this.origins.length]!;
  }

  route(url: string): string {
    const u = new URL(url);
    if (!this.ours.has(u.origin)) return url;
    return `${this.next()}${u.pathname}${u.search}`;
  }

  isOurs(url: string): boolean {
    return this.ours.has(new URL(url).origin);
  }
}

/** A minimal browser: one cookie jar, manual redirects, form posts; every request routed. */
export class Browser {
  private readonly cookies = new Map<string, string>();
  private readonly origins: Origins;

  constructor(origins: Origins) {
    this.origins = origins;
  }

  private store(headers: IncomingHttpHeaders): void {
    for (const c of headers['set-cookie'] ?? []) {
      const [pair] = c.split(';');
      const i = pair!.indexOf('=');
      const name = pair!.slice(0, i).trim();
      const value = pair!.slice(i + 1);
      if (/expires=Thu, 01 Jan 1970/i.test(c) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  async request(
    url: string,
    o: { method?: string; form?: Record<string, string>; json?: unknown } = {},
  ): Promise<Answer> {
    const headers: Record<string, string> = {};
    if (this.cookies.size > 0) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    let body: string | undefined;
    if (o.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(o.form).toString();
    } else if (o.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(o.json);
    }
    const answer = await send(this.origins.route(url), {
      method: o.method ?? (body === undefined ? 'GET' : 'POST'),
      headers,
      ...(body !== undefined ? { body } : {}),
    });
    this.store(answer.headers);
    return answer;
  }

  /** Follows redirects until a page or a URL outside the platform (returned without fetching it). */
  async go(
    url: string,
    o: { method?: string; form?: Record<string, string> } = {},
  ): Promise<{ url: string; status: number; body: string; external: boolean }> {
    let current = url;
    let res = await this.request(current, o);
    for (let hops = 0; hops < 20; hops++) {
      const location = res.headers.location;
      if (res.status < 300 || res.status >= 400 || !location) break;
      current = new URL(location, current).toString();
      if (!this.origins.isOurs(current)) return { url: current, status: res.status, body: '', external: true };
      res = await this.request(current);
    }
    return { url: current, status: res.status, body: res.body, external: false };
  }
}
