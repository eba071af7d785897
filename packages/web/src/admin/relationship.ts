// The business relationship of an RP with a subject, as a record's page shows it: when it started,
// whether and when it ended (the operator's POST /admin/v1/relationships/end or the RP's own
// POST /rp/v1/relationships/end) and until when its records are kept.

import { escapeHtml, html, tr, type Html, type Lang } from '../html.js';
import { href, jst } from './layout.js';

export interface AdminRelationship {
  rpClientId: string;
  framework: string;
  startedAt: Date;
  endedAt: Date | null;
  /** The first instant after the retention period (00:00 JST); null while the relationship is open. */
  retainedUntil: Date | null;
  retention: { years: number; basis: string };
  /** The note in the log that recorded the end. */
  endRecordId: string | null;
}

const JST_MS = 9 * 3600_000;
/** The last Japan day of a period that ends (exclusively) at `until`: "2033-12-05". */
const lastDay = (until: Date): Html => escapeHtml(new Date(until.getTime() - 1 + JST_MS).toISOString().slice(0, 10));

export function relationshipBox(lang: Lang, r: AdminRelationship | null | undefined): Html {
  if (!r) return html``;
  const years =
    lang === 'ja' ? `${r.retention.years}年間` : `${r.retention.years} year${r.retention.years === 1 ? '' : 's'}`;
  const status = r.endedAt
    ? html`<dd id="relationship-status" data-status="ended">${tr(lang, '終了', 'ended')}</dd>`
    : html`<dd id="relationship-status" data-status="open">${tr(lang, '継続中(監視中・保存期間は未開始)', 'open (monitored; retention not started)')}</dd>`;
  const ended = r.endedAt
    ? html`<dt>${tr(lang, '終了日時', 'Ended at')}</dt><dd id="relationship-ended-at" data-value="${escapeHtml(r.endedAt.toISOString())}">${jst(r.endedAt)}${r.endRecordId ? html` <a href="${escapeHtml(href(lang, `/admin/records/${encodeURIComponent(r.endRecordId)}`))}" id="relationship-end-record">${tr(lang, '(終了の記録)', '(the note recording it)')}</a>` : ''}</dd>`
    : '';
  const until = r.retainedUntil
    ? html`<dd id="relationship-retained-until" data-value="${escapeHtml(r.retainedUntil.toISOString())}" data-last-day="${lastDay(r.retainedUntil)}">${lang === 'ja' ? html`${lastDay(r.retainedUntil)} まで(終了日の翌日から${escapeHtml(years)})` : html`until ${lastDay(r.retainedUntil)} (${escapeHtml(years)} from the day after the end)`} <span class="muted">${tr(lang, '期間満了', 'expires')} ${jst(r.retainedUntil)}</span></dd>`
    : html`<dd id="relationship-retained-until" data-value="none">${lang === 'ja' ? html`取引終了の翌日から${escapeHtml(years)}(まだ終了していません)` : html`${escapeHtml(years)} from the day after the end (not ended yet)`}</dd>`;
  return html`<section class="box" aria-labelledby="relationship-h" id="relationship" data-ended="${r.endedAt ? 'true' : 'false'}"><h2 id="relationship-h">${tr(lang, '事業者との取引関係と保存期間', 'Relationship and retention')}</h2><dl>
<dt>${tr(lang, '事業者', 'Relying party')}</dt><dd><code>${escapeHtml(r.rpClientId)}</code> <span class="muted">(${escapeHtml(r.framework)})</span></dd>
<dt>${tr(lang, '開始日時', 'Started at')}</dt><dd id="relationship-started-at">${jst(r.startedAt)}</dd>
<dt>${tr(lang, '状態', 'Status')}</dt>${status}${ended}
<dt>${tr(lang, '記録の保存期限', 'Records kept')}</dt>${until}
<dt>${tr(lang, '根拠', 'Basis')}</dt><dd>${escapeHtml(r.retention.basis)}</dd></dl>
<p class="muted">${tr(lang, '取引関係が終了すると、この利用者の電子証明書の失効監視は止まり、記録の保存期間が始まります。期間を過ぎた記録は内容だけが消去されます(ハッシュはログに残ります)。終了後に作られた記録は、その作成日から数えます。', 'When the relationship ends, monitoring of this holder’s certificates for the RP stops and the retention of the records starts; past it, only their content is blanked (the hashes stay in the log). A record made after the end counts from its own creation.')}</p></section>`;
}
