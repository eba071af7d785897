// The agent's own pages (served from 127.0.0.1, which relying-party and platform pages cannot script):
// the confirmation form (who asks, for what, the statement to be signed, which card, the PIN), the
// "done" page that returns to the ceremony page, messages, and what the agent is (its address opened
// in a browser). No scripts; the PIN is never echoed. Errors are words first: what happened (which PIN,
// how many tries are left), what to do; the code only in small print.

import {
  ERROR_ADVICE,
  errorBox,
  escapeHtml,
  html,
  isErrorCode,
  page,
  tr,
  type ErrorCode,
  type Html,
  type Lang,
} from '@kakunin/web';
import type { HolderView } from './holder-client.js';

/**
 * Codes the agent words in its own box (advice from @kakunin/web's ERROR_ADVICE): what only the agent
 * reports, and the card and platform codes whose advice fits its page; the rest go through errorBox.
 */
const OWN_BOX: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'INVALID_PIN_FORMAT',
  'PLATFORM_UNREACHABLE',
  'NOT_A_HOLDER_CEREMONY',
  'CEREMONY_NOT_FOUND',
  'UNKNOWN_PERSON',
  'NO_SUCH_CERTIFICATE',
  'SECURITY_STATUS_NOT_SATISFIED',
  'PIN_CANCELLED',
  'BUSY',
  'AGENT_ERROR',
]);

export interface ShownError {
  code: string;
  remaining?: number;
  message?: string;
  messageJa?: string;
  /** Which PIN the card asked for (the ceremony's certificate), for PIN errors. */
  pin?: 'auth' | 'sign';
  /** Sandbox cards: the resident whose virtual card it was (the PIN reset command names them). */
  simPerson?: string;
}

/** The PIN by its name on the card: 利用者証明用電子証明書の暗証番号 (4 digits) or 署名用 (6–16 characters). */
const PIN_NAME: Record<'auth' | 'sign', [string, string]> = {
  auth: ['利用者証明用電子証明書の暗証番号(数字4桁)', 'the user authentication PIN (4 digits)'],
  sign: ['署名用電子証明書の暗証番号(英数字6〜16文字)', 'the signing password (6–16 letters and digits)'],
};
/** Wrong tries a card allows before it locks the PIN. */
const PIN_TRIES: Record<'auth' | 'sign', number> = { auth: 3, sign: 5 };

/** The code, in small print, for whoever helps the holder (support, logs). */
const codeLine = (lang: Lang, code: string): Html =>
  html`<p class="muted"><small>${tr(lang, 'エラーコード', 'Error code')}: <code>${escapeHtml(code)}</code></small></p>`;
const detailLine = (detail: string | undefined): Html =>
  detail ? html`<p class="muted"><small>${escapeHtml(detail)}</small></p>` : html``;

/** A wrong PIN or a locked one, in words: which PIN, the tries left, what to do. */
function pinBox(lang: Lang, e: ShownError & { pin: 'auth' | 'sign' }): Html {
  const [nameJa, nameEn] = PIN_NAME[e.pin];
  if (e.code === 'WRONG_PIN') {
    const left = e.remaining;
    const tries =
      left === undefined
        ? ''
        : html`<p id="tries-left" data-remaining="${left}"><strong>${tr(lang, `残り${left}回`, `${left} ${left === 1 ? 'try' : 'tries'} left`)}</strong>${
            left === 1
              ? tr(lang, '(次に間違えるとロックされます)', ' (one more wrong try locks it)')
              : tr(
                  lang,
                  `(${PIN_TRIES[e.pin]}回続けて間違えるとロックされます)`,
                  ` (${PIN_TRIES[e.pin]} wrong tries in a row lock it)`,
                )
          }</p>`;
    return html`<div class="box error" role="alert" id="error" data-error-code="WRONG_PIN"><h2>${tr(lang, '暗証番号が違います', 'Wrong PIN')}</h2>
<p>${tr(lang, `${nameJa}が違います。`, `That was not ${nameEn}.`)}</p>${tries}
<p>${tr(lang, '正しい暗証番号を入れ直してください。わからないときは、ロックされる前にお住まいの市区町村の窓口で初期化(再設定)できます。', 'Enter the right one. If you do not know it, your municipal office can reset it before it locks.')}</p>${codeLine(lang, e.code)}</div>`;
  }
  const reset = e.simPerson
    ? html`<p class="muted"><small>${tr(lang, 'サンドボックスでは、市区町村の窓口の代わりに次のコマンドで初期化できます:', 'In the sandbox, this command stands in for the municipal office:')} <code>kakunin sim card reset-pin --person ${escapeHtml(e.simPerson)}</code></small></p>`
    : '';
  return html`<div class="box error" role="alert" id="error" data-error-code="PIN_BLOCKED"><h2>${tr(lang, '暗証番号がロックされています', 'The PIN is locked')}</h2>
<p>${tr(lang, `${nameJa}を続けて間違えたため、カードがこの暗証番号をロックしました。このカードでは、初期化するまでこの手続きを続けられません。`, `${nameEn[0]!.toUpperCase()}${nameEn.slice(1)} was entered wrongly too many times in a row, so the card locked it. This card cannot be used for this until it is reset.`)}</p>
<p>${tr(
    lang,
    e.pin === 'sign'
      ? 'マイナンバーカードを持って、お住まいの市区町村の窓口で暗証番号の初期化(再設定)をしてください。署名用電子証明書の暗証番号は、コンビニのキオスク端末でも初期化できる場合があります。'
      : 'マイナンバーカードを持って、お住まいの市区町村の窓口で暗証番号の初期化(再設定)をしてください。',
    e.pin === 'sign'
      ? 'Take your My Number Card to your municipal office to have it reset. The signing password can sometimes also be reset at a convenience-store kiosk.'
      : 'Take your My Number Card to your municipal office to have it reset.',
  )}</p>${reset}${codeLine(lang, e.code)}</div>`;
}

/** An error box: the agent's own words for PIN errors and its own codes, the platform pages' advice for the other card and platform codes. */
export function agentErrorBox(lang: Lang, e: ShownError): Html {
  const code = /^[A-Za-z0-9_]{1,60}$/.test(e.code) ? e.code : 'AGENT_ERROR';
  if ((code === 'WRONG_PIN' || code === 'PIN_BLOCKED') && e.pin) return pinBox(lang, { ...e, code, pin: e.pin });
  const own = isErrorCode(code) && OWN_BOX.has(code) ? ERROR_ADVICE[code] : undefined;
  // PIN_BLOCKED without its PIN: no "0 tries left", the advice says it all.
  if (!own)
    return errorBox(lang, {
      code,
      ...(e.message !== undefined ? { message: e.message } : {}),
      ...(e.messageJa !== undefined ? { messageJa: e.messageJa } : {}),
      ...(e.remaining !== undefined && code !== 'PIN_BLOCKED' ? { remaining: e.remaining } : {}),
    });
  const detail = lang === 'ja' ? (e.messageJa ?? e.message) : e.message;
  return html`<div class="box error" role="alert" id="error" data-error-code="${escapeHtml(code)}"><h2>${tr(lang, ...own.title)}</h2><p>${tr(lang, ...own.next)}</p>${detailLine(detail)}${codeLine(lang, code)}</div>`;
}

const titleOf = (lang: Lang, kind: 'login' | 'identity'): string =>
  kind === 'login'
    ? lang === 'ja'
      ? 'マイナンバーカードでログイン'
      : 'Log in with your My Number Card'
    : lang === 'ja'
      ? 'マイナンバーカードで本人確認'
      : 'Verify your identity with your My Number Card';

const brand = (lang: Lang): Html =>
  html`Kakunin <span lang="ja">確認</span> — ${tr(lang, 'このパソコンのエージェント', 'agent on this computer')}`;

export type CardChoice =
  | { kind: 'sim'; people: { id: string; name: string }[]; selected?: string }
  | {
      kind: 'pcsc';
      reader?: string;
      readers?: { name: string; cardPresent: boolean }[];
      selected?: string;
      problem?: string;
    };

export interface ConfirmPageInput {
  lang: Lang;
  /** Path of this page, `/confirm/<token>`. */
  path: string;
  formKey: string;
  view: HolderView;
  card: CardChoice;
  /** `terminal`: the PIN is asked on the agent's terminal, not in the page. */
  pinPrompt: 'page' | 'terminal';
  returnUrl: string;
  error?: ShownError;
}

function cardSection(lang: Lang, c: CardChoice): Html {
  if (c.kind === 'sim') {
    const options = c.people.map(
      (p) =>
        html`<option value="${escapeHtml(p.id)}"${p.id === c.selected ? ' selected' : ''}>${escapeHtml(p.id)} ${escapeHtml(p.name)}</option>`,
    );
    return html`<label for="person">${tr(lang, '使うカード(サンドボックスの住民)', 'Card to use (sandbox resident)')}</label>
<select id="person" name="person" required aria-describedby="sim-note">${options}</select>
<p class="muted" id="sim-note">${tr(lang, 'サンドボックスの暗証番号は', 'The sandbox PINs are listed by')} <code>kakunin sim people</code>${tr(lang, ' で確認できます。', '.')}</p>`;
  }
  if (c.reader !== undefined) {
    return html`<p>${tr(lang, 'カードリーダー', 'Card reader')}: <strong id="reader">${escapeHtml(c.reader)}</strong></p>
<p class="muted">${tr(lang, 'マイナンバーカードをリーダーに置いてください。', 'Place your My Number Card on the reader.')}</p>`;
  }
  const readers = c.readers ?? [];
  const problem = c.problem ? html`<p class="muted" id="reader-problem">${escapeHtml(c.problem)}</p>` : '';
  if (readers.length === 0) {
    return html`<p id="reader">${tr(lang, 'カードリーダーが見つかりません。接続してから送信してください。', 'No card reader found. Connect one, then submit.')}</p>${problem}`;
  }
  const selected = c.selected ?? readers.find((r) => r.cardPresent)?.name ?? readers[0]!.name;
  const options = readers.map(
    (r) =>
      html`<option value="${escapeHtml(r.name)}"${r.name === selected ? ' selected' : ''}>${escapeHtml(r.name)}${r.cardPresent ? '' : tr(lang, '(カードなし)', ' (no card)')}</option>`,
  );
  return html`<label for="reader">${tr(lang, 'カードリーダー', 'Card reader')}</label><select id="reader" name="reader">${options}</select>${problem}
<p class="muted">${tr(lang, 'マイナンバーカードをリーダーに置いてください。', 'Place your My Number Card on the reader.')}</p>`;
}

function pinSection(lang: Lang, p: ConfirmPageInput): Html {
  const { view } = p;
  if (p.pinPrompt === 'terminal') {
    return html`<p id="pin-on-terminal" class="box">${tr(
      lang,
      '送信すると、このエージェントを起動した端末(ターミナル)で暗証番号を尋ねます。',
      'When you submit, the agent asks for the PIN in the terminal where it runs.',
    )}</p>`;
  }
  const label = lang === 'ja' ? view.pin.label_ja : view.pin.label_en;
  const format =
    view.certificate === 'auth'
      ? `inputmode="numeric" minlength="4" maxlength="4" pattern="[0-9]{4}"`
      : `minlength="6" maxlength="16" pattern="[A-Za-z0-9]{6,16}" autocapitalize="characters" spellcheck="false"`;
  return html`<label for="pin">${escapeHtml(label)}</label>
<input type="password" id="pin" name="pin" autocomplete="off" required ${format} aria-describedby="pin-note">
<p class="muted" id="pin-note">${tr(lang, '暗証番号はカードにだけ送られ、保存も送信もされません。', 'The PIN goes only to the card; it is never stored or sent anywhere.')}</p>`;
}

export function confirmPage(p: ConfirmPageInput): Html {
  const { lang, view } = p;
  const submit =
    view.kind === 'identity'
      ? lang === 'ja'
        ? '署名して送信'
        : 'Sign and send'
      : lang === 'ja'
        ? 'ログイン'
        : 'Log in';
  const statement =
    view.kind === 'identity' && view.statement !== undefined
      ? html`<section class="box" aria-labelledby="statement-h"><h2 id="statement-h">${tr(lang, '電子署名する内容', 'The text you sign')}</h2>
<pre class="statement" id="statement">${escapeHtml(view.statement)}</pre></section>`
      : '';
  const certificate =
    view.certificate === 'auth'
      ? tr(lang, '利用者証明用電子証明書を使います。', 'This uses the user authentication certificate.')
      : tr(
          lang,
          '署名用電子証明書で、上の内容に電子署名します。',
          'You sign the text above with the signing certificate.',
        );
  const action = `${p.path}?lang=${lang}`;
  return page(
    lang,
    `${titleOf(lang, view.kind)} — Kakunin`,
    html`<h1>${escapeHtml(titleOf(lang, view.kind))}</h1>
<p class="muted">${tr(lang, 'この画面は、このパソコンで動いている Kakunin エージェントが表示しています。', 'This page is shown by the Kakunin agent running on this computer.')}</p>
<dl><dt>${tr(lang, '依頼者', 'Requested by')}</dt><dd id="rp-name">${escapeHtml(view.rp.name)}</dd>
<dt>${tr(lang, '目的', 'Purpose')}</dt><dd id="purpose">${escapeHtml(view.purpose)}</dd></dl>
<section class="box" aria-labelledby="shared-h"><h2 id="shared-h">${tr(lang, '提供される情報', 'What will be shared')}</h2>
<ul id="shared">${view.shares.map((s) => html`<li>${tr(lang, s.ja, s.en)}</li>`)}</ul></section>
${statement}
${p.error ? agentErrorBox(lang, p.error) : ''}
<form method="post" action="${escapeHtml(action)}" id="confirm">
<input type="hidden" name="form_key" value="${escapeHtml(p.formKey)}">
${cardSection(lang, p.card)}
<p>${certificate}</p>
${pinSection(lang, p)}
<div class="actions"><button type="submit" id="submit">${escapeHtml(submit)}</button>
<a class="button secondary" id="cancel" href="${escapeHtml(p.returnUrl)}">${tr(lang, 'やめる', 'Cancel')}</a></div>
</form>`,
    { brand: brand(lang) },
  );
}

/**
 * Sent: the body of the 303 that returns the browser to the ceremony page at once (a browser never
 * shows it; a client that does not follow redirects gets the link).
 */
export function donePage(lang: Lang, view: HolderView, returnUrl: string): Html {
  return page(
    lang,
    lang === 'ja' ? '送信しました — Kakunin' : 'Sent — Kakunin',
    html`<h1 class="ok" id="done">${tr(lang, 'カードで確認しました', 'Your card has been checked')}</h1>
<p>${tr(lang, `${view.rp.name} の画面に戻ります。`, `Back to ${view.rp.name}.`)}</p>
<p><a class="button" id="return" href="${escapeHtml(returnUrl)}">${tr(lang, '元の画面に戻る', 'Back to the previous page')}</a></p>`,
    { brand: brand(lang) },
  );
}

/** A message without a form (blocked PIN, refused by the platform, finished ceremony), with a way back. */
export function messagePage(
  lang: Lang,
  o: { error: ShownError; returnUrl?: string; heading?: [string, string] },
): Html {
  const back = o.returnUrl
    ? html`<p><a class="button" id="return" href="${escapeHtml(o.returnUrl)}">${tr(lang, '元の画面に戻る', 'Back to the previous page')}</a></p>`
    : '';
  const heading = o.heading ?? ['うまくいきませんでした', 'Something went wrong'];
  return page(
    lang,
    `${tr(lang, ...heading)} — Kakunin`,
    html`<h1>${tr(lang, ...heading)}</h1>${agentErrorBox(lang, o.error)}${back}`,
    { brand: brand(lang) },
  );
}

export function notFoundPage(lang: Lang): Html {
  return page(
    lang,
    lang === 'ja' ? '見つかりません — Kakunin' : 'Not found — Kakunin',
    html`<h1>${tr(lang, 'この確認画面は使えません', 'This confirmation page cannot be used')}</h1>
<p id="not-found">${tr(
      lang,
      '確認画面のリンクは一度だけ、10分間有効です。元のサービスの画面から、もう一度「このパソコンで読み取る」を選んでください。',
      'A confirmation link works once, for 10 minutes. Go back to the service and choose "Use the card reader on this computer" again.',
    )}</p>`,
    { brand: brand(lang) },
  );
}

/** A refused form post: what to do in words; the technical reason in small print. */
export function forbiddenPage(lang: Lang, why: string): Html {
  return page(
    lang,
    lang === 'ja' ? '受け付けられません — Kakunin' : 'Not accepted — Kakunin',
    html`<h1>${tr(lang, 'このリクエストは受け付けられません', 'This request is not accepted')}</h1>
<p>${tr(lang, 'この確認画面から送られたものではないため、処理しませんでした。元のサービスの画面から、もう一度「このパソコンで読み取る」を選んでください。', 'It did not come from this confirmation page, so nothing was done. Go back to the service and choose "Use the card reader on this computer" again.')}</p>
<p class="muted" id="forbidden"><small>${escapeHtml(why)}</small></p>`,
    { brand: brand(lang) },
  );
}

export interface AgentHomeInput {
  lang: Lang;
  mode: 'sim' | 'pcsc';
  /** The platforms whose ceremony pages may use the agent. */
  platformOrigins: string[];
  pinPrompt: 'page' | 'terminal';
  protocol: number;
}

/**
 * The agent's address opened in a browser: what this is, that nothing is done here, and how a
 * ceremony uses it (the platform's "use the card reader on this computer" button).
 */
export function homePage(p: AgentHomeInput): Html {
  const { lang } = p;
  const card =
    p.mode === 'sim'
      ? tr(
          lang,
          'サンドボックスの住民の仮想マイナンバーカード(試験用)',
          'the virtual My Number Cards of the sandbox residents (for testing)',
        )
      : tr(
          lang,
          'このパソコンにつないだカードリーダー(PC/SC)のマイナンバーカード',
          'a My Number Card on a card reader (PC/SC) connected to this computer',
        );
  const platforms = p.platformOrigins.map(
    (o) => html`<li><a href="${escapeHtml(o)}"><code>${escapeHtml(o)}</code></a></li>`,
  );
  return page(
    lang,
    lang === 'ja' ? 'Kakunin エージェント — このパソコン' : 'Kakunin agent — this computer',
    html`<h1 id="agent-home">${tr(lang, 'Kakunin エージェントが動いています', 'The Kakunin agent is running')}</h1>
<p>${tr(lang, 'このパソコンで動いている Kakunin エージェントです。本人確認サービス(Kakunin)の画面で「このパソコンで読み取る」を押すと、このエージェントが自分の画面を開き、暗証番号を受け取ってカードを読み取ります。', 'This is the Kakunin agent on this computer. When you press "Use the card reader on this computer" on a Kakunin verification page, the agent opens its own page, takes the PIN and reads the card.')}</p>
<p><strong>${tr(lang, 'このページで操作することはありません。', 'There is nothing to do on this page.')}</strong> ${tr(lang, '手続きの途中なら、本人確認を始めたサービスの画面に戻ってください。', 'If you are in the middle of a verification, go back to the page of the service where you started it.')}</p>
<section class="box" aria-labelledby="agent-h"><h2 id="agent-h">${tr(lang, 'このエージェントの設定', 'How this agent is set up')}</h2><dl>
<dt>${tr(lang, '読み取るカード', 'Cards it reads')}</dt><dd id="agent-mode" data-mode="${p.mode}">${card}</dd>
<dt>${tr(lang, '暗証番号の入力', 'Where the PIN is entered')}</dt><dd id="agent-pin">${p.pinPrompt === 'terminal' ? tr(lang, 'エージェントを起動した端末(ターミナル)', 'the terminal where the agent runs') : tr(lang, 'エージェントの確認画面', 'the agent’s confirmation page')}</dd>
<dt>${tr(lang, '使えるサービス', 'Services that may use it')}</dt><dd><ul id="agent-platforms">${platforms}</ul></dd></dl>
<p class="muted"><small>${tr(lang, '暗証番号はカードにだけ送られ、保存も送信もされません。このエージェントはこのパソコンの中(127.0.0.1)からだけ使えます。', 'The PIN goes only to the card; it is never stored or sent anywhere. The agent can be reached from this computer only (127.0.0.1).')}</small></p></section>
<p class="muted"><small>${tr(lang, '開発者向け', 'For developers')}: <code>GET /v1/hello</code> (JSON, ${tr(lang, 'プロトコル', 'protocol')} ${p.protocol}); ${tr(lang, 'スマートフォンのアプリは、QRコードの手続きのリンクを Kakunin の holder プロトコル(docs/holder-protocol.md)で開きます。', 'phone apps open the QR code’s link with Kakunin’s holder protocol (docs/holder-protocol.md).')}</small></p>`,
    { brand: brand(lang) },
  );
}

/** A path the agent does not have, opened in a browser. */
export function unknownPage(lang: Lang): Html {
  return page(
    lang,
    lang === 'ja' ? '見つかりません — Kakunin' : 'Not found — Kakunin',
    html`<h1>${tr(lang, 'このページはありません', 'There is no such page')}</h1>
<p id="unknown">${tr(lang, 'このパソコンの Kakunin エージェントに、このアドレスのページはありません。', 'The Kakunin agent on this computer has no page at this address.')} <a href="/?lang=${lang}">${tr(lang, 'エージェントについて', 'About the agent')}</a></p>`,
    { brand: brand(lang) },
  );
}
