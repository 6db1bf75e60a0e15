import type { Queryable } from '../db/database.ts';
import { isUuid } from '../db/uuid.ts';
import { userFromJson } from './users.ts';
import type { Connection, ConnectionsTable, Database, NewConnection, ProviderApp, User } from '../db/schema.ts';
import { sql, type SelectQueryBuilder, type Updateable } from 'kysely';

/** What runs a named (server-side prepared) statement: the pg pool, not a Kysely transaction. */
export interface StatementRunner {
  query<R>(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: R[] }>;
}

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
  /**
   * An API-key call on a connection in one round trip: the live key, the `Tether-User` it acts for
   * (resolved exactly as apiKeysRepository.findActiveWithUser does: by id or external id, the id
   * winning) and the connection with its provider app when that user may see it (the rules of
   * `visible` below). Undefined when any part is missing — the caller then takes the step-by-step
   * path, which tells the cases apart (401, 400, 404). The SQL is written once, not built per call.
   */
  async findVisibleWithAppForApiKey(pool: StatementRunner, key: { hash: Buffer; userRef: string; connectionId: string }): Promise<{ apiKey: { id: string; org_id: string }; user: User; connection: Connection; app: ProviderApp } | undefined> {
    const byId = isUuid(key.userRef) ? key.userRef : null;
    const { rows } = await pool.query<ApiKeyConnectionRow>({ name: 'tether_api_key_connection', text: API_KEY_CONNECTION_SQL, values: [key.hash, byId, key.userRef, key.connectionId] });
    const row = rows[0];
    if (!row) return undefined;
    const { key_id, key_org_id, user_json, app_json, app_client_secret, ...connection } = row;
    return {
      apiKey: { id: key_id, org_id: key_org_id },
      user: userFromJson(user_json),
      connection: connection as Connection,
      app: providerAppFromJson(app_json, app_client_secret),
    };
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

type ApiKeyConnectionRow = Connection & { key_id: string; key_org_id: string; user_json: User & { created_at: string; updated_at: string }; app_json: Record<string, unknown>; app_client_secret: Buffer };

/**
 * The connection's columns by name, not `c.*`: the statement is prepared once per database session,
 * and Postgres refuses a prepared plan whose result columns changed ("cached plan must not change
 * result type") — `c.*` would break running instances when a migration adds a column.
 */
const CONNECTION_COLUMNS = [
  'id', 'org_id', 'provider_app_id', 'owner_user_id', 'name', 'shared', 'group_ids', 'handle', 'account_issuer', 'account_tenant', 'account_subject',
  'account_email', 'account_display_name', 'scopes', 'access_token', 'refresh_token', 'access_token_expires_at', 'refresh_token_expires_at', 'status',
  'status_reason', 'keep_fresh_until', 'version', 'created_at', 'updated_at',
] as const satisfies readonly (keyof ConnectionsTable)[];
// Every column of the table's type is listed (a compile error otherwise).
const allColumnsListed: Exclude<keyof ConnectionsTable, (typeof CONNECTION_COLUMNS)[number]> extends never ? true : never = true;
void allColumnsListed;

// $1 key hash, $2 user id (or null), $3 user ref, $4 connection id. The user is chosen first (CTE),
// so a ref that is one user's id and another's external id can never pick the one who sees more.
const API_KEY_CONNECTION_SQL = `
with who as (
  select k.id as key_id, k.org_id as key_org_id, u.id as user_id, u.role as user_role, to_jsonb(u) as user_json
  from api_keys k
  join users u on u.org_id = k.org_id and (u.id = $2::uuid or u.external_id = $3)
  where k.secret_hash = $1 and k.revoked_at is null
  order by u.id = $2::uuid desc nulls last
  limit 1
)
select who.key_id, who.key_org_id, who.user_json, ${CONNECTION_COLUMNS.map((column) => `c.${column}`).join(', ')}, to_jsonb(a) - 'client_secret' as app_json, a.client_secret as app_client_secret
from who
join connections c on c.org_id = who.key_org_id and c.id = $4::uuid
join provider_apps a on a.org_id = c.org_id and a.id = c.provider_app_id
where who.user_role = 'admin'
   or c.owner_user_id = who.user_id
   or (c.shared and c.group_ids && array(select gm.group_id from group_members gm where gm.user_id = who.user_id))`;

/** A provider_apps row read through to_jsonb: timestamps (`*_at`) back to Dates, the secret back in place. */
function providerAppFromJson(json: Record<string, unknown>, clientSecret: Buffer): ProviderApp {
  const app: Record<string, unknown> = { ...json, client_secret: clientSecret };
  for (const [key, value] of Object.entries(json)) if (key.endsWith('_at') && typeof value === 'string') app[key] = new Date(value);
  return app as unknown as ProviderApp;
}
