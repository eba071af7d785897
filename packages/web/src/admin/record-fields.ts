// A record payload (確認記録) as a nested definition list. Labels are looked up by dotted path first
// (the same key means different things in different places: rp.name vs identity.name), then by key;
// unknown keys show as they are, so notes and future payload versions still render completely.

import { escapeHtml, html, type Html, type Lang } from '../html.js';

type Label = [ja: string, en: string];

const BY_PATH: Record<string, Label> = {
  'identity.name': ['氏名', 'Name'],
  'identity.address': ['住所', 'Address'],
  'rp.name': ['事業者名', 'Relying party name'],
  'verifiedBy.onBehalfOf.name': ['事業者名', 'Relying party name'],
  'recordedBy.onBehalfOf.name': ['事業者名', 'Relying party name'],
  'certificate.kind': ['証明書の区分', 'Certificate kind'],
  'ceremony.kind': ['手続きの種類', 'Ceremony kind'],
  'error.code': ['エラーコード', 'Error code'],
  'revocation.source': ['確認手段', 'Checked with'],
  'citation.source': ['出典', 'Source'],
};

const BY_KEY: Record<string, Label> = {
  schema: ['様式', 'Schema'],
  recordType: ['記録の種類', 'Record type'],
  code: ['コード', 'Code'],
  ja: ['表記', 'Label'],
  ceremony: ['手続き', 'Ceremony'],
  id: ['ID', 'ID'],
  kind: ['種類', 'Kind'],
  outcome: ['結果', 'Outcome'],
  error: ['エラー', 'Error'],
  message: ['内容', 'Message'],
  method: ['本人確認の方法', 'Verification method'],
  citation: ['根拠規定', 'Legal basis'],
  reference: ['条項', 'Provision'],
  law: ['法令', 'Law'],
  article: ['条', 'Article'],
  item: ['項・号', 'Paragraph / item'],
  textJa: ['規定の内容', 'Provision text (Japanese)'],
  confidence: ['条項の確度', 'Citation confidence'],
  effectiveFrom: ['適用開始日', 'Effective from'],
  effectiveTo: ['適用終了日', 'Effective to'],
  note: ['注記', 'Note'],
  verifiedBy: ['本人確認を行った者', 'Verified by'],
  recordedBy: ['記録を作成した者', 'Recorded by'],
  system: ['システム', 'System'],
  onBehalfOf: ['委託元の事業者', 'On behalf of'],
  rp: ['依頼した事業者', 'Relying party'],
  clientId: ['クライアントID', 'Client ID'],
  name: ['名称', 'Name'],
  framework: ['トラストフレームワーク', 'Trust framework'],
  purpose: ['利用目的', 'Purpose'],
  subjectId: ['主体ID', 'Subject ID'],
  dates: ['日時', 'Dates'],
  received: ['電子証明書と署名の受信日時', 'Certificate and signature received'],
  verified: ['確認日時', 'Verified at'],
  certificate: ['電子証明書', 'Certificate'],
  kindJa: ['電子証明書の種類', 'Certificate type'],
  issuer: ['発行者', 'Issuer'],
  issuerId: ['発行者ID', 'Issuer ID'],
  serial: ['発行番号(シリアル番号)', 'Serial number'],
  notBefore: ['有効期間の開始', 'Valid from'],
  notAfter: ['有効期間の満了', 'Valid until'],
  medium: ['媒体', 'Medium'],
  environment: ['環境', 'Environment'],
  identity: ['本人特定事項', 'Identity attributes'],
  nameSubstitute: ['氏名の代替文字', 'Name substitute flags'],
  addressSubstitute: ['住所の代替文字', 'Address substitute flags'],
  birthDate: ['生年月日', 'Date of birth'],
  sex: ['性別', 'Sex'],
  sexCode: ['性別コード', 'Sex code'],
  revocation: ['失効の確認', 'Revocation check'],
  status: ['状態', 'Status'],
  thisUpdate: ['失効情報の作成日時', 'This update'],
  nextUpdate: ['次回更新予定', 'Next update'],
  checkedAt: ['確認した日時', 'Checked at'],
  event: ['出来事', 'Event'],
  records: ['対象の記録', 'Records'],
};

// jsonb hands keys back in its own order (shortest first): show a record in the order a reader expects.
const ORDER: Record<string, string[]> = {
  '': [
    'recordType',
    'outcome',
    'error',
    'method',
    'citation',
    'dates',
    'verifiedBy',
    'recordedBy',
    'rp',
    'purpose',
    'certificate',
    'identity',
    'revocation',
    'ceremony',
    'subjectId',
    'schema',
  ],
  recordType: ['ja', 'code'],
  method: ['ja', 'id'],
  citation: [
    'reference',
    'law',
    'article',
    'item',
    'textJa',
    'confidence',
    'effectiveFrom',
    'effectiveTo',
    'source',
    'note',
  ],
  dates: ['received', 'verified'],
  certificate: ['kindJa', 'kind', 'serial', 'issuer', 'issuerId', 'notBefore', 'notAfter', 'medium', 'environment'],
  identity: ['name', 'nameSubstitute', 'birthDate', 'sex', 'sexCode', 'address', 'addressSubstitute'],
  revocation: ['status', 'source', 'checkedAt', 'thisUpdate', 'nextUpdate'],
};

function ordered(path: string, entries: [string, unknown][]): [string, unknown][] {
  const order = ORDER[path];
  if (!order) return entries;
  const rank = (k: string): number => (order.includes(k) ? order.indexOf(k) : order.length);
  return entries
    .map((e, i) => [e, i] as const)
    .sort((a, b) => rank(a[0][0]) - rank(b[0][0]) || a[1] - b[1])
    .map(([e]) => e);
}

export function fieldLabel(lang: Lang, path: string, key: string): string {
  const l = BY_PATH[path] ?? BY_KEY[key];
  return l ? (lang === 'ja' ? l[0] : l[1]) : key;
}

function value(lang: Lang, v: unknown, path: string, depth: number): Html {
  if (v === null || v === undefined) return html`—`;
  if (Array.isArray(v))
    return v.length
      ? html`<ul>${v.map((x, i) => html`<li>${value(lang, x, `${path}[${i}]`, depth + 1)}</li>`)}</ul>`
      : html`—`;
  if (typeof v === 'object')
    return depth > 8 ? escapeHtml(JSON.stringify(v)) : payloadList(lang, v as Record<string, unknown>, path, depth + 1);
  return escapeHtml(String(v));
}

/** The payload as `<dl>`; every key and value is escaped (certificates carry user-chosen text). */
export function payloadList(lang: Lang, payload: Record<string, unknown>, path = '', depth = 0): Html {
  const items = ordered(path, Object.entries(payload)).map(([k, v]) => {
    const p = path ? `${path}.${k}` : k;
    return html`<dt>${escapeHtml(fieldLabel(lang, p, k))}</dt><dd data-field="${escapeHtml(p)}">${value(lang, v, p, depth)}</dd>`;
  });
  return html`<dl${depth === 0 ? ' id="payload"' : ''}>${items}</dl>`;
}
