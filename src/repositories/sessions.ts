import { sql } from 'kysely';
import type { Queryable } from '../db/database.ts';
import type { Session } from '../db/schema.ts';

export const sessionsRepository = {
  async create(db: Queryable, session: Omit<Session, 'created_at'>): Promise<void> {
    await db.insertInto('sessions').values(session).execute();
  },
  findLive(db: Queryable, idHash: Buffer): Promise<Session | undefined> {
    return db.selectFrom('sessions').selectAll().where('id_hash', '=', idHash).where('expires_at', '>', sql<Date>`now()`).executeTakeFirst();
  },
  async delete(db: Queryable, idHash: Buffer): Promise<void> {
    await db.deleteFrom('sessions').where('id_hash', '=', idHash).execute();
  },
  async deleteForUser(db: Queryable, orgId: string, userId: string): Promise<void> {
    await db.deleteFrom('sessions').where('org_id', '=', orgId).where('user_id', '=', userId).execute();
  },
  /** Deletes up to `batch` expired sessions; returns how many went. */
  async purgeExpired(db: Queryable, batch = 10_000): Promise<number> {
    const result = await sql<{ n: string }>`
      with gone as (
        delete from sessions where id_hash in (
          select id_hash from sessions where expires_at <= now() limit ${batch}
        ) returning 1
      ) select count(*) as n from gone`.execute(db);
    return Number(result.rows[0]?.n ?? 0);
  },
};
