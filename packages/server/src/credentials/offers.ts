// Credential offers (OpenID4VCI §4.1): an RP that has just verified a holder's identity hands the
// holder a QR code or link, and the holder's wallet redeems its pre-authorized code at the token
// endpoint (grant type urn:ietf:params:oauth:grant-type:pre-authorized_code, registered on
// oidc-provider here) for an access token bound to that verification.

import { randomBytes, randomInt } from 'node:crypto';
import type Provider from 'oidc-provider';
import { errors, type TokenEndpointGrantContext } from 'oidc-provider';
import QRCode from 'qrcode';
import { getCeremony } from '../ceremonies.js';
import { bindGrantCeremony } from '../ceremony-store.js';
import type { Database, Queryable } from '../db/sql.js';
import { CredentialOffersNotAllowed, InvalidRequest, NotFound } from '../errors.js';
import { CREDENTIAL_CONFIGURATION_ID, CREDENTIAL_SCOPE, PRE_AUTHORIZED_GRANT } from './domain.js';
import { insertOffer, redeemOffer, sha256 } from './store.js';

/** How long an offer can be redeemed. */
export const OFFER_SECONDS = 600;

export interface OfferAnswer {
  credential_offer: Record<string, unknown>;
  /** `openid-credential-offer://?credential_offer=…`: the link of a same-device wallet, and the QR code's content. */
  offer_uri: string;
  /** The QR code of offer_uri (SVG). */
  qr_svg: string;
  /** Present when asked for: the wallet must also be given this code (another channel than the QR). */
  tx_code?: string;
  expires_at: string;
}

/**
 * An offer for the credential of an identity verification the RP made (by its record id), while
 * the verification is kept (a day). `txCode`: also require a 6-digit transaction code.
 */
export async function createOffer(
  db: Queryable,
  o: { issuer: string; rpClientId: string; recordId: string; txCode?: boolean; allowed: readonly string[] },
): Promise<OfferAnswer> {
  if (!o.allowed.includes('*') && !o.allowed.includes(o.rpClientId)) throw new CredentialOffersNotAllowed(o.rpClientId);
  const [row] = await db.query<{ id: string }>(
    `SELECT id FROM ceremonies WHERE record_id = $1 AND rp_client_id = $2 AND kind = 'identity' AND state = 'completed'`,
    [o.recordId, o.rpClientId],
  );
  if (!row)
    throw new NotFound(
      `no identity verification ${o.recordId} of this relying party is kept (offers are possible for a day after it)`,
    );
  // One credential per verification: an offer that could only end in a refusal is refused now.
  if ((await db.query('SELECT 1 FROM credentials WHERE ceremony_id = $1', [row.id])).length)
    throw new InvalidRequest(
      `the credential of verification ${o.recordId} has already been issued (one per verification: verify again for another)`,
      'この本人確認のデジタル身分証は発行済みです(別の発行には改めて本人確認が必要です)',
    );
  const code = randomBytes(32).toString('base64url');
  const txCode = o.txCode ? String(randomInt(1_000_000)).padStart(6, '0') : undefined;
  const expiresAt = new Date(Date.now() + OFFER_SECONDS * 1000);
  await insertOffer(db, {
    code,
    ceremonyId: row.id,
    rpClientId: o.rpClientId,
    expiresAt,
    ...(txCode ? { txCode } : {}),
  });
  const offer = {
    credential_issuer: o.issuer,
    credential_configuration_ids: [CREDENTIAL_CONFIGURATION_ID],
    grants: {
      [PRE_AUTHORIZED_GRANT]: {
        'pre-authorized_code': code,
        ...(txCode
          ? { tx_code: { input_mode: 'numeric', length: 6, description: 'the code shown by the service' } }
          : {}),
      },
    },
  };
  const offerUri = `openid-credential-offer://?credential_offer=${encodeURIComponent(JSON.stringify(offer))}`;
  return {
    credential_offer: offer,
    offer_uri: offerUri,
    qr_svg: await QRCode.toString(offerUri, { type: 'svg', errorCorrectionLevel: 'L', margin: 1 }),
    ...(txCode ? { tx_code: txCode } : {}),
    expires_at: expiresAt.toISOString(),
  };
}

/**
 * The pre-authorized code grant on the platform's token endpoint: one redemption per code (a wrong
 * tx_code spends it too), the verification must still be kept, and the access token carries only
 * the credential scope, bound (by its grant) to that verification.
 */
export function registerPreAuthorizedGrant(provider: Provider, db: Database): void {
  const handler = async (ctx: TokenEndpointGrantContext): Promise<void> => {
    const params = ctx.oidc.params as Record<string, unknown>;
    const code = params['pre-authorized_code'];
    if (typeof code !== 'string' || !code) throw new errors.InvalidRequest('pre-authorized_code is missing');
    const offer = await redeemOffer(db, code);
    if (offer === 'unknown') throw new errors.InvalidGrant('unknown pre-authorized code');
    if (offer === 'used') throw new errors.InvalidGrant('the pre-authorized code has already been used');
    if (offer === 'expired') throw new errors.InvalidGrant('the pre-authorized code has expired');
    const txCode = params.tx_code;
    if (offer.txCodeHash && (typeof txCode !== 'string' || sha256(txCode) !== offer.txCodeHash))
      throw new errors.InvalidGrant('wrong or missing tx_code (the offer is spent: ask the service for a new one)');
    if (!offer.txCodeHash && txCode !== undefined) throw new errors.InvalidRequest('this offer takes no tx_code');
    const ceremony = await getCeremony(db, offer.ceremonyId).catch(() => undefined);
    if (!ceremony || ceremony.state !== 'completed' || !ceremony.subjectId)
      throw new errors.InvalidGrant('the verification behind this offer is no longer kept');
    const { client } = ctx.oidc;
    const grant = new provider.Grant({ accountId: ceremony.subjectId, clientId: client.clientId });
    grant.addOIDCScope(CREDENTIAL_SCOPE);
    const grantId = await grant.save();
    await bindGrantCeremony(db, grantId, ceremony.id);
    const token = new provider.AccessToken({
      accountId: ceremony.subjectId,
      client,
      grantId,
      scope: CREDENTIAL_SCOPE,
      gty: 'pre_authorized_code',
    });
    ctx.body = {
      access_token: await token.save(),
      token_type: 'Bearer',
      expires_in: token.expiration,
      scope: CREDENTIAL_SCOPE,
    };
  };
  provider.registerGrantType(PRE_AUTHORIZED_GRANT, handler, ['pre-authorized_code', 'tx_code']);
}
