import type { Queryable } from '../db/database.ts';
import type { Group } from '../db/schema.ts';

export const groupsRepository = {
  create(db: Queryable, group: { org_id: string; name: string }): Promise<Group> {
    return db.insertInto('groups').values(group).returningAll().executeTakeFirstOrThrow();
  },
  findById(db: Queryable, orgId: string, id: string): Promise<Group | undefined> {
    return db.selectFrom('groups').selectAll().where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();
  },
  /** The ids among `ids` that are groups of this org. */
  async existingIds(db: Queryable, orgId: string, ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await db.selectFrom('groups').select('id').where('org_id', '=', orgId).where('id', 'in', ids).execute();
    return new Set(rows.map((r) => r.id));
  },
  list(db: Queryable, orgId: string, page: { after?: string; limit: number }): Promise<Group[]> {
    let query = db.selectFrom('groups').selectAll().where('org_id', '=', orgId);
    if (page.after) query = query.where('id', '>', page.after);
    return query.orderBy('id').limit(page.limit).execute();
  },
  rename(db: Queryable, orgId: string, id: string, name: string): Promise<Group | undefined> {
    return db.updateTable('groups').set({ name }).where('org_id', '=', orgId).where('id', '=', id).returningAll().executeTakeFirst();
  },
  async delete(db: Queryable, orgId: string, id: string): Promise<boolean> {
    const result = await db.deleteFrom('groups').where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();
    return result.numDeletedRows > 0n;
  },
  async memberIds(db: Queryable, orgId: string, groupId: string): Promise<string[]> {
    const rows = await db
      .selectFrom('group_members')
      .select('user_id')
      .where('org_id', '=', orgId)
      .where('group_id', '=', groupId)
      .orderBy('user_id')
      .execute();
    return rows.map((r) => r.user_id);
  },
  async groupIdsOfUser(db: Queryable, orgId: string, userId: string): Promise<string[]> {
    const rows = await db
      .selectFrom('group_members')
      .select('group_id')
      .where('org_id', '=', orgId)
      .where('user_id', '=', userId)
      .orderBy('group_id')
      .execute();
    return rows.map((r) => r.group_id);
  },
  async addMember(db: Queryable, orgId: string, groupId: string, userId: string): Promise<boolean> {
    const result = await db
      .insertInto('group_members')
      .values({ org_id: orgId, group_id: groupId, user_id: userId })
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
  },
  async removeMember(db: Queryable, orgId: string, groupId: string, userId: string): Promise<boolean> {
    const result = await db
      .deleteFrom('group_members')
      .where('org_id', '=', orgId)
      .where('group_id', '=', groupId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  },
  async setGroupsOfUser(db: Queryable, orgId: string, userId: string, groupIds: readonly string[]): Promise<void> {
    await db.deleteFrom('group_members').where('org_id', '=', orgId).where('user_id', '=', userId).execute();
    if (groupIds.length === 0) return;
    await db
      .insertInto('group_members')
      .values(groupIds.map((group_id) => ({ org_id: orgId, group_id, user_id: userId })))
      .execute();
  },
};
