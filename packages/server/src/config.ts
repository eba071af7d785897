// Server configuration: defaults < config file (KAKUNIN_CONFIG, JSON) < environment < command line.

import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { Type, type Static, type TSchema } from 'typebox';
import { Value } from 'typebox/value';
import { CEREMONY_KINDS, type CeremonyKind } from './ceremony-domain.js';
import { DEFAULT_DATA_DIR } from './paths.js';

export { DEFAULT_DATA_DIR, pgliteDir, simDir } from './paths.js';

/** One configured root: `{ "file": "/etc/kakunin/authca04.pem", "sha256": "AB:CD:…", "label"?: "authca04" }`. */
export interface TrustAnchorConfig {
  /** The root certificate, PEM or DER (a relative path is taken from the working directory). */
  file: string;
  /** SHA-256 of its DER, hex (case, colons and spaces ignored), e.g. as J-LIS publishes it. */
  sha256: string;
  /** Name shown in results and records; default the file name without extension. */
  label?: string;
}

export type Mode = 'sandbox' | 'production';

/** OCSP settings (JSON config `ocsp`, or the KAKUNIN_OCSP_* variables). */
export interface OcspConfig {
  /**
   * Responder per issuer generation (trust-anchor label, e.g. `authca03`): J-LIS gives accredited
   * verifiers endpoints of their own. Other issuers use KAKUNIN_OCSP_URL, else the certificate's AIA URL.
   */
  responders: Record<string, string>;
  timeoutMs: number;
  /** An answer whose thisUpdate is older than this is stale, whatever its nextUpdate says. */
  maxResponseAgeSeconds: number;
  /** Refuse an answer that does not echo our nonce (a pre-signed one). */
  requireNonce: boolean;
}

/** The longest answer-reuse window: older cached answers are purged. */
export const MAX_OCSP_REUSE_SECONDS = 86_400;

/** Where a CRL comes from: a URL or a file, and optionally the label of the trust anchor that signs it. */
export interface CrlSourceConfig {
  url?: string;
  file?: string;
  issuer?: string;
}

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
  /** Seals the secrets kept in the database (32 bytes, hex or base64url); or from masterKeyFile. */
  masterKey?: string;
  /** Default DATA_DIR/master-key (created in sandbox mode only). */
  masterKeyFile?: string;
  /** Failed client authentications per client id, and failed attempts per address (token endpoint; admin sign-in), per window; 0 disables. */
  authFailuresPerClient: number;
  authFailuresPerAddress: number;
  authFailureWindowSeconds: number;
  /** Production revocation sources. `ocspUrl`: one OCSP responder for every issuer not in `ocsp.responders`. */
  ocspUrl?: string;
  ocsp: OcspConfig;
  /**
   * How long a `good` OCSP answer for the same certificate may be reused, per ceremony kind
   * (JSON `ocspReuseSeconds`; KAKUNIN_OCSP_REUSE_LOGIN_SECONDS, KAKUNIN_OCSP_REUSE_IDENTITY_SECONDS).
   */
  ocspReuseSeconds: Record<CeremonyKind, number>;
  /** Each CRL file in this directory is a file source (read at start). */
  crlDir?: string;
  /**
   * CSV of 全国地方公共団体コード by address (`code,address prefix` per line, e.g. `18201,福井県福井市`; from
   * J-LIS's 地方公共団体コード住所): the municipality code of the digital ID credential. Without it the
   * credential carries the prefecture code only (sandbox: the simulator's municipalities).
   */
  municipalityCodesFile?: string;
  /**
   * The relying parties (client ids) that may make credential offers (POST /rp/v1/credential-offers):
   * an RP that holds an offer's pre-authorized code could redeem it itself, so offering the holder's
   * credential is a trust the operator grants by name. Default: none in production, every RP in the
   * sandbox. `["*"]`: every RP.
   */
  credentialOfferClients?: string[];
  /** CRLs the refresher keeps fresh (JSON config `crlSources`, or KAKUNIN_CRL_SOURCES). */
  crlSources: CrlSourceConfig[];
  /** Fetch a CRL this long before its nextUpdate. */
  crlRefreshAheadSeconds: number;
  /** Keep answering from the last good CRL until nextUpdate + this, then fail closed. */
  crlGraceSeconds: number;
  /** After a failed or fruitless refresh, try again this much later. */
  crlRetrySeconds: number;
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
  /**
   * How watched certificates learn of revocations: `crl` — from each new CRL's new entries (no
   * J-LIS lookup per holder); `ocsp` — one OCSP request per watched certificate per monitor run, for
   * an operator without CRL access. Default: crl when any CRL source is configured, else ocsp.
   */
  monitorMode?: MonitorMode;
  /** ocsp mode: at most this many OCSP requests per second from the monitor (0: no limit). */
  monitorOcspPerSecond: number;
  /** Log level for pino (silent, error, warn, info, debug). */
  logLevel: string;
  /** The local holder agent the ceremony page offers for the same-device flow ('' to offer none). */
  agentUrl: string;
  /** Progress streams (`/interaction/{uid}/events`) one process serves per ceremony page and per client address; 0: no limit. */
  eventStreamsPerCeremony: number;
  eventStreamsPerAddress: number;
  /**
   * Peers whose X-Forwarded-For names the client (IP addresses or CIDR ranges of the reverse
   * proxies in front of the platform; JSON `trustedProxies`, or KAKUNIN_TRUSTED_PROXIES). From
   * anyone else the header is ignored. URLs never come from request headers: always from publicUrl.
   */
  trustedProxies: string[];
  /** The whole request (headers and body) must arrive within this; headers alone within headersTimeoutSeconds. */
  requestTimeoutSeconds: number;
  headersTimeoutSeconds: number;
  /** An idle kept-alive connection is closed after this. */
  keepAliveTimeoutSeconds: number;
  /** Open connections per client address (trusted proxies excepted); 0: no limit. */
  maxConnectionsPerAddress: number;
  /**
   * The records log's origin (first line of every checkpoint, and the name of its key), fixed when
   * the log key is created; default: the public URL without its scheme, plus /records.
   */
  recordsLogOrigin?: string;
  /** Pause between two runs of the records log's sequencer; 0 disables it in this process. */
  logSequencerIntervalMs: number;
}

export type MonitorMode = 'crl' | 'ocsp';

export const DEFAULTS: ServerConfig = {
  mode: 'production',
  host: '127.0.0.1',
  port: 8080,
  dataDir: DEFAULT_DATA_DIR,
  ceremonyTtlSeconds: 300,
  monitorIntervalSeconds: 3600,
  monitorOcspPerSecond: 50,
  authFailuresPerClient: 10,
  authFailuresPerAddress: 30,
  authFailureWindowSeconds: 60,
  ocsp: { responders: {}, timeoutMs: 5000, maxResponseAgeSeconds: 86_400, requireNonce: true },
  // identity: 犯収法 verification always asks fresh. login: the 利用者証明用 certificate is revoked only
  // on loss, renewal or death (never on a move), and the alternative source, the CRL, is a day old.
  ocspReuseSeconds: { identity: 0, login: 300 },
  logSequencerIntervalMs: 200,
  crlSources: [],
  crlRefreshAheadSeconds: 3600,
  crlGraceSeconds: 3600,
  crlRetrySeconds: 300,
  logLevel: 'info',
  agentUrl: 'http://127.0.0.1:8931',
  eventStreamsPerCeremony: 4,
  eventStreamsPerAddress: 20,
  trustedProxies: [],
  requestTimeoutSeconds: 30,
  headersTimeoutSeconds: 10,
  keepAliveTimeoutSeconds: 72,
  maxConnectionsPerAddress: 100,
};

const ENV: Record<string, keyof ServerConfig> = {
  KAKUNIN_MODE: 'mode',
  KAKUNIN_HOST: 'host',
  KAKUNIN_PORT: 'port',
  KAKUNIN_PUBLIC_URL: 'publicUrl',
  KAKUNIN_DATA_DIR: 'dataDir',
  DATABASE_URL: 'databaseUrl',
  KAKUNIN_ADMIN_TOKEN: 'adminToken',
  KAKUNIN_MASTER_KEY: 'masterKey',
  KAKUNIN_MASTER_KEY_FILE: 'masterKeyFile',
  KAKUNIN_AUTH_FAILURES_PER_CLIENT: 'authFailuresPerClient',
  KAKUNIN_AUTH_FAILURES_PER_ADDRESS: 'authFailuresPerAddress',
  KAKUNIN_AUTH_FAILURE_WINDOW_SECONDS: 'authFailureWindowSeconds',
  KAKUNIN_OCSP_URL: 'ocspUrl',
  KAKUNIN_CRL_DIR: 'crlDir',
  KAKUNIN_MUNICIPALITY_CODES_FILE: 'municipalityCodesFile',
  KAKUNIN_CREDENTIAL_OFFER_CLIENTS: 'credentialOfferClients',
  KAKUNIN_CRL_SOURCES: 'crlSources',
  KAKUNIN_CRL_REFRESH_AHEAD_SECONDS: 'crlRefreshAheadSeconds',
  KAKUNIN_CRL_GRACE_SECONDS: 'crlGraceSeconds',
  KAKUNIN_CRL_RETRY_SECONDS: 'crlRetrySeconds',
  KAKUNIN_LINKAGE_URL: 'linkageUrl',
  KAKUNIN_SIM_SERVICES_URL: 'simServicesUrl',
  KAKUNIN_CEREMONY_TTL_SECONDS: 'ceremonyTtlSeconds',
  KAKUNIN_MONITOR_INTERVAL_SECONDS: 'monitorIntervalSeconds',
  KAKUNIN_MONITOR_MODE: 'monitorMode',
  KAKUNIN_MONITOR_OCSP_PER_SECOND: 'monitorOcspPerSecond',
  KAKUNIN_LOG_LEVEL: 'logLevel',
  KAKUNIN_AGENT_URL: 'agentUrl',
  KAKUNIN_EVENT_STREAMS_PER_CEREMONY: 'eventStreamsPerCeremony',
  KAKUNIN_EVENT_STREAMS_PER_ADDRESS: 'eventStreamsPerAddress',
  KAKUNIN_TRUSTED_PROXIES: 'trustedProxies',
  KAKUNIN_REQUEST_TIMEOUT_SECONDS: 'requestTimeoutSeconds',
  KAKUNIN_HEADERS_TIMEOUT_SECONDS: 'headersTimeoutSeconds',
  KAKUNIN_KEEP_ALIVE_TIMEOUT_SECONDS: 'keepAliveTimeoutSeconds',
  KAKUNIN_MAX_CONNECTIONS_PER_ADDRESS: 'maxConnectionsPerAddress',
  KAKUNIN_RECORDS_LOG_ORIGIN: 'recordsLogOrigin',
  KAKUNIN_LOG_SEQUENCER_INTERVAL_MS: 'logSequencerIntervalMs',
};

const NUMERIC = new Set<keyof ServerConfig>([
  'port',
  'ceremonyTtlSeconds',
  'monitorIntervalSeconds',
  'monitorOcspPerSecond',
  'eventStreamsPerCeremony',
  'eventStreamsPerAddress',
  'crlRefreshAheadSeconds',
  'crlGraceSeconds',
  'crlRetrySeconds',
  'authFailuresPerClient',
  'authFailuresPerAddress',
  'authFailureWindowSeconds',
  'requestTimeoutSeconds',
  'headersTimeoutSeconds',
  'keepAliveTimeoutSeconds',
  'maxConnectionsPerAddress',
  'logSequencerIntervalMs',
]);

export class ConfigError extends Error {
  readonly code = 'CONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

// The JSON file (KAKUNIN_CONFIG): every key of ServerConfig and nothing else, at every level, so
// a misspelt key is an error instead of a silently ignored setting. The schema checks names and JSON
// types; loadConfig checks values (ranges, URLs, modes) for every source alike. `must` words the
// refusal of a wrong type where "must be a <type>" would say less.
const str = Type.Optional(Type.String());
const num = Type.Optional(Type.Number());
const closed = { additionalProperties: false } as const;
const CONFIG_FILE_KEYS = {
  mode: str,
  host: str,
  port: num,
  publicUrl: str,
  dataDir: str,
  databaseUrl: str,
  adminToken: str,
  masterKey: str,
  masterKeyFile: str,
  authFailuresPerClient: num,
  authFailuresPerAddress: num,
  authFailureWindowSeconds: num,
  ocspUrl: str,
  ocsp: Type.Optional(
    Type.Object(
      {
        responders: Type.Optional(Type.Record(Type.String(), Type.String(), { must: 'map issuer labels to URLs' })),
        timeoutMs: num,
        maxResponseAgeSeconds: num,
        requireNonce: Type.Optional(Type.Boolean()),
      },
      closed,
    ),
  ),
  ocspReuseSeconds: Type.Optional(Type.Object({ login: num, identity: num }, closed)),
  crlDir: str,
  municipalityCodesFile: str,
  credentialOfferClients: Type.Optional(Type.Array(Type.String())),
  crlSources: Type.Optional(Type.Array(Type.Object({ url: str, file: str, issuer: str }, closed))),
  crlRefreshAheadSeconds: num,
  crlGraceSeconds: num,
  crlRetrySeconds: num,
  linkageUrl: str,
  trustAnchors: Type.Optional(Type.Array(Type.Object({ file: str, sha256: str, label: str }, closed))),
  simServicesUrl: str,
  ceremonyTtlSeconds: num,
  monitorIntervalSeconds: num,
  monitorMode: str,
  monitorOcspPerSecond: num,
  logLevel: str,
  agentUrl: str,
  eventStreamsPerCeremony: num,
  eventStreamsPerAddress: num,
  trustedProxies: Type.Optional(Type.Array(Type.String())),
  requestTimeoutSeconds: num,
  headersTimeoutSeconds: num,
  keepAliveTimeoutSeconds: num,
  maxConnectionsPerAddress: num,
  recordsLogOrigin: str,
  logSequencerIntervalMs: num,
} satisfies Record<keyof ServerConfig, TSchema>;
export const ConfigFileSchema = Type.Object(CONFIG_FILE_KEYS, closed);
export type ConfigFile = Static<typeof ConfigFileSchema>;

/** The configuration file's settings, or a ConfigError naming the first unknown key or wrong type and its path. */
export function parseConfigFile(text: string, file: string): ConfigFile {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`${file} is not JSON: ${(e as Error).message}`);
  }
  if (Value.Check(ConfigFileSchema, value)) return value;
  const errors = Value.Errors(ConfigFileSchema, value);
  // Unknown keys first: a misspelt key also leaves its intended setting at its default.
  const unknown = errors.find((e) => e.keyword === 'additionalProperties');
  if (unknown) {
    const at = pointer(unknown.instancePath);
    const key = (unknown.params as { additionalProperties: string[] }).additionalProperties[0]!;
    const known = Object.keys(schemaAt(ConfigFileSchema, at)?.properties ?? {});
    const near = closest(key, known);
    throw new ConfigError(
      `${file}: ${at.length ? pathName(at) : 'the configuration'} has an unknown key "${key}"` +
        (near ? ` (did you mean "${near}"?)` : ` (known: ${known.join(', ')})`),
    );
  }
  const first = errors[0]!;
  const at = pointer(first.instancePath);
  const schema = schemaAt(ConfigFileSchema, at);
  const got = at.reduce<unknown>((v, k) => (v as Record<string, unknown>)[k], value);
  throw new ConfigError(
    `${file}: ${at.length ? pathName(at) : 'the configuration'} must ${schema ? mustOf(schema) : 'not be there'} (got ${JSON.stringify(got)})`,
  );
}

const pointer = (p: string): string[] =>
  p
    .split('/')
    .slice(1)
    .map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'));
const pathName = (at: string[]): string =>
  at.map((k, i) => (/^\d+$/.test(k) ? `[${k}]` : i === 0 ? k : `.${k}`)).join('');

type SchemaNode = TSchema & {
  must?: string;
  type?: string;
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  patternProperties?: Record<string, SchemaNode>;
};

/** The schema of the value at a path of the file (undefined: no such key). */
function schemaAt(root: TSchema, at: string[]): SchemaNode | undefined {
  let node: SchemaNode | undefined = root;
  for (const k of at) {
    if (!node) return undefined;
    node =
      node.type === 'array' ? node.items : (node.properties?.[k] ?? Object.values(node.patternProperties ?? {})[0]);
  }
  return node;
}

const MUST: Record<string, string> = {
  string: 'be a string',
  number: 'be a number',
  boolean: 'be true or false',
  array: 'be a list',
  object: 'be an object',
};
const mustOf = (s: SchemaNode): string => s.must ?? MUST[s.type ?? ''] ?? 'have another type';

/** The known key nearest to a misspelt one (at most two edits, or a third of its letters, off), if any. */
function closest(key: string, known: readonly string[]): string | undefined {
  const distance = (a: string, b: string): number => {
    let row = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
      const next = [i];
      for (let j = 1; j <= b.length; j++)
        next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      row = next;
    }
    return row[b.length]!;
  };
  const lower = key.toLowerCase();
  const best = known.map((k) => ({ k, d: distance(lower, k.toLowerCase()) })).sort((x, y) => x.d - y.d)[0];
  return best && best.d <= Math.max(2, Math.floor(key.length / 3)) ? best.k : undefined;
}

export function loadConfig(overrides: Partial<ServerConfig> = {}, env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const fromFile: ConfigFile = env.KAKUNIN_CONFIG
    ? parseConfigFile(readFileSync(env.KAKUNIN_CONFIG, 'utf8'), env.KAKUNIN_CONFIG)
    : {};
  const fromEnv: Record<string, unknown> = {};
  for (const [name, key] of Object.entries(ENV))
    if (env[name] !== undefined && env[name] !== '') fromEnv[key] = env[name];
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  const merged = { ...DEFAULTS, ...fromFile, ...fromEnv, ...defined } as Record<string, unknown>;
  for (const key of NUMERIC) {
    const n = Number(merged[key]);
    if (!Number.isInteger(n) || n < 0)
      throw new ConfigError(`${key} must be a whole number ≥ 0 (got "${String(merged[key])}")`);
    merged[key] = n;
  }
  const config = merged as unknown as ServerConfig;
  if (config.mode !== 'sandbox' && config.mode !== 'production')
    throw new ConfigError(`mode must be sandbox or production (got "${String(config.mode)}")`);
  if (config.port > 65535) throw new ConfigError(`port ${config.port} is out of range`);
  if (config.monitorMode !== undefined && config.monitorMode !== 'crl' && config.monitorMode !== 'ocsp')
    throw new ConfigError(`monitorMode must be crl or ocsp (got "${String(config.monitorMode)}")`);
  if (config.crlRetrySeconds === 0) throw new ConfigError('crlRetrySeconds must be at least 1');
  if (config.authFailureWindowSeconds === 0) throw new ConfigError('authFailureWindowSeconds must be at least 1');
  // 0 would mean "no timeout" to Node.js: exactly what these settings exist to prevent.
  for (const key of ['requestTimeoutSeconds', 'headersTimeoutSeconds', 'keepAliveTimeoutSeconds'] as const)
    if (config[key] === 0) throw new ConfigError(`${key} must be at least 1`);
  if (config.headersTimeoutSeconds > config.requestTimeoutSeconds)
    throw new ConfigError(
      `headersTimeoutSeconds (${config.headersTimeoutSeconds}) must not exceed requestTimeoutSeconds (${config.requestTimeoutSeconds})`,
    );
  // C2SP: a key name (the origin) is visible text without '+' or white space.
  if (config.recordsLogOrigin !== undefined && !/^[!-*,-~]+$/.test(config.recordsLogOrigin))
    throw new ConfigError(
      `recordsLogOrigin must be printable ASCII without spaces or '+', e.g. "kakunin.example.jp/records" (got "${config.recordsLogOrigin}")`,
    );
  config.trustedProxies = parseTrustedProxies(merged.trustedProxies);
  const offerClients = merged.credentialOfferClients;
  if (typeof offerClients === 'string') config.credentialOfferClients = offerClients.split(/[\s,]+/).filter(Boolean);
  else if (offerClients !== undefined && !Array.isArray(offerClients))
    throw new ConfigError('credentialOfferClients must be a list of client ids (or "*")');
  if (config.masterKeyFile) config.masterKeyFile = resolve(config.masterKeyFile);
  config.crlSources = parseCrlSources(merged.crlSources);
  config.ocsp = ocspConfig([DEFAULTS.ocsp, fromFile.ocsp, ocspEnv(env), overrides.ocsp]);
  config.ocspReuseSeconds = reuseConfig([
    DEFAULTS.ocspReuseSeconds,
    fromFile.ocspReuseSeconds,
    reuseEnv(env),
    overrides.ocspReuseSeconds,
  ]);
  config.dataDir = resolve(config.dataDir);
  if (config.mode === 'production') {
    const missing = [
      !config.databaseUrl && 'DATABASE_URL',
      !config.ocspUrl &&
        Object.keys(config.ocsp.responders).length === 0 &&
        !config.crlDir &&
        config.crlSources.length === 0 &&
        'KAKUNIN_OCSP_URL or KAKUNIN_CRL_DIR (or ocsp.responders, crlSources / KAKUNIN_CRL_SOURCES)',
      !config.linkageUrl && 'KAKUNIN_LINKAGE_URL',
      !config.publicUrl && 'KAKUNIN_PUBLIC_URL',
    ].filter(Boolean);
    if (missing.length)
      throw new ConfigError(
        `production mode refuses to start without ${missing.join(', ')} (use --sandbox to try Kakunin with the simulator)`,
      );
  }
  return config;
}

/**
 * `crlSources` from the config file (an array of `{ url | file, issuer? }`) or from KAKUNIN_CRL_SOURCES:
 * the same JSON, or URLs and file paths separated by commas or spaces, each optionally prefixed by
 * `<issuer label>=` (e.g. `authca03=https://crl.example.jp/authca03.crl`).
 */
export function parseCrlSources(value: unknown): CrlSourceConfig[] {
  let list: unknown = value ?? [];
  if (typeof list === 'string') {
    const text = list.trim();
    list = text.startsWith('[')
      ? parseJson(text)
      : listItems(text).map((item) => {
          const m = /^([A-Za-z0-9_-]+)=(.+)$/.exec(item);
          const [issuer, where] = m ? [m[1], m[2]!] : [undefined, item];
          return { ...(/^https?:\/\//i.test(where) ? { url: where } : { file: where }), ...(issuer ? { issuer } : {}) };
        });
  }
  if (!Array.isArray(list)) throw new ConfigError('crlSources must be a list of { "url" | "file", "issuer"? }');
  return list.map((entry: unknown, i) => {
    const e = (entry ?? {}) as Record<string, unknown>;
    const where = `crlSources[${i}]`;
    if (typeof entry !== 'object' || Array.isArray(entry))
      throw new ConfigError(`${where} must be an object { "url" | "file", "issuer"? }`);
    const unknownKeys = Object.keys(e).filter((k) => !['url', 'file', 'issuer'].includes(k));
    if (unknownKeys.length) throw new ConfigError(`${where} has unknown keys ${unknownKeys.join(', ')}`);
    if ((e.url === undefined) === (e.file === undefined))
      throw new ConfigError(`${where} needs exactly one of "url" or "file"`);
    if (e.issuer !== undefined && (typeof e.issuer !== 'string' || !e.issuer))
      throw new ConfigError(`${where}.issuer must be a trust anchor label`);
    if (e.url !== undefined) {
      if (typeof e.url !== 'string' || !/^https?:\/\/./i.test(e.url))
        throw new ConfigError(`${where}.url must be an http(s) URL (got "${String(e.url)}")`);
      return { url: e.url, ...(e.issuer ? { issuer: e.issuer as string } : {}) };
    }
    if (typeof e.file !== 'string' || !e.file) throw new ConfigError(`${where}.file must be a path`);
    return { file: resolve(e.file), ...(e.issuer ? { issuer: e.issuer as string } : {}) };
  });
}

/**
 * `trustedProxies`: a list of IP addresses and CIDR ranges (`10.0.0.5`, `10.0.0.0/24`, `fd00::/8`),
 * from the config file as an array or from KAKUNIN_TRUSTED_PROXIES separated by commas or spaces.
 */
export function parseTrustedProxies(value: unknown): string[] {
  const list = typeof value === 'string' ? listItems(value) : (value ?? []);
  if (!Array.isArray(list)) throw new ConfigError('trustedProxies must be a list of IP addresses or CIDR ranges');
  return list.map((entry: unknown) => {
    const [address, prefix, ...rest] = String(entry).split('/');
    const family = isIP(address ?? '');
    const bits = family === 4 ? 32 : 128;
    const validPrefix = prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= bits);
    if (typeof entry !== 'string' || family === 0 || !validPrefix || rest.length)
      throw new ConfigError(
        `trustedProxies: "${String(entry)}" is not an IP address or CIDR range (e.g. 10.0.0.5 or 10.0.0.0/24)`,
      );
    return entry;
  });
}

/** The items of a list given in one environment variable: separated by commas or white space. */
function listItems(text: string): string[] {
  return text.split(/[\s,]+/).filter(Boolean);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new ConfigError(`crlSources is not valid JSON: ${(e as Error).message}`);
  }
}

/** One nested section from its layers (defaults < file < environment < overrides); unknown keys are errors (typos). */
function section(name: string, known: readonly string[], layers: readonly unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const layer of layers) {
    if (layer === undefined) continue;
    if (typeof layer !== 'object' || layer === null || Array.isArray(layer))
      throw new ConfigError(`${name} must be an object`);
    for (const [key, value] of Object.entries(layer)) {
      if (!known.includes(key))
        throw new ConfigError(`${name} has an unknown key "${key}" (known: ${known.join(', ')})`);
      if (value !== undefined) out[key] = value;
    }
  }
  return out;
}

function wholeNumber(name: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max)
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max} (got "${String(value)}")`);
  return n;
}

const OCSP_KEYS = ['responders', 'timeoutMs', 'maxResponseAgeSeconds', 'requireNonce'] as const;

function ocspEnv(env: NodeJS.ProcessEnv): Partial<Record<(typeof OCSP_KEYS)[number], unknown>> {
  const set = (name: string): string | undefined =>
    env[name] === undefined || env[name] === '' ? undefined : env[name];
  const responders = set('KAKUNIN_OCSP_RESPONDERS');
  return {
    // `authca03=https://…,signca03=https://…`; unset leaves the file's responders in place.
    responders:
      responders === undefined
        ? undefined
        : listItems(responders).reduce<Record<string, string>>((map, item) => {
            const m = /^([A-Za-z0-9_.-]+)=(.+)$/.exec(item);
            if (!m) throw new ConfigError(`KAKUNIN_OCSP_RESPONDERS: "${item}" is not <issuer label>=<URL>`);
            return { ...map, [m[1]!]: m[2]! };
          }, {}),
    timeoutMs: set('KAKUNIN_OCSP_TIMEOUT_MS'),
    maxResponseAgeSeconds: set('KAKUNIN_OCSP_MAX_RESPONSE_AGE_SECONDS'),
    requireNonce: set('KAKUNIN_OCSP_REQUIRE_NONCE'),
  };
}

function ocspConfig(layers: readonly unknown[]): OcspConfig {
  const o = section('ocsp', OCSP_KEYS, layers);
  const responders = o.responders;
  if (typeof responders !== 'object' || responders === null || Array.isArray(responders))
    throw new ConfigError('ocsp.responders must map issuer labels to URLs');
  for (const [label, url] of Object.entries(responders)) {
    if (typeof url !== 'string' || !/^https?:\/\/./i.test(url))
      throw new ConfigError(`ocsp.responders.${label} must be an http(s) URL (got "${String(url)}")`);
  }
  const nonce = o.requireNonce;
  const requireNonce =
    nonce === true || nonce === 'true' || nonce === '1'
      ? true
      : nonce === false || nonce === 'false' || nonce === '0'
        ? false
        : undefined;
  if (requireNonce === undefined)
    throw new ConfigError(`ocsp.requireNonce must be true or false (got "${String(nonce)}")`);
  return {
    responders: { ...(responders as Record<string, string>) },
    timeoutMs: wholeNumber('ocsp.timeoutMs', o.timeoutMs, 1),
    maxResponseAgeSeconds: wholeNumber('ocsp.maxResponseAgeSeconds', o.maxResponseAgeSeconds, 1),
    requireNonce,
  };
}

const reuseEnv = (env: NodeJS.ProcessEnv): Record<CeremonyKind, string | undefined> => ({
  login: env.KAKUNIN_OCSP_REUSE_LOGIN_SECONDS || undefined,
  identity: env.KAKUNIN_OCSP_REUSE_IDENTITY_SECONDS || undefined,
});

function reuseConfig(layers: readonly unknown[]): Record<CeremonyKind, number> {
  const o = section('ocspReuseSeconds', CEREMONY_KINDS, layers);
  return {
    login: wholeNumber('ocspReuseSeconds.login', o.login, 0, MAX_OCSP_REUSE_SECONDS),
    identity: wholeNumber('ocspReuseSeconds.identity', o.identity, 0, MAX_OCSP_REUSE_SECONDS),
  };
}
