// The head of a record's page in the admin console: what an operator looks for first, labelled —
// who (relying party, subject, the holder's name for an identity record), when (Japan time), the
// method and its legal basis, the end of retention, the certificate (serial, issuer and generation),
// the revocation answer and the record's position in the log. Read from the payload (a purged
// record keeps its columns only); every value escaped. The full payload and its JSON follow it
// behind disclosures (records.ts).

import { escapeHtml, html, tr, type Html, type Lang } from '../html.js';
import { jst } from './layout.js';

/** When the record's retention ends, as the server's retention rules decide (records/retention.ts). */
export type RecordRetentionInput = { years: number; basis: string } & (
  | /** The relationship ended (or, without one, a rejected attempt): kept until `until` (00:00 JST, exclusive), counted from `from`. */ {
      state: 'ends';
      until: Date;
      from: 'relationship_end' | 'record';
    }
  | /** The relationship is open: nothing is purged, the period has not started. */ { state: 'open' }
  | /** Platform notes without a relationship: kept. */ { state: 'kept' }
  | /** The payload was blanked when its period ended. */ { state: 'purged'; at: Date }
);

export interface RecordSummaryInput {
  /** The relying party's registered name. */
  rpName?: string;
  retention?: RecordRetentionInput;
}

export interface RecordSummaryRecord {
  createdAt: Date;
  rpClientId: string | null;
  subjectId: string | null;
  framework: string;
  outcome: string;
  payload: Record<string, unknown> | null;
  leafIndex: string | null;
  integratedAt: Date | null;
}

type Words = [ja: string, en: string];

const OUTCOME: Record<string, Words> = {
  verified: ['確認済み', 'verified'],
  rejected: ['拒否', 'rejected'],
  note: ['注記', 'note'],
};
const REVOCATION_STATUS: Record<string, Words> = {
  good: ['失効していません', 'not revoked'],
  revoked: ['失効しています', 'revoked'],
  unknown: ['不明', 'unknown'],
};
const REVOCATION_SOURCE: Record<string, Words> = {
  ocsp: ['OCSP(J-LIS の失効情報の問い合わせ)', 'OCSP (asked J-LIS)'],
  crl: ['失効リスト(CRL)', 'certificate revocation list (CRL)'],
  none: ['確認なし', 'not checked'],
};
const CEREMONY_KIND: Record<string, Words> = {
  login: ['ログイン(利用者証明用電子証明書)', 'login (authentication certificate)'],
  identity: ['本人確認(署名用電子証明書)', 'identity verification (signing certificate)'],
};
const NOTE_EVENT: Record<string, Words> = {
  relationship_ended: ['取引関係の終了', 'the relationship ended'],
  retention_purge: ['保存期間を過ぎた記録の消去', 'records purged after retention'],
};

/** A value at a path of the payload, when it is a string (or a number). */
function at(payload: Record<string, unknown> | null, ...path: string[]): string | undefined {
  let v: unknown = payload;
  for (const k of path) {
    if (!v || typeof v !== 'object' || Array.isArray(v)) return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return typeof v === 'string' || typeof v === 'number' ? String(v) : undefined;
}

/** Words in the page's language, the machine value in small print after them. */
const worded = (lang: Lang, table: Record<string, Words>, v: string | undefined): Html => {
  if (v === undefined) return html`—`;
  const w = table[v];
  return w ? html`${tr(lang, w[0], w[1])} <small class="muted"><code>${escapeHtml(v)}</code></small>` : escapeHtml(v);
};
const code = (v: string | undefined): Html => (v === undefined ? html`—` : html`<code>${escapeHtml(v)}</code>`);
const item = (id: string, label: Html, value: Html): Html =>
  html`<dt>${label}</dt><dd id="summary-${escapeHtml(id)}">${value}</dd>`;

/** The last Japan day of a period ending (exclusively) at `until`, e.g. 2033-12-05. */
const lastDay = (until: Date): Html =>
  escapeHtml(new Date(until.getTime() - 1 + 9 * 3600_000).toISOString().slice(0, 10));

function retention(lang: Lang, r: RecordRetentionInput | undefined): Html {
  if (!r) return html`—`;
  const years = lang === 'ja' ? `${r.years}年` : `${r.years} year${r.years === 1 ? '' : 's'}`;
  const basis = html`<br><small class="muted">${escapeHtml(r.basis)}</small>`;
  switch (r.state) {
    case 'ends':
      return html`${lang === 'ja' ? html`${lastDay(r.until)} まで` : html`until ${lastDay(r.until)}`} <span class="muted">(${
        r.from === 'relationship_end'
          ? tr(lang, `取引関係の終了日の翌日から${years}`, `${years} from the day after the relationship ended`)
          : tr(lang, `記録の作成日の翌日から${years}`, `${years} from the day after the record was made`)
      }; ${tr(lang, '期間満了', 'expires')} ${jst(r.until)})</span>${basis}`;
    case 'open':
      return html`${tr(lang, `取引関係の終了日の翌日から${years}(取引関係が続いているため、まだ始まっていません)`, `${years} from the day after the relationship ends (it goes on: not started yet)`)}${basis}`;
    case 'kept':
      return tr(
        lang,
        '保存期間の対象外(プラットフォームの注記として保存)',
        'not subject to retention (kept as a platform note)',
      );
    case 'purged':
      return html`${tr(lang, '保存期間を過ぎたため、内容は消去済み', 'content purged after its retention period')} (${jst(r.at)})${basis}`;
  }
}

/** The labelled summary at the top of a record's page. */
export function recordSummary(lang: Lang, r: RecordSummaryRecord, s: RecordSummaryInput = {}): Html {
  const p = r.payload;
  const name = at(p, 'identity', 'name');
  const who = [
    item(
      'rp',
      tr(lang, '事業者', 'Relying party'),
      r.rpClientId
        ? html`${s.rpName ? html`${escapeHtml(s.rpName)} ` : ''}${code(r.rpClientId)}`
        : tr(lang, '—(プラットフォーム)', '— (the platform)'),
    ),
    item('subject', tr(lang, '本人(主体ID)', 'Subject (platform id)'), code(r.subjectId ?? undefined)),
    name ? item('name', tr(lang, '氏名(記録の本人特定事項)', 'Name (from the record)'), escapeHtml(name)) : undefined,
  ];
  const verifiedAt = at(p, 'dates', 'verified');
  const receivedAt = at(p, 'dates', 'received');
  const when = [
    item('when', tr(lang, '日時', 'When'), jst(verifiedAt ?? r.createdAt)),
    receivedAt && receivedAt !== verifiedAt
      ? item('received', tr(lang, '電子証明書と署名の受信', 'Certificate and signature received'), jst(receivedAt))
      : undefined,
  ];
  const recordType = at(p, 'recordType', 'ja');
  const event = at(p, 'event');
  const kind = [
    item(
      'outcome',
      tr(lang, '結果', 'Outcome'),
      html`${worded(lang, OUTCOME, r.outcome)}${recordType ? ` — ${escapeHtml(recordType)}` : ''}`,
    ),
    event ? item('event', tr(lang, '出来事', 'Event'), worded(lang, NOTE_EVENT, event)) : undefined,
    at(p, 'error', 'code')
      ? item(
          'error',
          tr(lang, '拒否の理由', 'Why it was rejected'),
          html`${escapeHtml(at(p, 'error', 'message') ?? '')} <small class="muted">${code(at(p, 'error', 'code'))}</small>`,
        )
      : undefined,
  ];
  const methodId = at(p, 'method', 'id');
  const method = methodId
    ? [
        item(
          'method',
          tr(lang, '本人確認の方法', 'Method'),
          html`${escapeHtml(at(p, 'method', 'ja') ?? methodId)} <small class="muted">${code(methodId)}${CEREMONY_KIND[at(p, 'ceremony', 'kind') ?? ''] ? html` · ${tr(lang, ...CEREMONY_KIND[at(p, 'ceremony', 'kind')!]!)}` : ''}</small>`,
        ),
        item(
          'law',
          tr(lang, '根拠規定', 'Legal basis'),
          html`${escapeHtml(at(p, 'citation', 'reference') ?? at(p, 'citation', 'law') ?? html`—`)}${at(p, 'citation', 'confidence') ? html` <small class="muted">(${tr(lang, '確度', 'confidence')}: ${escapeHtml(at(p, 'citation', 'confidence')!)})</small>` : ''}`,
        ),
      ]
    : '';
  const serial = at(p, 'certificate', 'serial');
  const certificate = serial
    ? item(
        'certificate',
        tr(lang, '電子証明書', 'Certificate'),
        html`${escapeHtml(at(p, 'certificate', 'kindJa') ?? '')} ${tr(lang, '発行番号', 'serial')} <code id="summary-serial">${escapeHtml(serial)}</code><br>${tr(lang, '発行者と世代', 'Issuer and generation')}: <code id="summary-issuer-id">${escapeHtml(at(p, 'certificate', 'issuerId') ?? html`—`)}</code>${at(p, 'certificate', 'issuer') ? html` <small class="muted">${escapeHtml(at(p, 'certificate', 'issuer')!)}</small>` : ''}`,
      )
    : '';
  const revocationStatus = at(p, 'revocation', 'status');
  const revocation = revocationStatus
    ? item(
        'revocation',
        tr(lang, '失効の確認', 'Revocation answer'),
        html`${worded(lang, REVOCATION_STATUS, revocationStatus)}<br>${tr(lang, '確認手段', 'From')}: ${worded(lang, REVOCATION_SOURCE, at(p, 'revocation', 'source'))}<br>${tr(lang, '確認した日時', 'Checked at')}: ${jst(at(p, 'revocation', 'checkedAt'))}${
          (p?.revocation as { reused?: unknown } | undefined)?.reused === true
            ? html` <small class="muted">${tr(lang, '(直前の確認結果を再利用)', '(an earlier answer reused)')}</small>`
            : ''
        }`,
      )
    : '';
  const position =
    r.leafIndex !== null
      ? item(
          'leaf-index',
          tr(lang, 'ログ上の位置', 'Position in the log'),
          html`${tr(lang, '葉の位置', 'leaf index')} <strong>${escapeHtml(r.leafIndex)}</strong> <span class="muted">(${tr(lang, '取り込み', 'integrated')} ${jst(r.integratedAt)})</span>`,
        )
      : item(
          'leaf-index',
          tr(lang, 'ログ上の位置', 'Position in the log'),
          tr(
            lang,
            'まだログに取り込まれていません(通常は1秒以内)',
            'not integrated into the log yet (normally within a second)',
          ),
        );
  return html`<section class="box" aria-labelledby="summary-h" id="record-summary"><h2 id="summary-h">${tr(lang, '記録の要約', 'Summary')}</h2><dl>
${who}${when}${kind}${method}
${item('retention', tr(lang, '保存期限', 'Kept until'), retention(lang, s.retention))}
${certificate}${revocation}${position}</dl></section>`;
}
