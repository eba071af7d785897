// A DER tree for tests that mutate certificates: decode, edit a node, encode again.
import { readSingle, readTlv, encodeTlv } from '@kakunin/jpki/der';

export interface DerNode {
  tag: number;
  /** Children for constructed nodes; raw value bytes for primitive ones. */
  children?: DerNode[];
  value?: Buffer;
}

const isConstructed = (tag: number): boolean => {
  let first = tag;
  while (first > 0xff) first = Math.floor(first / 256);
  return (first & 0x20) !== 0;
};

export function decodeTree(buf: Uint8Array, start = 0, end = buf.length): DerNode {
  const tlv = start === 0 && end === buf.length ? readSingle(buf) : readTlv(buf, start, end);
  if (!isConstructed(tlv.tag)) return { tag: tlv.tag, value: Buffer.from(buf.subarray(tlv.valueStart, tlv.end)) };
  const children: DerNode[] = [];
  for (let pos = tlv.valueStart; pos < tlv.end;) {
    const child = readTlv(buf, pos, tlv.end);
    children.push(decodeTree(buf, child.start, child.end));
    pos = child.end;
  }
  return { tag: tlv.tag, children };
}

export function encodeTree(node: DerNode): Buffer {
  if (node.children) return encodeTlv(node.tag, ...node.children.map(encodeTree));
  return encodeTlv(node.tag, node.value ?? Buffer.alloc(0));
}

/** Follows child indexes from the root, e.g. path(cert, 0, 7) = the 8th TBS field. */
export function at(node: DerNode, ...indexes: number[]): DerNode {
  let n = node;
  for (const i of indexes) {
    const next = n.children?.[i];
    if (!next) throw new Error(`no child ${i} under tag 0x${n.tag.toString(16)}`);
    n = next;
  }
  return n;
}
