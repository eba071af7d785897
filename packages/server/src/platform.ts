// What every part of the server is handed: the database, the configuration, the verifier, the
// metrics and a logger. Built once per process by `startServer`.

import type { FastifyBaseLogger } from 'fastify';
import type { Sandbox } from '@kakunin/sim';
import type { ServerConfig } from './config.js';
import type { Database } from './db/database.js';
import type { Metrics } from './metrics.js';
import type { JpkiVerifier } from './verifier.js';

export interface Platform {
  readonly config: ServerConfig;
  readonly db: Database;
  readonly verifier: JpkiVerifier;
  readonly metrics: Metrics;
  readonly log: FastifyBaseLogger;
  /** Base URL as seen by holders and RPs (no trailing slash). */
  readonly publicUrl: string;
  /** Sandbox mode only: the simulated J-LIS (people, life events) for the admin console's controls. */
  readonly sandbox?: Sandbox;
}
