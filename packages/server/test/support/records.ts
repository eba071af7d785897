// Typed access to record payloads in tests.

/** The payload fields these tests read. */
export interface PayloadView {
  recordType: { code: string };
  method: { id: string };
  citation: Record<string, unknown>;
  verifiedBy: { system: string; onBehalfOf: unknown };
  recordedBy: { system: string };
  dates: unknown;
  certificate: Record<string, unknown>;
  identity?: Record<string, unknown>;
  revocation: unknown;
  purpose: string;
  outcome: string;
  error?: unknown;
}
export const view = (p: unknown): PayloadView => p as PayloadView;

import type { Database } from '../../src/db/database.js';
import { MasterKey } from '../../src/master-key.js';
import {
  integrate,
  logIdentity,
  verifyLog,
  type LogIdentity,
  type LogVerification,
  type VerifyLogOptions,
} from '../../src/records/index.js';

const TEST_MASTER_KEY = new MasterKey(Buffer.alloc(32, 7));

/** The records log's identity of a test database (created on first use, as a server would). */
export const testLogIdentity = (db: Database): Promise<LogIdentity> =>
  logIdentity(db, TEST_MASTER_KEY, 'kakunin.test/records');

/** Integrates whatever is pending (as the sequencer would) and verifies the whole log. */
export async function verifyRecords(
  db: Database,
  o: Omit<VerifyLogOptions, 'key'> & { integrate?: boolean } = {},
): Promise<LogVerification> {
  const identity = await testLogIdentity(db);
  if (o.integrate !== false) await integrate(db, identity);
  return verifyLog(db, { key: identity.verifierKey, ...o });
}
