// APDU count of "read auth cert + verify PIN + sign" on the virtual card (in process: counts, not
// timings), for the reader's modes and the card's capabilities. Run: node --import tsx packages/card/bench/apdu-count.ts
import { fileURLToPath } from 'node:url';
import { parseCertificate, sha256DigestInfo, verifySignature } from '@kakunin/jpki';
import { InProcessTransport, MyNumberCard, type MyNumberCardOptions } from '../src/index.js';
import { MemoryPinStateStore, TEST_PINS, testCardMaterial, VirtualCard } from '@kakunin/sim/card';

export interface ApduCountRow {
  readonly scenario: string;
  /** The first run on a fresh card session (includes any refused probe). */
  readonly first: { apdus: number; bytes: number };
  /** A second run in the same session (the fallback is remembered, the AP stays selected). */
  readonly again: { apdus: number; bytes: number };
  readonly certificateBytes: number;
}

const SCENARIOS: readonly {
  scenario: string;
  card: { extendedLength: boolean; sfi: boolean };
  reader: MyNumberCardOptions;
}[] = [
  { scenario: 'extended Le + SFI (card accepts both)', card: { extendedLength: true, sfi: true }, reader: {} },
  {
    scenario: '256-byte fallback (card refuses extended Le: 67 00)',
    card: { extendedLength: false, sfi: true },
    reader: {},
  },
  { scenario: 'SELECT fallback (card refuses SFI: 6A 86)', card: { extendedLength: true, sfi: false }, reader: {} },
  { scenario: 'both fallbacks (short reads, SELECT EF)', card: { extendedLength: false, sfi: false }, reader: {} },
  {
    scenario: 'classic sequence (reader: no extended Le, no SFI; spec §6.1 + §6.3)',
    card: { extendedLength: true, sfi: true },
    reader: { extendedLength: 'never', sfi: 'never' },
  },
];

/** Runs every scenario; each signature is verified, so a count is only reported for a correct run. */
export async function apduCounts(): Promise<ApduCountRow[]> {
  const m = await testCardMaterial();
  const challenge = Buffer.from('kakunin apdu-count challenge');
  const rows: ApduCountRow[] = [];
  for (const s of SCENARIOS) {
    const virtual = new VirtualCard({ ...m.material('card'), stateStore: new MemoryPinStateStore(), ...s.card });
    const card = new MyNumberCard(new InProcessTransport(virtual), s.reader);
    const flow = () =>
      card.measure(async (c) => {
        const cert = await c.readAuthCertificate();
        const sig = await c.signWithAuthKey(TEST_PINS.auth, sha256DigestInfo(challenge));
        verifySignature(parseCertificate(cert), challenge, sig);
        return cert.length;
      });
    const first = await flow();
    const again = await flow();
    rows.push({
      scenario: s.scenario,
      first: { apdus: first.apdus, bytes: first.bytes },
      again: { apdus: again.apdus, bytes: again.bytes },
      certificateBytes: first.value,
    });
  }
  return rows;
}

export function formatApduCounts(rows: readonly ApduCountRow[]): string {
  const header = ['read auth cert + verify PIN + sign', 'APDUs (1st)', 'bytes (1st)', 'APDUs (again)', 'bytes (again)'];
  const body = rows.map((r) => [
    r.scenario,
    String(r.first.apdus),
    String(r.first.bytes),
    String(r.again.apdus),
    String(r.again.bytes),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i === 0 ? ':' : '') + '-'.repeat(w + 1) + (i === 0 ? '' : ':')).join('|')}|`;
  return [
    `APDU count (auth certificate ${rows[0]?.certificateBytes ?? '?'} bytes; bytes = command + response APDUs)`,
    '',
    line(header),
    rule,
    ...body.map(line),
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(formatApduCounts(await apduCounts()));
}
