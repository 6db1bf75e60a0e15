import { sql, type Kysely } from 'kysely';

// Connect sessions (one OAuth authorization in progress) and connections (its result).
//
// connect_sessions keeps nothing a thief could replay: the connect-URL token, the OAuth `state` and
// the browser-binding cookie are stored as SHA-256 hashes; the PKCE verifier is a Vault ciphertext
// bound to (org, connect_sessions, id, code_verifier). `returnTo` is validated when the session is
// created and read from here at the callback, never from the callback's URL.
//
// connections: the account is (account_issuer — per tenant for Microsoft —, account_subject), the
// provider's immutable subject; email and display name are for display only. Tokens are Vault
// ciphertexts bound to (org, connections, id, field). `version` is for compare-and-swap refreshes.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table connect_sessions (
      id uuid primary key,
      org_id uuid not null references orgs (id) on delete cascade,
      user_id uuid not null references users (id) on delete cascade,
      provider_app_id uuid not null,
      token_hash bytea not null unique,
      return_to text not null,
      name text,
      shared boolean not null default false,
      shared_group_ids uuid[] not null default '{}',
      state_hash bytea unique,
      browser_hash bytea,
      code_verifier bytea,
      nonce text,
      expires_at timestamptz not null,
      opened_at timestamptz,
      used_at timestamptz,
      created_at timestamptz not null default now(),
      foreign key (org_id, provider_app_id) references provider_apps (org_id, id) on delete cascade,
      check ((opened_at is null) = (state_hash is null))
    );
    create index connect_sessions_expiry on connect_sessions (expires_at);

    create table connections (
      id uuid primary key,
      org_id uuid not null references orgs (id) on delete cascade,
      provider_app_id uuid not null,
      owner_user_id uuid not null references users (id) on delete cascade,
      name text not null,
      shared boolean not null default false,
      group_ids uuid[] not null default '{}',
      handle text unique,
      account_issuer text not null,
      account_tenant text,
      account_subject text not null,
      account_email text,
      account_display_name text,
      scopes text[] not null,
      access_token bytea,
      refresh_token bytea,
      access_token_expires_at timestamptz,
      refresh_token_expires_at timestamptz,
      status text not null default 'active' check (status in ('active', 'refreshing-failed', 'needs-reauth', 'revoked')),
      status_reason text,
      version integer not null default 1,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      unique (org_id, id),
      foreign key (org_id, provider_app_id) references provider_apps (org_id, id) on delete cascade,
      unique (org_id, provider_app_id, owner_user_id, account_issuer, account_subject),
      check (shared = (handle is not null))
    );
    create index connections_owner on connections (org_id, owner_user_id, id);
    create index connections_groups on connections using gin (group_ids) where shared;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table connections; drop table connect_sessions`.execute(db);
}
