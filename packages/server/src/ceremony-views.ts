// What a ceremony looks like on the wire: the holder protocol's view for a holder app, and the
// progress view a ceremony page follows. No rules and no SQL: those are ceremonies.ts and ceremony-store.ts.

import { CERTIFICATE_OF, type CardErrorReport, type CeremonyStage, type CeremonyState } from './ceremony-domain.js';
import type { Ceremony } from './ceremony-store.js';
import { sharedItems } from './oidc/claims.js';
import type { RelyingParty } from './relying-parties.js';

/** The view of a ceremony for a holder app (holder protocol v1); its type is checked against the route's CeremonyView. */
export function holderView(ceremony: Ceremony, rp: RelyingParty, publicUrl: string) {
  const certificate = CERTIFICATE_OF[ceremony.kind];
  return {
    protocol: 'kakunin-holder/1' as const,
    ceremony_id: ceremony.id,
    kind: ceremony.kind,
    state: ceremony.state,
    certificate,
    pin:
      certificate === 'auth'
        ? {
            kind: 'auth',
            label_ja: '利用者証明用電子証明書の暗証番号(数字4桁)',
            label_en: 'user authentication PIN (4 digits)',
          }
        : {
            kind: 'sign',
            label_ja: '署名用電子証明書の暗証番号(英数字6〜16文字)',
            label_en: 'signing password (6–16 letters and digits)',
          },
    rp: { client_id: rp.clientId, name: rp.name },
    purpose: ceremony.purpose,
    shares: sharedItems(ceremony.shares),
    ...(ceremony.kind === 'identity' ? { statement: ceremony.toBeSigned.toString('utf8') } : {}),
    nonce: ceremony.nonce,
    to_be_signed: ceremony.toBeSigned.toString('base64url'),
    digest_algorithm: 'sha256',
    signature_algorithm: 'RSASSA-PKCS1-v1_5 over DigestInfo(SHA-256(to_be_signed))',
    expires_at: ceremony.expiresAt.toISOString(),
    response_url: `${publicUrl}/holder/v1/ceremonies/${ceremony.id}/response`,
  };
}

export interface StatusView {
  state: CeremonyState | 'expired';
  stage?: CeremonyStage;
  card_error?: CardErrorReport;
  error?: { code: string; message: string };
}

/** The view of a ceremony's progress for the browser page. */
export function statusView(ceremony: Ceremony, now = new Date()): StatusView {
  if (ceremony.state === 'pending' && ceremony.expiresAt.getTime() <= now.getTime())
    return {
      state: 'expired',
      error: { code: 'CEREMONY_EXPIRED', message: `expired at ${ceremony.expiresAt.toISOString()}` },
    };
  if (ceremony.state === 'pending')
    return {
      state: 'pending',
      stage: ceremony.stage,
      ...(ceremony.cardError ? { card_error: ceremony.cardError } : {}),
    };
  return {
    state: ceremony.state,
    ...(ceremony.errorCode ? { error: { code: ceremony.errorCode, message: ceremony.errorMessage ?? '' } } : {}),
  };
}
