// A stand-in for a J-LIS root generation newer than the embedded ones (say authca04): a simulator
// root and certificate rewritten to the production profile (O=JPKI, the production policy) and
// re-signed with the simulator key. It lets tests exercise pinned production anchors without
// any real J-LIS key or real person's certificate in the repository.
import { createHash, type KeyObject } from 'node:crypto';
import { KNOWN_POLICIES, ORGANIZATION, simPolicyOid, toPem, type CertKind } from '@kakunin/jpki';
import { TAG, encodeOid } from '@kakunin/jpki/der';
import { SimCa, signTbsWith } from '@kakunin/sim';
import { at, decodeTree, encodeTree, type DerNode } from './der-tree.js';

export interface FutureRoot {
  readonly label: string;
  readonly kind: CertKind;
  /** The root certificate (DER) and its PEM, as an operator would receive it. */
  readonly der: Buffer;
  readonly pem: string;
  /** SHA-256 of the DER, upper-case hex: the pin an operator writes into the configuration. */
  readonly sha256: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** A production-profile end-entity certificate this root issued, and its holder's private key. */
  readonly endEntity: Buffer;
  readonly endEntityKey: KeyObject;
}

function rewrite(node: DerNode, kind: CertKind): void {
  const simOrg = Buffer.from(ORGANIZATION.simulator);
  const simPolicy = encodeOid(simPolicyOid(kind, 'card')).subarray(2);
  const production = KNOWN_POLICIES.find((p) => p.kind === kind && p.environment === 'production')!.oid;
  if (node.tag === TAG.UTF8_STRING && node.value?.equals(simOrg)) node.value = Buffer.from(ORGANIZATION.production);
  else if (node.tag === TAG.OID && node.value?.equals(simPolicy)) node.value = encodeOid(production).subarray(2);
  else if (node.tag === TAG.OCTET_STRING && node.value && node.value[0] === TAG.SEQUENCE) {
    // Extension values are DER inside an OCTET STRING: names and policies live there too.
    try {
      const inner = decodeTree(node.value);
      rewrite(inner, kind);
      node.value = encodeTree(inner);
    } catch {
      // Not DER after all (e.g. a key identifier starting with 0x30): leave it.
    }
  }
  for (const child of node.children ?? []) rewrite(child, kind);
}

function resign(der: Buffer, kind: CertKind, key: Parameters<typeof signTbsWith>[0]): Buffer {
  const tbs = at(decodeTree(der), 0);
  rewrite(tbs, kind);
  return signTbsWith(key, encodeTree(tbs));
}

/** An authentication root valid from `notBefore` to `notAfter`, with one certificate issued inside that span. */
export async function futureJlisRoot(options: {
  label?: string;
  notBefore: Date;
  notAfter: Date;
  issuedAt?: Date;
}): Promise<FutureRoot> {
  const kind: CertKind = 'auth';
  const label = options.label ?? 'authca04';
  const ca = await SimCa.create([
    { id: label, kind, medium: 'card', generation: 4, notBefore: options.notBefore, notAfter: options.notAfter },
  ]);
  const root = ca.root(label);
  // By default a day ago: issued "now", the certificate would be valid only from the next whole
  // second, later than a `now` the caller took a moment before and checks at.
  const DAY = 86_400_000;
  const issuedAt =
    options.issuedAt ??
    new Date(Math.max(options.notBefore.getTime(), Math.min(Date.now() - DAY, options.notAfter.getTime() - DAY)));
  const ee = await ca.issueAuth({ birthDate: '1990-04-01', municipality: '18201' }, { notBefore: issuedAt });
  const der = resign(root.der, kind, root.privateKey);
  return {
    label,
    kind,
    der,
    pem: toPem(der),
    sha256: createHash('sha256').update(der).digest('hex').toUpperCase(),
    notBefore: root.notBefore,
    notAfter: root.notAfter,
    endEntity: resign(ee.der, kind, root.privateKey),
    endEntityKey: ee.privateKey!,
  };
}
