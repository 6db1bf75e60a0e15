import { Logger as WorkerLogger, run, runMigrations, type Runner, type TaskList } from 'graphile-worker';
import type pg from 'pg';
import type { Logger } from '../logging.ts';
import type { AuthService } from '../services/auth.ts';
import { purgeExpiredSessionsTask } from './PurgeExpiredSessionsTask.ts';

/**
 * Tether's job queue: graphile-worker on the same Postgres, inside the Tether process. Jobs are
 * claimed with SKIP LOCKED, so any number of instances share the work; a job whose instance dies is
 * retried after its lock expires.
 */
export interface JobQueue {
  stop(): Promise<void>;
  depth(): Promise<number>;
}

export const crontab = [
  // Every 10 minutes; if no instance ran for a while, one catch-up run (fill=1h) and no more.
  '*/10 * * * * purge_expired_sessions ?fill=1h&max=1',
].join('\n');

export function taskList(auth: AuthService): TaskList {
  return { purge_expired_sessions: purgeExpiredSessionsTask(auth) };
}

function workerLogger(logger: Logger): WorkerLogger {
  return new WorkerLogger((scope) => (level, message, meta) => {
    const child = logger.child({ component: 'jobs', task: scope.taskIdentifier, jobId: scope.jobId });
    const method = level === 'error' ? 'error' : level === 'warning' ? 'warn' : level === 'info' ? 'info' : 'debug';
    child[method]({ meta }, message);
  });
}

export async function migrateQueue(pool: pg.Pool, logger: Logger): Promise<void> {
  await runMigrations({ pgPool: pool, logger: workerLogger(logger) });
}

export async function startQueue(options: {
  pool: pg.Pool;
  logger: Logger;
  auth: AuthService;
  concurrency: number;
  enabled: boolean;
}): Promise<JobQueue> {
  const { pool, logger } = options;
  const depth = async (): Promise<number> => {
    const result = await pool.query<{ n: string }>('select count(*) as n from graphile_worker.jobs where locked_at is null');
    return Number(result.rows[0]?.n ?? 0);
  };
  if (!options.enabled) return { stop: async () => undefined, depth };
  const runner: Runner = await run({
    pgPool: pool,
    concurrency: options.concurrency,
    noHandleSignals: true, // Tether's own shutdown stops the runner in order
    pollInterval: 2000,
    taskList: taskList(options.auth),
    crontab,
    logger: workerLogger(logger),
  });
  return {
    depth,
    // Waits for running jobs to finish; new jobs are not picked up meanwhile.
    stop: () => runner.stop(),
  };
}
