import { sql } from 'kysely';
import type { Db } from './db/database.ts';
import { randomToken } from './security/tokens.ts';
import type { AccountsService } from './services/accounts.ts';

export const DEFAULT_ORG = { slug: 'default', name: 'Default org' } as const;
export const DEFAULT_ADMIN_EMAIL = 'admin@tether.local';

/**
 * First start on an empty database: create the `default` org and its admin, so there is someone to
 * sign in as. Returns the generated password (shown once), or undefined when orgs already exist.
 * An advisory lock keeps two instances starting together from both doing it.
 */
export async function bootstrapIfEmpty(db: Db, accounts: AccountsService): Promise<{ orgId: string; email: string; password: string } | undefined> {
  return db.connection().execute(async (conn) => {
    await sql`select pg_advisory_lock(hashtext('tether.bootstrap'))`.execute(conn);
    try {
      const existing = await conn.selectFrom('orgs').select('id').limit(1).executeTakeFirst();
      if (existing) return undefined;
      const ctx = { principal: undefined, requestId: null, ip: null };
      const org = await accounts.createOrg(ctx, DEFAULT_ORG);
      const password = randomToken(15);
      await accounts.createUser(ctx, org.id, { email: DEFAULT_ADMIN_EMAIL, displayName: 'Admin', role: 'admin', password });
      return { orgId: org.id, email: DEFAULT_ADMIN_EMAIL, password };
    } finally {
      await sql`select pg_advisory_unlock(hashtext('tether.bootstrap'))`.execute(conn);
    }
  });
}
