// What a holder is told for each typed error: what happened and what to do next, in both languages.
// Codes come from @kakunin/jpki (verification), @kakunin/card (the card, reported by the holder's
// app or agent), the platform (ceremonies, nonces), the agent and OpenID Connect: error-codes.ts
// lists them all, and the table below must have an entry for each (`satisfies`).

import { isErrorCode, type ErrorCode } from './error-codes.js';
import { escapeHtml, html, tr, type Html, type Lang } from './html.js';

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

const revocationAnswerRefused: ErrorAdvice = {
  title: ['失効情報の応答を確認できませんでした', 'The revocation answer could not be trusted'],
  next: [
    '安全のため確認を中止しました。しばらくしてからもう一度お試しください。',
    'For safety the check was stopped. Please try again in a while.',
  ],
  retry: true,
};

const timedOut: ErrorAdvice = {
  title: ['時間切れです', 'This request timed out'],
  next: ['最初からやり直してください。', 'Please start again.'],
  retry: true,
};

const invalidRequest: ErrorAdvice = {
  title: ['リクエストが不正です', 'The request is invalid'],
  next: [
    '最初からやり直してください。続く場合はサービスにお問い合わせください。',
    'Please start again. If it persists, contact the service.',
  ],
  retry: true,
};

/** An answer (nonce) issued for another request or another service. */
const foreignNonce: ErrorAdvice = {
  title: ['この手続きのものではない応答です', 'The answer does not belong to this request'],
  next: ['QRコードを読み取り直して、最初からやり直してください。', 'Scan the QR code again and start over.'],
  retry: true,
};

const temporarilyUnavailable: ErrorAdvice = {
  title: ['一時的に利用できません', 'Temporarily unavailable'],
  next: ['しばらくしてからお試しください。', 'Please try again in a while.'],
  retry: true,
};

const internal: ErrorAdvice = {
  title: ['内部エラーが発生しました', 'An internal error occurred'],
  next: [
    '最初からやり直してください。続く場合はサービスにお問い合わせください。',
    'Please start again. If it persists, contact the service.',
  ],
  retry: true,
};

/** The relying party's authorization request itself is wrong: only the service can fix it. */
const badAuthorizationRequest: ErrorAdvice = {
  title: ['サービスからの依頼が不正です', 'The request from the service is invalid'],
  next: [
    'サービスの画面からやり直してください。続く場合はサービスにお問い合わせください。',
    'Start again from the service. If it persists, contact the service.',
  ],
  retry: false,
};

/** The relying party is unknown, or its registration (redirect URI, grant) does not allow this. */
const unregisteredClient: ErrorAdvice = {
  title: ['このサービスは Kakunin を利用できません', 'This service cannot use Kakunin'],
  next: [
    'サービスにお問い合わせください(登録内容または戻り先のURLに誤りがあります)。',
    'Please contact the service (its registration or return address is wrong).',
  ],
  retry: false,
};

const verificationNeeded: ErrorAdvice = {
  title: ['確認が必要です', 'Verification is needed'],
  next: [
    'サービスの画面から、マイナンバーカードでの確認を始めてください。',
    'Start the verification with your My Number Card from the service.',
  ],
  retry: true,
};

export const ERROR_ADVICE = {
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
  CEREMONY_EXPIRED: timedOut,
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
  OCSP_NONCE_MISMATCH: revocationAnswerRefused,
  OCSP_CERT_ID_MISMATCH: revocationAnswerRefused,
  PIN_MISMATCH: {
    title: ['信頼の起点となる証明書の設定に誤りがあります', 'The trust anchor is misconfigured'],
    next: [
      'サービスの管理者にお問い合わせください(管理者の方へ: 設定したルート証明書と SHA-256 の指定値が一致しません)。',
      'Please contact the administrator (administrators: the configured root certificate does not match its pinned SHA-256).',
    ],
    retry: false,
  },
  TRUST_ANCHOR_REJECTED: {
    title: ['信頼の起点となる証明書を使えません', 'The trust anchor cannot be used'],
    next: [
      'サービスの管理者にお問い合わせください(管理者の方へ: SHA-256 を指定した本番の J-LIS ルート証明書だけを設定できます)。',
      'Please contact the administrator (administrators: only a production J-LIS root pinned by its SHA-256 can be configured).',
    ],
    retry: false,
  },
  SECURITY_STATUS_NOT_SATISFIED: {
    title: ['カードが操作を受け付けませんでした', 'The card refused the operation'],
    next: ['カードを置き直して、もう一度お試しください。', 'Place the card again and retry.'],
    retry: true,
  },
  FILE_NOT_FOUND: {
    title: ['カードに必要な情報がありません', 'The card does not hold the data needed'],
    next: [
      'スマートフォン用電子証明書には券面事項がありません。マイナンバーカードでお試しください。',
      'A smartphone JPKI certificate holds no card-face data. Please use the My Number Card itself.',
    ],
    retry: true,
  },
  UNEXPECTED_STATUS: {
    title: ['カードが予期しない応答をしました', 'The card gave an unexpected answer'],
    next: [
      'カードを置き直して、もう一度お試しください。続く場合は別のカードリーダーでお試しください。',
      'Place the card again and retry. If it keeps happening, try another card reader.',
    ],
    retry: true,
  },
  INVALID_PIN_FORMAT: {
    title: ['暗証番号の形式が違います', 'The PIN has the wrong format'],
    next: [
      '入力した暗証番号はカードに送っていません。形式を確かめて、もう一度入力してください。',
      'Nothing was sent to the card. Check the format and enter it again.',
    ],
    retry: true,
  },
  TRUNCATED_RESPONSE: {
    title: ['カードの応答が途中で切れました', 'The card’s answer was cut short'],
    next: [
      '読み取りが終わるまでカードを動かさず、もう一度お試しください。',
      'Keep the card still until reading has finished and try again.',
    ],
    retry: true,
  },
  INTEGRITY_CHECK_FAILED: {
    title: ['カードの券面事項を確認できませんでした', 'The card-face data failed its integrity check'],
    next: [
      'カードのデータが正しいことを確かめられないため使いません。続く場合はお住まいの市区町村の窓口にご相談ください。',
      'The data on the card could not be proven genuine, so it is not used. If this persists, ask your municipal office.',
    ],
    retry: true,
  },
  INVALID_INPUT: {
    title: ['カードに送る内容が不正です', 'The request to the card is invalid'],
    next: [
      '最初からやり直してください。続く場合はサービスにお問い合わせください。',
      'Please start again. If it persists, contact the service.',
    ],
    retry: true,
  },
  MY_NUMBER_REFUSED: {
    title: ['マイナンバー(個人番号)は読み取りません', 'The My Number is never read'],
    next: [
      'Kakunin はマイナンバーを読み取らないため、この操作を拒否しました。サービスにお問い合わせください。',
      'Kakunin never reads the My Number, so this operation was refused. Please contact the service.',
    ],
    retry: false,
  },
  INVALID_REQUEST: invalidRequest,
  BAD_REQUEST: invalidRequest,
  MALFORMED_SUBMISSION: {
    title: ['送信内容が不正です', 'What was sent is invalid'],
    next: ['アプリまたはエージェントから、もう一度お試しください。', 'Try again from the app or the agent.'],
    retry: true,
  },
  NOT_FOUND: {
    title: ['見つかりません', 'Not found'],
    next: [
      'リンクを確かめるか、サービスの画面からやり直してください。',
      'Check the link, or start again from the service.',
    ],
    retry: true,
  },
  UNAUTHORIZED: {
    title: ['ログインが必要です', 'Sign-in required'],
    next: ['管理コンソールにログインし直してください。', 'Sign in to the admin console again.'],
    retry: false,
  },
  TOO_MANY_ATTEMPTS: {
    title: ['失敗が多すぎます', 'Too many failed attempts'],
    next: ['しばらく待ってからお試しください。', 'Wait a while, then try again.'],
    retry: true,
  },
  CEREMONY_NOT_FOUND: {
    title: ['手続きが見つかりません', 'The request was not found'],
    next: ['元の画面から、最初からやり直してください。', 'Start again from the original page.'],
    retry: true,
  },
  CEREMONY_NOT_ALLOWED: {
    title: ['このサービスはこの手続きを利用できません', 'This service may not use this kind of verification'],
    next: ['サービスにお問い合わせください。', 'Please contact the service.'],
    retry: false,
  },
  NONCE_UNKNOWN: foreignNonce,
  NONCE_CEREMONY_MISMATCH: foreignNonce,
  NONCE_AUDIENCE_MISMATCH: foreignNonce,
  NONCE_REPLAYED: {
    title: ['この応答は使用済みです', 'This answer has already been used'],
    next: [
      '同じ応答は二度使えません。最初からやり直してください。',
      'The same answer cannot be used twice. Please start again.',
    ],
    retry: true,
  },
  NONCE_EXPIRED: timedOut,
  RECORD_NOT_INTEGRATED: {
    title: ['記録はまだ確定していません', 'The record is not final yet'],
    next: ['数秒後にもう一度お試しください。', 'Try again in a few seconds.'],
    retry: true,
  },
  NO_SUCH_CHECKPOINT: {
    title: ['指定のチェックポイントはありません', 'No such checkpoint'],
    next: [
      '署名済みチェックポイントのある木のサイズを指定してください。',
      'Ask for a tree size at which a checkpoint was signed.',
    ],
    retry: false,
  },
  TOO_MANY_STREAMS: {
    title: ['開いている画面が多すぎます', 'Too many pages are open'],
    next: [
      'この手続きの他の画面を閉じて、しばらくしてからお試しください。',
      'Close other pages of this request and try again in a moment.',
    ],
    retry: true,
  },
  NO_SUCH_RELATIONSHIP: {
    title: ['この利用者との取引関係はありません', 'No relationship with this holder'],
    next: ['自社の ID トークンの sub を指定してください。', 'Use the sub of your own ID tokens.'],
    retry: false,
  },
  CREDENTIAL_OFFERS_NOT_ALLOWED: {
    title: ['デジタル身分証の発行を案内できません', 'This service may not offer the digital ID credential'],
    next: [
      'プラットフォームの運営者に、この事業者を credentialOfferClients に加えるよう依頼してください。',
      'Ask the platform operator to add this relying party to credentialOfferClients.',
    ],
    retry: false,
  },
  TEMPORARILY_UNAVAILABLE: temporarilyUnavailable,
  INTERNAL: internal,
  AGENT_ERROR: {
    title: ['エージェントでエラーが起きました', 'The agent ran into an error'],
    next: [
      'もう一度お試しください。続く場合はエージェントを起動し直してください。',
      'Try again. If it persists, restart the agent.',
    ],
    retry: true,
  },
  PLATFORM_UNREACHABLE: {
    title: ['確認サービスに接続できません', 'Cannot reach the verification service'],
    next: ['ネットワークを確かめて、もう一度お試しください。', 'Check the network and try again.'],
    retry: true,
  },
  NOT_A_HOLDER_CEREMONY: {
    title: ['この手続きは扱えません', 'This request cannot be handled here'],
    next: ['元の画面から、最初からやり直してください。', 'Start again from the original page.'],
    retry: true,
  },
  PIN_CANCELLED: {
    title: ['暗証番号の入力を中止しました', 'PIN entry was cancelled'],
    next: ['もう一度送信すると、端末で暗証番号を入力できます。', 'Submit again to enter the PIN on the terminal.'],
    retry: true,
  },
  BUSY: {
    title: ['処理中です', 'Already in progress'],
    next: [
      'いま別の確認でカードを使っています。終わってからもう一度お試しください。',
      'The card is in use for another request. Try again when it has finished.',
    ],
    retry: true,
  },
  UNKNOWN_PERSON: {
    title: ['この住民はサンドボックスにいません', 'No such sandbox resident'],
    next: ['一覧から選び直してください。', 'Choose a resident from the list.'],
    retry: true,
  },
  NO_SUCH_CERTIFICATE: {
    title: ['このカードには必要な電子証明書がありません', 'This card does not hold the certificate needed'],
    next: [
      '署名用電子証明書は15歳以上の方に発行されます。別のカード(住民)を選んでください。',
      'Signing certificates are issued from age 15. Choose another card (resident).',
    ],
    retry: true,
  },
  invalid_request: badAuthorizationRequest,
  invalid_request_object: badAuthorizationRequest,
  request_not_supported: badAuthorizationRequest,
  request_uri_not_supported: badAuthorizationRequest,
  unsupported_response_type: badAuthorizationRequest,
  unsupported_response_mode: badAuthorizationRequest,
  invalid_scope: badAuthorizationRequest,
  invalid_client: unregisteredClient,
  unauthorized_client: unregisteredClient,
  invalid_redirect_uri: unregisteredClient,
  login_required: verificationNeeded,
  consent_required: verificationNeeded,
  interaction_required: verificationNeeded,
  server_error: internal,
  temporarily_unavailable: temporarilyUnavailable,
} satisfies Record<ErrorCode, ErrorAdvice>;

const FALLBACK: ErrorAdvice = {
  title: ['確認できませんでした', 'Verification failed'],
  next: ['最初からやり直してください。', 'Please start again.'],
  retry: true,
};

/** Advice for a code from outside (a JSON body, a stored ceremony, oidc-provider): unknown ones get the generic words. */
export const adviceFor = (code: string): ErrorAdvice => (isErrorCode(code) ? ERROR_ADVICE[code] : FALLBACK);

/** The error box of a page. `remaining` adds the tries left after a wrong PIN. */
export function errorBox(
  lang: Lang,
  o: { code: string; message?: string; messageJa?: string; remaining?: number },
): Html {
  const a = adviceFor(o.code);
  const detail = lang === 'ja' ? (o.messageJa ?? o.message) : o.message;
  const remaining =
    o.remaining !== undefined
      ? html`<p><strong>${tr(lang, `残り${o.remaining}回`, `${o.remaining} ${o.remaining === 1 ? 'try' : 'tries'} left`)}</strong></p>`
      : undefined;
  // The code comes from outside (a JSON body, a stored ceremony): escaped like any text.
  const code = escapeHtml(o.code);
  return html`<div class="box error" role="alert" data-error-code="${code}"><h2>${tr(lang, ...a.title)}</h2>${remaining}<p>${tr(lang, ...a.next)}</p>${detail ? html`<p class="muted">${tr(lang, detail, detail)}</p>` : undefined}<p class="muted"><code>${code}</code></p></div>`;
}
