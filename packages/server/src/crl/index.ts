// CRL sources kept fresh by a shared refresh job and installed into every process's lookups.
export {
  CrlRefresher,
  CrlRefreshError,
  CRL_REFRESH_QUEUE,
  type CrlRefresherOptions,
  type CrlRefreshSettings,
  type CrlInstalled,
  type CrlSourceState,
  type CrlSourceStatus,
} from './refresher.js';
export { crlSource, crlSourcesOf, crlDirSources, type CrlSource } from './sources.js';
export { registerCrlMetrics } from './metrics.js';
