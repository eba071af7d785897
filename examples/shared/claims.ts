// The verified_claims a Kakunin identity ceremony returns (OpenID Connect for Identity Assurance),
// read into a flat, typed shape. Anything missing that a demo relies on is an error.

export interface Verified {
  trustFramework: string;
  /** When the platform received and verified the certificate and the signed statement. */
  time: string;
  /** Kakunin's verification record (確認記録) id, `rec_…`. */
  recordId: string;
  certificate: { issuer: string; serial: string; createdAt: string };
  name?: string;
  birthdate?: string;
  gender?: string;
  address?: string;
}

const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

export function readVerifiedClaims(value: unknown): Verified {
  const vc = value as { verification?: Record<string, unknown>; claims?: Record<string, unknown> } | undefined;
  const v = vc?.verification ?? {};
  const evidence = (Array.isArray(v.evidence) ? v.evidence[0] : undefined) as Record<string, unknown> | undefined;
  const trustFramework = text(v.trust_framework);
  const time = text(v.time);
  const recordId = text(v.verification_process);
  const serial = text(evidence?.serial_number);
  if (!trustFramework || !time || !recordId || !serial)
    throw new Error('the userinfo response has no complete verified_claims.verification');
  const c = vc?.claims ?? {};
  const address = c.address as { formatted?: unknown } | undefined;
  return {
    trustFramework,
    time,
    recordId,
    certificate: { issuer: text(evidence?.issuer) ?? '', serial, createdAt: text(evidence?.created_at) ?? time },
    ...(text(c.name) ? { name: text(c.name) } : {}),
    ...(text(c.birthdate) ? { birthdate: text(c.birthdate) } : {}),
    ...(text(c.gender) ? { gender: text(c.gender) } : {}),
    ...(text(address?.formatted) ? { address: text(address?.formatted) } : {}),
  };
}

/** The basic 3 info a demo needs, or an error naming what the platform did not return. */
export function need<K extends keyof Verified>(v: Verified, ...keys: K[]): Verified & Required<Pick<Verified, K>> {
  const missing = keys.filter((k) => v[k] === undefined);
  if (missing.length) throw new Error(`verified_claims lacks ${missing.join(', ')}`);
  return v as Verified & Required<Pick<Verified, K>>;
}
