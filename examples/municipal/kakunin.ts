// Everything the portal does with Kakunin: a plain login to enter the portal, identity ceremonies to
// sign an e-application and to issue the digital ID card (and offer the platform's digital ID
// credential to the holder's wallet), and the revocation webhook.

import { need, type Demo, type DemoRegistration, type JsonStore } from '../shared/index.js';
import { createWalletOffer, type WalletOffer } from './credential-offer.js';
import { issueCard, receiveApplication, revokeCard, type ChildcareForm, type PortalState } from './municipal.js';

export const MUNICIPAL_RP: DemoRegistration = {
  clientId: 'demo-municipal',
  name: 'ふくいスマート窓口 (デモ)',
  framework: 'jp_municipal',
  purpose: '電子申請への電子署名と、デジタル住民証の発行のための本人確認',
  purposeEn: 'Signing e-applications and issuing the digital resident ID',
  ceremonies: ['login', 'identity'],
};

export const MUNICIPAL_CLAIMS = {
  userinfo: {
    verified_claims: {
      verification: { trust_framework: null, time: null, verification_process: null, evidence: null },
      claims: { name: null, birthdate: null, address: null },
    },
  },
};

/** `offers`: the credential offer of each browser session's last identity verification (in memory). */
export function connectKakunin(demo: Demo, store: JsonStore<PortalState>, offers: Map<string, WalletOffer>): void {
  demo.onLogin('login', ({ req, reply }) => {
    demo.flash(req, 'ok', 'ログインしました。', 'Signed in.');
    return reply.redirect('/');
  });
  demo.onIdentity(
    'apply',
    { claims: MUNICIPAL_CLAIMS, framework: MUNICIPAL_RP.framework },
    ({ req, reply, sub, verified, data }) => {
      const { form, loginSub } = data as { form: ChildcareForm; loginSub: string | null };
      const a = store.update((s) =>
        receiveApplication(s, { form, signerSub: sub, loginSub, v: need(verified, 'name', 'birthdate', 'address') }),
      );
      demo.flash(req, 'ok', `申請を受け付けました (受付番号 ${a.no})。`, `Application received (number ${a.no}).`);
      return reply.redirect(`/applications/${a.no}`);
    },
  );
  demo.onIdentity(
    'id-card',
    { claims: MUNICIPAL_CLAIMS, framework: MUNICIPAL_RP.framework },
    async ({ req, reply, session, sub, verified }) => {
      const { issued } = store.update((s) => issueCard(s, sub, need(verified, 'name', 'birthdate', 'address')));
      // The platform's credential of this very verification, for the holder's wallet.
      try {
        offers.set(session.id, await createWalletOffer(demo.o, verified.recordId));
      } catch (e) {
        console.error('[municipal] credential offer refused:', (e as Error).message);
        demo.flash(
          req,
          'error',
          'ウォレットに追加するためのQRコードを作れませんでした。しばらくしてからもう一度お試しください。',
          'Could not make the QR code to add it to your wallet. Please try again later.',
        );
        return reply.redirect('/id-card');
      }
      demo.flash(
        req,
        'ok',
        issued ? 'デジタル住民証を発行しました。' : '発行済みのデジタル住民証です。',
        issued ? 'Your digital ID card is issued.' : 'Your digital ID card was already issued.',
      );
      return reply.redirect('/id-card');
    },
  );
  demo.onWebhook((event) => {
    if (event.type === 'certificate.revoked') store.update((s) => revokeCard(s, event));
  });
}
