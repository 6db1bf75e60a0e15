import { sql } from 'kysely';
import type { Queryable } from '../db/database.ts';
import { isUuid } from '../db/uuid.ts';
import { userFromJson } from './users.ts';
import type { ApiKey, User } from '../db/schema.ts';

export const apiKeysRepository = {
  create(
    db: Queryable,
    key: { org_id: string; name: string; prefix: string; secret_hash: Buffer; created_by: string | null },
  ): Promise<ApiKey> {
    return db.insertInto('api_keys').values(key).returningAll().executeTakeFirstOrThrow();
  },
  list(db: Queryable, orgId: string, page: { after?: string; limit: number }): Promise<ApiKey[]> {
    let query = db.selectFrom('api_keys').selectAll().where('org_id', '=', orgId);
    if (page.after) query = query.where('id', '>', page.after);
    return query.orderBy('id').limit(page.limit).execute();
  },
  findById(db: Queryable, orgId: string, id: string): Promise<ApiKey | undefined> {
    return db.selectFrom('api_keys').selectAll().where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();
  },
  /**
   * One round trip for every API-key request: the live key with the `Tether-User` it acts for
   * (by id or external id, within the key's org; `user` is undefined when there is no such user).
   */
  async findActiveWithUser(db: Queryable, hash: Buffer, userRef: string): Promise<{ apiKey: ApiKey; user: User | undefined } | undefined> {
    const byId = isUuid(userRef) ? userRef : null;
    const row = await db
      .selectFrom('api_keys as k')
      .leftJoin('users as u', (join) =>
        join
          .onRef('u.org_id', '=', 'k.org_id')
          .on((eb) => (byId ? eb.or([eb('u.id', '=', byId), eb('u.external_id', '=', userRef)]) : eb('u.external_id', '=', userRef))),
      )
      .selectAll('k')
      .select(sql<User | null>`case when u.id is null then null else to_jsonb(u) end`.as('user'))
      .where('k.secret_hash', '=', hash)
      .where('k.revoked_at', 'is', null)
      // A ref that is one user's id and another's external id means the id.
      .orderBy(sql`u.id = ${byId}::uuid`, (ob) => ob.desc().nullsLast())
      .limit(1)
      .executeTakeFirst();
    if (!row) return undefined;
    const { user, ...apiKey } = row;
    return {
      apiKey,
      user: user ? userFromJson(user) : undefined,
    };
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
