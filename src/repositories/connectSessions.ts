import type { Queryable } from '../db/database.ts';
import type { ConnectSession, ConnectSessionsTable } from '../db/schema.ts';
import type { Insertable } from 'kysely';

export const connectSessionsRepository = {
  async create(db: Queryable, session: Insertable<ConnectSessionsTable>): Promise<void> {
    await db.insertInto('connect_sessions').values(session).execute();
  },
  /** A session whose connect URL has not been opened yet and has not expired. */
  findOpenable(db: Queryable, tokenHash: Buffer): Promise<ConnectSession | undefined> {
    return db
      .selectFrom('connect_sessions')
      .selectAll()
      .where('token_hash', '=', tokenHash)
      .where('opened_at', 'is', null)
      .where('expires_at', '>', new Date())
      .executeTakeFirst();
  },
  /** Opens the session once: the compare-and-set on `opened_at` makes the connect URL single use. */
  async markOpened(db: Queryable, id: string, values: { state_hash: Buffer; browser_hash: Buffer; code_verifier: Buffer; nonce: string | null }): Promise<boolean> {
    const result = await db
      .updateTable('connect_sessions')
      .set({ ...values, opened_at: new Date() })
      .where('id', '=', id)
      .where('opened_at', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  },
  /**
   * Consumes the session a callback's `state` names, exactly once (concurrent callbacks: one wins).
   * Returns the session and whether this call consumed it; an unknown state gives undefined.
   */
  async consumeByState(db: Queryable, stateHash: Buffer): Promise<{ session: ConnectSession; consumed: boolean } | undefined> {
    const consumed = await db
      .updateTable('connect_sessions')
      .set({ used_at: new Date() })
      .where('state_hash', '=', stateHash)
      .where('used_at', 'is', null)
      .returningAll()
      .executeTakeFirst();
    if (consumed) return { session: consumed, consumed: true };
    const used = await db.selectFrom('connect_sessions').selectAll().where('state_hash', '=', stateHash).executeTakeFirst();
    return used && { session: used, consumed: false };
  },
  /** Sessions are kept a day after expiry (to answer a late or replayed callback clearly), then purged. */
  async purgeExpired(db: Queryable, before: Date): Promise<number> {
    const result = await db.deleteFrom('connect_sessions').where('expires_at', '<', before).executeTakeFirst();
    return Number(result.numDeletedRows);
  },
};
