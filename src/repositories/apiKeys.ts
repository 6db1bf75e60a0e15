import { sql } from 'kysely';
import type { Queryable } from '../db/database.ts';
import type { ApiKey } from '../db/schema.ts';

export const apiKeysRepository = {
  create(
    db: Queryable,
    key: { org_id: string; name: string; prefix: string; secret_hash: Buffer; created_by: string | null },
  ): Promise<ApiKey> {
    return db.insertInto('api_keys').values(key).returningAll().executeTakeFirstOrThrow();
  },
  list(db: Queryable, orgId: string): Promise<ApiKey[]> {
    return db.selectFrom('api_keys').selectAll().where('org_id', '=', orgId).orderBy('created_at').orderBy('id').execute();
  },
  findById(db: Queryable, orgId: string, id: string): Promise<ApiKey | undefined> {
    return db.selectFrom('api_keys').selectAll().where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();
  },
  findActiveByHash(db: Queryable, hash: Buffer): Promise<ApiKey | undefined> {
    return db.selectFrom('api_keys').selectAll().where('secret_hash', '=', hash).where('revoked_at', 'is', null).executeTakeFirst();
  },
  revoke(db: Queryable, orgId: string, id: string): Promise<ApiKey | undefined> {
    return db
      .updateTable('api_keys')
      .set({ revoked_at: sql<Date>`coalesce(revoked_at, now())` })
      .where('org_id', '=', orgId)
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
  },
  /**
   * Last-used time is kept to the minute: writing it on every request would turn each read into a
   * write. The condition makes concurrent requests of the same minute no-ops.
   */
  async touch(db: Queryable, id: string): Promise<void> {
    await db
      .updateTable('api_keys')
      .set({ last_used_at: sql<Date>`now()` })
      .where('id', '=', id)
      .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', sql<Date>`now() - interval '1 minute'`)]))
      .execute();
  },
};
