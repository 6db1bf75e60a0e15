import { sql } from 'kysely';
import type { Queryable } from '../db/database.ts';
import { isUuid } from '../db/uuid.ts';
import type { NewUser, User, UserUpdate } from '../db/schema.ts';

/** A users row read through to_jsonb (timestamps arrive as strings). */
export function userFromJson(json: User & { created_at: string | Date; updated_at: string | Date }): User {
  return { ...json, created_at: new Date(json.created_at), updated_at: new Date(json.updated_at) };
}

// Every query is scoped by org_id: an id from another org simply is not found.
export const usersRepository = {
  create(db: Queryable, user: NewUser): Promise<User> {
    return db.insertInto('users').values(user).returningAll().executeTakeFirstOrThrow();
  },
  findById(db: Queryable, orgId: string, id: string): Promise<User | undefined> {
    return db.selectFrom('users').selectAll().where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();
  },
  findByEmail(db: Queryable, orgId: string, email: string): Promise<User | undefined> {
    return db
      .selectFrom('users')
      .selectAll()
      .where('org_id', '=', orgId)
      .where(sql<string>`lower(email)`, '=', email.toLowerCase())
      .executeTakeFirst();
  },
  /** The Tether-User header names a user by id or by the host app's external id. */
  findByIdOrExternalId(db: Queryable, orgId: string, ref: string): Promise<User | undefined> {
    return db
      .selectFrom('users')
      .selectAll()
      .where('org_id', '=', orgId)
      .where((eb) => (isUuid(ref) ? eb.or([eb('id', '=', ref), eb('external_id', '=', ref)]) : eb('external_id', '=', ref)))
      .orderBy(sql`id = ${isUuid(ref) ? ref : null}::uuid`, 'desc')
      .limit(1)
      .executeTakeFirst();
  },
  list(db: Queryable, orgId: string, page: { after?: string; limit: number }): Promise<User[]> {
    let query = db.selectFrom('users').selectAll().where('org_id', '=', orgId);
    if (page.after) query = query.where('id', '>', page.after);
    return query.orderBy('id').limit(page.limit).execute();
  },
  update(db: Queryable, orgId: string, id: string, changes: UserUpdate): Promise<User | undefined> {
    return db
      .updateTable('users')
      .set({ ...changes, updated_at: new Date() })
      .where('org_id', '=', orgId)
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
  },
  async delete(db: Queryable, orgId: string, id: string): Promise<boolean> {
    const result = await db.deleteFrom('users').where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();
    return result.numDeletedRows > 0n;
  },
  countAdmins(db: Queryable, orgId: string): Promise<number> {
    return db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('org_id', '=', orgId)
      .where('role', '=', 'admin')
      .executeTakeFirstOrThrow()
      .then((row) => Number(row.n));
  },
};
