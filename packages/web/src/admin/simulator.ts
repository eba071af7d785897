// The sandbox simulator (sandbox mode only): the simulated residents with their test PINs, and life
// events (move / renew / lose) that revoke and issue certificates the way J-LIS would.

import { escapeHtml, html, joinHtml, tr, type Html, type Lang } from '../html.js';
import { adminPage, href, jst, messageBox, postButton, table, text, type AdminContext } from './layout.js';

export type SignCertificateState = 'valid' | 'revoked' | 'expired' | 'notYetValid' | 'none';

export interface SimPerson {
  id: string;
  /** As in the resident register. */
  name: string;
  /** As written in the certificate, when it differs (substitute characters). */
  certificateName?: string;
  birthDate: string;
  address: string;
  certificateAddress?: string;
  municipalityCode: string;
  municipality: string;
  /** The card's signing certificate now. */
  signCertificate: SignCertificateState;
  pins: { auth: string; sign: string; cardInfo: string };
}

export const SIM_ACTIONS: { type: 'move' | 'renew' | 'lose'; ja: string; en: string }[] = [
  { type: 'move', ja: '転居', en: 'Move' },
  { type: 'renew', ja: '更新', en: 'Renew' },
  { type: 'lose', ja: '紛失', en: 'Lose' },
];

const SIGN_STATES: Record<SignCertificateState, [string, string]> = {
  valid: ['あり(有効)', 'yes (valid)'],
  revoked: ['あり(失効)', 'yes (revoked)'],
  expired: ['あり(期限切れ)', 'yes (expired)'],
  notYetValid: ['あり(有効期間前)', 'yes (not yet valid)'],
  none: ['なし', 'none'],
};

const simPage = (ctx: AdminContext, title: [string, string], body: Html): Html =>
  adminPage(ctx, 'simulator', title, body);

const sandboxOnly = (lang: Lang): Html =>
  html`<p class="box warn" id="sandbox-warning"><strong>${tr(lang, 'サンドボックス専用', 'Sandbox only')}</strong>: ${tr(lang, 'ここに表示される人物・住所・暗証番号はすべて模擬データです。本番環境にはこの画面はありません。', 'Every person, address and PIN here is simulated test data. Production has no such page.')}</p>`;

function personSection(ctx: AdminContext, p: SimPerson): Html {
  const { lang } = ctx;
  const hid = `person-${p.id}`;
  const alt = (shown: string, cert?: string): Html =>
    html`${escapeHtml(shown)}${cert && cert !== shown ? html`<br><span class="muted">${tr(lang, '証明書上', 'on the certificate')}: ${escapeHtml(cert)}</span>` : ''}`;
  const buttons = joinHtml(
    SIM_ACTIONS.map((a) =>
      postButton(ctx, `/admin/simulator/people/${encodeURIComponent(p.id)}/events`, lang === 'ja' ? a.ja : a.en, {
        fields: { type: a.type },
        secondary: a.type === 'lose',
        describedBy: hid,
      }),
    ),
    ' ',
  );
  return html`<section class="box person" data-person-id="${escapeHtml(p.id)}" aria-labelledby="${escapeHtml(hid)}"><h3 id="${escapeHtml(hid)}">${escapeHtml(p.id)} ${escapeHtml(p.name)}</h3>
<dl><dt>${tr(lang, '氏名', 'Name')}</dt><dd>${alt(p.name, p.certificateName)}</dd><dt>${tr(lang, '生年月日', 'Date of birth')}</dt><dd>${escapeHtml(p.birthDate)}</dd>
<dt>${tr(lang, '住所', 'Address')}</dt><dd>${alt(p.address, p.certificateAddress)}</dd><dt>${tr(lang, '市区町村コード', 'Municipality code')}</dt><dd>${escapeHtml(p.municipalityCode)} ${escapeHtml(p.municipality)}</dd>
<dt>${tr(lang, '署名用電子証明書', 'Signing certificate')}</dt><dd data-sign="${p.signCertificate}">${tr(lang, ...SIGN_STATES[p.signCertificate])}</dd>
<dt>${tr(lang, 'テスト用暗証番号(サンドボックス専用)', 'Test PINs (sandbox only)')}</dt><dd class="pins">${tr(lang, '利用者証明用', 'Authentication')}: <code>${escapeHtml(p.pins.auth)}</code> / ${tr(lang, '署名用', 'Signing')}: <code>${escapeHtml(p.pins.sign)}</code> / ${tr(lang, '券面事項入力補助用', 'Card info')}: <code>${escapeHtml(p.pins.cardInfo)}</code></dd></dl>
<div class="actions" role="group" aria-label="${tr(lang, 'ライフイベント', 'Life events')}">${buttons}</div></section>`;
}

export interface SimulatorPageInput {
  ctx: AdminContext;
  people: SimPerson[];
  error?: string;
}

export function simulatorPage(p: SimulatorPageInput): Html {
  const { ctx } = p;
  const { lang } = ctx;
  return simPage(
    ctx,
    ['シミュレーター(模擬J-LIS)', 'Simulator (simulated J-LIS)'],
    html`${sandboxOnly(lang)}${p.error ? messageBox('error', lang === 'ja' ? 'イベントを適用できませんでした' : 'The event could not be applied', p.error) : ''}
<p>${tr(lang, '転居: 署名用電子証明書が失効し、カードには新しい署名用電子証明書が発行されます。更新: カードの電子証明書を新しくします。紛失: カードの電子証明書をすべて失効させます。', 'Move: the signing certificate is revoked and a new one is issued to the card. Renew: the card’s certificates are replaced. Lose: every certificate on the card is revoked.')}</p>
<h2>${tr(lang, '住民', 'Residents')}</h2><div id="people">${joinHtml(
      p.people.map((x) => personSection(ctx, x)),
      '\n',
    )}</div>`,
  );
}

export interface SimCertRef {
  issuerId: string;
  serial: string;
  kind: string;
  medium: string;
}

export interface SimEventView {
  id: string;
  type: string;
  at: string;
  personId: string;
  personName: string;
  revoked: (SimCertRef & { reason: string; revokedAt: string })[];
  issued: SimCertRef[];
  changes?: {
    trueName?: { from: string; to: string };
    trueAddress?: { from: string; to: string };
    municipalityCode?: { from: string; to: string };
  };
}

export function simEventPage(ctx: AdminContext, e: SimEventView): Html {
  const { lang } = ctx;
  const kind = (k: string): Html =>
    k === 'sign'
      ? tr(lang, '署名用', 'signing')
      : k === 'auth'
        ? tr(lang, '利用者証明用', 'authentication')
        : escapeHtml(k);
  const revoked = table(
    tr(lang, '失効した電子証明書', 'Revoked certificates'),
    [
      tr(lang, '発行番号', 'Serial'),
      tr(lang, '種類', 'Kind'),
      tr(lang, '媒体', 'Medium'),
      tr(lang, '発行者', 'Issuer'),
      tr(lang, '理由', 'Reason'),
      tr(lang, '失効日時', 'Revoked at'),
    ],
    e.revoked.map((r) => [
      html`<code>${escapeHtml(r.serial)}</code>`,
      kind(r.kind),
      escapeHtml(r.medium),
      escapeHtml(r.issuerId),
      escapeHtml(r.reason),
      jst(r.revokedAt),
    ]),
    { id: 'revoked', empty: tr(lang, '失効した電子証明書はありません。', 'No certificate was revoked.') },
  );
  const issued = table(
    tr(lang, '発行された電子証明書', 'Issued certificates'),
    [
      tr(lang, '発行番号', 'Serial'),
      tr(lang, '種類', 'Kind'),
      tr(lang, '媒体', 'Medium'),
      tr(lang, '発行者', 'Issuer'),
    ],
    e.issued.map((r) => [
      html`<code>${escapeHtml(r.serial)}</code>`,
      kind(r.kind),
      escapeHtml(r.medium),
      escapeHtml(r.issuerId),
    ]),
    { id: 'issued', empty: tr(lang, '発行された電子証明書はありません。', 'No certificate was issued.') },
  );
  const change = (label: Html, c?: { from: string; to: string }): Html =>
    c ? html`<dt>${label}</dt><dd>${escapeHtml(c.from)} → ${escapeHtml(c.to)}</dd>` : html``;
  const changes = e.changes
    ? html`${change(tr(lang, '氏名', 'Name'), e.changes.trueName)}${change(tr(lang, '住所', 'Address'), e.changes.trueAddress)}${change(tr(lang, '市区町村コード', 'Municipality code'), e.changes.municipalityCode)}`
    : '';
  const action = SIM_ACTIONS.find((a) => a.type === e.type);
  return simPage(
    ctx,
    [`イベント ${e.id}`, `Event ${e.id}`],
    html`${sandboxOnly(lang)}${messageBox('notice', `${action ? (lang === 'ja' ? action.ja : action.en) : e.type}: ${e.personId} ${e.personName}`)}
<dl id="sim-event" data-type="${escapeHtml(e.type)}"><dt>${tr(lang, '種類', 'Type')}</dt><dd>${escapeHtml(e.type)}</dd><dt>${tr(lang, '日時', 'Time')}</dt><dd>${jst(e.at)}</dd><dt>${tr(lang, '人物', 'Person')}</dt><dd>${escapeHtml(e.personId)} ${text(e.personName)}</dd>${changes}</dl>
${revoked}${issued}
<p>${tr(lang, '失効は、監視の再確認(失効イベントの画面)で事業者に通知されます。', 'Relying parties learn of revocations at the next monitor run (see the events page).')} <a href="${escapeHtml(href(lang, '/admin/events'))}">${tr(lang, '失効イベントへ', 'Go to the events')}</a></p>
<p><a href="${escapeHtml(href(lang, '/admin/simulator'))}">${tr(lang, 'シミュレーターに戻る', 'Back to the simulator')}</a></p>`,
  );
}
