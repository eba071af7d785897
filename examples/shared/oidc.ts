// The whole OpenID Connect side of a demo relying party, with openid-client and nothing
// Kakunin-specific: discovery, PKCE (S256), the claims parameter, the code grant, userinfo.

import * as client from 'openid-client';
import { readVerifiedClaims, type Verified } from './claims.js';

export interface Pending {
  verifier: string;
  state: string;
  /** True when the request asked for verified_claims (an identity ceremony). */
  identity: boolean;
}

export interface SignedIn {
  sub: string;
  /** urn:kakunin:jpki:auth (login) or urn:kakunin:jpki:sign (identity). */
  acr: string;
  verified?: Verified;
}

export class KakuninClient {
  private config?: Promise<client.Configuration>;
  private readonly o: { platformUrl: string; clientId: string; clientSecret: string };

  constructor(o: { platformUrl: string; clientId: string; clientSecret: string }) {
    this.o = o;
  }

  /** Discovery once (again after a failure); plain http is allowed for a local sandbox only. */
  configuration(): Promise<client.Configuration> {
    const insecure = new URL(this.o.platformUrl).protocol === 'http:';
    this.config ??= client
      .discovery(
        new URL(this.o.platformUrl),
        this.o.clientId,
        undefined,
        client.ClientSecretBasic(this.o.clientSecret),
        insecure ? { execute: [client.allowInsecureRequests] } : undefined,
      )
      .catch((e: unknown) => {
        this.config = undefined;
        throw e;
      });
    return this.config;
  }

  /** Where to send the browser; keep `pending` in the session until the callback. */
  async start(
    redirectUri: string,
    o: { claims?: object; lang: string; statementDetail?: string },
  ): Promise<{ url: URL; pending: Pending }> {
    const config = await this.configuration();
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      ui_locales: o.lang,
      ...(o.claims ? { claims: JSON.stringify(o.claims) } : {}),
      // Our own content, signed by the holder inside Kakunin's statement (identity ceremonies).
      ...(o.statementDetail ? { statement_detail: o.statementDetail } : {}),
    });
    return { url, pending: { verifier, state, identity: o.claims !== undefined } };
  }

  /** On the callback: code → tokens (PKCE, state, ID token checked) → verified_claims from userinfo. */
  async finish(currentUrl: URL, pending: Pending): Promise<SignedIn> {
    const config = await this.configuration();
    const tokens = await client.authorizationCodeGrant(config, currentUrl, {
      pkceCodeVerifier: pending.verifier,
      expectedState: pending.state,
    });
    const { sub, acr } = tokens.claims()!;
    if (!pending.identity) return { sub, acr: String(acr) };
    const info = await client.fetchUserInfo(config, tokens.access_token, sub);
    return { sub, acr: String(acr), verified: readVerifiedClaims(info.verified_claims) };
  }
}
