import { sql, type Kysely } from 'kysely';

/**
 * Envelope encryption's data keys: one per (org, purpose, generation), stored only wrapped by a
 * key-encryption key (KEK) of the key service. `kek_version` says which KEK version wrapped it, so
 * a rotation knows what is left to rewrap and a retirement knows whether anything still needs the
 * old version. Deleting an org deletes its data keys, and with them every ciphertext's meaning.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table data_keys (
      id uuid primary key,
      org_id uuid not null references orgs (id) on delete cascade,
      purpose text not null check (purpose in ('tokens', 'client_secrets', 'space_metadata')),
      generation integer not null default 1 check (generation >= 1),
      kek_version integer not null check (kek_version >= 1),
      wrapped_key bytea not null,
      created_at timestamptz not null default now(),
      rewrapped_at timestamptz,
      unique (org_id, purpose, generation)
    );
    create index data_keys_kek_version on data_keys (kek_version);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table data_keys`.execute(db);
}
