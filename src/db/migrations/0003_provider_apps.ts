import { sql, type Kysely } from 'kysely';

// Provider apps: an org's registration at a provider (seed 000/001 admin provisioning). The client
// secret is stored only as a Vault ciphertext bound to (org, provider_apps, id, client_secret).
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table provider_apps (
      id uuid primary key,
      org_id uuid not null references orgs (id) on delete cascade,
      provider text not null check (provider in ('microsoft', 'google', 'webex')),
      profile text not null,
      display_name text not null,
      client_id text not null,
      client_secret bytea not null,
      tenant text,
      scopes text[] not null,
      webex_integration_id text,
      status text not null default 'unverified' check (status in ('unverified', 'verified', 'verification_failed')),
      verified_at timestamptz,
      verification jsonb,
      configuration_version integer not null default 1,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      unique (org_id, id),
      check ((provider = 'microsoft') = (tenant is not null))
    );
    create index provider_apps_org on provider_apps (org_id, id);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table provider_apps`.execute(db);
}
