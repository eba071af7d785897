#!/usr/bin/env node
// Entry point of the `kakunin` command: runs the TypeScript sources as they are (no build step), on
// Node's own type stripping where it has it (Node 24: the sources use erasable syntax only), else tsx.
import nodeModule from 'node:module';

// The one-shot administration commands may open the embedded database (PGlite, PostgreSQL compiled
// to WebAssembly). V8 optimises its hot functions on background threads, and a process waits for
// those compilations before it exits: ~2 s of CPU and of waiting after such a command has printed
// its answer, for code it will never run again. These commands run on V8's baseline WebAssembly
// compiler only (the same results; measured in packages/cli/README.md). A long-running process
// (`kakunin serve`) keeps the optimising compiler. The flag cannot be set at run time, so the
// process replaces itself once with the flag given.
const ONE_SHOT_DATABASE_COMMANDS = new Set(['records', 'rp', 'keys', 'usage']);
const [command, subcommand] = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const opensDatabase =
  ONE_SHOT_DATABASE_COMMANDS.has(command) && !(command === 'records' && subcommand === 'check-proof');
if (opensDatabase && !process.execArgv.includes('--liftoff-only') && typeof process.execve === 'function') {
  process.execve(
    process.execPath,
    [process.execPath, '--liftoff-only', ...process.execArgv, ...process.argv.slice(1)],
    process.env,
  );
}

// A reader that stops early (`kakunin sim people | head`) is not an error.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

// V8's compiled code (and the stripped TypeScript) of every module, kept between runs in the system's
// temporary directory (NODE_COMPILE_CACHE to move it): a short command starts in half the CPU.
nodeModule.enableCompileCache?.();
if (process.features.typescript && typeof nodeModule.registerHooks === 'function') {
  // The sources import each other as `./x.js` (what tsc checks); the file is `./x.ts`.
  nodeModule.registerHooks({
    resolve(specifier, context, nextResolve) {
      if (
        specifier.endsWith('.js') &&
        (specifier.startsWith('./') || specifier.startsWith('../')) &&
        context.parentURL?.endsWith('.ts')
      ) {
        try {
          return nextResolve(`${specifier.slice(0, -3)}.ts`, context);
        } catch {
          // A JavaScript file after all.
        }
      }
      return nextResolve(specifier, context);
    },
  });
} else {
  // Node without type stripping: tsx (~50% more start-up time).
  const { register } = await import('tsx/esm/api');
  register();
}
const { main } = await import('../src/main.ts');
process.exitCode = await main(process.argv);
