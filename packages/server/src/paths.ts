// @kakunin/server/paths — where the platform keeps its files under its data directory. A leaf module:
// commands that only need these names (their `--data-dir` option) load nothing else of the server.
import { join } from 'node:path';

/** The data directory when none is given (`KAKUNIN_DATA_DIR`, `--data-dir`). */
export const DEFAULT_DATA_DIR = '.kakunin';

/** Where the sandbox simulator lives (`kakunin sim … --dir` this to see the same people). */
export const simDir = (config: { dataDir: string }): string => join(config.dataDir, 'sim');
/** The embedded database's directory. */
export const pgliteDir = (config: { dataDir: string }): string => join(config.dataDir, 'db');
