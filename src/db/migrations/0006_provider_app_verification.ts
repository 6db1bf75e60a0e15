import { sql, type Kysely } from 'kysely';

// Provider app verification (seed 001: "authorize once as a service account, then make a real API
// call"). The service account's authorization is an ordinary connection, linked to its app here;
// deleting that connection unlinks it (only the link column is set to null, never org_id). A connect
// session carries its purpose: `connect` (a user's connection) or `verify` (the app's service
// account, whose callback runs the checks). provider_apps.verification (0003) holds the last result.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table connect_sessions
      add column purpose text not null default 'connect' check (purpose in ('connect', 'verify'));
    alter table provider_apps
      add column service_connection_id uuid,
      add constraint provider_apps_service_connection
        foreign key (org_id, service_connection_id) references connections (org_id, id) on delete set null (service_connection_id);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table provider_apps drop column service_connection_id;
    alter table connect_sessions drop column purpose;
  `.execute(db);
}
