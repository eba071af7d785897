// The admin console's shell: navigation, sign-out, CSRF fields, links that keep the language, and
// the few styles the console needs on top of the shared page shell (wider tables, scrolling on phones).

import { escapeHtml, html, joinHtml, page, raw, tr, type Html, type Lang } from '../html.js';

export type AdminSection = 'rps' | 'records' | 'events' | 'crl' | 'simulator';

/** What every signed-in page needs to know. */
export interface AdminContext {
  lang: Lang;
  /** The session's CSRF token, put into every POST form. */
  csrf: string;
  /** Whether the simulator exists (sandbox mode): its nav link is shown only then. */
  sandbox: boolean;
  /** The current path and query (for the language switch). */
  path: string;
  query?: Record<string, string | undefined>;
}

// Tables may be wider than a phone: they scroll inside a focusable region instead of the page.
// Trusted: a constant of this module (no `</style>` in it).
const ADMIN_STYLE =
  raw(`main{max-width:72rem}nav.admin ul{list-style:none;display:flex;flex-wrap:wrap;gap:.25rem 1rem;padding:0;margin:0 0 .5rem}
nav.admin a[aria-current="page"]{font-weight:bold;text-decoration:none;border-bottom:3px solid var(--accent)}nav.admin{display:flex;flex-wrap:wrap;justify-content:space-between;align-items:center;gap:.5rem;border-bottom:1px solid var(--line);margin-bottom:1rem}
.scroll{overflow-x:auto;max-width:100%}caption{text-align:left;font-weight:bold;padding:.25rem 0}td.num,th.num{text-align:right}
form.inline{display:inline}button.small{font-size:.95rem;min-height:44px;padding:.3rem .8rem}.notice{border:2px solid var(--ok)}
textarea{font:inherit;padding:.45rem;width:100%;max-width:40rem;border:1px solid #767676;border-radius:.3rem}
fieldset{border:1px solid var(--line);border-radius:.4rem;margin:.75rem 0;max-width:40rem}fieldset label{display:inline-flex;align-items:center;gap:.4rem;font-weight:normal;margin:.25rem 1rem .25rem 0}fieldset input{width:auto;min-height:auto}
.secret{font-family:ui-monospace,monospace;word-break:break-all;background:#f4f4f4;padding:.2rem .4rem}.bad{color:var(--bad)}.warn{border:2px solid #8a5a00}
dl dl{margin:0;border-left:2px solid var(--line);padding-left:.75rem}.filters{display:flex;flex-wrap:wrap;gap:0 1rem;align-items:flex-end}.filters>div{min-width:12rem}`);

/** A link to a console path in the current language, with query parameters (empty ones dropped). */
export function href(lang: Lang, path: string, params: Record<string, string | undefined> = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '' && k !== 'lang') q.set(k, v);
  if (lang === 'en') q.set('lang', 'en');
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

export const csrfField = (csrf: string): Html => html`<input type="hidden" name="csrf" value="${escapeHtml(csrf)}">`;

/** A POST form with one button (and hidden fields); `describedBy` ties a repeated button to its row's heading. */
export function postButton(
  ctx: AdminContext,
  action: string,
  label: string,
  o: { fields?: Record<string, string>; secondary?: boolean; describedBy?: string; id?: string } = {},
): Html {
  const hidden = Object.entries(o.fields ?? {}).map(
    ([k, v]) => html`<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`,
  );
  return html`<form class="inline" method="post" action="${escapeHtml(href(ctx.lang, action))}">${csrfField(ctx.csrf)}${hidden}<button type="submit" class="small${o.secondary ? ' secondary' : ''}"${o.id ? html` id="${escapeHtml(o.id)}"` : ''}${o.describedBy ? html` aria-describedby="${escapeHtml(o.describedBy)}"` : ''}>${escapeHtml(label)}</button></form>`;
}

const JST_MS = 9 * 3600_000;

/** An instant as Japan time text inside `<time>` (the console is operated from Japan). */
export function jst(at: Date | string | null | undefined): Html {
  if (at === null || at === undefined || at === '') return html`—`;
  const d = typeof at === 'string' ? new Date(at) : at;
  if (Number.isNaN(d.getTime())) return escapeHtml(String(at));
  const text = new Date(d.getTime() + JST_MS).toISOString().slice(0, 19).replace('T', ' ');
  return html`<time datetime="${escapeHtml(d.toISOString())}">${escapeHtml(text)} JST</time>`;
}

/** Escaped text, or a dash for nothing. */
export const text = (v: string | number | null | undefined): Html =>
  v === null || v === undefined || v === '' ? html`—` : escapeHtml(String(v));

/** A table with a caption and column headers; every cell is markup. Scrolls on narrow screens. */
export function table(caption: Html, headers: Html[], rows: Html[][], o: { id?: string; empty?: Html } = {}): Html {
  if (rows.length === 0 && o.empty !== undefined)
    return html`<p${o.id ? html` id="${escapeHtml(o.id)}"` : ''}>${o.empty}</p>`;
  const head = headers.map((h) => html`<th scope="col">${h}</th>`);
  const body = joinHtml(
    rows.map(
      (r) => html`<tr>${r.map((c, i) => (i === 0 ? html`<th scope="row">${c}</th>` : html`<td>${c}</td>`))}</tr>`,
    ),
    '\n',
  );
  // The caption is escaped markup: without its tags it is escaped text, safe as attribute text.
  const label = raw(caption.replace(/<[^>]*>/g, ''));
  return html`<div class="scroll" role="region" tabindex="0" aria-label="${label}"><table${o.id ? html` id="${escapeHtml(o.id)}"` : ''}><caption>${caption}</caption><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table></div>`;
}

/** A message box: `notice` for success, `error` for a problem (announced to screen readers). */
export function messageBox(kind: 'notice' | 'error', title: string, detail?: string): Html {
  const role = kind === 'error' ? 'alert' : 'status';
  return html`<div class="box ${kind}" role="${role}"><h2>${escapeHtml(title)}</h2>${detail ? html`<p>${escapeHtml(detail)}</p>` : ''}</div>`;
}

const NAV: { id: AdminSection; path: string; ja: string; en: string }[] = [
  { id: 'rps', path: '/admin/rps', ja: '事業者', en: 'Relying parties' },
  { id: 'records', path: '/admin/records', ja: '確認記録', en: 'Records' },
  { id: 'events', path: '/admin/events', ja: '失効イベント', en: 'Revocation events' },
  { id: 'crl', path: '/admin/crl', ja: '失効リスト', en: 'Revocation sources' },
  { id: 'simulator', path: '/admin/simulator', ja: 'シミュレーター', en: 'Simulator' },
];

/** A signed-in console page: navigation (simulator only in sandbox mode), sign-out, then the body. */
export function adminPage(
  ctx: AdminContext,
  current: AdminSection | null,
  title: [ja: string, en: string],
  body: Html,
): Html {
  const { lang } = ctx;
  const links = NAV.filter((n) => n.id !== 'simulator' || ctx.sandbox).map(
    (n) =>
      html`<li><a href="${escapeHtml(href(lang, n.path))}"${n.id === current ? ' aria-current="page"' : ''}>${tr(lang, n.ja, n.en)}</a></li>`,
  );
  const nav = html`<nav class="admin" aria-label="${tr(lang, '管理メニュー', 'Admin menu')}"><ul>${links}</ul>${postButton(ctx, '/admin/logout', lang === 'ja' ? 'サインアウト' : 'Sign out', { secondary: true, id: 'sign-out' })}</nav>`;
  const heading = lang === 'ja' ? title[0] : title[1];
  return shell(
    lang,
    `${heading} — Kakunin ${lang === 'ja' ? '管理' : 'admin'}`,
    html`${nav}<h1>${escapeHtml(heading)}</h1>${body}`,
    href(lang === 'ja' ? 'en' : 'ja', ctx.path, ctx.query ?? {}),
  );
}

/** The shared page shell with the console's styles appended to its stylesheet (one <style>, in <head>). */
export function shell(lang: Lang, title: string, body: Html, switchHref: string): Html {
  return page(lang, title, body, {
    switchHref,
    brand: html`Kakunin <span lang="ja">確認</span> ${tr(lang, '管理コンソール', 'admin console')}`,
    style: ADMIN_STYLE,
  });
}
