// Page pieces shared by the demos, on top of @kakunin/web's page shell (same styling as the
// platform's own pages): bilingual text, definition-list rows, status badges, notices.

import { escapeHtml, raw, tr, type Html, type Lang } from '@kakunin/web';

export { escapeHtml, type Lang };

/** Bilingual escaped text: `t(lang)('日本語', 'English')`. */
export const t =
  (lang: Lang) =>
  (ja: string, en: string): Html =>
    tr(lang, ja, en);

/** One `<dt>/<dd>` pair; `value` is escaped; the `<dd>` carries the test id. */
export const row = (label: string, value: string, testid: string, attrs = ''): string =>
  `<dt>${label}</dt><dd data-testid="${testid}"${attrs}>${escapeHtml(value)}</dd>`;

/** One `<dt>/<dd>` pair whose value is markup (already escaped), e.g. words with a code in small print. */
export const rowHtml = (label: string, valueHtml: string, testid: string, attrs = ''): string =>
  `<dt>${label}</dt><dd data-testid="${testid}"${attrs}>${valueHtml}</dd>`;

/** Unescaped text in the page's language (for `row()` values, which escape). */
export const pick =
  (lang: Lang) =>
  (ja: string, en: string): string =>
    lang === 'ja' ? ja : en;

/** A status badge: `kind` picks the colour, `status` is a stable machine value (data-status); `labelHtml` is markup, e.g. `t(lang)(…)`. */
export const badge = (testid: string, status: string, labelHtml: string, kind: 'ok' | 'bad' | 'neutral'): string =>
  `<span class="badge ${kind}" data-testid="${testid}" data-status="${escapeHtml(status)}">${labelHtml}</span>`;

// Trusted: a constant of this module.
export const EXTRA_STYLE = raw(`<style>
.badge{display:inline-block;padding:0 .6rem;border-radius:1rem;border:2px solid currentColor;font-weight:bold;font-size:.95rem}
.badge.ok{color:var(--ok)}.badge.bad{color:var(--bad)}.badge.neutral{color:var(--muted)}
.notice{border-left:6px solid var(--ok);padding:.5rem 1rem;background:#eef7f1}.notice.error{border-color:var(--bad);background:#fbeef0}
.amount{font-size:1.8rem;font-weight:bold}ul.cards{list-style:none;padding:0;display:grid;gap:.75rem}ul.cards li{border:1px solid var(--line);border-radius:.5rem;padding:.75rem 1rem}
fieldset{border:1px solid var(--line);border-radius:.4rem;margin-top:.75rem}fieldset label{display:flex;gap:.5rem;align-items:center;font-weight:normal;margin:.25rem 0}
fieldset input{width:auto;min-height:auto}nav.user{display:flex;justify-content:flex-end;gap:.75rem;align-items:center}nav.user form{margin:0}
small.code{font-family:ui-monospace,monospace;font-size:.8rem;color:var(--muted)}
button:disabled,button[aria-disabled="true"]{background:#e9e9e9;border-color:#9b9b9b;color:#4a4a4a;cursor:not-allowed}
input:disabled{background:#f2f2f2;color:#4a4a4a}.disabled-reason{color:var(--bad);font-weight:bold;margin:.25rem 0}
</style>`);
