#!/usr/bin/env node
// Entry point of the `kakunin` command: runs the TypeScript sources through tsx (no build step).
import { register } from 'tsx/esm/api';

// A reader that stops early (`kakunin sim people | head`) is not an error.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

register();
const { main } = await import('../src/main.ts');
process.exitCode = await main(process.argv);
