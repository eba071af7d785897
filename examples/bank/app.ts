// デモ銀行 (demo): online account opening under 犯収法 with the JPKI signature method; shows and
// keeps the 確認記録.

import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  Demo,
  JsonStore,
  recordNoteHtml,
  type RecordNote,
  badge,
  pick,
  escapeHtml,
  endRelationship,
  lastRetainedDay,
  relationshipEndWords,
  row,
  t,
  type DemoOptions,
  type RelationshipEnded,
  type RunningDemo,
} from '../shared/index.js';
import {
  ACCOUNT_TYPES,
  BANK,
  METHOD,
  OCCUPATIONS,
  PURPOSES,
  RETENTION_YEARS,
  closeAccount,
  emptyBank,
  otherOpenAccounts,
  readApplication,
  retention,
  type Account,
  type BankState,
} from './bank.js';
import { BANK_PHRASES } from './bank.js';
import { connectKakunin } from './kakunin.js';
import { dayWords, jstWords, reasonHtml, rowHtml, storedHtml, type Lang } from '../shared/index.js';

export async function startBank(o: DemoOptions): Promise<RunningDemo> {
  const demo = new Demo(o, { name: 'bank', ...BANK });
  const store = new JsonStore<BankState>(o.dataDir, 'bank', emptyBank);
  connectKakunin(demo, store);
  const { app } = demo;
  const tx = (req: FastifyRequest) => t(demo.lang(req));
  const label = (req: FastifyRequest, labels: Record<string, readonly [string, string]>, key: string) =>
    tx(req)(...(labels[key] ?? [key, key]));
  const mine = (req: FastifyRequest): Account[] => {
    const sub = demo.session(req).sub;
    return sub ? Object.values(store.data.accounts).filter((a) => a.sub === sub) : [];
  };

  app.get('/', async (req, reply) => {
    const x = tx(req);
    return demo.render(
      req,
      reply,
      ['インターネット口座開設', 'Open an account online'],
      `
<p>${x('マイナンバーカードの署名用電子証明書で本人確認をして、来店・郵送なしで口座を開設できます (デモ)。', 'Open an account without visiting a branch or mailing documents: verify your identity with the signing certificate of your My Number Card (demo).')}</p>
<div class="actions"><a class="button" href="/apply" data-testid="start-application">${x('口座開設を申し込む', 'Apply for an account')}</a>
<form method="post" action="/login" data-testid="login-form">${demo.csrf(req)}<button type="submit" class="secondary" data-testid="login">${x('マイナンバーカードでログイン', 'Log in with My Number Card')}</button></form></div>`,
    );
  });
  app.post('/login', (req, reply) => demo.signIn(req, reply, 'login'));

  const options = (req: FastifyRequest, labels: Record<string, readonly [string, string]>, chosen: string) =>
    Object.keys(labels)
      .map((k) => `<option value="${k}"${k === chosen ? ' selected' : ''}>${label(req, labels, k)}</option>`)
      .join('');

  const applicationForm = (
    req: FastifyRequest,
    reply: FastifyReply,
    f: URLSearchParams,
    errors: [string, string][] = [],
  ) => {
    const x = tx(req);
    const purposes = f.getAll('purpose');
    return demo.render(
      req,
      reply,
      ['口座開設のお申し込み', 'Account application'],
      `
${errors.length ? `<div class="notice error" role="alert" data-testid="form-errors"><ul>${errors.map((e) => `<li>${x(...e)}</li>`).join('')}</ul></div>` : ''}
<form method="post" action="/apply" data-testid="application-form">${demo.csrf(req)}
<label for="account-type">${x('口座の種類', 'Account type')}</label>
<select id="account-type" name="accountType" required data-testid="account-type-select"><option value="">${x('選んでください', 'Choose')}</option>${options(req, ACCOUNT_TYPES, f.get('accountType') ?? '')}</select>
<fieldset data-testid="purposes"><legend>${x('取引を行う目的 (複数選択可)', 'Purpose of the account (choose all that apply)')}</legend>
${Object.keys(PURPOSES)
  .map(
    (k) =>
      `<label><input type="checkbox" name="purpose" value="${k}" data-testid="purpose-${k}"${purposes.includes(k) ? ' checked' : ''}> ${label(req, PURPOSES, k)}</label>`,
  )
  .join('\n')}</fieldset>
<label for="occupation">${x('職業', 'Occupation')}</label>
<select id="occupation" name="occupation" required data-testid="occupation-select"><option value="">${x('選んでください', 'Choose')}</option>${options(req, OCCUPATIONS, f.get('occupation') ?? '')}</select>
<p class="muted">${x('次に、マイナンバーカードの署名用電子証明書 (6〜16桁のパスワード) で申し込みに署名します。氏名・住所・生年月日を犯罪収益移転防止法に基づく取引時確認に利用し、確認記録を取引終了後7年間保存します。', 'Next you sign the application with the signing certificate of your My Number Card (6–16 character password). Your name, address and date of birth are used for the checks the Act on Prevention of Transfer of Criminal Proceeds requires; the verification record is kept for 7 years after the account is closed.')}</p>
<div class="actions"><button type="submit" data-testid="apply-submit">${x('マイナンバーカードで本人確認して申し込む', 'Verify with My Number Card and apply')}</button></div></form>`,
      errors.length ? 400 : 200,
    );
  };

  app.get('/apply', async (req, reply) => applicationForm(req, reply, new URLSearchParams()));
  app.post('/apply', async (req, reply) => {
    const f = demo.form(req);
    const { application, errors } = readApplication(f);
    if (!application) return applicationForm(req, reply, f, errors);
    return demo.signIn(req, reply, 'open', application);
  });

  app.get('/accounts', async (req, reply) => {
    if (!demo.session(req).sub) return reply.redirect('/');
    const x = tx(req);
    const accounts = mine(req);
    return demo.render(
      req,
      reply,
      ['お客さまの口座', 'Your accounts'],
      accounts.length
        ? `<ul data-testid="accounts">${accounts.map((a) => `<li><a href="/accounts/${a.accountNo}" data-testid="account-link">${escapeHtml(a.accountNo)}</a> ${label(req, ACCOUNT_TYPES, a.type)}</li>`).join('')}</ul>`
        : `<p data-testid="no-accounts">${x('このログインに結び付いた口座はありません。', 'No account is linked to this login.')}</p><p><a href="/apply">${x('口座開設を申し込む', 'Apply for an account')}</a></p>`,
    );
  });

  // The routes of one account: /accounts/:no…
  type OfAccount = { Params: { no: string } };
  const accountOf = (req: FastifyRequest<OfAccount>): Account | undefined => {
    const a = store.data.accounts[req.params.no];
    return a && a.sub === demo.session(req).sub ? a : undefined;
  };
  const notFound = (req: FastifyRequest, reply: FastifyReply) =>
    demo.problem(
      req,
      reply,
      404,
      ['口座が見つかりません', 'Account not found'],
      ['ログインしている方の口座ではないか、存在しません。', 'It does not exist or is not yours.'],
    );

  /** What the platform answered when the account was closed: the end of the relationship and its retention. */
  const platformBox = (req: FastifyRequest, a: Account): string => {
    const x = tx(req);
    const e = a.platformEnd;
    if (!e)
      return `<p data-testid="platform-relationship" data-status="continues">${x('ほかの口座が続いているため、本人確認プラットフォーム (Kakunin) との取引関係は続いています。', 'Other accounts are open: the relationship with the identity platform (Kakunin) goes on.')}</p>`;
    const words = relationshipEndWords(e, demo.lang(req));
    return `<h3>${x('本人確認プラットフォーム (Kakunin)', 'Identity platform (Kakunin)')}</h3><dl data-testid="platform-relationship" data-status="ended">
${row(x('取引関係の終了', 'Relationship ended'), words.ended, 'platform-ended-at', ` data-value="${escapeHtml(e.ended_at)}"`)}
${row(x('電子証明書の失効監視', 'Certificate monitoring'), x('停止しました', 'stopped'), 'platform-monitoring')}
${row(x('Kakunin の記録の保存期限', 'Kakunin keeps its records'), words.kept, 'platform-retained-until', ` data-value="${escapeHtml(e.retained_until)}" data-last-day="${lastRetainedDay(e)}"`)}</dl>`;
  };

  /** A stored Japanese value in the page's language. */
  const stored = (lang: Lang, ja: string): string => storedHtml(lang, ja, BANK_PHRASES.en(ja));
  const note = (lang: Lang, n: RecordNote): string => recordNoteHtml(lang, n, BANK_PHRASES);

  app.get<OfAccount>('/accounts/:no', async (req, reply) => {
    const a = accountOf(req);
    if (!a) return notFound(req, reply);
    const x = tx(req);
    const lang = demo.lang(req);
    const r = store.data.records[a.recordId]!;
    const keep = retention(a);
    const post = (action: string, testid: string, text: string, cls = '') =>
      `<form method="post" action="/accounts/${a.accountNo}/${action}" data-testid="${testid}-form">${demo.csrf(req)}<button type="submit"${cls} data-testid="${testid}">${text}</button></form>`;
    return demo.render(
      req,
      reply,
      ['口座と確認記録', 'Account and verification record'],
      `
<section class="box" aria-labelledby="acc-h"><h2 id="acc-h">${x('口座', 'Account')}</h2><dl>
${rowHtml(x('支店', 'Branch'), stored(lang, a.branch), 'account-branch')}${row(x('口座番号', 'Account number'), a.accountNo, 'account-number')}
<dt>${x('種類', 'Type')}</dt><dd data-testid="account-type">${label(req, ACCOUNT_TYPES, a.type)}</dd>
<dt>${x('状態', 'Status')}</dt><dd>${a.closedAt ? badge('account-status', 'closed', x('解約済み', 'Closed'), 'neutral') : badge('account-status', 'open', x('開設済み', 'Open'), 'ok')}
${a.reviewNeeded ? badge('review-status', 'review-needed', x('要再確認', 'Re-check needed'), 'bad') : ''}</dd></dl>
${
  a.reviewNeeded && !a.closedAt
    ? `<p role="alert">${x('ご本人確認に使った電子証明書が失効しました (転居・氏名変更など)。お手続きを続けるため、もう一度本人確認をお願いします。', 'The certificate you verified with was revoked (move, new name…). Please verify your identity again.')}</p>
<dl>${rowHtml(x('失効の理由', 'Why it was revoked'), reasonHtml(a.reviewNeeded.reason, lang), 'review-reason', ` data-reason="${escapeHtml(a.reviewNeeded.reason)}"`)}${row(x('失効日時', 'Revoked at'), jstWords(a.reviewNeeded.since, lang), 'review-since', ` data-value="${escapeHtml(a.reviewNeeded.since)}"`)}</dl>${post('recheck', 'recheck', x('本人確認をやり直す', 'Verify again'))}`
    : ''
}
${a.closedAt ? platformBox(req, a) : `<div class="actions"><a class="button secondary" href="/accounts/${a.accountNo}/close" data-testid="close-account">${x('口座を解約する', 'Close the account')}</a></div>`}</section>
<section class="box" aria-labelledby="rec-h" data-testid="record"><h2 id="rec-h">${x('確認記録 (犯罪収益移転防止法 第6条)', 'Verification record (Criminal Proceeds Act, art. 6)')}</h2><dl>
${row(x('確認記録番号', 'Record number'), r.id, 'record-id')}
${rowHtml(x('取引時確認を行った者', 'Verified by'), stored(lang, r.confirmedBy), 'record-confirmed-by')}
${rowHtml(x('電子署名の検証', 'Signature verified by'), stored(lang, r.verifiedBy), 'record-verified-by')}
${rowHtml(x('確認記録を作成した者', 'Recorded by'), stored(lang, r.recordedBy), 'record-recorded-by')}
${row(x('確認記録の作成日時', 'Recorded at'), jstWords(r.recordedAt, lang), 'record-recorded-at', ` data-value="${escapeHtml(r.recordedAt)}"`)}
${row(x('電子証明書及び署名データの受領日時', 'Certificate and signed data received'), jstWords(r.receivedAt, lang), 'record-received-at', ` data-value="${escapeHtml(r.receivedAt)}"`)}
<dt>${x('本人確認の方法', 'Method')}</dt><dd data-testid="record-method" data-method="${r.methodId}">${x(METHOD.ja, METHOD.en)}</dd>
${row(x('Kakunin 確認記録ID', 'Kakunin verification record'), r.kakuninRecordId, 'record-kakunin-id')}
${row(x('電子証明書の発行者', 'Certificate issuer'), r.certificate.issuer, 'record-cert-issuer')}
${row(x('電子証明書の発行番号', 'Certificate serial number'), r.certificate.serial, 'record-cert-serial')}
${row(x('氏名', 'Name'), r.name, 'record-name')}${row(x('住居', 'Address'), r.address, 'record-address')}${row(x('生年月日', 'Date of birth'), dayWords(r.birthdate, lang), 'record-birthdate', ` data-value="${escapeHtml(r.birthdate)}"`)}
<dt>${x('取引を行う目的', 'Purpose')}</dt><dd data-testid="record-purposes">${r.purposes.map((p) => label(req, PURPOSES, p)).join('、')}</dd>
<dt>${x('職業', 'Occupation')}</dt><dd data-testid="record-occupation">${label(req, OCCUPATIONS, r.occupation)}</dd>
${row(x('口座番号 (取引記録との紐付け)', 'Account number (links the transaction records)'), r.accountNo, 'record-account')}
${row(x('保存期間', 'Kept'), pick(demo.lang(req))(keep.ja, keep.en), 'record-retention', keep.until ? ` data-until="${keep.until}"` : '')}
</dl>
<h3>${x('追記 (記録は書き換えず、変更は追記します)', 'Notes (the record is never rewritten; changes are appended)')}</h3>
<ol data-testid="record-notes">${r.notes.map((n) => note(lang, n)).join('') || `<li class="muted">${x('なし', 'none')}</li>`}</ol></section>`,
    );
  });

  // Closing: a confirmation page first (no script: the pages run under a CSP without inline script),
  // then the close. When it is the customer's last open account, the bank tells the platform the
  // relationship ended (its client credentials): monitoring stops and the platform's retention starts.
  app.get<OfAccount>('/accounts/:no/close', async (req, reply) => {
    const a = accountOf(req);
    if (!a) return notFound(req, reply);
    if (a.closedAt) return reply.redirect(`/accounts/${a.accountNo}`);
    const x = tx(req);
    const last = otherOpenAccounts(store.data, a).length === 0;
    return demo.render(
      req,
      reply,
      ['口座の解約', 'Close the account'],
      `
<section class="box" aria-labelledby="confirm-h" data-testid="close-confirmation" data-last-account="${last}"><h2 id="confirm-h">${x('本当に解約しますか', 'Do you really want to close it?')}</h2><dl>
${row(x('口座番号', 'Account number'), a.accountNo, 'confirm-account-number')}<dt>${x('種類', 'Type')}</dt><dd>${label(req, ACCOUNT_TYPES, a.type)}</dd></dl>
<ul><li>${x('解約すると、この口座は使えなくなります。元に戻せません。', 'The account can no longer be used. This cannot be undone.')}</li>
<li>${x(`確認記録は解約日の翌日から${RETENTION_YEARS}年間保存します (犯罪収益移転防止法第6条第2項)。`, `The verification record is kept for ${RETENTION_YEARS} years from the day after closing (Criminal Proceeds Act, art. 6(2)).`)}</li>
<li data-testid="confirm-platform">${
        last
          ? x(
              'お客さまの最後の口座のため、本人確認プラットフォーム (Kakunin) に取引の終了を伝えます。マイナンバーカードの電子証明書の失効監視は止まり、Kakunin の記録の保存期間が始まります。',
              'This is your last account: the bank tells the identity platform (Kakunin) that the relationship ended. Monitoring of your My Number Card certificate stops, and Kakunin’s retention of its records starts.',
            )
          : x(
              'ほかに口座をお持ちのため、本人確認プラットフォーム (Kakunin) との取引関係は続きます。',
              'You have other accounts: the relationship with the identity platform (Kakunin) goes on.',
            )
      }</li></ul>
<form method="post" action="/accounts/${a.accountNo}/close" data-testid="close-account-form">${demo.csrf(req)}<input type="hidden" name="confirm" value="yes">
<div class="actions"><button type="submit" data-testid="close-account-confirm">${x('解約する', 'Close the account')}</button>
<a class="button secondary" href="/accounts/${a.accountNo}" data-testid="close-account-cancel">${x('やめる', 'Cancel')}</a></div></form></section>`,
    );
  });
  app.post<OfAccount>('/accounts/:no/close', async (req, reply) => {
    const a = accountOf(req);
    if (!a) return notFound(req, reply);
    if (demo.form(req).get('confirm') !== 'yes') return reply.redirect(`/accounts/${a.accountNo}/close`);
    // Closed already (a second submit, the back button): nothing changes, here or at the platform.
    if (a.closedAt) {
      demo.flash(req, 'ok', 'この口座は解約済みです。', 'This account is already closed.');
      return reply.redirect(`/accounts/${a.accountNo}`);
    }
    let ended: RelationshipEnded | undefined;
    if (otherOpenAccounts(store.data, a).length === 0) {
      try {
        ended = await endRelationship(demo.o, a.sub);
      } catch (e) {
        console.error('[bank] ending the relationship at the platform failed:', (e as Error).message);
        return demo.problem(
          req,
          reply,
          502,
          ['解約を完了できませんでした', 'The account could not be closed'],
          [
            '本人確認プラットフォームに取引の終了を伝えられませんでした。口座はまだ解約されていません。しばらくしてから、もう一度お試しください。',
            'The identity platform could not be told that the relationship ended. The account is not closed yet; please try again later.',
          ],
        );
      }
    }
    store.update((s) =>
      closeAccount(s, s.accounts[a.accountNo]!, ended ? new Date(ended.ended_at) : new Date(), ended),
    );
    demo.flash(
      req,
      'ok',
      '口座を解約しました。確認記録は法定の期間保存します。',
      'The account is closed. The record is kept for the legal period.',
    );
    return reply.redirect(`/accounts/${a.accountNo}`);
  });
  app.post<OfAccount>('/accounts/:no/recheck', async (req, reply) => {
    const a = accountOf(req);
    if (!a) return notFound(req, reply);
    return demo.signIn(req, reply, 'recheck', a.accountNo);
  });

  return demo.listen();
}
