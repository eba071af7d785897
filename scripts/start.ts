// `npm start`: the sandbox platform, the local agent with virtual cards and the demo relying parties.
// Prints one line per service, `NAME URL`; Ctrl-C stops everything. KAKUNIN_DATA_DIR (default
// .kakunin) keeps the state between runs.

import { resolve } from 'node:path';
import { startDemoStack } from './demo-stack.js';

const dataDir = resolve(process.env.KAKUNIN_DATA_DIR ?? '.kakunin');
const progress = (line: string): void => void process.stderr.write(`kakunin: ${line}\n`);

try {
  const stack = await startDemoStack({
    dataDir,
    onProgress: progress,
    ...(process.env.KAKUNIN_LOG_LEVEL ? { logLevel: process.env.KAKUNIN_LOG_LEVEL } : {}),
  });
  for (const [name, url] of stack.services) process.stdout.write(`${name} ${url}\n`);
  progress(
    `Node.js ${process.version}; state in ${dataDir}; residents and their sandbox PINs: npx kakunin sim people --dir ${resolve(dataDir, 'sim')}; the admin console's sign-in token is in ${resolve(dataDir, 'admin-token')}; Ctrl-C stops`,
  );
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    progress('stopping…');
    void stack.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
} catch (e) {
  const err = e as NodeJS.ErrnoException;
  process.stderr.write(
    `kakunin: cannot start: ${err.code === 'DATABASE_BUSY' ? `${err.message} — is another "npm start" running? Stop it, or set KAKUNIN_DATA_DIR` : (err.stack ?? String(e))}\n`,
  );
  process.exit(1);
}
