// Relying parties: the list (with enable/disable) and the registration form; after registering, the
// client secret and webhook secret are shown once (they are never shown again).

import { domainToUnicode } from 'node:url';
import { escapeHtml, html, tr, type Html } from '../html.js';
import { adminPage, csrfField, href, jst, messageBox, postButton, table, text, type AdminContext } from './layout.js';

// Both pages live under the same nav entry and title.
const adminRpPage = (ctx: AdminContext, body: Html): Html => adminPage(ctx, 'rps', ['事業者', 'Relying parties'], body);

export interface AdminRp {
  clientId: string;
  name: string;
  framework: string;
  ceremonies: string[];
  redirectUris: string[];
  webhookUrl: string | null;
  purpose: string;
  createdAt: Date;
  disabled: boolean;
}

/** What was typed into the form (kept when it is shown again with an error). */
export interface RpFormValues {
  name?: string;
  redirectUris?: string;
  framework?: string;
  ceremonies?: string[];
  purpose?: string;
  webhookUrl?: string;
}

export interface RpListPageInput {
  ctx: AdminContext;
  rps: AdminRp[];
  form?: RpFormValues;
  /** A registration that was refused, already in the page's language. */
  error?: string;
  notice?: 'enabled' | 'disabled';
}

export const FRAMEWORKS: { value: string; ja: string; en: string }[] = [
  {
    value: 'jp_aml',
    ja: 'jp_aml(犯罪収益移転防止法)',
    en: 'jp_aml (Act on Prevention of Transfer of Criminal Proceeds)',
  },
  {
    value: 'jp_mpiupa',
    ja: 'jp_mpiupa(携帯電話不正利用防止法)',
    en: 'jp_mpiupa (Mobile Phone Improper Use Prevention Act)',
  },
  { value: 'jp_municipal', ja: 'jp_municipal(地方公共団体)', en: 'jp_municipal (municipal services)' },
];

const CEREMONIES: { value: string; ja: string; en: string }[] = [
  { value: 'login', ja: 'ログイン(利用者証明用電子証明書)', en: 'Login (user authentication certificate)' },
  { value: 'identity', ja: '本人確認(署名用電子証明書)', en: 'Identity verification (signing certificate)' },
];

const list = (items: string[]): Html =>
  items.length ? html`<ul>${items.map((i) => html`<li>${escapeHtml(i)}</li>`)}</ul>` : html`—`;

/** A redirect URI as stored (an IDN host in punycode), with the Unicode form beside it when they differ. */
export function redirectUriLabel(uri: string): Html {
  let host: string;
  try {
    host = new URL(uri).hostname;
  } catch {
    return escapeHtml(uri);
  }
  const unicode = domainToUnicode(host);
  return unicode && unicode !== host
    ? html`${escapeHtml(uri)} <span class="muted" data-unicode-host>(${escapeHtml(unicode)})</span>`
    : escapeHtml(uri);
}
const uriList = (items: string[]): Html =>
  items.length ? html`<ul>${items.map((i) => html`<li>${redirectUriLabel(i)}</li>`)}</ul>` : html`—`;

function rpTable(ctx: AdminContext, rps: AdminRp[]): Html {
  const { lang } = ctx;
  const rows = rps.map((rp, i) => {
    const rowId = `rp-${i}`;
    const toggle = postButton(
      ctx,
      `/admin/rps/${encodeURIComponent(rp.clientId)}/disabled`,
      rp.disabled ? (lang === 'ja' ? '有効にする' : 'Enable') : lang === 'ja' ? '無効にする' : 'Disable',
      {
        fields: { disabled: rp.disabled ? 'false' : 'true' },
        secondary: !rp.disabled,
        describedBy: rowId,
      },
    );
    return [
      html`<span id="${escapeHtml(rowId)}">${escapeHtml(rp.name)}</span>`,
      html`<code>${escapeHtml(rp.clientId)}</code>`,
      escapeHtml(rp.framework),
      list(rp.ceremonies),
      uriList(rp.redirectUris),
      text(rp.webhookUrl),
      html`${rp.disabled ? html`<span class="bad">${tr(lang, '無効', 'Disabled')}</span>` : tr(lang, '有効', 'Enabled')} ${toggle}`,
      jst(rp.createdAt),
    ];
  });
  const headers = [
    tr(lang, '名称', 'Name'),
    tr(lang, 'クライアントID', 'Client ID'),
    tr(lang, 'トラストフレームワーク', 'Framework'),
    tr(lang, '手続き', 'Ceremonies'),
    tr(lang, 'リダイレクトURI', 'Redirect URIs'),
    tr(lang, 'Webhook', 'Webhook'),
    tr(lang, '状態', 'State'),
    tr(lang, '登録日時', 'Registered'),
  ];
  return table(tr(lang, '登録済みの事業者', 'Registered relying parties'), headers, rows, {
    id: 'rp-list',
    empty: tr(lang, 'まだ事業者は登録されていません。', 'No relying party is registered yet.'),
  });
}

function rpForm(ctx: AdminContext, v: RpFormValues): Html {
  const { lang } = ctx;
  const ceremonies = v.ceremonies ?? ['login', 'identity'];
  const framework = v.framework ?? 'jp_aml';
  const field = (id: string, ja: string, en: string, input: Html, help?: [string, string]): Html =>
    html`<label for="${escapeHtml(id)}">${tr(lang, ja, en)}</label>${input}${help ? html`<p id="${escapeHtml(id)}-help" class="muted">${tr(lang, help[0], help[1])}</p>` : ''}`;
  return html`<form method="post" action="${escapeHtml(href(lang, '/admin/rps'))}" class="box" id="rp-form">${csrfField(ctx.csrf)}
${field('rp-name', '名称(必須)', 'Name (required)', html`<input id="rp-name" name="name" required maxlength="200" value="${escapeHtml(v.name ?? '')}">`)}
${field('rp-redirects', 'リダイレクトURI(必須、1行に1つ)', 'Redirect URIs (required, one per line)', html`<textarea id="rp-redirects" name="redirect_uris" rows="3" required aria-describedby="rp-redirects-help">${escapeHtml(v.redirectUris ?? '')}</textarea>`, ['https のみ(ループバックは http 可)。すべて同じホストにしてください。', 'https only (http on the loopback interface). All on one host.'])}
${field('rp-framework', 'トラストフレームワーク', 'Trust framework', html`<select id="rp-framework" name="framework">${FRAMEWORKS.map((f) => html`<option value="${escapeHtml(f.value)}"${f.value === framework ? ' selected' : ''}>${tr(lang, f.ja, f.en)}</option>`)}</select>`)}
<fieldset><legend>${tr(lang, '利用できる手続き', 'Allowed ceremonies')}</legend>${CEREMONIES.map((c) => html`<label><input type="checkbox" name="ceremonies" value="${escapeHtml(c.value)}"${ceremonies.includes(c.value) ? ' checked' : ''}> ${tr(lang, c.ja, c.en)}</label>`)}</fieldset>
${field('rp-purpose', '利用目的(利用者に表示され、確認記録に残ります)', 'Purpose (shown to the holder, written into records)', html`<input id="rp-purpose" name="purpose" maxlength="500" value="${escapeHtml(v.purpose ?? '')}" aria-describedby="rp-purpose-help">`, ['空欄なら「〈名称〉の利用者の本人確認」になります。', 'Empty: “identity verification of the users of <name>”.'])}
${field('rp-webhook', 'Webhook URL(任意、失効の通知先)', 'Webhook URL (optional, where revocations are sent)', html`<input id="rp-webhook" name="webhook_url" type="url" maxlength="2000" value="${escapeHtml(v.webhookUrl ?? '')}">`)}
<div class="actions"><button type="submit" id="rp-register">${tr(lang, '登録する', 'Register')}</button></div></form>`;
}

export function rpListPage(p: RpListPageInput): Html {
  const { ctx } = p;
  const { lang } = ctx;
  const notice = p.notice
    ? messageBox(
        'notice',
        p.notice === 'enabled'
          ? lang === 'ja'
            ? '事業者を有効にしました'
            : 'The relying party was enabled'
          : lang === 'ja'
            ? '事業者を無効にしました'
            : 'The relying party was disabled',
      )
    : '';
  const error = p.error
    ? messageBox('error', lang === 'ja' ? '登録できませんでした' : 'Could not register', p.error)
    : '';
  return adminRpPage(
    ctx,
    html`${notice}${rpTable(ctx, p.rps)}<h2 id="register">${tr(lang, '事業者を登録する', 'Register a relying party')}</h2>${error}${rpForm(ctx, p.form ?? {})}`,
  );
}

export interface RpCreatedPageInput {
  ctx: AdminContext;
  rp: AdminRp;
  clientSecret: string;
  webhookSecret: string;
}

export function rpCreatedPage(p: RpCreatedPageInput): Html {
  const { ctx, rp } = p;
  const { lang } = ctx;
  return adminRpPage(
    ctx,
    html`${messageBox('notice', lang === 'ja' ? `「${rp.name}」を登録しました` : `Registered “${rp.name}”`)}
<section class="box warn" aria-labelledby="secrets-h"><h2 id="secrets-h">${tr(lang, '秘密情報(この画面でしか表示されません)', 'Secrets (shown on this page only)')}</h2>
<p>${tr(lang, 'いま安全な場所に保管してください。再表示はできません。', 'Store them somewhere safe now: they cannot be shown again.')}</p>
<dl><dt>${tr(lang, 'クライアントID', 'Client ID')}</dt><dd><code class="secret" id="client-id">${escapeHtml(rp.clientId)}</code></dd>
<dt>${tr(lang, 'クライアントシークレット', 'Client secret')}</dt><dd><code class="secret" id="client-secret">${escapeHtml(p.clientSecret)}</code></dd>
<dt>${tr(lang, 'Webhook署名シークレット', 'Webhook signing secret')}</dt><dd><code class="secret" id="webhook-secret">${escapeHtml(p.webhookSecret)}</code></dd></dl></section>
<dl><dt>${tr(lang, '名称', 'Name')}</dt><dd>${escapeHtml(rp.name)}</dd><dt>${tr(lang, 'トラストフレームワーク', 'Framework')}</dt><dd>${escapeHtml(rp.framework)}</dd>
<dt>${tr(lang, '手続き', 'Ceremonies')}</dt><dd>${escapeHtml(rp.ceremonies.join(', '))}</dd><dt>${tr(lang, 'リダイレクトURI', 'Redirect URIs')}</dt><dd>${uriList(rp.redirectUris)}</dd>
<dt>${tr(lang, '利用目的', 'Purpose')}</dt><dd>${escapeHtml(rp.purpose)}</dd><dt>Webhook</dt><dd>${text(rp.webhookUrl)}</dd></dl>
<p><a href="${escapeHtml(href(lang, '/admin/rps'))}">${tr(lang, '事業者の一覧に戻る', 'Back to the relying parties')}</a></p>`,
  );
}
