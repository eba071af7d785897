// TEMPORARY stand-ins until records/ and monitor/ land.
import { randomBytes } from 'node:crypto';
import type { Queryable } from './db/database.js';
export type VerificationRecordInput = { ceremony: { id: string; kind: string }; outcome: string; subjectId: string | null; rp: { clientId: string; framework: string; name: string; purpose: string }; [k: string]: unknown };
export async function appendVerificationRecord(tx: Queryable, input: VerificationRecordInput): Promise<{ id: string; seq: string; hash: string; createdAt: Date }> {
  const id = `rec_${randomBytes(12).toString('base64url')}`;
  const [r] = await tx.query<{ seq: string }>(`INSERT INTO records (id, created_at, rp_client_id, ceremony_id, subject_id, framework, outcome, payload, payload_hash, prev_hash, hash) VALUES ($1, now(), $2, $3, $4, $5, $6, $7, 'x', 'x', 'x') RETURNING seq`, [id, input.rp.clientId, input.ceremony.id, input.subjectId, input.rp.framework, input.outcome, JSON.parse(JSON.stringify(input)) as Record<string, unknown>]);
  return { id, seq: r!.seq, hash: 'x', createdAt: new Date() };
}
export async function watchCertificate(_tx: Queryable, _o: unknown): Promise<void> {}
export function startBackgroundJobs(_o: unknown): { stop(): Promise<void> } {
  return { stop: async () => undefined };
}
