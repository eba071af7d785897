// The options of the commands that reach the platform's data. A leaf module: a command that defines
// them loads none of the platform (its database engines) until it runs against a database.
import { DEFAULT_DATA_DIR } from '@kakunin/server/paths';

export interface DataOptions {
  dataDir?: string;
  databaseUrl?: string;
}

export const DATA_DIR_OPTION = [
  '--data-dir <dir>',
  `the server's state directory (default ${DEFAULT_DATA_DIR})`,
  DEFAULT_DATA_DIR,
] as const;
export const DATABASE_URL_OPTION = [
  '--database-url <url>',
  'PostgreSQL (default: env DATABASE_URL; otherwise the embedded database of --data-dir)',
] as const;
