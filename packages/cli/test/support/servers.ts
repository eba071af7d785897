// Spawning real `kakunin serve` processes for multi-process and crash tests.

import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/kakunin.js', import.meta.url));

export interface ServeProcess {
  url: string;
  child: ChildProcess;
  stderr(): string;
  /** SIGINT and wait; SIGKILL with `hard`. */
  stop(hard?: boolean): Promise<number | null>;
}

export async function serve(args: string[]): Promise<ServeProcess> {
  const child = spawn(process.execPath, [BIN, 'serve', '--sandbox', '--port', '0', '--log-level', 'warn', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`kakunin serve exited with ${code}: ${err}`)));
  });
  return {
    url,
    child,
    stderr: () => err,
    stop: async (hard = false) => {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill(hard ? 'SIGKILL' : 'SIGINT');
      return exited;
    },
  };
}
