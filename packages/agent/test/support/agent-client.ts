// What the platform's ceremony page and the browser do with the agent, without a browser: the page's
// POST /v1/ceremonies (from the platform's origin), then the agent's confirmation page and its form.

import { expect } from 'vitest';
import { holderLinkOf, type Flow } from '@kakunin/server/testing';

export interface Confirmation {
  confirmUrl: string;
  holderUrl: string;
  returnUrl: string;
  ceremonyId: string;
}

/** The ceremony page's same-device button: asks the agent for a confirmation URL. */
export async function openConfirmation(
  agentUrl: string,
  platformUrl: string,
  flow: Flow,
  lang: 'ja' | 'en' = 'ja',
): Promise<Confirmation> {
  const holderUrl = holderLinkOf(flow.page.body);
  const page = new URL(flow.page.url);
  const returnUrl = `${page.origin}${page.pathname}?lang=${lang}`;
  const res = await fetch(`${agentUrl}/v1/ceremonies`, {
    method: 'POST',
    headers: { origin: platformUrl, 'content-type': 'application/json' },
    body: JSON.stringify({ holder_url: holderUrl, return_url: returnUrl }),
  });
  expect(res.status).toBe(201);
  expect(res.headers.get('access-control-allow-origin')).toBe(platformUrl);
  const { confirm_url: confirmUrl } = (await res.json()) as { confirm_url: string };
  expect(confirmUrl).toMatch(new RegExp(`^${agentUrl.replace(/[.]/g, '\\.')}/confirm/[A-Za-z0-9_-]{43}$`));
  return { confirmUrl, holderUrl, returnUrl, ceremonyId: /\/ceremonies\/([^/]+)$/.exec(holderUrl)![1]! };
}

export const formKeyOf = (html: string): string => {
  const m = /name="form_key" value="([^"]+)"/.exec(html);
  if (!m) throw new Error('the page has no form');
  return m[1]!;
};

/** The browser submitting the agent's form (Origin `null`: the page's Referrer-Policy is no-referrer). */
export async function submit(
  confirmUrl: string,
  fields: Record<string, string>,
  o: { origin?: string; lang?: 'ja' | 'en' } = {},
): Promise<{ status: number; body: string; headers: Headers }> {
  const res = await fetch(`${confirmUrl}?lang=${o.lang ?? 'ja'}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      origin: o.origin ?? 'null',
      'sec-fetch-site':
        o.origin && o.origin !== 'null' && !confirmUrl.startsWith(o.origin) ? 'cross-site' : 'same-origin',
    },
    body: new URLSearchParams(fields).toString(),
    redirect: 'manual',
  });
  return { status: res.status, body: await res.text(), headers: res.headers };
}

export async function ceremonyStatus(
  platformUrl: string,
  ceremonyId: string,
): Promise<{
  state: string;
  stage?: string;
  card_error?: { code: string; remaining?: number };
  error?: { code: string };
}> {
  return (await (await fetch(`${platformUrl}/holder/v1/ceremonies/${ceremonyId}/status`)).json()) as never;
}
