import { Migrator, type Kysely, type Migration, type MigrationResultSet } from 'kysely';
import * as m0001 from './migrations/0001_foundation.ts';
import * as m0002 from './migrations/0002_keys.ts';
import * as m0003 from './migrations/0003_provider_apps.ts';
import * as m0004 from './migrations/0004_connections.ts';
import * as m0005 from './migrations/0005_webhooks.ts';
import * as m0006 from './migrations/0006_provider_app_verification.ts';
import * as m0007 from './migrations/0007_keep_fresh.ts';

/**
 * The ordered list of migrations. Listed explicitly rather than read from the folder, so the set
 * that runs is exactly the set that was reviewed. A landed migration is never edited: add a new one.
 */
const migrations: Record<string, Migration> = {
  '0001_foundation': m0001,
  '0002_keys': m0002,
  '0003_provider_apps': m0003,
  '0004_connections': m0004,
  '0005_webhooks': m0005,
  '0006_provider_app_verification': m0006,
  '0007_keep_fresh': m0007,
};

export function migrator(db: Kysely<any>): Migrator {
  return new Migrator({ db, provider: { getMigrations: async () => migrations } });
}

export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  const result: MigrationResultSet = await migrator(db).migrateToLatest();
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error');
    throw new Error(`Migration ${failed?.migrationName ?? '(unknown)'} failed`, { cause: result.error });
  }
  return (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** Names of known migrations that this database has not applied yet (empty = current). */
export async function pendingMigrations(db: Kysely<any>): Promise<string[]> {
  const infos = await migrator(db).getMigrations();
  return infos.filter((m) => m.executedAt === undefined).map((m) => m.name);
}
