// Verification records: search (by RP, date range and outcome only — never by a personal field),
// newest first with paging; one record with its payload and hash-chain status; whole-chain verification.

import { escapeHtml, tr, type Lang } from '../html.js';
import { adminPage, href, jst, messageBox, postButton, table, text, type AdminContext } from './layout.js';
import { payloadList } from './record-fields.js';

const recordsPage = (ctx: AdminContext, title: [string, string], body: string): string => adminPage(ctx, 'records', title, body);

const OUTCOMES: Record<string, [string, string]> = { verified: ['確認済み', 'verified'], rejected: ['拒否', 'rejected'], note: ['注記', 'note'] };
const METHODS: Record<string, [string, string]> = { jpki_signature: ['署名用電子証明書', 'signing certificate'], jpki_user_authentication: ['利用者証明用電子証明書', 'user authentication certificate'] };
const label = (lang: Lang, labels: Record<string, [string, string]>, v: string | null): string => {
  if (v === null) return '—';
  const l = labels[v];
  return l ? `${tr(lang, l[0], l[1])} <span class="muted">(${escapeHtml(v)})</span>` : escapeHtml(v);
};

export interface RecordFilters {
  rp?: string;
  /** YYYY-MM-DD (Japan date, inclusive). */
  from?: string;
  /** YYYY-MM-DD (Japan date, inclusive). */
  to?: string;
  outcome?: string;
}

export interface AdminRecordRow {
  seq: string;
  id: string;
  createdAt: Date;
  rpClientId: string | null;
  rpName?: string;
  framework: string;
  outcome: string;
  /** From the payload; null when absent or purged. */
  method: string | null;
  serial: string | null;
  purged: boolean;
}

export interface RecordsPageInput {
  ctx: AdminContext;
  rps: { clientId: string; name: string }[];
  filters: RecordFilters;
  rows: AdminRecordRow[];
  /** The seq to page before for the next (older) page, when there is one. */
  nextBefore?: string;
  /** Whether this is not the newest page. */
  paged: boolean;
  /** A filter that could not be used, in the page's language. */
  error?: string;
}

function searchForm(ctx: AdminContext, rps: RecordsPageInput['rps'], f: RecordFilters): string {
  const { lang } = ctx;
  const opt = (value: string, textHtml: string, selected: boolean): string => `<option value="${escapeHtml(value)}"${selected ? ' selected' : ''}>${textHtml}</option>`;
  return `<form method="get" action="/admin/records" role="search" aria-labelledby="search-h" class="box"><h2 id="search-h">${tr(lang, '検索条件', 'Search')}</h2>
${lang === 'en' ? '<input type="hidden" name="lang" value="en">' : ''}
<p class="muted">${tr(lang, '個人情報(氏名・住所・生年月日など)では検索できません。', 'Records cannot be searched by personal data (name, address, date of birth …).')}</p>
<div class="filters"><div><label for="f-rp">${tr(lang, '事業者', 'Relying party')}</label><select id="f-rp" name="rp">${opt('', tr(lang, 'すべて', 'All'), !f.rp)}${rps.map((r) => opt(r.clientId, `${escapeHtml(r.name)} (${escapeHtml(r.clientId)})`, f.rp === r.clientId)).join('')}</select></div>
<div><label for="f-from">${tr(lang, '期間の開始(日本時間)', 'From (Japan date)')}</label><input type="date" id="f-from" name="from" value="${escapeHtml(f.from ?? '')}"></div>
<div><label for="f-to">${tr(lang, '期間の終了(この日を含む)', 'To (inclusive)')}</label><input type="date" id="f-to" name="to" value="${escapeHtml(f.to ?? '')}"></div>
<div><label for="f-outcome">${tr(lang, '結果', 'Outcome')}</label><select id="f-outcome" name="outcome">${opt('', tr(lang, 'すべて', 'All'), !f.outcome)}${Object.entries(OUTCOMES).map(([v, l]) => opt(v, tr(lang, l[0], l[1]), f.outcome === v)).join('')}</select></div></div>
<div class="actions"><button type="submit" id="search">${tr(lang, '検索', 'Search')}</button></div></form>`;
}

export function recordListPage(p: RecordsPageInput): string {
  const { ctx } = p;
  const { lang } = ctx;
  const rows = p.rows.map((r) => [
    `<a href="${escapeHtml(href(lang, `/admin/records/${encodeURIComponent(r.id)}`))}">${escapeHtml(r.seq)}</a>`,
    jst(r.createdAt),
    r.rpClientId ? `${r.rpName ? `${escapeHtml(r.rpName)}<br>` : ''}<code>${escapeHtml(r.rpClientId)}</code>` : '—',
    label(lang, OUTCOMES, r.outcome),
    r.purged ? tr(lang, '(保存期間経過により消去済み)', '(purged after retention)') : label(lang, METHODS, r.method),
    r.serial ? `<code>${escapeHtml(r.serial)}</code>` : '—',
    escapeHtml(r.framework),
  ]);
  const filters = { rp: p.filters.rp, from: p.filters.from, to: p.filters.to, outcome: p.filters.outcome };
  const paging = [
    p.paged ? `<a href="${escapeHtml(href(lang, '/admin/records', filters))}" id="newest">${tr(lang, '最新の記録へ', 'Newest records')}</a>` : '',
    p.nextBefore ? `<a href="${escapeHtml(href(lang, '/admin/records', { ...filters, before: p.nextBefore }))}" id="older" rel="next">${tr(lang, '古い記録へ', 'Older records')}</a>` : '',
  ].filter(Boolean);
  const verify = `<section class="box" aria-labelledby="verify-h"><h2 id="verify-h">${tr(lang, 'ハッシュチェーンの検証', 'Hash chain verification')}</h2><p>${tr(lang, 'すべての記録を先頭から再計算し、改ざん・削除・並べ替えがないか確かめます。', 'Recomputes every record from the first one to detect edits, deletions and reordering.')}</p>${postButton(ctx, '/admin/records/verify', lang === 'ja' ? 'チェーン全体を検証する' : 'Verify the whole chain', { id: 'verify-chain' })}</section>`;
  return recordsPage(
    ctx,
    ['確認記録', 'Verification records'],
    `${searchForm(ctx, p.rps, p.filters)}${p.error ? messageBox('error', lang === 'ja' ? '検索条件が正しくありません' : 'Invalid search', p.error) : ''}
${table(tr(lang, '記録(新しい順)', 'Records (newest first)'), [tr(lang, '連番', 'Seq'), tr(lang, '日時', 'Time'), tr(lang, '事業者', 'Relying party'), tr(lang, '結果', 'Outcome'), tr(lang, '方法', 'Method'), tr(lang, '証明書の発行番号', 'Certificate serial'), tr(lang, 'フレームワーク', 'Framework')], rows, { id: 'records', empty: tr(lang, '該当する記録はありません。', 'No records match.') })}
${paging.length ? `<nav aria-label="${tr(lang, 'ページ送り', 'Pages')}" class="actions">${paging.join('')}</nav>` : ''}${verify}`,
  );
}

export interface RecordDetailInput {
  ctx: AdminContext;
  record: {
    seq: string;
    id: string;
    createdAt: Date;
    rpClientId: string | null;
    ceremonyId: string | null;
    subjectId: string | null;
    framework: string;
    outcome: string;
    payload: Record<string, unknown> | null;
    payloadHash: string;
    prevHash: string;
    hash: string;
    purgedAt: Date | null;
  };
  /** As GET /admin/v1/records/:id computes it; payloadIntact is null for a purged record. */
  chain: { payloadIntact: boolean | null; hashIntact: boolean; linkedToPrevious: boolean };
}

function check(lang: Lang, id: string, ok: boolean | null, good: [string, string], bad: [string, string], none?: [string, string]): string {
  const [cls, mark, t] = ok === null ? ['muted', '−', none ?? good] : ok ? ['ok', '✓', good] : ['bad', '✗', bad];
  return `<dd id="${id}" data-ok="${ok === null ? 'n/a' : String(ok)}" class="${cls}"><span aria-hidden="true">${mark}</span> ${tr(lang, t[0], t[1])}</dd>`;
}

export function recordDetailPage(p: RecordDetailInput): string {
  const { ctx, record: r, chain } = p;
  const { lang } = ctx;
  const intact = chain.payloadIntact !== false && chain.hashIntact && chain.linkedToPrevious;
  const status = `<section class="box${intact ? '' : ' error'}" aria-labelledby="chain-h" id="chain-status" data-intact="${intact}"><h2 id="chain-h">${tr(lang, 'ハッシュチェーンの状態', 'Hash chain status')}</h2><dl>
<dt>${tr(lang, '内容(ペイロード)', 'Payload')}</dt>${check(lang, 'payload-intact', chain.payloadIntact, ['改ざんされていません', 'intact'], ['ペイロードのハッシュが一致しません(改ざん)', 'payload hash does not match (edited)'], ['保存期間経過により消去済み(ハッシュは保持)', 'purged after retention (its hash is kept)'])}
<dt>${tr(lang, '記録のハッシュ', 'Record hash')}</dt>${check(lang, 'hash-intact', chain.hashIntact, ['一致しています', 'intact'], ['一致しません(固定項目が編集されています)', 'does not match (a fixed column was edited)'])}
<dt>${tr(lang, '直前の記録とのつながり', 'Link to the previous record')}</dt>${check(lang, 'linked-to-previous', chain.linkedToPrevious, ['つながっています', 'linked'], ['つながっていません(削除・挿入・並べ替え)', 'broken (deleted, inserted or moved records)'])}</dl>
${postButton(ctx, '/admin/records/verify', lang === 'ja' ? 'チェーン全体を検証する' : 'Verify the whole chain', { id: 'verify-chain', secondary: true })}</section>`;
  const columns = `<dl id="record-columns"><dt>${tr(lang, '連番', 'Seq')}</dt><dd>${escapeHtml(r.seq)}</dd><dt>ID</dt><dd><code>${escapeHtml(r.id)}</code></dd>
<dt>${tr(lang, '記録日時', 'Recorded at')}</dt><dd>${jst(r.createdAt)}</dd><dt>${tr(lang, '事業者', 'Relying party')}</dt><dd>${text(r.rpClientId)}</dd>
<dt>${tr(lang, '手続きID', 'Ceremony ID')}</dt><dd>${text(r.ceremonyId)}</dd><dt>${tr(lang, '主体ID', 'Subject ID')}</dt><dd>${text(r.subjectId)}</dd>
<dt>${tr(lang, 'フレームワーク', 'Framework')}</dt><dd>${escapeHtml(r.framework)}</dd><dt>${tr(lang, '結果', 'Outcome')}</dt><dd>${label(lang, OUTCOMES, r.outcome)}</dd>
<dt>${tr(lang, 'ペイロードのハッシュ', 'Payload hash')}</dt><dd><code class="secret">${escapeHtml(r.payloadHash)}</code></dd>
<dt>${tr(lang, '直前の記録のハッシュ', 'Previous hash')}</dt><dd><code class="secret">${escapeHtml(r.prevHash)}</code></dd>
<dt>${tr(lang, 'この記録のハッシュ', 'Hash')}</dt><dd><code class="secret">${escapeHtml(r.hash)}</code></dd>
<dt>${tr(lang, '消去日時', 'Purged at')}</dt><dd>${jst(r.purgedAt)}</dd></dl>`;
  const payload = r.payload
    ? payloadList(lang, r.payload)
    : `<p id="payload">${tr(lang, '保存期間が過ぎたため、内容は消去されています。', 'The content was blanked when its retention period ended.')}</p>`;
  return recordsPage(
    ctx,
    [`確認記録 #${r.seq}`, `Record #${r.seq}`],
    `${status}<section aria-labelledby="payload-h"><h2 id="payload-h">${tr(lang, '記録の内容(確認記録)', 'Record content')}</h2>${payload}</section>
<section aria-labelledby="cols-h"><h2 id="cols-h">${tr(lang, 'チェーンの項目', 'Chained columns')}</h2>${columns}</section>
<p><a href="${escapeHtml(href(lang, '/admin/records', { rp: r.rpClientId ?? undefined }))}">${tr(lang, '記録の一覧に戻る', 'Back to the records')}</a></p>`,
  );
}

export interface ChainVerifyPageInput {
  ctx: AdminContext;
  ok: boolean;
  checked: number;
  purged: number;
  problems: { seq: string; id: string; code: string; reason: string }[];
  head: { seq: string; hash: string } | null;
}

export function chainVerifyPage(p: ChainVerifyPageInput): string {
  const { ctx } = p;
  const { lang } = ctx;
  const summary = p.ok
    ? messageBox('notice', lang === 'ja' ? 'チェーンは正常です' : 'The chain is intact', lang === 'ja' ? `${p.checked}件を検証しました(消去済み ${p.purged}件)。` : `${p.checked} records checked (${p.purged} purged).`)
    : messageBox('error', lang === 'ja' ? `問題が見つかりました(${p.problems.length}件)` : `Problems found (${p.problems.length})`, lang === 'ja' ? `${p.checked}件を検証しました。` : `${p.checked} records checked.`);
  const rows = p.problems.map((x) => [escapeHtml(x.seq), x.id ? `<a href="${escapeHtml(href(lang, `/admin/records/${encodeURIComponent(x.id)}`))}">${escapeHtml(x.id)}</a>` : '—', escapeHtml(x.code), escapeHtml(x.reason)]);
  const head = p.head
    ? `<p>${tr(lang, '先頭の記録(別の場所に控えておくと、末尾の削除を検出できます)', 'Head (keep it elsewhere to detect truncation later)')}: <code id="chain-head">${escapeHtml(p.head.seq)} ${escapeHtml(p.head.hash)}</code></p>`
    : '';
  return recordsPage(
    ctx,
    ['ハッシュチェーンの検証', 'Hash chain verification'],
    `<div id="chain-result" data-ok="${p.ok}">${summary}</div>${p.problems.length ? table(tr(lang, '問題', 'Problems'), [tr(lang, '連番', 'Seq'), 'ID', tr(lang, '種類', 'Kind'), tr(lang, '内容', 'Reason')], rows) : ''}${head}
<p><a href="${escapeHtml(href(lang, '/admin/records'))}">${tr(lang, '記録の一覧に戻る', 'Back to the records')}</a></p>`,
  );
}
