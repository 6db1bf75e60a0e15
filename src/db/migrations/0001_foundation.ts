import { sql, type Kysely } from 'kysely';

// Composite foreign keys on (org_id, id) make a cross-org reference impossible at the database
// level, whatever the application code does: a group in org A can never hold a user of org B.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table orgs (
      id uuid primary key default gen_random_uuid(),
      slug text not null unique check (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
      name text not null,
      created_at timestamptz not null default now()
    );

    create table users (
      id uuid primary key default gen_random_uuid(),
      org_id uuid not null references orgs (id) on delete cascade,
      email text not null,
      external_id text,
      display_name text not null,
      role text not null check (role in ('admin', 'member')),
      password_hash text,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      unique (org_id, id)
    );
    create unique index users_org_email on users (org_id, lower(email));
    create unique index users_org_external_id on users (org_id, external_id) where external_id is not null;

    create table groups (
      id uuid primary key default gen_random_uuid(),
      org_id uuid not null references orgs (id) on delete cascade,
      name text not null,
      created_at timestamptz not null default now(),
      unique (org_id, id)
    );
    create unique index groups_org_name on groups (org_id, lower(name));

    create table group_members (
      org_id uuid not null,
      group_id uuid not null,
      user_id uuid not null,
      created_at timestamptz not null default now(),
      primary key (group_id, user_id),
      foreign key (org_id, group_id) references groups (org_id, id) on delete cascade,
      foreign key (org_id, user_id) references users (org_id, id) on delete cascade
    );
    create index group_members_user on group_members (user_id);

    create table api_keys (
      id uuid primary key default gen_random_uuid(),
      org_id uuid not null references orgs (id) on delete cascade,
      name text not null,
      prefix text not null,
      secret_hash bytea not null unique,
      created_by uuid,
      created_at timestamptz not null default now(),
      last_used_at timestamptz,
      revoked_at timestamptz
    );
    create index api_keys_org on api_keys (org_id, created_at);

    create table sessions (
      id_hash bytea primary key,
      org_id uuid not null,
      user_id uuid not null,
      csrf_hash bytea not null,
      created_at timestamptz not null default now(),
      expires_at timestamptz not null,
      ip text,
      user_agent text,
      foreign key (org_id, user_id) references users (org_id, id) on delete cascade
    );
    create index sessions_expires on sessions (expires_at);
    create index sessions_user on sessions (user_id);

    create table audit_events (
      id bigint generated always as identity primary key,
      org_id uuid,
      actor_type text not null,
      actor_id text,
      action text not null,
      target_type text,
      target_id text,
      outcome text not null check (outcome in ('success', 'failure', 'denied')),
      request_id text,
      ip text,
      details jsonb not null default '{}',
      created_at timestamptz not null default now()
    );
    create index audit_events_org on audit_events (org_id, id desc);

    create table rate_limits (
      key text primary key,
      window_start timestamptz not null,
      count integer not null
    );
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop table rate_limits, audit_events, sessions, api_keys, group_members, groups, users, orgs;
  `.execute(db);
}
