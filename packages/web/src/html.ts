// Page building blocks: safe markup (Html), escaping, bilingual text, the page shell (CSS, language switch).

export type Lang = 'ja' | 'en';

declare const htmlBrand: unique symbol;

/**
 * Markup that is safe to put in a page: made only by `html`, `escapeHtml`, `tr`, `raw` and the
 * helpers built on them. It is a string at run time (pages are sent and tested as text), so the
 * compiler keeps the line: a plain string is not Html, and `html` takes no plain string.
 */
export type Html = string & { readonly [htmlBrand]: true };

/** What `html` writes out: markup, numbers, string literals of the code itself, lists of them, or nothing. */
export type HtmlValue = Html | string | number | null | undefined | readonly HtmlValue[];

/**
 * The type `html` accepts for one value: Html, a number, a string literal type (text fixed in the
 * source, such as `cond ? ' selected' : ''`, part of the template like its own text), a list of
 * those, or null/undefined (nothing). A value of type `string` (text from a request, a database or
 * a card) becomes `never`, so the compiler rejects it: it must go through `escapeHtml` or `tr`.
 */
export type SafeValue<V> = V extends Html | number | null | undefined
  ? V
  : V extends boolean
    ? never
    : V extends readonly (infer E)[]
      ? readonly SafeValue<E>[]
      : string extends V
        ? never
        : V;

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text as markup: the five characters that could end a text run or an attribute value are escaped. */
export const escapeHtml = (s: string): Html => s.replace(/[&<>"']/g, (c) => ESCAPES[c]!) as Html;

/**
 * Trusted markup that did not come from `html`: constants of this package and output of known
 * generators (each call says why it is trusted). Never for text from a request, a database or a card.
 */
export const raw = (trusted: string): Html => trusted as Html;

// Strings are written as they are (the compiler let only Html and literals through); anything else
// that slipped past it with a cast is escaped as text.
const render = (v: HtmlValue): string =>
  v === null || v === undefined
    ? ''
    : typeof v === 'number' || typeof v === 'string'
      ? String(v)
      : Array.isArray(v)
        ? v.map(render).join('')
        : escapeHtml(String(v));

/**
 * The one way to write markup: a template whose values are checked by the compiler (SafeValue):
 * Html as it is, text only through `escapeHtml` or `tr`; `null`/`undefined` write nothing.
 */
export function html<const V extends readonly unknown[]>(
  strings: TemplateStringsArray,
  ...values: { [K in keyof V]: SafeValue<V[K]> }
): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i] as HtmlValue) + strings[i + 1]!;
  return out as Html;
}

/** Markup pieces one after the other, with an optional separator (a list from `map`). */
export const joinHtml = (parts: readonly Html[], separator: '' | ' ' | '\n' = ''): Html =>
  parts.join(separator) as Html;

/** Text in the page's language (escaped). */
export const tr = (lang: Lang, ja: string, en: string): Html => escapeHtml(lang === 'ja' ? ja : en);

/** A language value from `?lang=` or `ui_locales` (Japanese by default). */
const MONTHS_EN = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

/**
 * An instant as people read it, in Japan time: `2026年12月5日 09:30` (ja) or `5 Dec 2026, 09:30 JST`
 * (en) — the one formatter of times on pages for holders and RPs' users (not escaped: digits only).
 */
export function jstWords(at: Date | string, lang: Lang): Html {
  const d = new Date(at);
  if (Number.isNaN(d.getTime())) return escapeHtml(String(at));
  const j = new Date(d.getTime() + 9 * 3600_000);
  const [y, m, day] = [j.getUTCFullYear(), j.getUTCMonth(), j.getUTCDate()];
  const hm = `${String(j.getUTCHours()).padStart(2, '0')}:${String(j.getUTCMinutes()).padStart(2, '0')}`;
  // Digits, month names and fixed words only: nothing to escape.
  return raw(lang === 'ja' ? `${y}年${m + 1}月${day}日 ${hm}` : `${day} ${MONTHS_EN[m]} ${y}, ${hm} JST`);
}

/** The same inside `<time datetime="…">`, which keeps the exact instant for machines. */
export const jstTime = (at: Date, lang: Lang): Html =>
  html`<time datetime="${escapeHtml(at.toISOString())}">${jstWords(at, lang)}</time>`;

export function langFrom(query: { lang?: unknown; ui_locales?: unknown }): Lang {
  if (query.lang === 'en' || query.lang === 'ja') return query.lang;
  return String(query.ui_locales ?? '')
    .trim()
    .startsWith('en')
    ? 'en'
    : 'ja';
}

// Contrast ≥ 4.5:1 for text (WCAG AA); focus always visible; one column on phones.
// Trusted: a constant of this module (no `</style>` in it).
const STYLE = raw(`
:root{--fg:#1a1a1a;--muted:#4a4a4a;--accent:#0b4f9c;--bad:#a4001d;--ok:#0a6b2d;--line:#c8c8c8}
*{box-sizing:border-box}body{font-family:system-ui,"Hiragino Sans","IPAGothic","Noto Sans CJK JP",sans-serif;color:var(--fg);background:#fff;margin:0;line-height:1.7}
main{max-width:42rem;margin:0 auto;padding:1rem 1.25rem 3rem}header.site{display:flex;justify-content:space-between;align-items:center;border-bottom:1px solid var(--line);padding:.5rem 1.25rem}
h1{font-size:1.45rem;line-height:1.4}h2{font-size:1.15rem}.muted{color:var(--muted)}
a{color:var(--accent)}a:focus,button:focus,input:focus,select:focus,summary:focus{outline:3px solid #f2a900;outline-offset:2px}
button,.button{font:inherit;font-size:1.05rem;min-height:44px;padding:.55rem 1.2rem;border-radius:.4rem;border:2px solid var(--accent);background:var(--accent);color:#fff;cursor:pointer;text-decoration:none;display:inline-block}
button.secondary,.button.secondary{background:#fff;color:var(--accent)}.actions{display:flex;flex-wrap:wrap;gap:.75rem;margin:1.25rem 0}
.box{border:1px solid var(--line);border-radius:.5rem;padding:1rem 1.1rem;margin:1rem 0}.error{border:2px solid var(--bad)}.error h2{color:var(--bad)}
.ok{color:var(--ok)}dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}dt{font-weight:bold}
ol.steps{list-style:none;padding:0;margin:0}ol.steps li{padding:.35rem 0 .35rem 2rem;position:relative;color:var(--muted)}
ol.steps li::before{content:"○";position:absolute;left:.4rem}ol.steps li.done{color:var(--ok)}ol.steps li.done::before{content:"✓"}
ol.steps li.current{color:var(--fg);font-weight:bold}ol.steps li.current::before{content:"●"}
.qr svg{width:min(60vw,14rem);height:auto;background:#fff}pre.statement{white-space:pre-wrap;background:#f4f4f4;padding:.75rem;border-radius:.4rem;font-size:.9rem}
table{border-collapse:collapse;width:100%}th,td{text-align:left;border-bottom:1px solid var(--line);padding:.35rem .5rem;vertical-align:top}
label{display:block;font-weight:bold;margin-top:.75rem}input,select{font:inherit;padding:.45rem;min-height:44px;width:100%;max-width:28rem;border:1px solid #767676;border-radius:.3rem}
@media (max-width:30rem){dl{grid-template-columns:1fr}}`);

export interface PageOptions {
  /** The same page in the other language (default: `?lang=`). */
  switchHref?: string;
  /** Extra markup for the header's left side. */
  brand?: Html;
  /** More CSS after the shared stylesheet (trusted constants only, as STYLE). */
  style?: Html;
}

export function page(lang: Lang, title: string, body: Html, o: PageOptions = {}): Html {
  const other: Lang = lang === 'ja' ? 'en' : 'ja';
  const switchHref = o.switchHref ?? `?lang=${other}`;
  return html`<!doctype html>
<html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title><style>${STYLE}${o.style}</style></head>
<body><header class="site"><span>${o.brand ?? html`Kakunin <span lang="ja">確認</span>`}</span>
<a href="${escapeHtml(switchHref)}" lang="${other}" hreflang="${other}">${other === 'en' ? 'English' : '日本語'}</a></header>
<main id="main">${body}</main></body></html>`;
}
