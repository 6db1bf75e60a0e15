import { Logger as WorkerLogger, quickAddJob, run, runMigrations, type Runner, type TaskList } from 'graphile-worker';
import type pg from 'pg';
import type { KeyManagement } from '../keys/keyManagement.ts';
import type { Logger } from '../logging.ts';
import type { AuthService } from '../services/auth.ts';
import { purgeExpiredSessionsTask } from './PurgeExpiredSessionsTask.ts';
import { REWRAP_DATA_KEYS, rewrapDataKeysTask } from './RewrapDataKeysTask.ts';
import { DELIVER_WEBHOOK, deliverWebhookTask } from './DeliverWebhookTask.ts';
import { REFRESH_DUE_CONNECTIONS, refreshDueConnectionsTask } from './RefreshDueConnectionsTask.ts';
import type { TokenCustody } from '../services/tokenCustody.ts';
import type { WebhookDeliverer } from '../services/webhookDelivery.ts';

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
  // Catch-up for rotations whose job was lost or failed for good; a no-op when all keys are current.
  `17 * * * * ${REWRAP_DATA_KEYS} ?max=1&jobKey=${REWRAP_DATA_KEYS}`,
  // Tokens that scheduled work needs, and refresh tokens near their expiry (no catch-up: the next run covers it).
  `*/5 * * * * ${REFRESH_DUE_CONNECTIONS} ?max=1&jobKey=${REFRESH_DUE_CONNECTIONS}`,
].join('\n');

export interface TaskDependencies {
  auth: AuthService;
  keys: KeyManagement;
  webhookDeliverer: WebhookDeliverer;
  custody: TokenCustody;
}

export function taskList(deps: TaskDependencies): TaskList {
  return {
    purge_expired_sessions: purgeExpiredSessionsTask(deps.auth),
    [REWRAP_DATA_KEYS]: rewrapDataKeysTask(deps.keys),
    [DELIVER_WEBHOOK]: deliverWebhookTask(deps.webhookDeliverer),
    [REFRESH_DUE_CONNECTIONS]: refreshDueConnectionsTask(deps.custody),
  };
}

/**
 * Queues the rewrap job; one pending job at most (job key), so repeated rotations queue one run.
 * Works from any process with the database (the CLI too): whichever instance runs workers picks it up.
 */
export async function queueRewrap(pool: pg.Pool): Promise<void> {
  await quickAddJob({ pgPool: pool }, REWRAP_DATA_KEYS, {}, { jobKey: REWRAP_DATA_KEYS, jobKeyMode: 'replace', maxAttempts: 25 });
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
  keys: KeyManagement;
  webhookDeliverer: WebhookDeliverer;
  custody: TokenCustody;
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
    taskList: taskList({ auth: options.auth, keys: options.keys, webhookDeliverer: options.webhookDeliverer, custody: options.custody }),
    crontab,
    logger: workerLogger(logger),
  });
  return {
    depth,
    // Waits for running jobs to finish; new jobs are not picked up meanwhile.
    stop: () => runner.stop(),
  };
}
