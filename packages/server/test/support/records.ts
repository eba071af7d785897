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
