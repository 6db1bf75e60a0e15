import type { Queryable } from '../db/database.ts';
import type { NewProviderApp, ProviderApp, ProviderAppUpdate } from '../db/schema.ts';

export const providerAppsRepository = {
  create(db: Queryable, app: NewProviderApp): Promise<ProviderApp> {
    return db.insertInto('provider_apps').values(app).returningAll().executeTakeFirstOrThrow();
  },
  findById(db: Queryable, orgId: string, id: string): Promise<ProviderApp | undefined> {
    return db.selectFrom('provider_apps').selectAll().where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();
  },
  /** The app, row-locked for a change that must not interleave with another (reconfigure). */
  findByIdForUpdate(db: Queryable, orgId: string, id: string): Promise<ProviderApp | undefined> {
    return db.selectFrom('provider_apps').selectAll().where('org_id', '=', orgId).where('id', '=', id).forUpdate().executeTakeFirst();
  },
  /**
   * Applies `changes` only while the app still has the configuration the caller looked at: a
   * verification that started before a reconfigure must not store its (stale) result after it.
   */
  updateIfConfiguration(db: Queryable, orgId: string, id: string, configurationVersion: number, changes: ProviderAppUpdate): Promise<ProviderApp | undefined> {
    return db
      .updateTable('provider_apps')
      .set({ ...changes, updated_at: new Date() })
      .where('org_id', '=', orgId)
      .where('id', '=', id)
      .where('configuration_version', '=', configurationVersion)
      .returningAll()
      .executeTakeFirst();
  },
  /** A new secret and/or scopes: the configuration version moves on and the verification is cleared. */
  reconfigure(db: Queryable, orgId: string, id: string, changes: Pick<ProviderAppUpdate, 'client_secret' | 'scopes'>): Promise<ProviderApp | undefined> {
    return db
      .updateTable('provider_apps')
      .set((eb) => ({ ...changes, status: 'unverified', verification: null, verified_at: null, configuration_version: eb('configuration_version', '+', 1), updated_at: new Date() }))
      .where('org_id', '=', orgId)
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
  },
  list(db: Queryable, orgId: string, page: { after?: string; limit: number }): Promise<ProviderApp[]> {
    let query = db.selectFrom('provider_apps').selectAll().where('org_id', '=', orgId);
    if (page.after) query = query.where('id', '>', page.after);
    return query.orderBy('id').limit(page.limit).execute();
  },
  /** Microsoft tenants already used by this org's apps (one tenant per org). */
  async microsoftTenants(db: Queryable, orgId: string, exceptId?: string): Promise<string[]> {
    let query = db.selectFrom('provider_apps').select('tenant').distinct().where('org_id', '=', orgId).where('provider', '=', 'microsoft');
    if (exceptId) query = query.where('id', '!=', exceptId);
    return (await query.execute()).map((r) => r.tenant!);
  },
  update(db: Queryable, orgId: string, id: string, changes: ProviderAppUpdate): Promise<ProviderApp | undefined> {
    return db
      .updateTable('provider_apps')
      .set({ ...changes, updated_at: new Date() })
      .where('org_id', '=', orgId)
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
  },
  async delete(db: Queryable, orgId: string, id: string): Promise<boolean> {
    const result = await db.deleteFrom('provider_apps').where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();
    return result.numDeletedRows > 0n;
  },
};
