// デモモバイル (demo): a voice SIM contract under 携帯電話不正利用防止法, with the 本人確認記録.

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
  grouped,
  lastRetainedDay,
  relationshipEndWords,
  row,
  t,
  type DemoOptions,
  type RelationshipEnded,
  type RunningDemo,
} from '../shared/index.js';
import { connectKakunin } from './kakunin.js';
import {
  METHOD,
  MVNO,
  PLANS,
  RETENTION_YEARS,
  emptyMvno,
  endContract,
  otherActiveContracts,
  retention,
  type Contract,
  type MvnoState,
} from './mvno.js';
import { MVNO_PHRASES } from './mvno.js';
import { dayWords, jstWords, rowHtml, storedHtml, type Lang } from '../shared/index.js';

export async function startMvno(o: DemoOptions): Promise<RunningDemo> {
  const demo = new Demo(o, { name: 'mvno', ...MVNO });
  const store = new JsonStore<MvnoState>(o.dataDir, 'mvno', emptyMvno);
  connectKakunin(demo, store);
  const { app } = demo;
  const tx = (req: FastifyRequest) => t(demo.lang(req));
  const planName = (req: FastifyRequest, k: string) => tx(req)(PLANS[k]?.ja ?? k, PLANS[k]?.en ?? k);

  app.get('/', async (req, reply) => {
    const x = tx(req);
    return demo.render(
      req,
      reply,
      ['音声SIMのお申し込み', 'Get a voice SIM'],
      `
<p>${x('プランを選び、マイナンバーカードで本人確認をすると、その場で契約できます (デモ)。', 'Choose a plan and verify your identity with your My Number Card to sign up at once (demo).')}</p>
<form method="post" action="/apply" data-testid="plan-form">${demo.csrf(req)}
<fieldset><legend>${x('料金プラン (月額・税込)', 'Plan (monthly, tax included)')}</legend>
${Object.entries(PLANS)
  .map(
    ([k, p], i) =>
      `<label><input type="radio" name="plan" value="${k}" data-testid="plan-${k}"${i === 1 ? ' checked' : ''}> ${x(p.ja, p.en)} — ${grouped(p.price)} ${x('円', 'yen')}</label>`,
  )
  .join('\n')}</fieldset>
<p class="muted">${x('携帯電話不正利用防止法により、ご契約時に本人確認を行い、本人確認記録を契約終了後3年間保存します。', 'The Mobile Phone Improper Use Prevention Act requires identity verification at signup; the record is kept for 3 years after the contract ends.')}</p>
<div class="actions"><button type="submit" data-testid="plan-submit">${x('マイナンバーカードで本人確認して契約する', 'Verify with My Number Card and sign up')}</button></div></form>
<form method="post" action="/login" data-testid="login-form">${demo.csrf(req)}<button type="submit" class="secondary" data-testid="login">${x('ご契約者のログイン', 'Customer login')}</button></form>`,
    );
  });
  app.post('/login', (req, reply) => demo.signIn(req, reply, 'login'));
  app.post('/apply', async (req, reply) => {
    const plan = demo.form(req).get('plan') ?? '';
    if (!PLANS[plan])
      return demo.problem(
        req,
        reply,
        400,
        ['プランを選んでください', 'Choose a plan'],
        ['料金プランを 1 つ選んでください。', 'Choose one plan.'],
      );
    return demo.signIn(req, reply, 'contract', plan);
  });

  app.get('/contracts', async (req, reply) => {
    const sub = demo.session(req).sub;
    if (!sub) return reply.redirect('/');
    const x = tx(req);
    const mine = Object.values(store.data.contracts).filter((c) => c.sub === sub);
    return demo.render(
      req,
      reply,
      ['ご契約', 'Your contracts'],
      mine.length
        ? `<ul data-testid="contracts">${mine.map((c) => `<li><a href="/contracts/${c.contractNo}" data-testid="contract-link">${escapeHtml(c.phone)}</a> ${planName(req, c.plan)}</li>`).join('')}</ul>`
        : `<p data-testid="no-contracts">${x('このログインに結び付いたご契約はありません。', 'No contract is linked to this login.')}</p>`,
    );
  });

  // The routes of one contract: /contracts/:no…
  type OfContract = { Params: { no: string } };
  const contractOf = (req: FastifyRequest<OfContract>): Contract | undefined => {
    const c = store.data.contracts[req.params.no];
    return c && c.sub === demo.session(req).sub ? c : undefined;
  };
  const notFound = (req: FastifyRequest, reply: FastifyReply) =>
    demo.problem(
      req,
      reply,
      404,
      ['ご契約が見つかりません', 'Contract not found'],
      ['ログインしている方のご契約ではないか、存在しません。', 'It does not exist or is not yours.'],
    );

  /** What the platform answered when the contract ended: the end of the relationship and its retention. */
  const platformBox = (req: FastifyRequest, c: Contract): string => {
    const x = tx(req);
    const e = c.platformEnd;
    if (!e)
      return `<p data-testid="platform-relationship" data-status="continues">${x('ほかのご契約が続いているため、本人確認プラットフォーム (Kakunin) との取引関係は続いています。', 'Other contracts are active: the relationship with the identity platform (Kakunin) goes on.')}</p>`;
    const words = relationshipEndWords(e, demo.lang(req));
    return `<h3>${x('本人確認プラットフォーム (Kakunin)', 'Identity platform (Kakunin)')}</h3><dl data-testid="platform-relationship" data-status="ended">
${row(x('取引関係の終了', 'Relationship ended'), words.ended, 'platform-ended-at', ` data-value="${escapeHtml(e.ended_at)}"`)}
${row(x('電子証明書の失効監視', 'Certificate monitoring'), x('停止しました', 'stopped'), 'platform-monitoring')}
${row(x('Kakunin の記録の保存期限', 'Kakunin keeps its records'), words.kept, 'platform-retained-until', ` data-value="${escapeHtml(e.retained_until)}" data-last-day="${lastRetainedDay(e)}"`)}</dl>`;
  };

  /** A stored Japanese value in the page's language. */
  const stored = (lang: Lang, ja: string): string => storedHtml(lang, ja, MVNO_PHRASES.en(ja));
  const note = (lang: Lang, n: RecordNote): string => recordNoteHtml(lang, n, MVNO_PHRASES);

  app.get<OfContract>('/contracts/:no', async (req, reply) => {
    const c = contractOf(req);
    if (!c) return notFound(req, reply);
    const x = tx(req);
    const lang = demo.lang(req);
    const r = store.data.records[c.recordId]!;
    const keep = retention(c);
    return demo.render(
      req,
      reply,
      ['ご契約内容と本人確認記録', 'Contract and identity record'],
      `
<section class="box" aria-labelledby="c-h"><h2 id="c-h">${x('ご契約内容', 'Contract')}</h2><dl>
${row(x('契約番号', 'Contract number'), c.contractNo, 'contract-number')}${row(x('電話番号', 'Phone number'), c.phone, 'phone-number')}
<dt>${x('プラン', 'Plan')}</dt><dd data-testid="contract-plan" data-plan="${c.plan}">${planName(req, c.plan)}</dd>
${row(x('契約日時', 'Since'), jstWords(c.startedAt, lang), 'contract-started-at', ` data-value="${escapeHtml(c.startedAt)}"`)}
<dt>${x('状態', 'Status')}</dt><dd>${c.endedAt ? badge('contract-status', 'ended', x('解約済み', 'Ended'), 'neutral') : badge('contract-status', 'active', x('ご契約中', 'Active'), 'ok')}</dd></dl>
${c.endedAt ? platformBox(req, c) : `<div class="actions"><a class="button secondary" href="/contracts/${c.contractNo}/cancel" data-testid="cancel-contract">${x('解約する', 'Cancel the contract')}</a></div>`}</section>
<section class="box" aria-labelledby="r-h" data-testid="record"><h2 id="r-h">${x('本人確認記録 (携帯電話不正利用防止法 第4条)', 'Identity record (Mobile Phone Improper Use Prevention Act, art. 4)')}</h2><dl>
${row(x('記録番号', 'Record number'), r.id, 'record-id')}
${rowHtml(x('本人確認を行った者', 'Verified by'), stored(lang, r.confirmedBy), 'record-confirmed-by')}
${rowHtml(x('電子署名の検証', 'Signature verified by'), stored(lang, r.verifiedBy), 'record-verified-by')}
${rowHtml(x('記録を作成した者', 'Recorded by'), stored(lang, r.recordedBy), 'record-recorded-by')}
${row(x('記録の作成日時', 'Recorded at'), jstWords(r.recordedAt, lang), 'record-recorded-at', ` data-value="${escapeHtml(r.recordedAt)}"`)}
${row(x('本人確認の日時', 'Verified at'), jstWords(r.confirmedAt, lang), 'record-confirmed-at', ` data-value="${escapeHtml(r.confirmedAt)}"`)}
<dt>${x('本人確認の方法', 'Method')}</dt><dd data-testid="record-method" data-method="${r.methodId}">${x(METHOD.ja, METHOD.en)}</dd>
${row(x('Kakunin 確認記録ID', 'Kakunin verification record'), r.kakuninRecordId, 'record-kakunin-id')}
${rowHtml(x('電子証明書の種類', 'Certificate'), stored(lang, r.certificateType), 'record-cert-type')}
${row(x('電子証明書の発行者', 'Certificate issuer'), r.certificate.issuer, 'record-cert-issuer')}
${row(x('電子証明書の発行番号', 'Certificate serial number'), r.certificate.serial, 'record-cert-serial')}
${row(x('氏名', 'Name'), r.name, 'record-name')}${row(x('住居', 'Address'), r.address, 'record-address')}${row(x('生年月日', 'Date of birth'), dayWords(r.birthdate, lang), 'record-birthdate', ` data-value="${escapeHtml(r.birthdate)}"`)}
${row(x('契約番号・電話番号', 'Contract and phone number'), `${r.contractNo} / ${r.phone}`, 'record-contract')}
${row(x('保存期間', 'Kept'), pick(demo.lang(req))(keep.ja, keep.en), 'record-retention', keep.until ? ` data-until="${keep.until}"` : '')}</dl>
<h3>${x('追記', 'Notes')}</h3><ol data-testid="record-notes">${r.notes.map((n) => note(lang, n)).join('') || `<li class="muted">${x('なし', 'none')}</li>`}</ol></section>`,
    );
  });

  // Ending the contract: a confirmation page first (no script: the pages run under a CSP without
  // inline script), then the end. When it is the customer's last active contract, the MVNO tells the
  // platform the relationship ended (its client credentials): monitoring stops, retention starts.
  app.get<OfContract>('/contracts/:no/cancel', async (req, reply) => {
    const c = contractOf(req);
    if (!c) return notFound(req, reply);
    if (c.endedAt) return reply.redirect(`/contracts/${c.contractNo}`);
    const x = tx(req);
    const last = otherActiveContracts(store.data, c).length === 0;
    return demo.render(
      req,
      reply,
      ['ご契約の解約', 'Cancel the contract'],
      `
<section class="box" aria-labelledby="confirm-h" data-testid="cancel-confirmation" data-last-contract="${last}"><h2 id="confirm-h">${x('本当に解約しますか', 'Do you really want to cancel?')}</h2><dl>
${row(x('電話番号', 'Phone number'), c.phone, 'confirm-phone-number')}<dt>${x('プラン', 'Plan')}</dt><dd>${planName(req, c.plan)}</dd></dl>
<ul><li>${x('解約すると、この電話番号は使えなくなります。元に戻せません。', 'The phone number stops working. This cannot be undone.')}</li>
<li>${x(`本人確認記録は契約終了日の翌日から${RETENTION_YEARS}年間保存します (携帯電話不正利用防止法第4条第2項)。`, `The identity record is kept for ${RETENTION_YEARS} years from the day after the end (Mobile Phone Improper Use Prevention Act, art. 4(2)).`)}</li>
<li data-testid="confirm-platform">${
        last
          ? x(
              'お客さまの最後のご契約のため、本人確認プラットフォーム (Kakunin) に契約の終了を伝えます。マイナンバーカードの電子証明書の失効監視は止まり、Kakunin の記録の保存期間が始まります。',
              'This is your last contract: we tell the identity platform (Kakunin) that the relationship ended. Monitoring of your My Number Card certificate stops, and Kakunin’s retention of its records starts.',
            )
          : x(
              'ほかにご契約があるため、本人確認プラットフォーム (Kakunin) との取引関係は続きます。',
              'You have other contracts: the relationship with the identity platform (Kakunin) goes on.',
            )
      }</li></ul>
<form method="post" action="/contracts/${c.contractNo}/cancel" data-testid="cancel-contract-form">${demo.csrf(req)}<input type="hidden" name="confirm" value="yes">
<div class="actions"><button type="submit" data-testid="cancel-contract-confirm">${x('解約する', 'Cancel the contract')}</button>
<a class="button secondary" href="/contracts/${c.contractNo}" data-testid="cancel-contract-back">${x('やめる', 'Keep the contract')}</a></div></form></section>`,
    );
  });
  app.post<OfContract>('/contracts/:no/cancel', async (req, reply) => {
    const c = contractOf(req);
    if (!c) return notFound(req, reply);
    if (demo.form(req).get('confirm') !== 'yes') return reply.redirect(`/contracts/${c.contractNo}/cancel`);
    // Ended already (a second submit, the back button): nothing changes, here or at the platform.
    if (c.endedAt) {
      demo.flash(req, 'ok', 'このご契約は解約済みです。', 'This contract has already ended.');
      return reply.redirect(`/contracts/${c.contractNo}`);
    }
    let ended: RelationshipEnded | undefined;
    if (otherActiveContracts(store.data, c).length === 0) {
      try {
        ended = await endRelationship(demo.o, c.sub);
      } catch (e) {
        console.error('[mvno] ending the relationship at the platform failed:', (e as Error).message);
        return demo.problem(
          req,
          reply,
          502,
          ['解約を完了できませんでした', 'The contract could not be cancelled'],
          [
            '本人確認プラットフォームに契約の終了を伝えられませんでした。ご契約はまだ続いています。しばらくしてから、もう一度お試しください。',
            'The identity platform could not be told that the contract ended. The contract is still active; please try again later.',
          ],
        );
      }
    }
    store.update((s) =>
      endContract(s, s.contracts[c.contractNo]!, ended ? new Date(ended.ended_at) : new Date(), ended),
    );
    demo.flash(
      req,
      'ok',
      '解約しました。本人確認記録は法定の期間保存します。',
      'The contract has ended. The record is kept for the legal period.',
    );
    return reply.redirect(`/contracts/${c.contractNo}`);
  });

  return demo.listen();
}
