// Everything the bank does with Kakunin: an identity ceremony that signs the application (and a
// later re-check), a plain login, and the revocation webhook. Standard OIDC and a signed webhook.

import { need, type Demo, type DemoRegistration, type JsonStore } from '../shared/index.js';
import { noteReverification, noteRevocation, openAccount, type Application, type BankState } from './bank.js';

export const BANK_RP: DemoRegistration = {
  clientId: 'demo-bank',
  name: 'デモ銀行 (デモ)',
  framework: 'jp_aml',
  purpose: '預金口座・証券口座の開設に係る取引時確認 (犯罪収益移転防止法)',
  purposeEn:
    'Customer due diligence for opening a deposit or securities account (Act on Prevention of Transfer of Criminal Proceeds)',
  ceremonies: ['login', 'identity'],
};

/** 本人特定事項 (name, address, date of birth) and how they were verified; no gender: not needed. */
export const BANK_CLAIMS = {
  userinfo: {
    verified_claims: {
      verification: { trust_framework: null, time: null, verification_process: null, evidence: null },
      claims: { name: null, birthdate: null, address: null },
    },
  },
};

export function connectKakunin(demo: Demo, store: JsonStore<BankState>): void {
  demo.onIdentity(
    'open',
    { claims: BANK_CLAIMS, framework: BANK_RP.framework },
    ({ req, reply, sub, verified, data }) => {
      const v = need(verified, 'name', 'birthdate', 'address');
      const account = store.update((s) => openAccount(s, sub, data as Application, v, demo.o.platformUrl));
      demo.flash(
        req,
        'ok',
        '口座を開設しました。確認記録を作成しました。',
        'Your account is open. The verification record was made.',
      );
      return reply.redirect(`/accounts/${account.accountNo}`);
    },
  );
  demo.onIdentity(
    'recheck',
    { claims: BANK_CLAIMS, framework: BANK_RP.framework },
    ({ req, reply, sub, verified, data }) => {
      const account = store.data.accounts[String(data)];
      if (!account || account.sub !== sub)
        return demo.problem(
          req,
          reply,
          403,
          ['口座の名義人ではありません', 'Not the account holder'],
          ['この口座を開設した方のカードで確認してください。', 'Verify with the card of the account holder.'],
        );
      store.update((s) => noteReverification(s, account, need(verified, 'name', 'birthdate', 'address')));
      demo.flash(
        req,
        'ok',
        '本人確認を更新し、確認記録に追記しました。',
        'Identity re-checked and appended to the record.',
      );
      return reply.redirect(`/accounts/${account.accountNo}`);
    },
  );
  demo.onLogin('login', ({ reply }) => reply.redirect('/accounts'));
  demo.onWebhook((event) => {
    if (event.type === 'certificate.revoked') store.update((s) => noteRevocation(s, event));
  });
}
