// Everything the MVNO does with Kakunin: an identity ceremony for the contract, a plain login, and
// the revocation webhook. Standard OIDC and a signed webhook.

import { need, type Demo, type DemoRegistration, type JsonStore } from '../shared/index.js';
import { ContractRefused, makeContract, noteRevocation, type MvnoState } from './mvno.js';

export const MVNO_RP: DemoRegistration = {
  clientId: 'demo-mvno',
  name: 'デモモバイル (デモ)',
  framework: 'jp_mpiupa',
  purpose: '音声通話SIMの契約に係る本人確認 (携帯電話不正利用防止法)',
  purposeEn: 'Identity verification for a voice SIM contract (Mobile Phone Improper Use Prevention Act)',
  ceremonies: ['login', 'identity'],
};

/** 本人特定事項: name, address, date of birth (携帯法3条1項), and how they were verified. */
export const MVNO_CLAIMS = {
  userinfo: {
    verified_claims: {
      verification: { trust_framework: null, time: null, verification_process: null, evidence: null },
      claims: { name: null, birthdate: null, address: null },
    },
  },
};

export function connectKakunin(demo: Demo, store: JsonStore<MvnoState>): void {
  demo.onIdentity(
    'contract',
    { claims: MVNO_CLAIMS, framework: MVNO_RP.framework },
    ({ req, reply, sub, verified, data }) => {
      try {
        const c = store.update((s) =>
          makeContract(s, sub, String(data), need(verified, 'name', 'birthdate', 'address'), demo.o.platformUrl),
        );
        demo.flash(req, 'ok', 'ご契約が完了しました。', 'Your contract is complete.');
        return reply.redirect(`/contracts/${c.contractNo}`);
      } catch (e) {
        if (!(e instanceof ContractRefused)) throw e;
        return demo.problem(
          req,
          reply,
          403,
          ['お申し込みを受け付けられません', 'Application refused'],
          [e.ja, e.message],
        );
      }
    },
  );
  demo.onLogin('login', ({ reply }) => reply.redirect('/contracts'));
  demo.onWebhook((event) => {
    if (event.type === 'certificate.revoked') store.update((s) => noteRevocation(s, event));
  });
}
