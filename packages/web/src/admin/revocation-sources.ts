// The CRL sources the platform keeps fresh: each CRL's issuer, thisUpdate / nextUpdate, state and
// how its last refresh went — the same as /readyz and the kakunin_crl_* metrics.

import { escapeHtml, tr } from '../html.js';
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
}

const STATE: Record<AdminCrlSource['state'], { ja: string; en: string; bad: boolean }> = {
  fresh: { ja: '有効', en: 'Fresh', bad: false },
  grace: { ja: '猶予期間中(次回更新日時を過ぎています)', en: 'In grace (past nextUpdate)', bad: true },
  expired: { ja: '期限切れ(失効確認は拒否されます)', en: 'Expired (lookups fail closed)', bad: true },
  missing: { ja: '未取得', en: 'Not loaded', bad: true },
};

export function revocationSourcesPage(p: RevocationSourcesPageInput): string {
  const { ctx } = p;
  const { lang } = ctx;
  const rows = p.sources.map((s) => {
    const state = STATE[s.state];
    return [
      `<code>${escapeHtml(s.location)}</code>`,
      text(s.issuer),
      `<span class="${state.bad ? 'bad' : 'ok'}">${tr(lang, state.ja, state.en)}</span>`,
      jst(s.thisUpdate),
      jst(s.nextUpdate),
      jst(s.usableUntil),
      s.entries === null ? '—' : `${s.entries.toLocaleString('en-US')}${s.crlNumber ? ` <small>(#${escapeHtml(s.crlNumber)})</small>` : ''}`,
      jst(s.lastSuccessAt),
      s.lastFailureAt ? `${jst(s.lastFailureAt)}${s.lastError ? `<br><span class="bad">${escapeHtml(s.lastError)}</span>` : ''}` : text(s.lastError),
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
  return adminPage(
    ctx,
    'crl',
    ['失効リストの取得元', 'Revocation sources'],
    `<p>${intro}</p>${table(tr(lang, 'CRLの取得元', 'CRL sources'), headers, rows, { id: 'crl-sources', empty: tr(lang, 'CRLの取得元は設定されていません(OCSPのみ)。', 'No CRL source is configured (OCSP only).') })}`,
  );
}
