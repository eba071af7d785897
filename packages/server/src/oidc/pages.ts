// Minimal server-rendered pages of the OIDC interaction: the ceremony page (QR code + holder link +
// live progress), consent, and errors. Japanese first, English alongside (`?lang=en` puts English
// first). PINs are never typed here: the holder's app or agent asks for them.

import type { ErrorOut, KoaContextWithOIDC } from 'oidc-provider';

export type Lang = 'ja' | 'en';

export const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** Both languages, the chosen one first. */
const t = (lang: Lang, ja: string, en: string): string => (lang === 'ja' ? `${escapeHtml(ja)} <span lang="en" class="alt">${escapeHtml(en)}</span>` : `${escapeHtml(en)} <span lang="ja" class="alt">${escapeHtml(ja)}</span>`);

const STYLE = `body{font-family:system-ui,"IPAGothic",sans-serif;max-width:40rem;margin:1.5rem auto;padding:0 1rem;line-height:1.6;color:#1a1a1a}
.alt{color:#555;font-size:.9em}h1{font-size:1.4rem}button,a.button{font-size:1.1rem;padding:.6rem 1.2rem;border-radius:.4rem;border:1px solid #1a4d8f;background:#1a4d8f;color:#fff;cursor:pointer;text-decoration:none;display:inline-block}
button.secondary{background:#fff;color:#1a4d8f}.box{border:1px solid #ccc;border-radius:.5rem;padding:1rem;margin:1rem 0}#progress{font-weight:bold}.error{border-color:#b00020;color:#b00020}
svg{max-width:14rem;height:auto}pre{white-space:pre-wrap;background:#f4f4f4;padding:.5rem}`;

export function page(lang: Lang, title: string, body: string): string {
  return `<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body><main>${body}</main></body></html>`;
}

export interface CeremonyPageInput {
  lang: Lang;
  uid: string;
  rpName: string;
  purpose: string;
  kind: 'login' | 'identity';
  shares: { ja: string; en: string }[];
  holderUrl: string;
  qrSvg: string;
  expiresAt: Date;
}

export function ceremonyPage(p: CeremonyPageInput): string {
  const { lang } = p;
  const what = p.kind === 'login' ? t(lang, 'マイナンバーカードでログイン', 'Log in with your My Number Card') : t(lang, 'マイナンバーカードで本人確認', 'Verify your identity with your My Number Card');
  const card = p.kind === 'login' ? t(lang, '利用者証明用電子証明書(暗証番号: 数字4桁)を使います。', 'Uses the user authentication certificate (4-digit PIN).') : t(lang, '署名用電子証明書(暗証番号: 英数字6〜16文字)を使います。', 'Uses the signing certificate (6–16 character password).');
  const status = `/interaction/${encodeURIComponent(p.uid)}`;
  return page(
    lang,
    lang === 'ja' ? 'マイナンバーカードで確認' : 'Verify with My Number Card',
    `<h1>${what}</h1>
<p>${t(lang, '依頼者', 'Requested by')}: <strong>${escapeHtml(p.rpName)}</strong></p>
<p>${t(lang, '目的', 'Purpose')}: ${escapeHtml(p.purpose)}</p>
<div class="box"><p>${t(lang, '提供される情報', 'What will be shared')}:</p><ul>${p.shares.map((s) => `<li>${t(lang, s.ja, s.en)}</li>`).join('')}</ul><p>${card}</p></div>
<div class="box"><p>${t(lang, 'スマートフォンのアプリでQRコードを読み取るか、このリンクを開いてください。', 'Scan the QR code with your phone app, or open this link.')}</p>
<div aria-hidden="true">${p.qrSvg}</div>
<p><a id="holder-link" href="${escapeHtml(p.holderUrl)}">${t(lang, 'マイナンバーカードアプリで開く', 'Open in the My Number Card app')}</a></p>
<p class="alt">${t(lang, '有効期限', 'Expires at')}: <time datetime="${p.expiresAt.toISOString()}">${p.expiresAt.toISOString()}</time></p></div>
<p role="status" aria-live="polite" id="progress" data-state="pending">${t(lang, 'カードの操作を待っています…', 'Waiting for your card…')}</p>
<p><a href="?lang=${lang === 'ja' ? 'en' : 'ja'}">${lang === 'ja' ? 'English' : '日本語'}</a></p>
<form method="post" action="${status}/abort"><button class="secondary" type="submit">${t(lang, '中止する', 'Cancel')}</button></form>
<script>
(function(){
  var base=${JSON.stringify(status)}, lang=${JSON.stringify(lang)}, el=document.getElementById('progress'), done=false;
  var text={failed:lang==='ja'?'確認できませんでした: ':'Verification failed: ',expired:lang==='ja'?'有効期限が切れました。やり直してください。':'This request expired. Please start again.',completed:lang==='ja'?'確認できました。次へ進みます…':'Verified. Continuing…'};
  function show(s){
    if(done) return; el.setAttribute('data-state', s.state);
    if(s.state==='completed'){done=true; el.textContent=text.completed; location.href=base+'/continue';}
    else if(s.state==='failed'){done=true; el.className='error'; el.textContent=text.failed+(s.error?(lang==='ja'&&s.error.message_ja?s.error.message_ja:s.error.message)+' ('+s.error.code+')':''); var a=document.createElement('a'); a.href=base+'/restart'; a.textContent=lang==='ja'?' やり直す':' Start again'; el.appendChild(a);}
    else if(s.state==='expired'){done=true; el.className='error'; el.textContent=text.expired; var r=document.createElement('a'); r.href=base+'/restart'; r.textContent=lang==='ja'?' やり直す':' Start again'; el.appendChild(r);}
  }
  function poll(){ if(done) return; fetch(base+'/status',{credentials:'same-origin'}).then(function(r){return r.json()}).then(show).catch(function(){}).then(function(){ if(!done) setTimeout(poll,1000); }); }
  if(window.EventSource){ var es=new EventSource(base+'/events'); es.onmessage=function(m){ show(JSON.parse(m.data)); if(done) es.close(); }; es.onerror=function(){ es.close(); poll(); }; } else poll();
})();
</script>`,
  );
}

export function consentPage(p: { lang: Lang; uid: string; rpName: string; purpose: string; shares: { ja: string; en: string }[] }): string {
  const { lang } = p;
  const action = `/interaction/${encodeURIComponent(p.uid)}`;
  return page(
    lang,
    lang === 'ja' ? '情報提供への同意' : 'Consent',
    `<h1>${t(lang, '情報提供への同意', 'Consent to share')}</h1>
<p>${t(lang, 'マイナンバーカードで確認できました。', 'Your My Number Card was verified.')}</p>
<p><strong>${escapeHtml(p.rpName)}</strong> ${t(lang, 'に次の情報を提供します。', 'will receive:')}</p>
<ul>${p.shares.map((s) => `<li>${t(lang, s.ja, s.en)}</li>`).join('')}</ul>
<p>${t(lang, '目的', 'Purpose')}: ${escapeHtml(p.purpose)}</p>
<form method="post" action="${action}/consent"><button type="submit">${lang === 'ja' ? '同意する (Agree)' : 'Agree (同意する)'}</button></form>
<form method="post" action="${action}/abort"><button class="secondary" type="submit">${lang === 'ja' ? '同意しない (Decline)' : 'Decline (同意しない)'}</button></form>`,
  );
}

export function errorPage(lang: Lang, o: { code: string; message: string; messageJa?: string }): string {
  return page(
    lang,
    lang === 'ja' ? 'エラー' : 'Error',
    `<h1>${t(lang, 'エラーが発生しました', 'Something went wrong')}</h1><div class="box error" role="alert"><p>${escapeHtml(lang === 'ja' && o.messageJa ? o.messageJa : o.message)}</p><p class="alt">${escapeHtml(o.code)}</p></div>`,
  );
}

export async function renderOidcError(ctx: KoaContextWithOIDC, out: ErrorOut): Promise<void> {
  ctx.type = 'html';
  ctx.body = errorPage('ja', { code: String(out.error ?? 'error'), message: String(out.error_description ?? out.error ?? 'error') });
}
