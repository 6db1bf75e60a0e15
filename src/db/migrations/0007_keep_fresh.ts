import { sql, type Kysely } from 'kysely';

// Background refresh. keep_fresh_until: long-running work (scheduled messages) that will use the
// connection until then asks for its access token to be kept fresh; the refresh task finds such
// connections, and those whose refresh token nears its expiry, by these partial indexes.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table connections add column keep_fresh_until timestamptz;
    create index connections_keep_fresh on connections (access_token_expires_at) where keep_fresh_until is not null and status = 'active';
    create index connections_refresh_expiry on connections (refresh_token_expires_at) where refresh_token_expires_at is not null and status = 'active';
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop index connections_refresh_expiry;
    drop index connections_keep_fresh;
    alter table connections drop column keep_fresh_until;
  `.execute(db);
}
