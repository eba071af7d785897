// Before each test file, in the worker that runs it (workers run file after file, keeping their
// modules): the simulator's key pool starts again, so keys are unique within a file, and the pool
// serves every file instead of running out in each worker after the first few sandboxes.
import { rewindKeyPool } from '@kakunin/sim';

rewindKeyPool();
