// Verification records: search (by RP, date range and outcome only — never by a personal field),
// newest first with paging; the records log (RFC 9162 Merkle tree): its latest signed checkpoint and
// the records waiting for the sequencer; one record with its payload and log status (payload, leaf
// hash, leaf index; the row hash and link for a v1 chain row); whole-log verification.

import { escapeHtml, html, tr, type Html, type Lang } from '../html.js';
import { adminPage, href, jst, messageBox, postButton, table, text, type AdminContext } from './layout.js';
import { payloadList } from './record-fields.js';
import { recordSummary, type RecordSummaryInput } from './record-summary.js';
import { relationshipBox, type AdminRelationship } from './relationship.js';

const recordsPage = (ctx: AdminContext, title: [string, string], body: Html): Html =>
  adminPage(ctx, 'records', title, body);

const OUTCOMES: Record<string, [string, string]> = {
  verified: ['確認済み', 'verified'],
  rejected: ['拒否', 'rejected'],
  note: ['注記', 'note'],
};
const METHODS: Record<string, [string, string]> = {
  jpki_signature: ['署名用電子証明書', 'signing certificate'],
  jpki_user_authentication: ['利用者証明用電子証明書', 'user authentication certificate'],
};
const label = (lang: Lang, labels: Record<string, [string, string]>, v: string | null): Html => {
  if (v === null) return html`—`;
  const l = labels[v];
  return l ? html`${tr(lang, l[0], l[1])} <span class="muted">(${escapeHtml(v)})</span>` : escapeHtml(v);
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
  log: RecordsLogInput;
}

/** The records log as the list page shows it. */
export interface RecordsLogInput {
  /** The log's origin line (C2SP signed-note). */
  origin: string;
  /** The log's verifier key (C2SP): `<origin>+<key id>+<base64 key>`. */
  verifierKey: string;
  /** The latest signed checkpoint; absent until the sequencer has run once. */
  checkpoint?: { treeSize: number; /** base64 */ root: string; createdAt: Date; note: string };
  /** Committed records not yet in a checkpoint, and how long the oldest of them has waited. */
  backlog: { pending: number; oldestSeconds: number };
}

/** Seconds the oldest unintegrated record may wait before the backlog looks late (the sequencer runs every 200 ms). */
export const BACKLOG_LATE_SECONDS = 5;

function searchForm(ctx: AdminContext, rps: RecordsPageInput['rps'], f: RecordFilters): Html {
  const { lang } = ctx;
  const opt = (value: string, textHtml: Html, selected: boolean): Html =>
    html`<option value="${escapeHtml(value)}"${selected ? ' selected' : ''}>${textHtml}</option>`;
  return html`<form method="get" action="/admin/records" role="search" aria-labelledby="search-h" class="box"><h2 id="search-h">${tr(lang, '検索条件', 'Search')}</h2>
${lang === 'en' ? '<input type="hidden" name="lang" value="en">' : ''}
<p class="muted">${tr(lang, '個人情報(氏名・住所・生年月日など)では検索できません。', 'Records cannot be searched by personal data (name, address, date of birth …).')}</p>
<div class="filters"><div><label for="f-rp">${tr(lang, '事業者', 'Relying party')}</label><select id="f-rp" name="rp">${opt('', tr(lang, 'すべて', 'All'), !f.rp)}${rps.map((r) => opt(r.clientId, html`${escapeHtml(r.name)} (${escapeHtml(r.clientId)})`, f.rp === r.clientId))}</select></div>
<div><label for="f-from">${tr(lang, '期間の開始(日本時間)', 'From (Japan date)')}</label><input type="date" id="f-from" name="from" value="${escapeHtml(f.from ?? '')}"></div>
<div><label for="f-to">${tr(lang, '期間の終了(この日を含む)', 'To (inclusive)')}</label><input type="date" id="f-to" name="to" value="${escapeHtml(f.to ?? '')}"></div>
<div><label for="f-outcome">${tr(lang, '結果', 'Outcome')}</label><select id="f-outcome" name="outcome">${opt('', tr(lang, 'すべて', 'All'), !f.outcome)}${Object.entries(
    OUTCOMES,
  ).map(([v, l]) => opt(v, tr(lang, l[0], l[1]), f.outcome === v))}</select></div></div>
<div class="actions"><button type="submit" id="search">${tr(lang, '検索', 'Search')}</button></div></form>`;
}

export function recordListPage(p: RecordsPageInput): Html {
  const { ctx } = p;
  const { lang } = ctx;
  const rows = p.rows.map((r) => [
    html`<a href="${escapeHtml(href(lang, `/admin/records/${encodeURIComponent(r.id)}`))}">${escapeHtml(r.seq)}</a>`,
    jst(r.createdAt),
    r.rpClientId
      ? html`${r.rpName ? html`${escapeHtml(r.rpName)}<br>` : ''}<code>${escapeHtml(r.rpClientId)}</code>`
      : html`—`,
    label(lang, OUTCOMES, r.outcome),
    r.purged ? tr(lang, '(保存期間経過により消去済み)', '(purged after retention)') : label(lang, METHODS, r.method),
    r.serial ? html`<code>${escapeHtml(r.serial)}</code>` : html`—`,
    escapeHtml(r.framework),
  ]);
  const filters = { rp: p.filters.rp, from: p.filters.from, to: p.filters.to, outcome: p.filters.outcome };
  const paging = [
    p.paged
      ? html`<a href="${escapeHtml(href(lang, '/admin/records', filters))}" id="newest">${tr(lang, '最新の記録へ', 'Newest records')}</a>`
      : '',
    p.nextBefore
      ? html`<a href="${escapeHtml(href(lang, '/admin/records', { ...filters, before: p.nextBefore }))}" id="older" rel="next">${tr(lang, '古い記録へ', 'Older records')}</a>`
      : '',
  ].filter((x): x is Html => !!x);
  return recordsPage(
    ctx,
    ['確認記録', 'Verification records'],
    html`${searchForm(ctx, p.rps, p.filters)}${p.error ? messageBox('error', lang === 'ja' ? '検索条件が正しくありません' : 'Invalid search', p.error) : ''}
${table(tr(lang, '記録(新しい順)', 'Records (newest first)'), [tr(lang, '連番', 'Seq'), tr(lang, '日時', 'Time'), tr(lang, '事業者', 'Relying party'), tr(lang, '結果', 'Outcome'), tr(lang, '方法', 'Method'), tr(lang, '証明書の発行番号', 'Certificate serial'), tr(lang, 'フレームワーク', 'Framework')], rows, { id: 'records', empty: tr(lang, '該当する記録はありません。', 'No records match.') })}
${paging.length ? html`<nav aria-label="${tr(lang, 'ページ送り', 'Pages')}" class="actions">${paging}</nav>` : ''}${logBox(ctx, p.log)}`,
  );
}

/** A duration in seconds as short text: "0.4 秒" / "2分5秒" / "1時間3分" (English alike). */
function duration(lang: Lang, seconds: number): string {
  const s = Math.max(0, seconds);
  if (s < 60) return lang === 'ja' ? `${s.toFixed(1)} 秒` : `${s.toFixed(1)} s`;
  const whole = Math.floor(s);
  const [h, m, sec] = [Math.floor(whole / 3600), Math.floor((whole % 3600) / 60), whole % 60];
  if (h === 0) return lang === 'ja' ? `${m}分${sec}秒` : `${m} min ${sec} s`;
  return lang === 'ja' ? `${h}時間${m}分` : `${h} h ${m} min`;
}

const verifyLogButton = (ctx: AdminContext, secondary = false): Html =>
  postButton(ctx, '/admin/records/verify', ctx.lang === 'ja' ? 'ログ全体を検証する' : 'Verify the whole log', {
    id: 'verify-log',
    secondary,
  });

/** The records log: latest signed checkpoint (with what an auditor copies), the sequencer's backlog, whole-log verification. */
function logBox(ctx: AdminContext, log: RecordsLogInput): Html {
  const { lang } = ctx;
  const c = log.checkpoint;
  const checkpoint = c
    ? html`<h3 id="log-checkpoint-h">${tr(lang, '最新のチェックポイント(署名付き)', 'Latest signed checkpoint')}</h3><dl id="log-checkpoint" data-tree-size="${c.treeSize}">
<dt>${tr(lang, '記録数(木の大きさ)', 'Tree size (records)')}</dt><dd id="log-tree-size">${c.treeSize}</dd>
<dt>${tr(lang, 'ルートハッシュ(base64)', 'Root hash (base64)')}</dt><dd><code class="secret" id="log-root">${escapeHtml(c.root)}</code></dd>
<dt>${tr(lang, '署名日時', 'Signed at')}</dt><dd id="log-checkpoint-time">${jst(c.createdAt)}</dd>
<dt>${tr(lang, 'ログの名前(origin)', 'Origin')}</dt><dd><code class="secret" id="log-origin">${escapeHtml(log.origin)}</code></dd>
<dt>${tr(lang, '検証鍵(verifier key)', 'Verifier key')}</dt><dd><code class="secret" id="log-key">${escapeHtml(log.verifierKey)}</code></dd></dl>
<p>${tr(lang, '署名付きチェックポイント(C2SP signed note)。監査する方は検証鍵とあわせて控えておくと、後で記録の削除・書き換えを検出できます(GET /records/v1/checkpoint、/records/v1/key でも取得できます)。', 'The signed checkpoint (C2SP signed note). An auditor who keeps it with the verifier key can later detect deleted or rewritten records (also at GET /records/v1/checkpoint and /records/v1/key).')}</p>
<pre class="statement" id="log-note">${escapeHtml(c.note)}</pre>`
    : html`<dl id="log-checkpoint" data-tree-size="none"><dt>${tr(lang, '最新のチェックポイント', 'Latest checkpoint')}</dt><dd>${tr(lang, 'まだありません(シーケンサーが初めて動くと作られます)。', 'None yet (the sequencer writes the first one when it first runs).')}</dd>
<dt>${tr(lang, 'ログの名前(origin)', 'Origin')}</dt><dd><code class="secret" id="log-origin">${escapeHtml(log.origin)}</code></dd>
<dt>${tr(lang, '検証鍵(verifier key)', 'Verifier key')}</dt><dd><code class="secret" id="log-key">${escapeHtml(log.verifierKey)}</code></dd></dl>`;
  const { pending, oldestSeconds } = log.backlog;
  const late = pending > 0 && oldestSeconds > BACKLOG_LATE_SECONDS;
  const waiting =
    pending === 0
      ? tr(lang, 'チェックポイント待ちの記録はありません。', 'No record is waiting for a checkpoint.')
      : lang === 'ja'
        ? escapeHtml(
            `${pending}件の記録がシーケンサーによる取り込みを待っています(最も古いもので ${duration(lang, oldestSeconds)})。`,
          )
        : escapeHtml(
            `${pending} record${pending === 1 ? '' : 's'} waiting for the sequencer (the oldest for ${duration(lang, oldestSeconds)}).`,
          );
  const lateNote = late
    ? html` <strong>${tr(lang, `⚠ 遅れています: 通常は1秒以内に取り込まれます。${BACKLOG_LATE_SECONDS}秒を超えて待っている記録があります(サーバーのログを確認してください)。`, `⚠ Late: records are normally integrated within a second; one has waited more than ${BACKLOG_LATE_SECONDS} s (check the server logs).`)}</strong>`
    : '';
  const backlog = html`<h3>${tr(lang, '未取り込みの記録', 'Not yet integrated')}</h3><p id="log-backlog" data-pending="${pending}" data-oldest-seconds="${escapeHtml(oldestSeconds.toFixed(1))}" data-late="${late ? 'true' : 'false'}"${late ? ' class="box warn"' : ''}>${waiting}${lateNote}</p>`;
  return html`<section class="box" aria-labelledby="log-h" id="records-log"><h2 id="log-h">${tr(lang, '記録の透明性ログ', 'Records log')}</h2>
<p class="muted">${tr(lang, '確認記録は RFC 9162 の Merkle 木による追記専用ログです。各記録は葉として取り込まれ、木のルートに署名したチェックポイントが残ります。', 'The records form an append-only RFC 9162 Merkle-tree log: each record becomes a leaf, and every integration leaves a checkpoint signing the tree root.')}</p>
${checkpoint}${backlog}
<h3>${tr(lang, 'ログの検証', 'Log verification')}</h3><p>${tr(lang, 'すべての記録から葉・木・各チェックポイントを再計算し、署名を確かめます。改ざん・削除・並べ替えを検出します。', 'Recomputes every leaf, the tree and each checkpoint from the records and checks the signature: edits, deletions and reordering show.')}</p>${verifyLogButton(ctx)}</section>`;
}

/** A record's log status, as recordWithLogStatus (server) computes it. */
export interface RecordLogStatusInput {
  /** null once the payload was purged. */
  payloadIntact: boolean | null;
  leafIntact: boolean;
  /** null until the sequencer integrates it. */
  leafIndex: string | null;
  /** v1 chain rows only. */
  v1?: { hashIntact: boolean; linkedToPrevious: boolean };
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
    /** 1: a row of the hash chain before the log (it has prevHash and hash); 2: a log entry. */
    entryVersion: number;
    /** hex */
    leafHash: string;
    leafIndex: string | null;
    integratedAt: Date | null;
    prevHash?: string | null;
    hash?: string | null;
    purgedAt: Date | null;
  };
  /** The labelled summary at the top: the RP's name and the end of the record's retention. */
  summary?: RecordSummaryInput;
  status: RecordLogStatusInput;
  /** The server's public URL, for the inclusion-proof hint (a path alone without it). */
  publicUrl?: string;
  /** The relationship of the record's RP with its subject (when it has both): its end and the retention end. */
  relationship?: AdminRelationship | null;
}

function check(
  lang: Lang,
  id: string,
  ok: boolean | null,
  good: [string, string],
  bad: [string, string],
  none?: [string, string],
): Html {
  const [cls, mark, t] = ok === null ? ['muted', '−', none ?? good] : ok ? ['ok', '✓', good] : ['bad', '✗', bad];
  return html`<dd id="${escapeHtml(id)}" data-ok="${ok === null ? 'n/a' : ok ? 'true' : 'false'}" class="${escapeHtml(cls)}"><span aria-hidden="true">${escapeHtml(mark)}</span> ${tr(lang, t[0], t[1])}</dd>`;
}

export function recordDetailPage(p: RecordDetailInput): Html {
  const { ctx, record: r, status: s } = p;
  const { lang } = ctx;
  const intact = s.payloadIntact !== false && s.leafIntact && (s.v1 ? s.v1.hashIntact && s.v1.linkedToPrevious : true);
  const index =
    s.leafIndex !== null
      ? html`<dd id="leaf-index" data-index="${escapeHtml(s.leafIndex)}" class="ok"><span aria-hidden="true">✓</span> ${escapeHtml(s.leafIndex)} ${tr(lang, '(署名付きチェックポイントに含まれています)', '(in a signed checkpoint)')}</dd>`
      : html`<dd id="leaf-index" data-index="none" class="muted"><span aria-hidden="true">…</span> ${tr(lang, 'まだチェックポイントに含まれていません(通常は1秒以内に取り込まれます)', 'not in a checkpoint yet (normally within a second)')}</dd>`;
  const v1 = s.v1
    ? html`<dt>${tr(lang, '旧ハッシュチェーンの記録のハッシュ', 'v1 chain row hash')}</dt>${check(lang, 'hash-intact', s.v1.hashIntact, ['一致しています', 'intact'], ['一致しません(固定項目が編集されています)', 'does not match (a fixed column was edited)'])}
<dt>${tr(lang, '直前の旧チェーン記録とのつながり', 'Link to the previous v1 record')}</dt>${check(lang, 'linked-to-previous', s.v1.linkedToPrevious, ['つながっています', 'linked'], ['つながっていません(削除・挿入・並べ替え)', 'broken (deleted, inserted or moved records)'])}`
    : '';
  const proofPath = `/records/v1/proof/inclusion?record_id=${encodeURIComponent(r.id)}`;
  const proofUrl = p.publicUrl ? `${p.publicUrl.replace(/\/+$/, '')}${proofPath}` : proofPath;
  const proof = html`<p id="inclusion-proof" data-path="${escapeHtml(proofPath)}">${tr(lang, '包含証明: 事業者は自社のクライアント認証情報(HTTP Basic)で', 'Inclusion proof: the relying party fetches it with its client credentials (HTTP Basic) at')} <code class="secret">GET ${escapeHtml(proofUrl)}</code> ${tr(lang, 'から取得し、記録の控えと一緒に保管できます(', 'and keeps it beside its copy of the record (checked offline with')} <code>kakunin records check-proof</code>${tr(lang, ' でオフライン検証)。', ').')}</p>`;
  const status = html`<section class="box${intact ? '' : ' error'}" aria-labelledby="log-status-h" id="log-status" data-intact="${intact ? 'true' : 'false'}" data-entry-version="${r.entryVersion}"><h2 id="log-status-h">${tr(lang, 'ログ上の状態', 'Log status')}</h2><dl>
<dt>${tr(lang, '内容(ペイロード)', 'Payload')}</dt>${check(lang, 'payload-intact', s.payloadIntact, ['改ざんされていません', 'intact'], ['ペイロードのハッシュが一致しません(改ざん)', 'payload hash does not match (edited)'], ['保存期間経過により消去済み(ハッシュは保持)', 'purged after retention (its hash is kept)'])}
<dt>${tr(lang, '葉のハッシュ', 'Leaf hash')}</dt>${check(lang, 'leaf-intact', s.leafIntact, ['記録の項目と一致しています', 'matches the record'], ['一致しません(固定項目か葉のハッシュが編集されています)', 'does not match (a fixed column or the leaf hash was edited)'])}
<dt>${tr(lang, '葉の位置(leaf index)', 'Leaf index')}</dt>${index}
${v1}</dl>
${proof}
${verifyLogButton(ctx, true)}</section>`;
  const v1Columns =
    r.entryVersion === 1
      ? html`<dt>${tr(lang, '直前の記録のハッシュ(旧チェーン)', 'Previous hash (v1 chain)')}</dt><dd><code class="secret">${text(r.prevHash)}</code></dd>
<dt>${tr(lang, 'この記録のハッシュ(旧チェーン)', 'Hash (v1 chain)')}</dt><dd><code class="secret">${text(r.hash)}</code></dd>\n`
      : '';
  const columns = html`<dl id="record-columns"><dt>${tr(lang, '連番', 'Seq')}</dt><dd>${escapeHtml(r.seq)}</dd><dt>ID</dt><dd><code>${escapeHtml(r.id)}</code></dd>
<dt>${tr(lang, '記録日時', 'Recorded at')}</dt><dd>${jst(r.createdAt)}</dd><dt>${tr(lang, '事業者', 'Relying party')}</dt><dd>${text(r.rpClientId)}</dd>
<dt>${tr(lang, '手続きID', 'Ceremony ID')}</dt><dd>${text(r.ceremonyId)}</dd><dt>${tr(lang, '主体ID', 'Subject ID')}</dt><dd>${text(r.subjectId)}</dd>
<dt>${tr(lang, 'フレームワーク', 'Framework')}</dt><dd>${escapeHtml(r.framework)}</dd><dt>${tr(lang, '結果', 'Outcome')}</dt><dd>${label(lang, OUTCOMES, r.outcome)}</dd>
<dt>${tr(lang, 'ペイロードのハッシュ', 'Payload hash')}</dt><dd><code class="secret">${escapeHtml(r.payloadHash)}</code></dd>
<dt>${tr(lang, '項目の形式', 'Entry version')}</dt><dd id="entry-version">${r.entryVersion === 1 ? tr(lang, '1(ログ導入前のハッシュチェーンの記録)', '1 (a hash-chain row from before the log)') : tr(lang, '2(ログの項目)', '2 (log entry)')}</dd>
<dt>${tr(lang, '葉のハッシュ', 'Leaf hash')}</dt><dd><code class="secret" id="leaf-hash">${escapeHtml(r.leafHash)}</code></dd>
<dt>${tr(lang, '葉の位置(leaf index)', 'Leaf index')}</dt><dd id="leaf-index-column">${r.leafIndex === null ? tr(lang, '(未取り込み)', '(not integrated yet)') : escapeHtml(r.leafIndex)}</dd>
<dt>${tr(lang, '取り込み日時', 'Integrated at')}</dt><dd>${jst(r.integratedAt)}</dd>
${v1Columns}<dt>${tr(lang, '消去日時', 'Purged at')}</dt><dd>${jst(r.purgedAt)}</dd></dl>`;
  // Every field of the payload, then its JSON exactly as kept: behind disclosures, under the summary.
  const payload = r.payload
    ? html`<details id="payload-details"><summary>${tr(lang, 'すべての項目を表示', 'Show every field')}</summary>${payloadList(lang, r.payload)}</details>
<details id="payload-json-details"><summary>${tr(lang, 'JSON(記録されたとおり)', 'JSON (as recorded)')}</summary><pre class="statement" id="payload-json">${escapeHtml(JSON.stringify(r.payload, null, 2))}</pre></details>`
    : html`<p id="payload">${tr(lang, '保存期間が過ぎたため、内容は消去されています。', 'The content was blanked when its retention period ended.')}</p>`;
  return recordsPage(
    ctx,
    [`確認記録 #${r.seq}`, `Record #${r.seq}`],
    html`${recordSummary(lang, r, p.summary)}
${status}${relationshipBox(lang, p.relationship)}<section aria-labelledby="payload-h"><h2 id="payload-h">${tr(lang, '記録の内容(確認記録)', 'Record content')}</h2>${payload}</section>
<section aria-labelledby="cols-h"><h2 id="cols-h">${tr(lang, 'ログの項目', 'Logged columns')}</h2>${columns}</section>
<p><a href="${escapeHtml(href(lang, '/admin/records', { rp: r.rpClientId ?? undefined }))}">${tr(lang, '記録の一覧に戻る', 'Back to the records')}</a></p>`,
  );
}

export interface LogVerifyPageInput {
  ctx: AdminContext;
  ok: boolean;
  /** Leaves checked (integrated records). */
  checked: number;
  purged: number;
  /** Records not yet integrated (their rows were checked too). */
  pending: number;
  treeSize: number;
  /** base64 root of the recomputed tree. */
  root: string;
  /** The latest signed checkpoint, to keep (for `kakunin records verify --since FILE`). */
  checkpoint: string | null;
  problems: { code: string; leafIndex?: number; recordId?: string; reason: string }[];
}

export function logVerifyPage(p: LogVerifyPageInput): Html {
  const { ctx } = p;
  const { lang } = ctx;
  const summary = p.ok
    ? messageBox(
        'notice',
        lang === 'ja' ? 'ログは正常です' : 'The log is intact',
        lang === 'ja'
          ? `${p.checked}件を検証しました(消去済み ${p.purged}件、未取り込み ${p.pending}件)。`
          : `${p.checked} records checked (${p.purged} purged, ${p.pending} not yet integrated).`,
      )
    : messageBox(
        'error',
        lang === 'ja' ? `問題が見つかりました(${p.problems.length}件)` : `Problems found (${p.problems.length})`,
        lang === 'ja' ? `${p.checked}件を検証しました。` : `${p.checked} records checked.`,
      );
  const figures = html`<dl id="log-verified"><dt>${tr(lang, '検証した記録', 'Records checked')}</dt><dd id="log-checked">${p.checked}</dd>
<dt>${tr(lang, '消去済み', 'Purged')}</dt><dd id="log-purged">${p.purged}</dd>
<dt>${tr(lang, '未取り込み', 'Not yet integrated')}</dt><dd id="log-pending">${p.pending}</dd>
<dt>${tr(lang, '記録数(木の大きさ)', 'Tree size (records)')}</dt><dd id="log-tree-size">${p.treeSize}</dd>
<dt>${tr(lang, '再計算したルートハッシュ(base64)', 'Recomputed root hash (base64)')}</dt><dd><code class="secret" id="log-root">${escapeHtml(p.root)}</code></dd></dl>`;
  const rows = p.problems.map((x) => [
    x.leafIndex === undefined ? html`—` : escapeHtml(String(x.leafIndex)),
    x.recordId
      ? html`<a href="${escapeHtml(href(lang, `/admin/records/${encodeURIComponent(x.recordId)}`))}">${escapeHtml(x.recordId)}</a>`
      : html`—`,
    html`<code>${escapeHtml(x.code)}</code>`,
    escapeHtml(x.reason),
  ]);
  const problems = p.problems.length
    ? table(
        tr(lang, '問題', 'Problems'),
        [
          tr(lang, '葉の位置', 'Leaf index'),
          tr(lang, '記録', 'Record'),
          tr(lang, '種類', 'Kind'),
          tr(lang, '内容', 'Reason'),
        ],
        rows,
        { id: 'log-problems' },
      )
    : '';
  const keep = p.checkpoint
    ? html`<section><h2 id="keep-h">${tr(lang, '最新のチェックポイント(控えておいてください)', 'The latest checkpoint (keep it)')}</h2>
<p>${tr(lang, '別の場所にファイルとして保存しておき、次回', 'Save it to a file somewhere else and pass it next time to')} <code>kakunin records verify --since ${tr(lang, 'ファイル', 'FILE')}</code> ${tr(lang, 'に渡すと、その後にログが書き換え・切り詰め・分岐されていないことも確かめられます。', '— that also shows the log was not rewritten, truncated or forked since.')}</p>
<pre class="statement" id="log-checkpoint-note">${escapeHtml(p.checkpoint)}</pre></section>`
    : '';
  return recordsPage(
    ctx,
    ['ログの検証', 'Log verification'],
    html`<div id="log-result" data-ok="${p.ok ? 'true' : 'false'}">${summary}</div>${figures}${problems}${keep}
<p><a href="${escapeHtml(href(lang, '/admin/records'))}">${tr(lang, '記録の一覧に戻る', 'Back to the records')}</a></p>`,
  );
}
