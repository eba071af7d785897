// The `kakunin` command in a child process (run with `node --import tsx`), for `kakunin agent`.
import { buildProgram } from '@kakunin/cli';

await buildProgram().parseAsync(process.argv);
