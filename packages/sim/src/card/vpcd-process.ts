// A virtual card in its own process, plugged into vpcd. A card served from the same event loop as
// a synchronous PC/SC call (SCardDisconnect, SCardReleaseContext) deadlocks: pcscd's polling thread
// asks vpcd whether the card is present, vpcd waits for our answer, and our loop waits for pcscd.
// A real card answers from its own chip; this gives the simulated one its own process likewise.

import { spawn, type ChildProcess } from 'node:child_process';
import { createPrivateKey, createPublicKey, KeyObject } from 'node:crypto';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { CardMaterial } from './material.js';
import type { MyNumberProbe } from './virtual-card.js';

/** JSON with bytes and keys: Uint8Array → {$bytes: base64}, KeyObject → {$key: pem, type}. */
export function encodeMaterial(value: unknown): unknown {
  if (value instanceof KeyObject) {
    const type = value.type === 'private' ? 'private' : 'public';
    return { $key: value.export({ format: 'pem', type: type === 'private' ? 'pkcs8' : 'spki' }).toString(), type };
  }
  if (value instanceof Uint8Array) return { $bytes: Buffer.from(value).toString('base64') };
  if (Array.isArray(value)) return value.map(encodeMaterial);
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, encodeMaterial(v)]));
  return value;
}

export function decodeMaterial(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(decodeMaterial);
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (typeof o.$bytes === 'string') return Buffer.from(o.$bytes, 'base64');
    if (typeof o.$key === 'string') return o.type === 'private' ? createPrivateKey(o.$key) : createPublicKey(o.$key);
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, decodeMaterial(v)]));
  }
  return value;
}

export interface CardProcessStats {
  /** APDUs the card received. */
  readonly received: number;
  readonly myNumberProbe: MyNumberProbe;
  readonly tries: Readonly<Record<string, number>>;
}

export interface CardProcess {
  setExtendedLength(on: boolean): Promise<void>;
  stats(): Promise<CardProcessStats>;
  /** Pulls the card out of the reader and ends the process. */
  close(): Promise<void>;
}

export interface CardProcessOptions {
  material: CardMaterial;
  /** Directory of the card's persisted PIN counters. */
  stateDir: string;
  /** vpcd port of the reader slot. */
  port: number;
  host?: string;
}

const CHILD = fileURLToPath(new URL('./vpcd-child.ts', import.meta.url));

/** Starts the card process; resolves once it is connected to vpcd. */
export async function plugCardProcess(o: CardProcessOptions): Promise<CardProcess> {
  // tsx is resolved from the package's directory, wherever the caller runs from.
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    cwd: dirname(CHILD),
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  const pending: ((msg: Record<string, unknown>) => void)[] = [];
  lines.on('line', (line) => pending.shift()?.(JSON.parse(line) as Record<string, unknown>));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const call = (msg: Record<string, unknown>): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      if (child.exitCode !== null) return reject(new Error('the card process has exited'));
      pending.push((answer) => (answer.error ? reject(new Error(String(answer.error))) : resolve(answer)));
      child.stdin!.write(`${JSON.stringify(msg)}\n`);
    });
  await call({
    cmd: 'start',
    material: encodeMaterial(o.material),
    stateDir: o.stateDir,
    port: o.port,
    host: o.host ?? '127.0.0.1',
  });
  return {
    async setExtendedLength(on) {
      await call({ cmd: 'set', extendedLength: on });
    },
    async stats() {
      return (await call({ cmd: 'stats' })) as unknown as CardProcessStats;
    },
    async close() {
      if (child.exitCode === null) {
        await call({ cmd: 'close' }).catch(() => undefined);
        child.stdin!.end();
      }
      await exited;
    },
  };
}
