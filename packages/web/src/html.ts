// Page building blocks: escaping, bilingual text, the page shell (CSS, language switch).

export type Lang = 'ja' | 'en';

export const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** Text in the page's language (escaped). */
export const tr = (lang: Lang, ja: string, en: string): string => escapeHtml(lang === 'ja' ? ja : en);

/** A language value from `?lang=` or `ui_locales` (Japanese by default). */
const MONTHS_EN = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

/**
 * An instant as people read it, in Japan time: `2026年12月5日 09:30` (ja) or `5 Dec 2026, 09:30 JST`
 * (en) — the one formatter of times on pages for holders and RPs' users (not escaped: digits only).
 */
export function jstWords(at: Date | string, lang: Lang): string {
  const d = new Date(at);
  if (Number.isNaN(d.getTime())) return escapeHtml(String(at));
  const j = new Date(d.getTime() + 9 * 3600_000);
  const [y, m, day] = [j.getUTCFullYear(), j.getUTCMonth(), j.getUTCDate()];
  const hm = `${String(j.getUTCHours()).padStart(2, '0')}:${String(j.getUTCMinutes()).padStart(2, '0')}`;
  return lang === 'ja' ? `${y}年${m + 1}月${day}日 ${hm}` : `${day} ${MONTHS_EN[m]} ${y}, ${hm} JST`;
}

/** The same inside `<time datetime="…">`, which keeps the exact instant for machines. */
export const jstTime = (at: Date, lang: Lang): string =>
  `<time datetime="${at.toISOString()}">${jstWords(at, lang)}</time>`;

export function langFrom(query: { lang?: unknown; ui_locales?: unknown }): Lang {
  if (query.lang === 'en' || query.lang === 'ja') return query.lang;
  return String(query.ui_locales ?? '')
    .trim()
    .startsWith('en')
    ? 'en'
    : 'ja';
}

// Contrast ≥ 4.5:1 for text (WCAG AA); focus always visible; one column on phones.
const STYLE = `
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
@media (max-width:30rem){dl{grid-template-columns:1fr}}`;

export interface PageOptions {
  /** The same page in the other language (default: `?lang=`). */
  switchHref?: string;
  /** Extra markup for the header's left side. */
  brand?: string;
}

export function page(lang: Lang, title: string, body: string, o: PageOptions = {}): string {
  const other: Lang = lang === 'ja' ? 'en' : 'ja';
  const switchHref = o.switchHref ?? `?lang=${other}`;
  return `<!doctype html>
<html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><header class="site"><span>${o.brand ?? 'Kakunin <span lang="ja">確認</span>'}</span>
<a href="${escapeHtml(switchHref)}" lang="${other}" hreflang="${other}">${other === 'en' ? 'English' : '日本語'}</a></header>
<main id="main">${body}</main></body></html>`;
}
