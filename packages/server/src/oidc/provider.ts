// The OpenID Provider (panva's oidc-provider): authorization code flow with PKCE required, pairwise
// subjects, the claims parameter, and OIDC4IDA verified_claims from identity ceremonies. Every
// authorization needs a fresh JPKI ceremony (a session alone never skips it).

import Provider, { interactionPolicy, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import { ceremonyOfGrant } from '../ceremony-store.js';
import type { Database } from '../db/sql.js';
import { findRelyingParty } from '../relying-parties.js';
import { pairwiseSubject, type PlatformSecrets } from '../secrets.js';
import { adapterFactory } from './adapter.js';
import { ACR, DEFAULT_TRUST_FRAMEWORK, TRUST_FRAMEWORKS } from '../ceremony-domain.js';
import {
  EVIDENCE_TYPES,
  RECORD_CLAIM,
  VERIFIED_CLAIM_NAMES,
  buildVerifiedClaims,
  releaseVerifiedClaims,
} from './claims.js';
import { errorPage } from '@kakunin/web';
import { CREDENTIAL_SCOPE } from '../credentials/domain.js';

export function createProvider(o: {
  issuer: string;
  db: Database;
  secrets: PlatformSecrets;
  clientSecret: (clientId: string) => string;
  frameworks?: readonly string[];
}): Provider {
  const { db } = o;
  const policy = interactionPolicy.base();
  policy
    .get('login')!
    .checks.add(
      new interactionPolicy.Check(
        'jpki_ceremony_required',
        'a JPKI ceremony is required for every authorization',
        (ctx: KoaContextWithOIDC) =>
          ctx.oidc.result?.login ? interactionPolicy.Check.NO_NEED_TO_PROMPT : interactionPolicy.Check.REQUEST_PROMPT,
      ),
    );

  const configuration: Configuration = {
    adapter: adapterFactory(db, o.clientSecret),
    clients: [],
    scopes: ['openid', 'identity', CREDENTIAL_SCOPE],
    claims: {
      acr: null,
      amr: null,
      auth_time: null,
      sid: null,
      openid: ['sub', RECORD_CLAIM],
      identity: ['verified_claims'],
    },
    acrValues: [ACR.login, ACR.identity],
    subjectTypes: ['pairwise'],
    pairwiseIdentifier: async (_ctx, accountId, client) =>
      pairwiseSubject(o.secrets.pairwiseSalt, client.clientId, accountId),
    pkce: { required: () => true },
    responseTypes: ['code'],
    // The RP's own content for the signed statement of an identity ceremony (see ceremonies.ts).
    extraParams: ['statement_detail'],
    features: {
      claimsParameter: { enabled: true },
      devInteractions: { enabled: false },
      userinfo: { enabled: true },
      revocation: { enabled: true },
      rpInitiatedLogout: { enabled: false },
    },
    interactions: { policy, url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    cookies: { keys: o.secrets.cookieKeys, long: { signed: true }, short: { signed: true } },
    // Newest first: oidc-provider signs with the first key of the alg and publishes them all.
    jwks: { keys: o.secrets.signingJwks as never[] },
    ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 1800, Session: 1800, Grant: 1800 },
    discovery: {
      verified_claims_supported: true,
      trust_frameworks_supported: [...new Set([...TRUST_FRAMEWORKS, ...(o.frameworks ?? [])])],
      evidence_supported: [...EVIDENCE_TYPES],
      electronic_signatures_supported: ['jp_jpki'],
      claims_in_verified_claims_supported: [...VERIFIED_CLAIM_NAMES],
      ui_locales_supported: ['ja', 'en'],
      service_documentation: 'https://github.com/kakunin/kakunin/blob/main/docs/relying-parties.md',
    },
    findAccount: async (ctx, sub, token) => ({
      accountId: sub,
      claims: async (_use, _scope, requested) => {
        const grantId =
          (token as { grantId?: string } | undefined)?.grantId ??
          ctx.oidc.entities.AuthorizationCode?.grantId ??
          ctx.oidc.entities.AccessToken?.grantId;
        const ceremony = await ceremonyOfGrant(db, grantId);
        if (!ceremony || ceremony.subjectId !== sub || !ceremony.recordId) return { sub };
        const base = { sub, ...(ceremony.shares.includes(RECORD_CLAIM) ? { [RECORD_CLAIM]: ceremony.recordId } : {}) };
        if (ceremony.kind !== 'identity' || !ceremony.result) return base;
        const rp = await findRelyingParty(db, ceremony.rpClientId);
        const vc = buildVerifiedClaims({
          framework: rp?.framework ?? DEFAULT_TRUST_FRAMEWORK,
          recordId: ceremony.recordId,
          result: ceremony.result,
        });
        if (!vc) return base;
        // What this use asks for, and never more than the ceremony listed and the holder signed.
        const wanted = (requested as Record<string, unknown> | undefined)?.verified_claims;
        const released = releaseVerifiedClaims(vc, wanted, ceremony.shares);
        return released ? { ...base, verified_claims: released } : base;
      },
    }),
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      ctx.body = errorPage('ja', {
        code: String(out.error ?? 'error'),
        message: String(out.error_description ?? out.error ?? 'error'),
      });
    },
    // Never reuse an earlier grant: every authorization gets the consent of its own ceremony, so a
    // token can only carry the claims that ceremony verified.
    loadExistingGrant: async (ctx) => {
      const grantId = ctx.oidc.result?.consent?.grantId;
      return grantId ? ctx.oidc.provider.Grant.find(grantId) : undefined;
    },
  };
  const provider = new Provider(o.issuer, configuration);
  provider.proxy = true;
  return provider;
}
