// Words for the codes and stored values the demos show: revocation reasons (RFC 5280 CRLReason names,
// as the platform's certificate.revoked webhook carries them), OIDC error codes on the callback, and
// English for text the demos keep in Japanese (their records are Japanese legal records). A code is
// never the main text of a page: it follows the words in small print.

import { jstWords } from './japan.js';
import { escapeHtml, type Lang } from './layout.js';

type Words = readonly [ja: string, en: string];

/** What each revocation reason means for the holder of a My Number Card certificate. */
export const REVOCATION_REASONS: Readonly<Record<string, Words>> = {
  unspecified: ['理由の指定なし', 'no reason given'],
  keyCompromise: ['カードの紛失・盗難など (秘密鍵の危殆化)', 'the card was lost or stolen (key compromised)'],
  cACompromise: ['発行者 (認証局) の問題', 'a problem at the issuing authority'],
  affiliationChanged: ['氏名・住所などの変更 (転居・婚姻など)', 'a change of name or address (a move, marriage …)'],
  superseded: ['新しい電子証明書への更新', 'replaced by a new certificate'],
  cessationOfOperation: [
    '電子証明書が不要になった (失効の申請・カードの返納など)',
    'no longer needed (revoked on request, card returned …)',
  ],
  certificateHold: ['一時停止', 'suspended for now'],
  removeFromCRL: ['一時停止の解除', 'suspension lifted'],
  privilegeWithdrawn: ['利用資格の取消し', 'the right to use it was withdrawn'],
  aACompromise: ['属性認証局の問題', 'a problem at the attribute authority'],
};

/** The reason in words (the code itself when it is one the demos do not know). */
export const reasonWords = (code: string | undefined, lang: Lang): string => {
  const w = code ? REVOCATION_REASONS[code] : undefined;
  if (w) return lang === 'ja' ? w[0] : w[1];
  return code ? code : lang === 'ja' ? '不明' : 'unknown';
};

/** A code in small print after the words: ` <small class="code">(affiliationChanged)</small>`. */
export const codeNote = (code: string | undefined): string =>
  code ? ` <small class="code" data-code="${escapeHtml(code)}">(${escapeHtml(code)})</small>` : '';

/** Markup: the reason in words, its code in small print. */
export const reasonHtml = (code: string | undefined, lang: Lang): string =>
  `${escapeHtml(reasonWords(code, lang))}${REVOCATION_REASONS[code ?? ''] ? codeNote(code) : ''}`;

/** OAuth 2.0 / OpenID Connect error codes a relying party's callback may get, in words. */
export const OIDC_ERRORS: Readonly<Record<string, { title: Words; text: Words }>> = {
  access_denied: {
    title: ['手続きを中止しました', 'Cancelled'],
    text: [
      '手続きを取りやめたため、このサービスには何も提供されていません。',
      'You declined, so nothing was shared with this service.',
    ],
  },
  login_required: {
    title: ['ログインが必要です', 'You need to log in'],
    text: ['もう一度最初からお試しください。', 'Please start again.'],
  },
  consent_required: {
    title: ['同意が必要です', 'Your consent is needed'],
    text: [
      '情報の提供に同意いただけなかったため、手続きを続けられません。',
      'Without your consent to share the information, this cannot go on.',
    ],
  },
  interaction_required: {
    title: ['操作が必要です', 'Your action is needed'],
    text: ['もう一度最初からお試しください。', 'Please start again.'],
  },
  invalid_request: {
    title: ['手続きを始められませんでした', 'The request could not be started'],
    text: ['時間をおいて、もう一度お試しください。', 'Please try again in a while.'],
  },
  server_error: {
    title: ['本人確認サービスでエラーが起きました', 'The identity service ran into an error'],
    text: ['時間をおいて、もう一度お試しください。', 'Please try again in a while.'],
  },
  temporarily_unavailable: {
    title: ['本人確認サービスが混み合っています', 'The identity service is busy'],
    text: ['時間をおいて、もう一度お試しください。', 'Please try again in a while.'],
  },
};

export const oidcErrorWords = (code: string): { title: Words; text: Words } =>
  OIDC_ERRORS[code] ?? {
    title: ['本人確認ができませんでした', 'Verification failed'],
    text: ['もう一度最初からお試しください。', 'Please start again.'],
  };

/**
 * English for values a demo stored in Japanese: exact phrases, and patterns whose parts (numbers,
 * dates, URLs) carry over. Unknown text has no English (the page shows it as Japanese, marked so).
 */
export class Phrasebook {
  private readonly exact = new Map<string, string>();
  private readonly patterns: [RegExp, (m: RegExpExecArray) => string][] = [];

  add(ja: string, en: string): this {
    this.exact.set(ja, en);
    return this;
  }

  match(pattern: RegExp, en: (m: RegExpExecArray) => string): this {
    this.patterns.push([pattern, en]);
    return this;
  }

  en(ja: string): string | undefined {
    const hit = this.exact.get(ja);
    if (hit !== undefined) return hit;
    for (const [p, en] of this.patterns) {
      const m = p.exec(ja);
      if (m) return en(m);
    }
    return undefined;
  }
}

/** Markup for a value stored in Japanese: as it is in Japanese; in English its English text (without one, the Japanese, marked as such). */
export function storedHtml(lang: Lang, ja: string, en: string | undefined): string {
  if (lang === 'ja' || en === ja) return escapeHtml(ja);
  if (en === undefined)
    return `<span lang="ja">${escapeHtml(ja)}</span> <small class="muted">(recorded in Japanese)</small>`;
  return escapeHtml(en);
}

/** A note appended to a demo's 確認記録: its Japanese text, its English, and the revocation reason's code when it is about one. */
export interface RecordNote {
  at: string;
  text: string;
  en?: string;
  reason?: string;
}

/** One record note as a list item: the time in Japan time words, the text in the page's language, the code in small print. */
export function recordNoteHtml(lang: Lang, n: RecordNote, phrases: Phrasebook): string {
  return `<li data-testid="record-note"><time datetime="${escapeHtml(n.at)}">${escapeHtml(jstWords(n.at, lang))}</time> — ${lang === 'ja' ? escapeHtml(n.text) : storedHtml(lang, n.text, n.en ?? phrases.en(n.text))}${codeNote(n.reason)}</li>`;
}
