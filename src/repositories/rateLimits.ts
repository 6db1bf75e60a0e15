import { sql } from 'kysely';
import type { Queryable } from '../db/database.ts';

/**
 * Fixed-window counters in Postgres, so every Tether instance sees the same count.
 */
export const rateLimitsRepository = {
  /** Adds one to `key`'s window and returns the count and when the window ends. */
  async hit(db: Queryable, key: string, windowSeconds: number): Promise<{ count: number; resetsAt: Date }> {
    const row = await sql<{ count: number; window_start: Date }>`
      insert into rate_limits (key, window_start, count) values (${key}, now(), 1)
      on conflict (key) do update set
        count = case when rate_limits.window_start <= now() - make_interval(secs => ${windowSeconds}) then 1 else rate_limits.count + 1 end,
        window_start = case when rate_limits.window_start <= now() - make_interval(secs => ${windowSeconds}) then now() else rate_limits.window_start end
      returning count, window_start`.execute(db);
    const { count, window_start } = row.rows[0]!;
    return { count, resetsAt: new Date(window_start.getTime() + windowSeconds * 1000) };
  },
  /** Gives back one hit of `key`'s window (an attempt that turned out not to count). */
  async release(db: Queryable, key: string): Promise<void> {
    await db.updateTable('rate_limits').set({ count: sql<number>`greatest(count - 1, 0)` }).where('key', '=', key).execute();
  },
  async clear(db: Queryable, key: string): Promise<void> {
    await db.deleteFrom('rate_limits').where('key', '=', key).execute();
  },
  async purgeOlderThan(db: Queryable, seconds: number): Promise<void> {
    await db.deleteFrom('rate_limits').where('window_start', '<', sql<Date>`now() - make_interval(secs => ${seconds})`).execute();
  },
};
