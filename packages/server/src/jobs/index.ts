// The PostgreSQL-backed job queue and its worker.
export {
  enqueue,
  claim,
  complete,
  fail,
  extendLock,
  getJob,
  findJobByDedupeKey,
  listJobs,
  purgeCompletedJobs,
  backoffMs,
  type Job,
  type JobPayload,
  type EnqueueOptions,
  type ClaimOptions,
  type FailOptions,
} from './queue.js';
export {
  Worker,
  silentLogger,
  type Logger,
  type JobContext,
  type JobHandler,
  type JobOutcome,
  type QueueConfig,
  type WorkerOptions,
} from './worker.js';
