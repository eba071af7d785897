// The `kakunin` command in a child process (run with `node --import tsx`), for `kakunin agent`.
import { buildProgram } from '@kakunin/cli';

await (await buildProgram(process.argv)).parseAsync(process.argv);
