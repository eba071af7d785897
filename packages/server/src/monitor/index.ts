// Revocation monitor: watched signing certificates, events, the periodic re-check and the
// background jobs of a server process.
export {
  watchCertificate,
  listMonitored,
  type WatchInput,
  type MonitoredCertificate,
  type MonitoredStatus,
} from './watch.js';
export {
  insertEvent,
  getEvent,
  listEvents,
  newEventId,
  type PlatformEvent,
  type NewEvent,
  type EventType,
  type ListEventsOptions,
} from './events.js';
export { runRevocationMonitor, type MonitorPlatform, type MonitorOptions, type MonitorReport } from './monitor.js';
export {
  MONITOR_QUEUE,
  monitorSlot,
  scheduleRevocationMonitor,
  startMonitorScheduler,
  type MonitorScheduler,
} from './scheduler.js';
export {
  startBackgroundJobs,
  revocationMonitorQueue,
  type BackgroundJobs,
  type BackgroundJobsOptions,
} from './background.js';
export {
  CrlMonitor,
  CrlOlderThanProcessed,
  CRL_MONITOR_QUEUE,
  crlScope,
  type CrlToProcess,
  type CrlProcessReport,
  type CrlMonitorOptions,
} from './crl-monitor.js';
