// The ceremony pages: start (RP, purpose, what is shared, QR code + holder link, same-device button
// when the local agent answers, live progress), consent, and errors. PINs are never typed here: the
// holder's app or the local agent asks for them on its own screen.

import { ERROR_ADVICE, adviceFor, errorBox } from './errors.js';
import type { CeremonyScriptConfig } from './ceremony-script-config.js';
import { escapeHtml, html, jstTime, page, raw, tr, type Html, type Lang } from './html.js';
import { ceremonyScriptUrl } from './scripts.js';

export interface SharedItem {
  /** The claim's name (e.g. `address`, `urn:kakunin:record`), as `data-claim` of its list item. */
  claim?: string;
  ja: string;
  en: string;
}

const sharedList = (lang: Lang, shares: SharedItem[]): Html =>
  html`<ul id="shared">${shares.map((s) => html`<li${s.claim ? html` data-claim="${escapeHtml(s.claim)}"` : ''}>${tr(lang, s.ja, s.en)}</li>`)}</ul>`;

export interface CeremonyPageInput {
  lang: Lang;
  /** Base path of this interaction, e.g. `/interaction/<uid>`. */
  base: string;
  rpName: string;
  purpose: string;
  kind: 'login' | 'identity';
  shares: SharedItem[];
  holderUrl: string;
  /** The QR code as SVG markup (made by the server's QR encoder, raw()). */
  qrSvg: Html;
  expiresAt: Date;
  /** The local holder agent to offer for the same-device flow. */
  agentUrl?: string;
  /** Sandbox: a blocked virtual card is unblocked with `kakunin sim card reset-pin`, which the page then names. */
  sandbox?: boolean;
}

const STEPS: { id: string; ja: string; en: string }[] = [
  { id: 'waiting', ja: 'カードを待っています', en: 'Waiting for the card' },
  { id: 'reading', ja: 'カードを読み取っています', en: 'Reading the card' },
  { id: 'verifying', ja: '電子証明書を確認しています', en: 'Verifying the certificate' },
  { id: 'done', ja: '完了', en: 'Done' },
];

export function ceremonyPage(p: CeremonyPageInput): Html {
  const { lang } = p;
  const heading =
    p.kind === 'login'
      ? tr(lang, 'マイナンバーカードでログイン', 'Log in with your My Number Card')
      : tr(lang, 'マイナンバーカードで本人確認', 'Verify your identity with your My Number Card');
  const certificate =
    p.kind === 'login'
      ? tr(
          lang,
          '利用者証明用電子証明書を使います(暗証番号: 数字4桁)。',
          'This uses the user authentication certificate (4-digit PIN).',
        )
      : tr(
          lang,
          '署名用電子証明書で、依頼内容に電子署名します(暗証番号: 英数字6〜16文字)。',
          'You sign the request with the signing certificate (6–16 character password).',
        );
  const advice = Object.fromEntries(
    Object.entries(ERROR_ADVICE).map(([code, a]) => [
      code,
      { title: lang === 'ja' ? a.title[0] : a.title[1], next: lang === 'ja' ? a.next[0] : a.next[1] },
    ]),
  );
  if (p.sandbox && advice.PIN_BLOCKED) {
    advice.PIN_BLOCKED.next +=
      lang === 'ja'
        ? '(サンドボックスでは窓口の代わりに npx kakunin sim card reset-pin --person 住民ID で初期化できます)'
        : ' (In the sandbox, npx kakunin sim card reset-pin --person RESIDENT_ID stands in for the municipal office.)';
  }
  // Read by the page's script (browser/ceremony.ts): data, not code, so the CSP needs no 'unsafe-inline'.
  const config: CeremonyScriptConfig = {
    base: p.base,
    lang,
    agentUrl: p.agentUrl ?? null,
    holderUrl: p.holderUrl,
    advice,
  };
  // Trusted: JSON with every `<` written \u003c, so no `</script>` can end the block early (entities
  // would not be decoded inside a script element, so escapeHtml would corrupt the JSON instead).
  const configJson = raw(JSON.stringify(config).replace(/</g, '\\u003c'));
  return page(
    lang,
    lang === 'ja' ? 'マイナンバーカードで確認 — Kakunin' : 'Verify with your My Number Card — Kakunin',
    html`<h1>${heading}</h1>
<dl><dt>${tr(lang, '依頼者', 'Requested by')}</dt><dd id="rp-name">${escapeHtml(p.rpName)}</dd>
<dt>${tr(lang, '目的', 'Purpose')}</dt><dd id="purpose">${escapeHtml(p.purpose)}</dd></dl>
<section class="box" aria-labelledby="shared-h"><h2 id="shared-h">${tr(lang, '提供される情報', 'What will be shared')}</h2>
${sharedList(lang, p.shares)}<p>${certificate}</p></section>
<section class="box" aria-labelledby="how-h"><h2 id="how-h">${tr(lang, 'カードを読み取る', 'Read your card')}</h2>
<div id="same-device-box" hidden><p>${tr(lang, 'このパソコンのカードリーダーで読み取れます。', 'You can use the card reader of this computer.')}</p>
<p><button type="button" id="same-device">${tr(lang, 'このパソコンで読み取る', 'Use the card reader on this computer')}</button></p></div>
<p>${tr(lang, 'スマートフォンでは、マイナンバーカード対応アプリでQRコードを読み取るか、次のリンクを開いてください。', 'On a phone, scan the QR code with a My Number Card app, or open this link.')}</p>
<div class="qr" role="img" aria-label="${tr(lang, '手続きのQRコード', 'QR code of this request')}">${p.qrSvg}</div>
<p><a id="holder-link" href="${escapeHtml(p.holderUrl)}">${tr(lang, 'マイナンバーカードアプリで開く', 'Open in the My Number Card app')}</a></p>
<p class="muted">${tr(lang, '有効期限', 'Expires at')}: ${jstTime(p.expiresAt, lang)}</p></section>
<section aria-labelledby="progress-h"><h2 id="progress-h">${tr(lang, '進み具合', 'Progress')}</h2>
<ol class="steps" id="steps">${STEPS.map((s, i) => html`<li data-step="${escapeHtml(s.id)}"${i === 0 ? ' class="current" aria-current="step"' : ''}>${tr(lang, s.ja, s.en)}</li>`)}</ol>
<p id="progress" role="status" aria-live="polite" data-state="pending" data-stage="waiting">${tr(lang, 'カードの操作を待っています…', 'Waiting for your card…')}</p>
<div id="card-error" role="alert"></div></section>
<form method="post" action="${escapeHtml(p.base)}/abort" class="actions"><button class="secondary" type="submit">${tr(lang, '中止する', 'Cancel')}</button></form>
<script type="application/json" id="ceremony-config">${configJson}</script>
<script src="${escapeHtml(ceremonyScriptUrl())}" defer></script>`,
  );
}

export interface ConsentPageInput {
  lang: Lang;
  base: string;
  rpName: string;
  purpose: string;
  shares: SharedItem[];
}

export function consentPage(p: ConsentPageInput): Html {
  const { lang } = p;
  return page(
    lang,
    lang === 'ja' ? '情報提供への同意 — Kakunin' : 'Consent — Kakunin',
    html`<h1>${tr(lang, '情報提供への同意', 'Consent to share')}</h1>
<p class="ok">${tr(lang, 'マイナンバーカードで確認できました。', 'Your My Number Card was verified.')}</p>
<p>${tr(lang, '次の情報を提供します:', 'The following will be shared with')} <strong id="rp-name">${escapeHtml(p.rpName)}</strong></p>
${sharedList(lang, p.shares)}
<p>${tr(lang, '目的', 'Purpose')}: ${escapeHtml(p.purpose)}</p>
<div class="actions"><form method="post" action="${escapeHtml(p.base)}/consent"><button type="submit" id="agree">${lang === 'ja' ? '同意する' : 'Agree'}</button></form>
<form method="post" action="${escapeHtml(p.base)}/abort"><button class="secondary" type="submit" id="decline">${lang === 'ja' ? 'やめる' : 'Decline'}</button></form></div>`,
  );
}

export interface ErrorPageInput {
  code: string;
  message?: string;
  messageJa?: string;
  /** Where "start again" leads (e.g. the restart of the interaction). */
  retryHref?: string;
  /** Where "back to the service" leads. */
  backHref?: string;
}

export function errorPage(lang: Lang, o: ErrorPageInput): Html {
  const a = adviceFor(o.code);
  const actions = [
    a.retry && o.retryHref
      ? html`<a class="button" id="retry" href="${escapeHtml(o.retryHref)}">${tr(lang, 'もう一度試す', 'Try again')}</a>`
      : '',
    o.backHref
      ? html`<form method="post" action="${escapeHtml(o.backHref)}"><button class="secondary" type="submit" id="back">${tr(lang, 'サービスに戻る', 'Back to the service')}</button></form>`
      : '',
  ].filter((x): x is Html => !!x);
  return page(
    lang,
    `${lang === 'ja' ? a.title[0] : a.title[1]} — Kakunin`,
    html`<h1>${tr(lang, 'うまくいきませんでした', 'Something went wrong')}</h1>${errorBox(lang, o)}${actions.length ? html`<div class="actions">${actions}</div>` : ''}`,
  );
}

/** The platform's front page: what this is and where things are. */
export function homePage(lang: Lang, o: { mode: 'sandbox' | 'production'; issuer: string }): Html {
  const link = (href: string, ja: string, en: string): Html =>
    html`<li><a href="${escapeHtml(href)}">${tr(lang, ja, en)}</a></li>`;
  return page(
    lang,
    'Kakunin',
    html`<h1>${tr(lang, 'Kakunin — マイナンバーカードによる本人確認', 'Kakunin — identity verification with the My Number Card')}</h1>
<p>${tr(lang, '公的個人認証(JPKI)で本人確認を行う OpenID プロバイダーです。事業者は標準の OpenID Connect クライアントで利用できます。', 'An OpenID Provider that verifies identity with JPKI. Relying parties use it with any standard OpenID Connect client.')}</p>
${o.mode === 'sandbox' ? html`<p class="box">${tr(lang, 'サンドボックス: 模擬 J-LIS と仮想マイナンバーカードで動いています。', 'Sandbox: running with the simulated J-LIS and virtual My Number Cards.')}</p>` : ''}
<ul>${link(`${o.issuer}/.well-known/openid-configuration`, 'OpenID Connect ディスカバリー', 'OpenID Connect discovery')}${link('/admin', '管理コンソール', 'Admin console')}${link('/openapi.json', 'API (OpenAPI)', 'API (OpenAPI)')}</ul>`,
  );
}
