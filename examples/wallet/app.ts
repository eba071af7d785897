// はぴコイン ウォレット (demo): a regional digital currency wallet opened with a JPKI identity
// ceremony, with residency grants, payments between wallets, and freezing on certificate revocation.

import type { FastifyRequest } from 'fastify';
import {
  Demo,
  JsonStore,
  badge,
  dayWords,
  escapeHtml,
  grouped,
  jstWords,
  reasonHtml,
  row,
  rowHtml,
  t,
  type DemoOptions,
  type RunningDemo,
} from '../shared/index.js';
import { connectKakunin } from './kakunin.js';
import {
  CHILDCARE_AGES,
  CHILDCARE_BENEFIT,
  PaymentError,
  WELCOME_GRANT,
  emptyState,
  pay,
  walletOf,
  type Entry,
  type Wallet,
  type WalletState,
} from './wallet.js';

export async function startWallet(o: DemoOptions): Promise<RunningDemo> {
  const demo = new Demo(o, { name: 'wallet', ja: 'はぴコイン ウォレット', en: 'Hapi-coin Wallet' });
  const store = new JsonStore<WalletState>(o.dataDir, 'wallet', emptyState);
  connectKakunin(demo, store);
  const { app } = demo;
  const tx = (req: FastifyRequest) => t(demo.lang(req));
  const post = (req: FastifyRequest, action: string, testid: string, label: string, cls = '') =>
    `<form method="post" action="${action}" data-testid="${testid}-form">${demo.csrf(req)}<button type="submit"${cls ? ` class="${cls}"` : ''} data-testid="${testid}">${label}</button></form>`;

  const rules = (req: FastifyRequest): string => {
    const x = tx(req);
    return `<section class="box" aria-labelledby="rules-h"><h2 id="rules-h">${x('給付のルール', 'Grants')}</h2><ul>
<li>${x(`歓迎ボーナス ${grouped(WELCOME_GRANT)} コイン: 署名用電子証明書の住所が福井県 (都道府県コード 18) の方`, `Welcome grant, ${grouped(WELCOME_GRANT)} coins: your certified address is in Fukui (prefecture code 18)`)}</li>
<li>${x(`子育て応援給付 ${grouped(CHILDCARE_BENEFIT)} コイン: 福井県にお住まいで、本人確認の日に ${CHILDCARE_AGES.from}〜${CHILDCARE_AGES.to} 歳の方 (年齢計算ニ関スル法律による年齢)`, `Childcare benefit, ${grouped(CHILDCARE_BENEFIT)} coins: Fukui residents aged ${CHILDCARE_AGES.from}–${CHILDCARE_AGES.to} on the day of verification (Japanese legal age)`)}</li>
<li>${x('電子証明書が失効した (転居・氏名変更・紛失など) ときはウォレットを凍結します。本人確認をやり直すと解除されます。', 'When your certificate is revoked (move, new name, lost card) the wallet is frozen until you verify again.')}</li></ul></section>`;
  };

  app.get('/', async (req, reply) => {
    const s = demo.session(req);
    if (s.sub && walletOf(store.data, s.sub)) return reply.redirect('/wallet');
    const x = tx(req);
    return demo.render(
      req,
      reply,
      ['はぴコイン ウォレット', 'Hapi-coin Wallet'],
      `
<p>${x('福井県の地域通貨「はぴコイン」のウォレットです (デモ)。マイナンバーカードで本人確認をするとウォレットを作れます。', 'A wallet for Fukui’s regional currency (demo). Verify your identity with your My Number Card to open one.')}</p>
<div class="actions">${post(req, '/wallet/create', 'create-wallet', x('ウォレットを作る', 'Create wallet'))}${post(req, '/login', 'login', x('マイナンバーカードでログイン', 'Log in with My Number Card'), 'secondary')}</div>
${rules(req)}`,
    );
  });

  app.post('/wallet/create', (req, reply) => demo.signIn(req, reply, 'verify'));
  app.post('/wallet/reverify', (req, reply) => demo.signIn(req, reply, 'verify'));
  app.post('/login', (req, reply) => demo.signIn(req, reply, 'login'));

  app.get('/wallet', async (req, reply) => {
    const s = demo.session(req);
    if (!s.sub) return reply.redirect('/');
    const x = tx(req);
    const w = walletOf(store.data, s.sub);
    if (!w) {
      return demo.render(
        req,
        reply,
        ['マイウォレット', 'My wallet'],
        `<p data-testid="no-wallet">${x('このログインに結び付いたウォレットはありません。マイナンバーカードの署名用電子証明書で本人確認をすると、ウォレットを作成します (既にお持ちの方は、そのウォレットを表示します)。', 'No wallet is linked to this login. Verify your identity with the signing certificate of your My Number Card to create one (or to open the one you already have).')}</p>
<div class="actions">${post(req, '/wallet/create', 'create-wallet', x('ウォレットを作る', 'Create wallet'))}</div>${rules(req)}`,
      );
    }
    return demo.render(req, reply, ['マイウォレット', 'My wallet'], walletPage(req, w));
  });

  const walletPage = (req: FastifyRequest, w: Wallet): string => {
    const x = tx(req);
    const lang = demo.lang(req);
    const frozen = w.status === 'frozen';
    const resident = w.holder.prefectureCode === '18';
    const grantLabel = {
      welcome: x('歓迎ボーナス', 'Welcome grant'),
      childcare: x('子育て応援給付', 'Childcare benefit'),
    };
    const typeLabel: Record<Entry['type'], string> = {
      grant_welcome: x('歓迎ボーナス', 'Welcome grant'),
      grant_childcare: x('子育て応援給付', 'Childcare benefit'),
      payment_sent: x('送金', 'Payment sent'),
      payment_received: x('受取', 'Payment received'),
      withdrawal: x('給付コイン回収 (県外)', 'Benefit withdrawn (not a resident)'),
    };
    const entries = store.data.ledger.filter((e) => e.wallet === w.id).reverse();
    return `
${
  frozen
    ? `<section class="notice error" role="alert" data-testid="frozen-notice"><h2>${x('ウォレットは凍結中です', 'Your wallet is frozen')}</h2>
<p>${x('本人確認に使った署名用電子証明書が失効しました (転居・氏名変更・カードの紛失など)。送金はできません (受け取りはできます)。新しい電子証明書で本人確認をやり直してください。', 'The signing certificate you verified with was revoked (move, new name, lost card…). You cannot pay (you can still receive). Verify again with your new certificate.')}</p>
<dl>${rowHtml(x('失効の理由', 'Why it was revoked'), reasonHtml(w.frozen?.reason, lang), 'frozen-reason', ` data-reason="${escapeHtml(w.frozen?.reason ?? '')}"`)}
${w.frozen ? row(x('失効日時', 'Revoked at'), jstWords(w.frozen.at, lang), 'frozen-at', ` data-value="${escapeHtml(w.frozen.at)}"`) : ''}</dl>
${post(req, '/wallet/reverify', 'reverify', x('本人確認をやり直す', 'Verify again'))}</section>`
    : ''
}
<section class="box" aria-labelledby="balance-h"><h2 id="balance-h">${x('残高', 'Balance')}</h2>
<p class="amount"><span data-testid="balance" data-value="${w.benefit + w.general}">${grouped(w.benefit + w.general)}</span> ${x('コイン', 'coins')}</p>
<dl>${row(x('給付コイン', 'Benefit coins'), grouped(w.benefit), 'benefit-balance', ` data-value="${w.benefit}"`)}${row(x('一般コイン', 'Other coins'), grouped(w.general), 'general-balance', ` data-value="${w.general}"`)}</dl></section>
<section class="box" aria-labelledby="wallet-h"><h2 id="wallet-h">${x('ウォレット', 'Wallet')}</h2><dl>
${row(x('ウォレットID', 'Wallet ID'), w.id, 'wallet-id')}
<dt>${x('状態', 'Status')}</dt><dd>${frozen ? badge('wallet-status', 'frozen', x('凍結中', 'Frozen'), 'bad') : badge('wallet-status', 'active', x('利用可能', 'Active'), 'ok')}</dd>
<dt>${x('居住', 'Residency')}</dt><dd>${resident ? badge('residency', 'resident', x('福井県民 (18)', 'Fukui resident (18)'), 'ok') : badge('residency', 'non-resident', x('県外', 'Not a Fukui resident'), 'neutral')}</dd>
<dt>${x('受けた給付', 'Grants received')}</dt><dd data-testid="grants">${w.grants.map((g) => `<span data-testid="grant-${g}">${grantLabel[g]}</span>`).join('、') || x('なし', 'none')}</dd>
${row(x('氏名', 'Name'), w.holder.name, 'holder-name')}${row(x('住所', 'Address'), w.holder.address, 'holder-address')}${row(x('生年月日', 'Date of birth'), dayWords(w.holder.birthdate, lang), 'holder-birthdate', ` data-value="${escapeHtml(w.holder.birthdate)}"`)}
${row(x('本人確認日時', 'Verified at'), jstWords(w.holder.verifiedAt, lang), 'verified-at', ` data-value="${escapeHtml(w.holder.verifiedAt)}"`)}${row(x('確認記録ID', 'Verification record'), w.holder.recordId, 'record-id')}
</dl></section>
<section class="box" aria-labelledby="pay-h"><h2 id="pay-h">${x('送金する', 'Pay')}</h2>
<form method="post" action="/wallet/pay" data-testid="pay-form">${demo.csrf(req)}
<label for="pay-to">${x('送金先ウォレットID', 'Recipient wallet ID')}</label><input id="pay-to" name="to" required autocomplete="off" placeholder="HC-XXXX-XXXX" data-testid="pay-to"${frozen ? ' disabled' : ''}>
<label for="pay-amount">${x('金額 (コイン)', 'Amount (coins)')}</label><input id="pay-amount" name="amount" type="number" min="1" step="1" required inputmode="numeric" data-testid="pay-amount"${frozen ? ' disabled' : ''}>
<div class="actions"><button type="submit" data-testid="pay-submit"${frozen ? ' disabled aria-describedby="pay-disabled-reason"' : ''}>${x('送金する', 'Send')}</button></div>
${frozen ? `<p class="disabled-reason" id="pay-disabled-reason" data-testid="pay-disabled-reason">${x('ウォレットが凍結中のため送金できません。上の「本人確認をやり直す」で解除できます (受け取りはできます)。', 'You cannot pay while the wallet is frozen. “Verify again” above unfreezes it (you can still receive).')}</p>` : ''}</form></section>
<section aria-labelledby="history-h"><h2 id="history-h">${x('取引履歴', 'History')}</h2>
<table data-testid="history"><thead><tr><th scope="col">${x('日時', 'Time')}</th><th scope="col">${x('内容', 'What')}</th><th scope="col">${x('相手', 'Counterparty')}</th><th scope="col">${x('金額', 'Amount')}</th></tr></thead><tbody>
${entries.map((e) => `<tr data-testid="history-row" data-type="${e.type}"><td><time datetime="${escapeHtml(e.at)}">${escapeHtml(jstWords(e.at, lang))}</time></td><td>${typeLabel[e.type]}</td><td>${escapeHtml(e.counterparty ?? '')}</td><td data-value="${e.amount}">${e.amount > 0 ? '+' : ''}${grouped(e.amount)}</td></tr>`).join('\n')}
</tbody></table></section>`;
  };

  app.post('/wallet/pay', async (req, reply) => {
    const s = demo.session(req);
    const w = s.sub ? walletOf(store.data, s.sub) : undefined;
    if (!w) return reply.redirect('/');
    const f = demo.form(req);
    try {
      const r = store.update((state) => pay(state, w.id, f.get('to') ?? '', f.get('amount') ?? ''));
      demo.flash(
        req,
        'ok',
        `${r.to.id} に ${grouped(r.amount)} コインを送金しました。`,
        `Sent ${grouped(r.amount)} coins to ${r.to.id}.`,
      );
    } catch (e) {
      if (!(e instanceof PaymentError)) throw e;
      demo.flash(req, 'error', e.ja, e.message);
    }
    return reply.redirect('/wallet');
  });

  return demo.listen();
}
