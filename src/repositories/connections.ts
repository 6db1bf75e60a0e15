import type { Queryable } from '../db/database.ts';
import type { Connection, ConnectionsTable, Database, NewConnection, ProviderApp } from '../db/schema.ts';
import { sql, type SelectQueryBuilder, type Updateable } from 'kysely';

/** Who may see a connection: its owner, members of its groups when shared, and (all) org admins. */
export interface Viewer {
  userId: string;
  admin: boolean;
}

export const connectionsRepository = {
  findById(db: Queryable, orgId: string, id: string): Promise<Connection | undefined> {
    return db.selectFrom('connections').selectAll().where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();
  },
  findVisible(db: Queryable, orgId: string, id: string, viewer: Viewer): Promise<Connection | undefined> {
    return visible(db.selectFrom('connections').selectAll().where('org_id', '=', orgId).where('id', '=', id), viewer).executeTakeFirst();
  },
  /**
   * The connection, when the viewer may see it, with its provider app — one round trip for every
   * API call made on a connection's behalf (documents, proxy). The app comes back as JSON and is
   * turned into the row `providerAppsRepository.findById` returns (test/connections/connectionsApi
   * compares the two).
   */
  async findVisibleWithApp(db: Queryable, orgId: string, id: string, viewer: Viewer): Promise<{ connection: Connection; app: ProviderApp } | undefined> {
    const row = await visible(db.selectFrom('connections').selectAll('connections').where('connections.org_id', '=', orgId).where('connections.id', '=', id), viewer)
      .innerJoinLateral(
        (eb) =>
          eb
            .selectFrom('provider_apps as a')
            .whereRef('a.org_id', '=', 'connections.org_id')
            .whereRef('a.id', '=', 'connections.provider_app_id')
            // bytea does not survive JSON: the secret travels as its own column.
            .select([sql<Record<string, unknown>>`to_jsonb(a) - 'client_secret'`.as('app_json'), 'a.client_secret as app_client_secret'])
            .as('app'),
        (join) => join.onTrue(),
      )
      .select(['app.app_json', 'app.app_client_secret'])
      .executeTakeFirst();
    if (!row) return undefined;
    const { app_json, app_client_secret, ...connection } = row;
    return { connection: connection as Connection, app: providerAppFromJson(app_json, app_client_secret) };
  },
  /** A shared connection by its opaque handle, when the viewer may see it. */
  findVisibleByHandle(db: Queryable, orgId: string, handle: string, viewer: Viewer): Promise<Connection | undefined> {
    return visible(db.selectFrom('connections').selectAll().where('org_id', '=', orgId).where('handle', '=', handle).where('shared', '=', true), viewer).executeTakeFirst();
  },
  listVisible(db: Queryable, orgId: string, viewer: Viewer, page: { after?: string; limit: number }): Promise<Connection[]> {
    let query = visible(db.selectFrom('connections').selectAll().where('org_id', '=', orgId), viewer);
    if (page.after) query = query.where('id', '>', page.after);
    return query.orderBy('id').limit(page.limit).execute();
  },
  /** The connection of this account, app and owner, locked for the reconnect that updates it. */
  findAccountForUpdate(db: Queryable, key: { orgId: string; providerAppId: string; ownerUserId: string; issuer: string; subject: string }): Promise<Connection | undefined> {
    return db
      .selectFrom('connections')
      .selectAll()
      .where('org_id', '=', key.orgId)
      .where('provider_app_id', '=', key.providerAppId)
      .where('owner_user_id', '=', key.ownerUserId)
      .where('account_issuer', '=', key.issuer)
      .where('account_subject', '=', key.subject)
      .forUpdate()
      .executeTakeFirst();
  },
  /** The connections made through a provider app that are still usable, row-locked (reconfigure flags them). */
  usableOfAppForUpdate(db: Queryable, orgId: string, providerAppId: string): Promise<Connection[]> {
    return db
      .selectFrom('connections')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('provider_app_id', '=', providerAppId)
      .where('status', 'in', ['active', 'refreshing-failed'])
      .orderBy('id')
      .forUpdate()
      .execute();
  },
  /** Inserts unless the same account already has a connection (a concurrent callback won): undefined then. */
  insertIfAbsent(db: Queryable, connection: NewConnection): Promise<Connection | undefined> {
    return db
      .insertInto('connections')
      .values(connection)
      .onConflict((oc) => oc.columns(['org_id', 'provider_app_id', 'owner_user_id', 'account_issuer', 'account_subject']).doNothing())
      .returningAll()
      .executeTakeFirst();
  },
  /** Every change bumps `version`, so a refresh that read an older row loses its compare-and-swap. */
  update(db: Queryable, orgId: string, id: string, changes: Updateable<ConnectionsTable>): Promise<Connection | undefined> {
    return db
      .updateTable('connections')
      .set((eb) => ({ ...changes, version: eb('version', '+', 1), updated_at: new Date() }))
      .where('org_id', '=', orgId)
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
  },
  /**
   * For the background refresh task (all orgs): active connections with a refresh token whose access
   * token expires before `accessBefore` while work needs them (keep_fresh_until), or whose refresh
   * token expires before `refreshBefore` and was not refreshed within the last hour. Soonest first.
   */
  dueForRefresh(db: Queryable, due: { accessBefore: Date; refreshBefore: Date; limit: number }): Promise<Connection[]> {
    const now = new Date();
    return db
      .selectFrom('connections')
      .selectAll()
      .where('status', '=', 'active')
      .where('refresh_token', 'is not', null)
      .where((eb) =>
        eb.or([
          eb.and([eb('keep_fresh_until', '>', now), eb('access_token_expires_at', '<', due.accessBefore)]),
          eb.and([eb('refresh_token_expires_at', '<', due.refreshBefore), eb('updated_at', '<', new Date(now.getTime() - 3_600_000))]),
        ]),
      )
      .orderBy(sql`least(access_token_expires_at, refresh_token_expires_at)`)
      .limit(due.limit)
      .execute();
  },
  /** Extends (never shortens) how long work needs the connection's token kept fresh. */
  async keepFresh(db: Queryable, orgId: string, id: string, until: Date): Promise<boolean> {
    const result = await db
      .updateTable('connections')
      .set({ keep_fresh_until: sql<Date>`greatest(coalesce(keep_fresh_until, ${until}), ${until})` })
      .where('org_id', '=', orgId)
      .where('id', '=', id)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  },
  async delete(db: Queryable, orgId: string, id: string): Promise<boolean> {
    const result = await db.deleteFrom('connections').where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();
    return result.numDeletedRows > 0n;
  },
};

function visible<Q extends SelectQueryBuilder<Database, 'connections', Connection>>(query: Q, viewer: Viewer): Q {
  if (viewer.admin) return query;
  return query.where((eb) =>
    eb.or([
      eb('owner_user_id', '=', viewer.userId),
      // The viewer's groups are read in the same query, so removing someone from a group takes
      // effect at once and a read costs one round trip.
      eb.and([eb('shared', '=', true), sql<boolean>`group_ids && array(select gm.group_id from group_members gm where gm.user_id = ${viewer.userId}::uuid)`]),
    ]),
  ) as Q;
}

/** A provider_apps row read through to_jsonb: timestamps (`*_at`) back to Dates, the secret back in place. */
function providerAppFromJson(json: Record<string, unknown>, clientSecret: Buffer): ProviderApp {
  const app: Record<string, unknown> = { ...json, client_secret: clientSecret };
  for (const [key, value] of Object.entries(json)) if (key.endsWith('_at') && typeof value === 'string') app[key] = new Date(value);
  return app as unknown as ProviderApp;
}
