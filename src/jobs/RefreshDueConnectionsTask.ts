import type { Task } from 'graphile-worker';
import type { TokenCustody } from '../services/tokenCustody.ts';

export const REFRESH_DUE_CONNECTIONS = 'refresh_due_connections';

/**
 * Keeps tokens that work will need usable (TokenCustody.refreshDue): access tokens of connections
 * that long-running work needs, expiring within the next 15 minutes (the task runs every 5), and
 * refresh tokens expiring within 7 days. Runs from the crontab, one instance at a time.
 */
export function refreshDueConnectionsTask(custody: TokenCustody): Task {
  return async (_payload, helpers) => {
    const run = await custody.refreshDue({ horizonMs: 15 * 60_000, refreshTokenHorizonMs: 7 * 24 * 3_600_000, limit: 1000 });
    if (run.due > 0) helpers.logger.info(`background refresh: ${run.refreshed} refreshed, ${run.needsReauth} need reauthorization, ${run.failed} failed of ${run.due} due`);
  };
}
