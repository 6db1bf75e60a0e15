import type pg from 'pg';
import type { Config } from './config/schema.ts';
import { createDb, type Db } from './db/database.ts';
import { startEmbeddedPostgres } from './db/embedded.ts';
import { migrateToLatest, pendingMigrations } from './db/migrate.ts';
import { migrateQueue } from './jobs/queue.ts';
import type { Logger } from './logging.ts';

export interface OpenDatabase {
  db: Db;
  pool: pg.Pool;
  embedded: boolean;
  close(): Promise<void>;
}

/**
 * Opens Tether's database: `DATABASE_URL` when set, the embedded Postgres otherwise. With
 * `migrate`, applies pending migrations (Tether's and the job queue's) before returning.
 */
export async function openDatabase(
  config: Config,
  logger: Logger,
  options: { migrate: boolean; mode?: 'own' | 'attach-or-own'; poolSize?: number },
): Promise<OpenDatabase> {
  const embedded = config.databaseUrl
    ? undefined
    : await startEmbeddedPostgres({ dataDir: config.dataDir, port: config.embeddedPostgres.port, logger, mode: options.mode ?? 'own' });
  const url = config.databaseUrl ?? embedded!.url;
  const { db, pool } = createDb(url, { max: options.poolSize ?? 20 });
  const close = async () => {
    await db.destroy();
    await embedded?.stop();
  };
  try {
    if (options.migrate) {
      const applied = await migrateToLatest(db);
      if (applied.length > 0) logger.info({ applied }, 'database migrations applied');
      await migrateQueue(pool, logger);
    }
  } catch (err) {
    await close();
    throw err;
  }
  return { db, pool, embedded: embedded !== undefined, close };
}

export async function readinessProblems(db: Db): Promise<string[]> {
  try {
    const pending = await pendingMigrations(db);
    return pending.length === 0 ? [] : [`migrations pending: ${pending.join(', ')}`];
  } catch (err) {
    return [`database unreachable: ${(err as Error).message}`];
  }
}
