// Builds CRLs for tests: DER written directly, signed with node:crypto.
import { sign, type KeyObject } from 'node:crypto';
import { SHA256_WITH_RSA_ALGORITHM as ALG } from '@kakunin/jpki';
import { TAG, ctx, encodeOid, encodeTlv, encodeUnsignedInteger } from '@kakunin/jpki/der';

const time = (d: Date): Buffer =>
  encodeTlv(TAG.UTC_TIME, Buffer.from(`${d.toISOString().slice(2, 19).replace(/[-T:]/g, '')}Z`));

export interface TestCrlEntry {
  serial: string;
  revokedAt: Date;
  reason?: number;
}

export function buildCrl(o: {
  issuerName: Uint8Array;
  key: KeyObject;
  thisUpdate: Date;
  nextUpdate?: Date;
  entries: TestCrlEntry[];
  extensions?: Buffer[];
}): Buffer {
  const entries = o.entries.map((e) =>
    encodeTlv(
      TAG.SEQUENCE,
      encodeUnsignedInteger(BigInt(`0x${e.serial}`)),
      time(e.revokedAt),
      ...(e.reason === undefined
        ? []
        : [
            encodeTlv(
              TAG.SEQUENCE,
              encodeTlv(
                TAG.SEQUENCE,
                encodeOid('2.5.29.21'),
                encodeTlv(TAG.OCTET_STRING, encodeTlv(TAG.ENUMERATED, Buffer.from([e.reason]))),
              ),
            ),
          ]),
    ),
  );
  const tbs = encodeTlv(
    TAG.SEQUENCE,
    encodeTlv(TAG.INTEGER, Buffer.from([1])),
    ALG,
    Buffer.from(o.issuerName),
    time(o.thisUpdate),
    ...(o.nextUpdate ? [time(o.nextUpdate)] : []),
    ...(entries.length ? [encodeTlv(TAG.SEQUENCE, ...entries)] : []),
    ...(o.extensions?.length ? [encodeTlv(ctx(0), encodeTlv(TAG.SEQUENCE, ...o.extensions))] : []),
  );
  return encodeTlv(TAG.SEQUENCE, tbs, ALG, encodeTlv(TAG.BIT_STRING, Buffer.from([0]), sign('sha256', tbs, o.key)));
}
