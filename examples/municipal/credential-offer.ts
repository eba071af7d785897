// "Add to your wallet": after an identity verification the portal asks the platform for a credential
// offer of the digital ID credential (POST /rp/v1/credential-offers with the verification's record
// id — the `urn:kakunin:record` claim, the same as verified_claims' verification_process), and shows
// its link and a QR code of it. Offers are single use and short-lived, so they stay in memory with
// the browser session that asked for them.

import QRCode from 'qrcode';

export interface WalletOffer {
  /** `openid-credential-offer://?credential_offer=…`. */
  offerUri: string;
  /** The QR code of offerUri (SVG made here, not markup taken from elsewhere). */
  qrSvg: string;
  expiresAt: string;
}

export class OfferRefused extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'OfferRefused';
    this.status = status;
    this.code = code;
  }
}

// RFC 6749 §2.3.1: id and secret are form-encoded before Basic.
const form = (s: string): string => encodeURIComponent(s).replace(/%20/g, '+');

export async function createWalletOffer(
  o: { platformUrl: string; clientId: string; clientSecret: string },
  recordId: string,
): Promise<WalletOffer> {
  const res = await fetch(new URL('/rp/v1/credential-offers', o.platformUrl), {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Basic ${Buffer.from(`${form(o.clientId)}:${form(o.clientSecret)}`).toString('base64')}`,
    },
    body: JSON.stringify({ record_id: recordId }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await res.json().catch(() => ({}))) as {
    offer_uri?: unknown;
    expires_at?: unknown;
    error?: { code?: string; message?: string };
  };
  if (!res.ok)
    throw new OfferRefused(
      res.status,
      body.error?.code ?? 'HTTP_ERROR',
      body.error?.message ?? `the platform answered ${res.status}`,
    );
  if (typeof body.offer_uri !== 'string' || !body.offer_uri.startsWith('openid-credential-offer://'))
    throw new OfferRefused(502, 'BAD_OFFER', 'the platform answered no credential offer link');
  return {
    offerUri: body.offer_uri,
    qrSvg: await QRCode.toString(body.offer_uri, { type: 'svg', errorCorrectionLevel: 'L', margin: 1 }),
    expiresAt: typeof body.expires_at === 'string' ? body.expires_at : new Date(Date.now() + 600_000).toISOString(),
  };
}
