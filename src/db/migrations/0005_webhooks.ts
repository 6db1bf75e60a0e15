import { sql, type Kysely } from 'kysely';

// Webhooks to host apps. A subscription's signing secret is stored only as a Vault ciphertext bound
// to (org, webhook_subscriptions, id, signing_secret). A delivery row is one event for one
// subscription: it is written in the transaction of the change that emits the event, together with
// its graphile-worker job, and it is also the delivery log (attempts, last answer, outcome).
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table webhook_subscriptions (
      id uuid primary key,
      org_id uuid not null references orgs (id) on delete cascade,
      url text not null,
      description text not null default '',
      events text[] not null check (cardinality(events) > 0),
      signing_secret bytea not null,
      enabled boolean not null default true,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      unique (org_id, id)
    );
    create index webhook_subscriptions_org on webhook_subscriptions (org_id, id);

    create table webhook_deliveries (
      id uuid primary key,
      seq bigint generated always as identity unique,
      org_id uuid not null,
      subscription_id uuid not null,
      event_id uuid not null,
      event_type text not null,
      data jsonb not null,
      event_created_at timestamptz not null,
      status text not null default 'pending' check (status in ('pending', 'delivered', 'failed')),
      attempts integer not null default 0,
      next_attempt_at timestamptz,
      last_attempt_at timestamptz,
      last_status_code integer,
      last_error text,
      last_response_excerpt text,
      delivered_at timestamptz,
      created_at timestamptz not null default now(),
      foreign key (org_id, subscription_id) references webhook_subscriptions (org_id, id) on delete cascade
    );
    create index webhook_deliveries_log on webhook_deliveries (subscription_id, seq desc);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table webhook_deliveries; drop table webhook_subscriptions`.execute(db);
}
