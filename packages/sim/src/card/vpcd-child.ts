// Child side of plugCardProcess: one VirtualCard on vpcd, driven by JSON lines on stdin.
import { createInterface } from 'node:readline';
import { FilePinStateStore } from './state-store.js';
import { VirtualCard, type VirtualCardOptions } from './virtual-card.js';
import { connectVpcd, type VpcdConnection } from './vpcd.js';
import { decodeMaterial } from './vpcd-process.js';

let card: VirtualCard | undefined;
let conn: VpcdConnection | undefined;
const reply = (msg: unknown): boolean => process.stdout.write(`${JSON.stringify(msg)}\n`);

createInterface({ input: process.stdin }).on('line', (line) => {
  void (async () => {
    const msg = JSON.parse(line) as {
      cmd: string;
      material?: unknown;
      stateDir?: string;
      port?: number;
      host?: string;
      extendedLength?: boolean;
    };
    try {
      if (msg.cmd === 'start') {
        const material = decodeMaterial(msg.material) as Omit<VirtualCardOptions, 'stateStore'>;
        card = new VirtualCard({ ...material, stateStore: new FilePinStateStore(msg.stateDir!) });
        conn = await connectVpcd(card, { port: msg.port!, host: msg.host! });
        reply({ ok: true });
      } else if (msg.cmd === 'set') {
        card!.extendedLength = msg.extendedLength === true;
        reply({ ok: true });
      } else if (msg.cmd === 'stats') {
        reply({ received: card!.received.length, myNumberProbe: card!.myNumberProbe, tries: card!.tries });
      } else if (msg.cmd === 'close') {
        await conn?.close();
        reply({ ok: true });
        process.exit(0);
      } else {
        reply({ error: `unknown command ${msg.cmd}` });
      }
    } catch (e) {
      reply({ error: (e as Error).message });
    }
  })();
});
process.stdin.on('end', () => process.exit(0));
