// What a certificate's revocation does to the digital ID credentials issued from it, inside the
// transaction of its `certificate.revoked` event (monitor/monitor.ts): every copy becomes invalid in
// its status list, one records-log note per issuance names its copies (as the issuance note does),
// and each copy gets a `credential.revoked` event.

import type { Queryable } from '../db/sql.js';
import { insertEvent } from '../monitor/events.js';
import { appendCredentialNote, invalidateCredentialsOf, type InvalidatedCredential } from './store.js';

export async function revokeCredentialsOf(
  tx: Queryable,
  certificate: { issuerId: string; serial: string },
  o: { eventId: string; at: Date; reason: string },
): Promise<number> {
  const revoked = await invalidateCredentialsOf(tx, certificate, { eventId: o.eventId, at: o.at });
  const issuances = new Map<string, InvalidatedCredential[]>();
  for (const c of revoked) issuances.set(c.record_id, [...(issuances.get(c.record_id) ?? []), c]);
  for (const copies of issuances.values()) {
    const first = copies[0]!;
    await appendCredentialNote(tx, {
      rpClientId: first.rp_client_id,
      subjectId: first.subject_id,
      at: o.at,
      payload: {
        event: 'credential_revoked',
        verificationRecordId: first.record_id,
        certificate,
        reason: o.reason,
        cause: o.eventId,
        statusList: first.status_list_id,
        copies: copies.map((c) => ({ credentialId: c.id, statusIdx: c.status_idx })),
      },
    });
  }
  for (const c of revoked)
    await insertEvent(tx, {
      type: 'credential.revoked',
      rpClientId: c.rp_client_id,
      subjectId: c.subject_id,
      recordId: c.record_id,
      at: o.at,
      data: {
        credential_id: c.id,
        status_list: c.status_list_id,
        status_idx: c.status_idx,
        cause: o.eventId,
        reason: o.reason,
      },
    });
  return revoked.length;
}
