// What a holder is told for each typed error: what happened and what to do next, in both languages.
// Codes come from @kakunin/jpki (verification), @kakunin/card (the card, reported by the holder's
// app or agent) and the platform (ceremonies, nonces).

import { tr, type Lang } from './html.js';

export interface ErrorAdvice {
  title: [ja: string, en: string];
  next: [ja: string, en: string];
  /** Whether starting the ceremony again can help. */
  retry: boolean;
}

const unsupported: ErrorAdvice = {
  title: ['このカードまたは電子証明書は使えません', 'This card or certificate cannot be used'],
  next: [
    'マイナンバーカード(またはスマートフォン用電子証明書)でお試しください。',
    'Please use a My Number Card (or a smartphone JPKI certificate).',
  ],
  retry: true,
};

export const ERROR_ADVICE: Record<string, ErrorAdvice> = {
  WRONG_PIN: {
    title: ['暗証番号が違います', 'Wrong PIN'],
    next: [
      '正しい暗証番号でもう一度お試しください。続けて間違えるとロックされます。',
      'Try again with the right PIN. Too many wrong tries lock it.',
    ],
    retry: true,
  },
  PIN_BLOCKED: {
    title: ['暗証番号がロックされています', 'The PIN is locked'],
    next: [
      'お住まいの市区町村の窓口で暗証番号の初期化(再設定)をしてください。署名用電子証明書の暗証番号は、コンビニのキオスク端末でも初期化できる場合があります。',
      'Have it reset at your municipal office. The signing password can sometimes also be reset at a convenience-store kiosk.',
    ],
    retry: false,
  },
  REVOKED: {
    title: ['電子証明書が失効しています', 'The certificate has been revoked'],
    next: [
      '引越しや氏名の変更で署名用電子証明書は自動的に失効します。新しい電子証明書が発行されていれば、もう一度お試しください。',
      'A move or a name change revokes the signing certificate automatically. If a new certificate has been issued, please sign again with it.',
    ],
    retry: true,
  },
  EXPIRED: {
    title: ['電子証明書の有効期限が切れています', 'The certificate has expired'],
    next: ['市区町村の窓口で電子証明書を更新してください。', 'Renew the certificate at your municipal office.'],
    retry: false,
  },
  NOT_YET_VALID: {
    title: ['電子証明書がまだ有効になっていません', 'The certificate is not valid yet'],
    next: ['時間をおいてお試しください。', 'Please try again later.'],
    retry: true,
  },
  UNTRUSTED_ISSUER: unsupported,
  UNKNOWN_ISSUER_GENERATION: unsupported,
  WRONG_POLICY: unsupported,
  WRONG_KEY_USAGE: unsupported,
  NOT_A_MY_NUMBER_CARD: unsupported,
  MALFORMED: unsupported,
  WEAK_KEY: unsupported,
  UNKNOWN_CRITICAL_EXTENSION: unsupported,
  INVALID_BASIC_CONSTRAINTS: unsupported,
  WRONG_KIND: {
    title: ['必要な電子証明書ではありません', 'Not the certificate this needs'],
    next: [
      '本人確認には署名用電子証明書(英数字の暗証番号)、ログインには利用者証明用電子証明書(数字4桁)を使います。',
      'Identity verification uses the signing certificate (password); login uses the authentication certificate (4-digit PIN).',
    ],
    retry: true,
  },
  BAD_SIGNATURE: {
    title: ['署名を確認できませんでした', 'The signature could not be verified'],
    next: ['もう一度お試しください。', 'Please try again.'],
    retry: true,
  },
  REVOCATION_UNAVAILABLE: {
    title: ['失効情報を確認できませんでした', 'Revocation status is unavailable'],
    next: [
      '安全のため確認を中止しました。しばらくしてからお試しください。',
      'For safety the check was stopped. Please try again in a while.',
    ],
    retry: true,
  },
  CEREMONY_EXPIRED: {
    title: ['時間切れです', 'This request timed out'],
    next: ['最初からやり直してください。', 'Please start again.'],
    retry: true,
  },
  TIMEOUT: {
    title: ['時間切れです', 'Timed out'],
    next: ['カードをリーダーに置いたまま、もう一度お試しください。', 'Keep the card on the reader and try again.'],
    retry: true,
  },
  CARD_REMOVED: {
    title: ['カードが読み取れませんでした', 'The card was removed'],
    next: ['読み取りが終わるまでカードを動かさないでください。', 'Keep the card still until reading has finished.'],
    retry: true,
  },
  READER_NOT_FOUND: {
    title: ['カードリーダーが見つかりません', 'No card reader found'],
    next: ['カードリーダーを接続してお試しください。', 'Connect a card reader and try again.'],
    retry: true,
  },
  PCSC_UNAVAILABLE: {
    title: ['このパソコンではカードリーダーを使えません', 'Card readers cannot be used on this computer'],
    next: [
      'カードリーダーの支援（PC/SC）がインストールされていません。QRコードからスマートフォンで続けるか、管理者にお問い合わせください。',
      'Card reader support (PC/SC) is not installed. Continue on a phone with the QR code, or ask the administrator.',
    ],
    retry: true,
  },
  CEREMONY_FINISHED: {
    title: ['この手続きは終了しています', 'This request is already finished'],
    next: ['最初からやり直してください。', 'Please start again.'],
    retry: true,
  },
  AGENT_UNAVAILABLE: {
    title: ['このパソコンのカードリーダーを使えませんでした', 'The card reader on this computer could not be used'],
    next: [
      'Kakunin エージェントが動いているか確認し、ブラウザーがローカルネットワークへのアクセスを許可しているか確かめてください。QRコードからスマートフォンでも続けられます。',
      'Check that the Kakunin agent is running and that the browser allows local network access. You can also continue on a phone with the QR code.',
    ],
    retry: true,
  },
  access_denied: {
    title: ['中止しました', 'Cancelled'],
    next: ['サービスの画面に戻ります。', 'Returning to the service.'],
    retry: true,
  },
};

const FALLBACK: ErrorAdvice = {
  title: ['確認できませんでした', 'Verification failed'],
  next: ['最初からやり直してください。', 'Please start again.'],
  retry: true,
};

export const adviceFor = (code: string): ErrorAdvice => ERROR_ADVICE[code] ?? FALLBACK;

/** The error box of a page. `remaining` adds the tries left after a wrong PIN. */
export function errorBox(
  lang: Lang,
  o: { code: string; message?: string; messageJa?: string; remaining?: number },
): string {
  const a = adviceFor(o.code);
  const detail = lang === 'ja' ? (o.messageJa ?? o.message) : o.message;
  const remaining =
    o.remaining !== undefined
      ? `<p><strong>${tr(lang, `残り${o.remaining}回`, `${o.remaining} ${o.remaining === 1 ? 'try' : 'tries'} left`)}</strong></p>`
      : '';
  return `<div class="box error" role="alert" data-error-code="${o.code}"><h2>${tr(lang, ...a.title)}</h2>${remaining}<p>${tr(lang, ...a.next)}</p>${detail ? `<p class="muted">${tr(lang, detail, detail)}</p>` : ''}<p class="muted"><code>${o.code}</code></p></div>`;
}
