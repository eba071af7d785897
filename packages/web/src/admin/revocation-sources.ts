// The CRL sources the platform keeps fresh: each CRL's issuer, thisUpdate / nextUpdate, state and
// how its last refresh went — the same as /readyz and the kakunin_crl_* metrics.

import { escapeHtml, html, tr, type Html } from '../html.js';
import { adminPage, jst, table, text, type AdminContext } from './layout.js';

export interface AdminCrlSource {
  kind: 'url' | 'file';
  location: string;
  issuer: string | null;
  state: 'fresh' | 'grace' | 'expired' | 'missing';
  thisUpdate: Date | null;
  nextUpdate: Date | null;
  usableUntil: Date | null;
  crlNumber: string | null;
  entries: number | null;
  lastSuccessAt: Date | null;
  lastFailureAt: Date | null;
  lastError: string | null;
  nextRefreshAt: Date;
}

export interface RevocationSourcesPageInput {
  ctx: AdminContext;
  sources: AdminCrlSource[];
  refreshAheadSeconds: number;
  graceSeconds: number;
  retrySeconds: number;
  /** How watched certificates learn of revocations (the server's monitorMode). */
  monitorMode?: 'crl' | 'ocsp';
  /** J-LIS lookups of the current month by RP and purpose (the same as `kakunin usage`). */
  usage?: {
    month: string;
    byRp: readonly { rpClientId: string | null; purpose: string; lookup: string; requests: number; reused: number }[];
  };
}

const STATE: Record<AdminCrlSource['state'], { ja: string; en: string; bad: boolean }> = {
  fresh: { ja: '有効', en: 'Fresh', bad: false },
  grace: { ja: '猶予期間中(次回更新日時を過ぎています)', en: 'In grace (past nextUpdate)', bad: true },
  expired: { ja: '期限切れ(失効確認は拒否されます)', en: 'Expired (lookups fail closed)', bad: true },
  missing: { ja: '未取得', en: 'Not loaded', bad: true },
};

export function revocationSourcesPage(p: RevocationSourcesPageInput): Html {
  const { ctx } = p;
  const { lang } = ctx;
  const rows = p.sources.map((s) => {
    const state = STATE[s.state];
    return [
      html`<code>${escapeHtml(s.location)}</code>`,
      text(s.issuer),
      html`<span class="${state.bad ? 'bad' : 'ok'}">${tr(lang, state.ja, state.en)}</span>`,
      jst(s.thisUpdate),
      jst(s.nextUpdate),
      jst(s.usableUntil),
      s.entries === null
        ? html`—`
        : html`${escapeHtml(s.entries.toLocaleString('en-US'))}${s.crlNumber ? html` <small>(#${escapeHtml(s.crlNumber)})</small>` : ''}`,
      jst(s.lastSuccessAt),
      s.lastFailureAt
        ? html`${jst(s.lastFailureAt)}${s.lastError ? html`<br><span class="bad">${escapeHtml(s.lastError)}</span>` : ''}`
        : text(s.lastError),
      jst(s.nextRefreshAt),
    ];
  });
  const intro = tr(
    lang,
    `失効リスト(CRL)は次回更新日時の ${p.refreshAheadSeconds} 秒前に取得し直します。失敗したときは ${p.retrySeconds} 秒ごとに再試行し、次回更新日時から ${p.graceSeconds} 秒までは最後に取得できたCRLで確認を続けます。それを過ぎると、そのCRLによる失効確認は拒否されます(安全側)。OCSPが使える間はOCSPが優先されます。`,
    `Each CRL is fetched again ${p.refreshAheadSeconds} s before its nextUpdate; after a failure, every ${p.retrySeconds} s. The last good CRL keeps answering until nextUpdate + ${p.graceSeconds} s; after that, lookups against it fail closed. OCSP is asked first while it answers.`,
  );
  const headers = [
    tr(lang, '取得元', 'Source'),
    tr(lang, '発行者', 'Issuer'),
    tr(lang, '状態', 'State'),
    tr(lang, '発行日時 (thisUpdate)', 'thisUpdate'),
    tr(lang, '次回更新 (nextUpdate)', 'nextUpdate'),
    tr(lang, '使用期限(猶予込み)', 'Usable until (with grace)'),
    tr(lang, '失効件数', 'Entries'),
    tr(lang, '最終取得成功', 'Last success'),
    tr(lang, '最終失敗', 'Last failure'),
    tr(lang, '次回取得', 'Next refresh'),
  ];
  const mode = p.monitorMode
    ? html`<p id="monitor-mode">${
        p.monitorMode === 'crl'
          ? tr(
              lang,
              '失効監視: CRL方式(新しいCRLの追加分だけを監視中の証明書と照合します。利用者ごとのJ-LIS照会はありません)。',
              'Revocation monitoring: CRL mode (each new CRL’s new entries are matched against the watched certificates; no J-LIS lookup per holder).',
            )
          : tr(
              lang,
              '失効監視: OCSP方式(監視中の証明書ごとに、実行のたびにJ-LISへOCSP照会します)。',
              'Revocation monitoring: OCSP mode (one J-LIS OCSP request per watched certificate per run).',
            )
      }</p>`
    : '';
  const usage = p.usage
    ? table(
        tr(lang, `J-LIS照会件数(${p.usage.month}、UTC)`, `J-LIS lookups (${p.usage.month}, UTC)`),
        [
          tr(lang, 'RP', 'RP'),
          tr(lang, '目的', 'Purpose'),
          tr(lang, '種類', 'Lookup'),
          tr(lang, '照会', 'Requests'),
          tr(lang, '再利用', 'Reused'),
        ],
        p.usage.byRp.map((u) => [
          text(u.rpClientId ?? tr(lang, '(プラットフォーム)', '(platform)')),
          text(u.purpose),
          text(u.lookup),
          escapeHtml(u.requests.toLocaleString('en-US')),
          escapeHtml(u.reused.toLocaleString('en-US')),
        ]),
        { id: 'jlis-usage', empty: tr(lang, '今月の照会はまだありません。', 'No lookups this month yet.') },
      )
    : '';
  return adminPage(
    ctx,
    'crl',
    ['失効リストの取得元', 'Revocation sources'],
    html`<p>${intro}</p>${mode}${table(tr(lang, 'CRLの取得元', 'CRL sources'), headers, rows, { id: 'crl-sources', empty: tr(lang, 'CRLの取得元は設定されていません(OCSPのみ)。', 'No CRL source is configured (OCSP only).') })}${usage}`,
  );
}
