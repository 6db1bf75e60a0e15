import type { Task } from 'graphile-worker';
import type { AuthService } from '../services/auth.ts';

/** Deletes expired browser sessions and stale rate-limit windows. Runs from the crontab. */
export function purgeExpiredSessionsTask(auth: AuthService): Task {
  return async (_payload, helpers) => {
    const purged = await auth.purgeExpiredSessions();
    helpers.logger.info(`purged ${purged} expired sessions`);
  };
}
