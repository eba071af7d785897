// The holder link (`/holder/v1/ceremonies/{id}`, the QR code and the 「マイナンバーカードアプリで開く」
// link) opened in a browser: no app answered it. The page says what the link is for (a phone app that
// speaks Kakunin's holder protocol reads the card over NFC), that no app took it, and how to finish on
// this computer instead (the ceremony page's "use the card reader on this computer", or `kakunin
// holder`). Apps and agents asking for JSON get the protocol's JSON as ever (routes/holder.ts).

import { escapeHtml, html, jstTime, page, tr, type Html, type Lang } from './html.js';

export interface HolderLinkPageInput {
  lang: Lang;
  /** This link (what an app, or `kakunin holder`, opens). */
  holderUrl: string;
  /** The ceremony page it came from (`/interaction/<uid>`), when the ceremony belongs to one. */
  ceremonyPageUrl?: string;
  /** Absent when the link names no ceremony (wrong or purged). */
  ceremony?: {
    kind: 'login' | 'identity';
    rpName: string;
    purpose: string;
    state: 'pending' | 'completed' | 'failed' | 'expired';
    expiresAt: Date;
  };
}

const TITLE: [string, string] = ['マイナンバーカードアプリ用のリンクです', 'This link is for a My Number Card app'];

/** What the link is for: a phone app reads the card over NFC and answers the ceremony. */
function whatItIs(lang: Lang): Html {
  return html`<p id="what">${tr(
    lang,
    'このリンクは、スマートフォンの本人確認アプリが開くためのものです。対応アプリ(Kakunin の holder プロトコルに対応したアプリ)は、このリンクから手続きの内容を受け取り、マイナンバーカードを NFC で読み取って、依頼に答えます。',
    'This link is meant to be opened by an identity app on a phone. An app that speaks Kakunin’s holder protocol takes the request from this link, reads your My Number Card over NFC and answers the request.',
  )}</p>
<p id="no-app">${tr(lang, 'ブラウザーでこのページが開いたのは、このリンクに応える対応アプリがこの端末に見つからなかったためです。', 'You are seeing this page in a browser because no such app on this device answered the link.')}</p>`;
}

function howToFinish(lang: Lang, p: HolderLinkPageInput): Html {
  const back = p.ceremonyPageUrl
    ? html`<p><a class="button" id="back-to-ceremony" href="${escapeHtml(p.ceremonyPageUrl)}">${tr(lang, '本人確認の画面に戻る', 'Back to the verification page')}</a></p>`
    : '';
  return html`<section class="box" aria-labelledby="finish-h" id="finish"><h2 id="finish-h">${tr(lang, 'このパソコンで続けるには', 'To finish on this computer')}</h2>
<ol><li>${tr(lang, '本人確認の画面(QRコードが表示された画面)に戻ります。', 'Go back to the verification page (the one with the QR code).')}</li>
<li>${tr(lang, '「このパソコンで読み取る」を押します。このパソコンに Kakunin エージェント(kakunin agent)とカードリーダーが必要です。', 'Press “Use the card reader on this computer”. This needs the Kakunin agent (kakunin agent) and a card reader on this computer.')}</li>
<li>${tr(lang, 'エージェントの画面で暗証番号を入れると、本人確認の画面に戻って続きます。', 'Enter your PIN on the agent’s page; you then return to the verification page and carry on.')}</li></ol>
${back}
<p>${tr(lang, 'スマートフォンで続けるときは、本人確認の画面のQRコードを対応アプリで読み取ってください。', 'To continue on a phone instead, scan the QR code on the verification page with such an app.')}</p>
<p class="muted"><small>${tr(lang, '端末(ターミナル)から: ', 'From a terminal: ')}<code id="holder-command">kakunin holder ${escapeHtml(p.holderUrl)}</code></small></p></section>`;
}

/** The holder link opened in a browser (ja/en), for a pending, finished or unknown ceremony. */
export function holderLinkPage(p: HolderLinkPageInput): Html {
  const { lang, ceremony: c } = p;
  const developers = html`<p class="muted"><small>${tr(lang, '開発者向け: このリンクは', 'For developers: this link answers')} <code>Accept: application/json</code> ${tr(
    lang,
    'のとき、holder プロトコル(kakunin-holder/1、docs/holder-protocol.md)の JSON を返します。',
    'with the holder protocol’s JSON (kakunin-holder/1, docs/holder-protocol.md).',
  )}</small></p>`;
  if (!c) {
    return page(
      lang,
      `${lang === 'ja' ? TITLE[0] : TITLE[1]} — Kakunin`,
      html`<h1>${tr(lang, ...TITLE)}</h1>${whatItIs(lang)}
<div class="box error" role="alert" id="holder-link-state" data-state="not_found"><h2>${tr(lang, 'この手続きは見つかりません', 'This request was not found')}</h2>
<p>${tr(lang, 'リンクが正しくないか、手続きが古くなって消去されています。利用しているサービスの画面から、最初からやり直してください。', 'The link is wrong, or the request is old and has been removed. Start again from the service you were using.')}</p></div>${developers}`,
    );
  }
  const what =
    c.kind === 'login'
      ? tr(lang, 'マイナンバーカードでのログイン', 'a login with your My Number Card')
      : tr(
          lang,
          'マイナンバーカードでの本人確認(電子署名)',
          'an identity verification with your My Number Card (a signature)',
        );
  const request = html`<dl id="holder-link-request"><dt>${tr(lang, '依頼者', 'Requested by')}</dt><dd id="rp-name">${escapeHtml(c.rpName)}</dd>
<dt>${tr(lang, '目的', 'Purpose')}</dt><dd id="purpose">${escapeHtml(c.purpose)}</dd>
<dt>${tr(lang, '手続き', 'Request')}</dt><dd id="ceremony-kind" data-kind="${c.kind}">${what}</dd>
<dt>${tr(lang, '有効期限', 'Expires at')}</dt><dd id="expires-at">${jstTime(c.expiresAt, lang)}</dd></dl>`;
  const ended =
    c.state === 'pending'
      ? ''
      : html`<div class="box${c.state === 'completed' ? '' : ' error'}" role="status" id="holder-link-state" data-state="${c.state}"><h2>${
          c.state === 'completed'
            ? tr(lang, 'この手続きは終わっています', 'This request is already done')
            : c.state === 'expired'
              ? tr(lang, 'この手続きは時間切れです', 'This request has timed out')
              : tr(lang, 'この手続きは終了しています', 'This request has ended')
        }</h2><p>${
          c.state === 'completed'
            ? tr(
                lang,
                'カードでの確認は済んでいます。本人確認の画面に戻って続けてください。',
                'The card has been checked. Go back to the verification page to carry on.',
              )
            : tr(
                lang,
                '利用しているサービスの画面から、最初からやり直してください。',
                'Start again from the service you were using.',
              )
        }</p>${p.ceremonyPageUrl && c.state === 'completed' ? html`<p><a class="button" id="back-to-ceremony" href="${escapeHtml(p.ceremonyPageUrl)}">${tr(lang, '本人確認の画面に戻る', 'Back to the verification page')}</a></p>` : ''}</div>`;
  return page(
    lang,
    `${lang === 'ja' ? TITLE[0] : TITLE[1]} — Kakunin`,
    html`<h1 id="holder-link-page">${tr(lang, ...TITLE)}</h1>${whatItIs(lang)}${request}${ended}${c.state === 'pending' ? howToFinish(lang, p) : ''}${developers}`,
  );
}
