// Server configuration: defaults < config file (KAKUNIN_CONFIG, JSON) < environment < command line.

import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { TrustAnchorConfig } from './trust-anchors.js';

export type Mode = 'sandbox' | 'production';

export interface ServerConfig {
  mode: Mode;
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** The URL holders and RPs reach this server at (issuer, holder links); default http://host:port. */
  publicUrl?: string;
  /** PGlite data (`DATA_DIR/db`), the sandbox simulator (`DATA_DIR/sim`), generated secrets. */
  dataDir: string;
  /** PostgreSQL instead of PGlite. */
  databaseUrl?: string;
  /** Bearer token of the admin API; generated into DATA_DIR/admin-token when absent. */
  adminToken?: string;
  /** Production revocation sources. */
  ocspUrl?: string;
  crlDir?: string;
  linkageUrl?: string;
  /** Production: extra roots (a J-LIS generation newer than this release), each trusted only with its SHA-256 pin (config file only; checked at start). */
  trustAnchors?: TrustAnchorConfig[];
  /**
   * Sandbox only: the simulated J-LIS services (OCSP, linkage) served by another process
   * (`kakunin sim serve --dir DATA_DIR/sim`) instead of in this one — e.g. so that a load run
   * measures the platform without the simulator's response signing in the same event loop.
   */
  simServicesUrl?: string;
  /** How long a ceremony (and its nonce) stays open. */
  ceremonyTtlSeconds: number;
  /** Revocation monitor period; 0 disables the scheduler (jobs can still be run by hand). */
  monitorIntervalSeconds: number;
  /** Log level for pino (silent, error, warn, info, debug). */
  logLevel: string;
  /** The local holder agent the ceremony page offers for the same-device flow ('' to offer none). */
  agentUrl: string;
}

export const DEFAULT_DATA_DIR = '.kakunin';

export const DEFAULTS: ServerConfig = {
  mode: 'production',
  host: '127.0.0.1',
  port: 8080,
  dataDir: DEFAULT_DATA_DIR,
  ceremonyTtlSeconds: 300,
  monitorIntervalSeconds: 3600,
  logLevel: 'info',
  agentUrl: 'http://127.0.0.1:8931',
};

const ENV: Record<string, keyof ServerConfig> = {
  KAKUNIN_MODE: 'mode',
  KAKUNIN_HOST: 'host',
  KAKUNIN_PORT: 'port',
  KAKUNIN_PUBLIC_URL: 'publicUrl',
  KAKUNIN_DATA_DIR: 'dataDir',
  DATABASE_URL: 'databaseUrl',
  KAKUNIN_ADMIN_TOKEN: 'adminToken',
  KAKUNIN_OCSP_URL: 'ocspUrl',
  KAKUNIN_CRL_DIR: 'crlDir',
  KAKUNIN_LINKAGE_URL: 'linkageUrl',
  KAKUNIN_SIM_SERVICES_URL: 'simServicesUrl',
  KAKUNIN_CEREMONY_TTL_SECONDS: 'ceremonyTtlSeconds',
  KAKUNIN_MONITOR_INTERVAL_SECONDS: 'monitorIntervalSeconds',
  KAKUNIN_LOG_LEVEL: 'logLevel',
  KAKUNIN_AGENT_URL: 'agentUrl',
};

const NUMERIC = new Set<keyof ServerConfig>(['port', 'ceremonyTtlSeconds', 'monitorIntervalSeconds']);

export class ConfigError extends Error {
  readonly code = 'CONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export function loadConfig(overrides: Partial<ServerConfig> = {}, env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const fromFile: Partial<ServerConfig> = env.KAKUNIN_CONFIG ? (JSON.parse(readFileSync(env.KAKUNIN_CONFIG, 'utf8')) as Partial<ServerConfig>) : {};
  const fromEnv: Record<string, unknown> = {};
  for (const [name, key] of Object.entries(ENV)) if (env[name] !== undefined && env[name] !== '') fromEnv[key] = env[name];
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  const merged = { ...DEFAULTS, ...fromFile, ...fromEnv, ...defined } as Record<string, unknown>;
  for (const key of NUMERIC) {
    const n = Number(merged[key]);
    if (!Number.isInteger(n) || n < 0) throw new ConfigError(`${key} must be a whole number ≥ 0 (got "${String(merged[key])}")`);
    merged[key] = n;
  }
  const config = merged as unknown as ServerConfig;
  if (config.mode !== 'sandbox' && config.mode !== 'production') throw new ConfigError(`mode must be sandbox or production (got "${String(config.mode)}")`);
  if (config.port > 65535) throw new ConfigError(`port ${config.port} is out of range`);
  config.dataDir = resolve(config.dataDir);
  if (config.mode === 'production') {
    const missing = [!config.databaseUrl && 'DATABASE_URL', !config.ocspUrl && !config.crlDir && 'KAKUNIN_OCSP_URL or KAKUNIN_CRL_DIR', !config.linkageUrl && 'KAKUNIN_LINKAGE_URL', !config.publicUrl && 'KAKUNIN_PUBLIC_URL'].filter(Boolean);
    if (missing.length) throw new ConfigError(`production mode refuses to start without ${missing.join(', ')} (use --sandbox to try Kakunin with the simulator)`);
  }
  return config;
}

/** Where the sandbox simulator lives (`kakunin sim … --dir` this to see the same people). */
export const simDir = (config: Pick<ServerConfig, 'dataDir'>): string => join(config.dataDir, 'sim');
export const pgliteDir = (config: Pick<ServerConfig, 'dataDir'>): string => join(config.dataDir, 'db');
