// Linkage of the simulated J-LIS (our own design; J-LIS's interface is not public):
// 証明書新旧紐付け (old → new, following successors) and 証明書紐付け (auth ↔ sign of one person).

import type { CertificateRecord } from '../state.js';
import type { Sandbox } from '../sandbox.js';

export interface LatestAnswer {
  serial: string;
  latest: { serial: string; issuerId: string; kind: string; medium: string; revoked: boolean; certificate: string };
  chain: { serial: string; issuerId: string }[];
}

function find(sandbox: Sandbox, serial: string, issuerId?: string): CertificateRecord | undefined {
  const s = serial.toUpperCase().replace(/^0+(?=.)/, '');
  return sandbox.certificates(issuerId ? { issuerId } : {}).find((c) => c.serial.replace(/^0+(?=.)/, '') === s);
}

/** The newest certificate in the renewal chain of `serial`, or undefined when it was never issued. */
export function latestCertificate(sandbox: Sandbox, serial: string, issuerId?: string): LatestAnswer | undefined {
  let record = find(sandbox, serial, issuerId);
  if (!record) return undefined;
  const chain = [{ serial: record.serial, issuerId: record.issuerId }];
  for (let hops = 0; record.successor && hops < 1000; hops++) {
    record = sandbox.certificateRecord(record.successor.issuerId, record.successor.serial);
    chain.push({ serial: record.serial, issuerId: record.issuerId });
  }
  return {
    serial: serial.toUpperCase(),
    latest: {
      serial: record.serial,
      issuerId: record.issuerId,
      kind: record.kind,
      medium: record.medium,
      revoked: record.revocation !== undefined,
      certificate: sandbox.certificateDer(record.issuerId, record.serial).toString('base64'),
    },
    chain,
  };
}

/** The auth ↔ sign pairing that now holds for the person and medium of `serial`. */
export function certificatePair(
  sandbox: Sandbox,
  serial: string,
):
  { auth: { serial: string; issuerId: string } | null; sign: { serial: string; issuerId: string } | null } | undefined {
  const record = find(sandbox, serial);
  if (!record) return undefined;
  const current = (kind: 'auth' | 'sign') => {
    try {
      const r = sandbox.currentCertificateRecord(record.personId, kind, record.medium);
      return { serial: r.serial, issuerId: r.issuerId };
    } catch {
      return null;
    }
  };
  return { auth: current('auth'), sign: current('sign') };
}
