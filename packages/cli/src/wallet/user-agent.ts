// The few things of a browser the wallet needs to walk through the platform's authorization pages
// itself (for `kakunin wallet get` without a browser): cookies per origin and redirects it can stop
// at (the redirect to the wallet's own loopback address carries the authorization code).

import { WalletError } from './store.js';

export interface Page {
  url: string;
  status: number;
  body: string;
}

export class UserAgent {
  private readonly cookies = new Map<string, Map<string, string>>();

  private remember(url: URL, res: Response): void {
    const jar = this.cookies.get(url.origin) ?? new Map<string, string>();
    this.cookies.set(url.origin, jar);
    for (const line of res.headers.getSetCookie()) {
      const [pair = '', ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq < 1) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attrs.some((a) => {
        const [k = '', v = ''] = a.split('=').map((x) => x.trim());
        if (k.toLowerCase() === 'max-age') return Number(v) <= 0;
        if (k.toLowerCase() === 'expires') return Date.parse(v) <= Date.now();
        return false;
      });
      if (expired || value === '') jar.delete(name);
      else jar.set(name, value);
    }
  }

  private cookieHeader(url: URL): string | undefined {
    const jar = this.cookies.get(url.origin);
    if (!jar?.size) return undefined;
    return [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  /**
   * Requests `url` and follows redirects (a POST becomes a GET after 302/303) until a page answers,
   * or until a redirect goes to a URL `stopAt` accepts: then that URL is returned as the page's url.
   */
  async go(
    url: string,
    o: { method?: 'GET' | 'POST'; form?: Record<string, string>; stopAt?: (url: URL) => boolean } = {},
  ): Promise<Page> {
    let current = new URL(url);
    let method = o.method ?? 'GET';
    let body: string | undefined = o.form ? new URLSearchParams(o.form).toString() : undefined;
    for (let hops = 0; hops < 20; hops++) {
      const headers: Record<string, string> = { accept: 'text/html,application/json' };
      const cookie = this.cookieHeader(current);
      if (cookie) headers.cookie = cookie;
      if (body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
      let res: Response;
      try {
        res = await fetch(current, { method, headers, redirect: 'manual', ...(body !== undefined ? { body } : {}) });
      } catch (e) {
        throw new WalletError(`cannot reach ${current.origin}: ${(e as Error).message}`);
      }
      this.remember(current, res);
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location) {
        await res.arrayBuffer();
        const next = new URL(location, current);
        if (o.stopAt?.(next)) return { url: next.href, status: res.status, body: '' };
        if (res.status !== 307 && res.status !== 308) {
          method = 'GET';
          body = undefined;
        }
        current = next;
        continue;
      }
      return { url: current.href, status: res.status, body: await res.text() };
    }
    throw new WalletError(`too many redirects from ${url}`);
  }
}

/** Text of an HTML fragment: tags dropped, the few entities our pages use decoded. */
export const htmlText = (fragment: string): string =>
  fragment
    .replace(/<[^>]*>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .trim();
