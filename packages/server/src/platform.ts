// What every part of the server is handed: the database, the configuration, the verifier, the
// metrics and a logger. Built once per process by `startServer`.

import type { FastifyBaseLogger } from 'fastify';
import type { SimulatedJlis } from '@kakunin/sim';
import type { MonitorMode, ServerConfig } from './config.js';
import type { CrlMonitor } from './monitor/crl-monitor.js';
import type { UsageMeter } from './usage.js';
import type { CrlRefresher } from './crl/refresher.js';
import type { AuthThrottle } from './auth-throttle.js';
import type { Database } from './db/sql.js';
import type { MasterKey } from './master-key.js';
import type { Metrics } from './metrics.js';
import type { LogIdentity } from './records/log.js';
import type { JpkiVerifier } from './verifier.js';

export interface Platform {
  readonly config: ServerConfig;
  readonly db: Database;
  /** Seals the secrets kept in the database (webhook secrets of new RPs, …). */
  readonly masterKey: MasterKey;
  /** Limits on failed client authentications and admin sign-ins. */
  readonly authThrottle: AuthThrottle;
  readonly verifier: JpkiVerifier;
  readonly metrics: Metrics;
  readonly log: FastifyBaseLogger;
  /** Base URL as seen by holders and RPs (no trailing slash). */
  readonly publicUrl: string;
  /** Sandbox mode only: the simulated J-LIS (people, life events) for the admin console's controls. */
  readonly simulator?: SimulatedJlis;
  /** The CRL sources and their refresher, when any source is configured (readiness, console). */
  readonly crl?: CrlRefresher;
  /** How watched certificates learn of revocations (config `monitorMode`, resolved). */
  readonly monitorMode?: MonitorMode;
  /** CRL-driven monitoring (crl mode): the watch-time lookup. */
  readonly crlMonitor?: CrlMonitor;
  /** Counts the J-LIS lookups (usage accounting). */
  readonly usage?: UsageMeter;
  /** The records log's origin and key (checkpoints, proofs). */
  readonly recordsLog: LogIdentity;
  /** The pairwise subject (OIDC `sub`) of a platform subject at one RP, as in its ID tokens and webhooks. */
  readonly pairwiseSubject: (clientId: string, subjectId: string) => string;
}
