// Revocation events with their webhook delivery attempts (and redelivery), the certificates under
// revocation watch by status, and "re-check now" for the monitor.

import { escapeHtml, html, joinHtml, tr, type Html } from '../html.js';
import { adminPage, href, jst, messageBox, postButton, table, text, type AdminContext } from './layout.js';

export interface AdminDelivery {
  attempt: number;
  attemptedAt: Date;
  statusCode: number | null;
  error: string | null;
  delivered: boolean;
  url: string;
}

export interface AdminEvent {
  id: string;
  createdAt: Date;
  type: string;
  rpClientId: string | null;
  rpName?: string;
  serial: string | null;
  reason: string | null;
  recordId: string | null;
  deliveries: AdminDelivery[];
}

export interface AdminWatched {
  rpClientId: string;
  serial: string;
  issuerId: string;
  status: string;
  notAfter: Date;
  lastCheckedAt: Date | null;
  revokedAt: Date | null;
  revocationReason: string | null;
  recordId: string;
}

export const WATCH_STATUSES: { status: string; ja: string; en: string }[] = [
  { status: 'revoked', ja: '失効', en: 'Revoked' },
  { status: 'good', ja: '有効(監視中)', en: 'Good (watched)' },
  { status: 'expired', ja: '期限切れ', en: 'Expired' },
  { status: 'ended', ja: '取引終了(監視終了)', en: 'Relationship ended' },
];

export interface EventsPageInput {
  ctx: AdminContext;
  events: AdminEvent[];
  /** The event id to page before for older events, when there are more. */
  nextBefore?: string;
  paged: boolean;
  /** Watched certificates per status (a page of each) and the total per status. */
  watched: Record<string, AdminWatched[]>;
  counts: Record<string, number>;
  /** Whether this process runs the background jobs ("re-check now" needs them). */
  jobsRunning: boolean;
  notice?: 'monitor' | 'redeliver';
  error?: string;
}

function eventSection(ctx: AdminContext, e: AdminEvent, i: number): Html {
  const { lang } = ctx;
  const hid = `event-${i}`;
  const rows = e.deliveries.map((d) => [
    escapeHtml(String(d.attempt)),
    jst(d.attemptedAt),
    text(d.statusCode),
    text(d.error),
    d.delivered
      ? html`<span class="ok">${tr(lang, '配信済み', 'delivered')}</span>`
      : html`<span class="bad">${tr(lang, '未配信', 'not delivered')}</span>`,
    escapeHtml(d.url),
  ]);
  const deliveries = table(
    tr(lang, 'Webhookの配信', 'Webhook deliveries'),
    [
      tr(lang, '試行', 'Attempt'),
      tr(lang, '日時', 'Time'),
      tr(lang, 'ステータス', 'Status code'),
      tr(lang, 'エラー', 'Error'),
      tr(lang, '配信', 'Delivered'),
      html`URL`,
    ],
    rows,
    {
      empty: tr(
        lang,
        '配信の試行はまだありません(Webhook URLが未登録の場合もあります)。',
        'No delivery attempts yet (or the RP has no webhook URL).',
      ),
    },
  );
  const redeliver = e.rpClientId
    ? html`<div class="actions">${postButton(ctx, `/admin/events/${encodeURIComponent(e.id)}/redeliver`, lang === 'ja' ? '再配信する' : 'Redeliver', { secondary: true, describedBy: hid })}</div>`
    : '';
  return html`<section class="box event" data-event-id="${escapeHtml(e.id)}" aria-labelledby="${escapeHtml(hid)}"><h3 id="${escapeHtml(hid)}">${escapeHtml(e.type)} — ${jst(e.createdAt)}</h3>
<dl><dt>${tr(lang, '事業者', 'Relying party')}</dt><dd>${e.rpName ? html`${escapeHtml(e.rpName)} ` : ''}${e.rpClientId ? html`<code>${escapeHtml(e.rpClientId)}</code>` : html`—`}</dd>
<dt>${tr(lang, '証明書の発行番号', 'Certificate serial')}</dt><dd><code>${text(e.serial)}</code></dd><dt>${tr(lang, '理由', 'Reason')}</dt><dd>${text(e.reason)}</dd>
<dt>${tr(lang, '確認記録', 'Record')}</dt><dd>${e.recordId ? html`<a href="${escapeHtml(href(lang, `/admin/records/${encodeURIComponent(e.recordId)}`))}">${escapeHtml(e.recordId)}</a>` : html`—`}</dd>
<dt>${tr(lang, 'イベントID', 'Event ID')}</dt><dd><code>${escapeHtml(e.id)}</code></dd></dl>${deliveries}${redeliver}</section>`;
}

function watchedSection(ctx: AdminContext, p: EventsPageInput): Html {
  const { lang } = ctx;
  const parts = WATCH_STATUSES.map(({ status, ja, en }) => {
    const rows = (p.watched[status] ?? []).map((w) => [
      html`<code>${escapeHtml(w.serial)}</code>`,
      html`<code>${escapeHtml(w.rpClientId)}</code>`,
      escapeHtml(w.issuerId),
      jst(w.notAfter),
      jst(w.lastCheckedAt),
      jst(w.revokedAt),
      text(w.revocationReason),
      html`<a href="${escapeHtml(href(lang, `/admin/records/${encodeURIComponent(w.recordId)}`))}">${escapeHtml(w.recordId)}</a>`,
    ]);
    const count = p.counts[status] ?? 0;
    const caption = html`${tr(lang, ja, en)} (${count}${rows.length < count ? tr(lang, `件中 ${rows.length}件を表示`, `, showing ${rows.length}`) : ''})`;
    return html`<h3 id="watched-${escapeHtml(status)}">${caption}</h3>${table(caption, [tr(lang, '発行番号', 'Serial'), tr(lang, '事業者', 'Relying party'), tr(lang, '発行者', 'Issuer'), tr(lang, '有効期限', 'Not after'), tr(lang, '最終確認', 'Last checked'), tr(lang, '失効日時', 'Revoked at'), tr(lang, '理由', 'Reason'), tr(lang, '確認記録', 'Record')], rows, { empty: tr(lang, 'ありません。', 'None.') })}`;
  });
  return html`<section aria-labelledby="watched-h"><h2 id="watched-h">${tr(lang, '失効を監視している署名用電子証明書', 'Signing certificates under revocation watch')}</h2>${parts}</section>`;
}

export function eventsPage(p: EventsPageInput): Html {
  const { ctx } = p;
  const { lang } = ctx;
  const notice =
    p.notice === 'monitor'
      ? messageBox(
          'notice',
          lang === 'ja' ? '失効の再確認を開始しました' : 'A re-check was queued',
          lang === 'ja' ? '数秒後にこのページを再読み込みしてください。' : 'Reload this page in a few seconds.',
        )
      : p.notice === 'redeliver'
        ? messageBox('notice', lang === 'ja' ? '再配信を予約しました' : 'Redelivery queued')
        : '';
  const recheck = p.jobsRunning
    ? postButton(ctx, '/admin/monitor/run', lang === 'ja' ? '今すぐ再確認する' : 'Re-check now', { id: 'monitor-run' })
    : html`<p class="muted">${tr(lang, 'このプロセスではバックグラウンドジョブが動いていないため、再確認を開始できません。', 'Background jobs do not run in this process: a re-check cannot be started here.')}</p>`;
  const paging = [
    p.paged
      ? html`<a href="${escapeHtml(href(lang, '/admin/events'))}">${tr(lang, '最新のイベントへ', 'Newest events')}</a>`
      : '',
    p.nextBefore
      ? html`<a href="${escapeHtml(href(lang, '/admin/events', { before: p.nextBefore }))}" rel="next" id="older">${tr(lang, '古いイベントへ', 'Older events')}</a>`
      : '',
  ].filter((x): x is Html => !!x);
  return adminPage(
    ctx,
    'events',
    ['失効イベントとWebhook', 'Revocation events and webhooks'],
    html`${notice}${p.error ? messageBox('error', lang === 'ja' ? '実行できませんでした' : 'Could not do that', p.error) : ''}
<section class="box" aria-labelledby="monitor-h"><h2 id="monitor-h">${tr(lang, '失効の監視', 'Revocation monitor')}</h2><p>${tr(lang, '監視中の署名用電子証明書をすべて、今すぐ OCSP で確認します。', 'Checks every watched signing certificate over OCSP now.')}</p>${recheck}</section>
<section aria-labelledby="events-h"><h2 id="events-h">${tr(lang, 'イベント(新しい順)', 'Events (newest first)')}</h2>
<div id="events">${
      p.events.length
        ? joinHtml(
            p.events.map((e, i) => eventSection(ctx, e, i)),
            '\n',
          )
        : html`<p>${tr(lang, 'イベントはまだありません。', 'No events yet.')}</p>`
    }</div>
${paging.length ? html`<nav aria-label="${tr(lang, 'ページ送り', 'Pages')}" class="actions">${paging}</nav>` : ''}</section>
${watchedSection(ctx, p)}`,
  );
}
