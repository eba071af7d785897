// Sign-in with the admin token. The token is typed into a password field and never echoed back.

import { escapeHtml, html, tr, type Html, type Lang } from '../html.js';
import { href, messageBox, shell } from './layout.js';

export interface LoginPageInput {
  lang: Lang;
  /** Where to go after signing in (a console path). */
  next?: string;
  /** Set after a failed attempt. */
  failed?: boolean;
  /** Set after signing out. */
  signedOut?: boolean;
}

export function loginPage(p: LoginPageInput): Html {
  const { lang } = p;
  const params = p.next ? { next: p.next } : {};
  const body = html`<h1>${tr(lang, '管理コンソールにサインイン', 'Sign in to the admin console')}</h1>
${p.failed ? messageBox('error', lang === 'ja' ? '管理者トークンが違います' : 'Wrong admin token', lang === 'ja' ? 'DATA_DIR/admin-token または KAKUNIN_ADMIN_TOKEN の値を入力してください。' : 'Enter the value of DATA_DIR/admin-token or KAKUNIN_ADMIN_TOKEN.') : ''}
${p.signedOut ? messageBox('notice', lang === 'ja' ? 'サインアウトしました' : 'Signed out') : ''}
<form method="post" action="${escapeHtml(href(lang, '/admin/login', params))}" class="box">
<label for="token">${tr(lang, '管理者トークン', 'Admin token')}</label>
<input type="password" id="token" name="token" required autocomplete="current-password" aria-describedby="token-help"${p.failed ? ' aria-invalid="true" autofocus' : ''}>
<p id="token-help" class="muted">${tr(lang, 'サーバーの DATA_DIR/admin-token(または KAKUNIN_ADMIN_TOKEN)に書かれています。セッションは8時間有効です。', 'It is in the server’s DATA_DIR/admin-token (or KAKUNIN_ADMIN_TOKEN). A session lasts 8 hours.')}</p>
<div class="actions"><button type="submit" id="sign-in">${tr(lang, 'サインイン', 'Sign in')}</button></div></form>`;
  return shell(
    lang,
    lang === 'ja' ? 'サインイン — Kakunin 管理' : 'Sign in — Kakunin admin',
    body,
    href(lang === 'ja' ? 'en' : 'ja', '/admin/login', params),
  );
}
