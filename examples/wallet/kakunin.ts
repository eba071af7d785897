// Everything the wallet does with Kakunin: one identity ceremony (create or re-verify), one plain
// login, one webhook. Standard OIDC (../shared/oidc.ts, openid-client) and a signed webhook.

import { need, type Demo, type DemoRegistration, type JsonStore } from '../shared/index.js';
import { freezeOnRevocation, verifyHolder, walletOf, type WalletState } from './wallet.js';

export const WALLET_RP: DemoRegistration = {
  clientId: 'demo-wallet',
  name: 'はぴコイン ウォレット (デモ)',
  framework: 'jp_municipal',
  purpose: 'はぴコイン ウォレットの開設と、県民向け給付 (住所・年齢) の資格確認',
  purposeEn: 'Opening a Hapi-coin wallet and checking eligibility for resident benefits (address, age)',
  ceremonies: ['login', 'identity'],
};

/** OIDC4IDA claims request: exactly what the rules need (residency, age; the name on the wallet), and how it was verified. No sex: no rule needs it. */
export const WALLET_CLAIMS = {
  userinfo: {
    verified_claims: {
      verification: { trust_framework: null, time: null, verification_process: null, evidence: null },
      claims: { name: null, birthdate: null, address: null },
    },
  },
};

export function connectKakunin(demo: Demo, store: JsonStore<WalletState>): void {
  // Identity (signing certificate): create the wallet, or renew its holder's details.
  demo.onIdentity(
    'verify',
    { claims: WALLET_CLAIMS, framework: WALLET_RP.framework },
    ({ req, reply, sub, verified }) => {
      const outcome = store.update((s) => verifyHolder(s, sub, need(verified, 'name', 'birthdate', 'address')));
      demo.flash(req, 'ok', ...outcomeMessage(outcome));
      return reply.redirect('/wallet');
    },
  );
  // Login (authentication certificate, no personal data): the same pairwise sub → the same wallet.
  demo.onLogin('login', ({ req, reply, sub }) => {
    if (walletOf(store.data, sub)) demo.flash(req, 'ok', 'ログインしました。', 'Signed in.');
    return reply.redirect('/wallet');
  });
  // The signing certificate was revoked (move, name change, lost card): freeze until re-verified.
  demo.onWebhook((event) => {
    if (event.type === 'certificate.revoked') store.update((s) => freezeOnRevocation(s, event));
  });
}

function outcomeMessage(o: ReturnType<typeof verifyHolder>): [string, string] {
  const grants = o.granted.map((g) =>
    g === 'welcome' ? ['歓迎ボーナス', 'welcome grant'] : ['子育て応援給付', 'childcare benefit'],
  );
  const ja = grants.length ? ` ${grants.map((g) => g[0]).join('・')}を付与しました。` : '';
  const en = grants.length ? ` Granted: ${grants.map((g) => g[1]).join(', ')}.` : '';
  if (o.kind === 'created') return [`ウォレットを作成しました。${ja}`, `Your wallet is ready.${en}`];
  if (o.withdrawn > 0)
    return [
      `本人確認を更新しました。住所が福井県外のため、給付コイン ${o.withdrawn} コインは回収されました。${ja}`,
      `Identity renewed. Your address is outside Fukui: ${o.withdrawn} benefit coins were withdrawn.${en}`,
    ];
  return [
    `本人確認を更新しました。${o.unfrozen ? 'ウォレットの凍結を解除しました。' : ''}${ja}`,
    `Identity renewed.${o.unfrozen ? ' Your wallet is unfrozen.' : ''}${en}`,
  ];
}
