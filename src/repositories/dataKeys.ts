import { sql } from 'kysely';
import type { Queryable } from '../db/database.ts';
import type { DataKey } from '../db/schema.ts';

type Purpose = DataKey['purpose'];

/** Data keys (wrapped) and the usage counts of key versions across encrypted columns. */
export const dataKeysRepository = {
  findById(db: Queryable, id: string): Promise<DataKey | undefined> {
    return db.selectFrom('data_keys').selectAll().where('id', '=', id).executeTakeFirst();
  },
  /** The newest generation of an org's data key for a purpose: the one new ciphertexts use. */
  findLatest(db: Queryable, orgId: string, purpose: Purpose): Promise<DataKey | undefined> {
    return db
      .selectFrom('data_keys')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('purpose', '=', purpose)
      .orderBy('generation', 'desc')
      .limit(1)
      .executeTakeFirst();
  },
  /** Inserts unless another process created this org's key for the purpose and generation first (then undefined). */
  insertIfAbsent(
    db: Queryable,
    key: { id: string; org_id: string; purpose: Purpose; generation: number; kek_version: number; wrapped_key: Buffer },
  ): Promise<DataKey | undefined> {
    return db
      .insertInto('data_keys')
      .values(key)
      .onConflict((oc) => oc.columns(['org_id', 'purpose', 'generation']).doNothing())
      .returningAll()
      .executeTakeFirst();
  },
  /** A batch of keys not yet wrapped under `kekVersion`, locked; other rewrapping processes skip them. */
  lockBatchNotUnder(db: Queryable, kekVersion: number, limit: number, exclude: readonly string[] = []): Promise<DataKey[]> {
    let query = db.selectFrom('data_keys').selectAll().where('kek_version', '<>', kekVersion);
    if (exclude.length > 0) query = query.where('id', 'not in', exclude);
    return query
      .orderBy('id')
      .limit(limit)
      .forUpdate()
      .skipLocked()
      .execute();
  },
  async rewrap(db: Queryable, id: string, from: number, to: { kekVersion: number; wrapped: Buffer }): Promise<boolean> {
    const result = await db
      .updateTable('data_keys')
      .set({ kek_version: to.kekVersion, wrapped_key: to.wrapped, rewrapped_at: sql<Date>`now()` })
      .where('id', '=', id)
      .where('kek_version', '=', from)
      .executeTakeFirst();
    return result.numUpdatedRows === 1n;
  },
  async countByKekVersion(db: Queryable): Promise<Map<number, number>> {
    const rows = await db
      .selectFrom('data_keys')
      .select(['kek_version', sql<number>`count(*)::int`.as('n')])
      .groupBy('kek_version')
      .execute();
    return new Map(rows.map((r) => [r.kek_version, r.n]));
  },
  /**
   * Rows of one encrypted column per KEK version, found through the data key id in each
   * ciphertext's header (bytes 2–17 of format 1, see src/keys/envelope.ts). Values whose header
   * names no known data key are counted under version 0: they can no longer be decrypted.
   */
  async countColumnByKekVersion(db: Queryable, column: { table: string; column: string }): Promise<Map<number, number>> {
    const value = sql.ref(`t.${column.column}`);
    const rows = await sql<{ kek_version: number; n: number }>`
      select coalesce(dk.kek_version, 0) as kek_version, count(*)::int as n
      from ${sql.table(column.table)} as t
      left join data_keys dk on dk.id = case when length(${value}) >= 17 and get_byte(${value}, 0) = 1
        then encode(substring(${value} from 2 for 16), 'hex')::uuid end
      where ${value} is not null
      group by 1`.execute(db);
    return new Map(rows.rows.map((r) => [r.kek_version, r.n]));
  },
};
