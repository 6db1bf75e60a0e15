import type { Purpose } from './envelope.ts';

/** A column that holds field ciphertexts written by the Vault (type `bytea`, nullable or not). */
export interface EncryptedColumn {
  table: string;
  column: string;
  purpose: Purpose;
}

/**
 * Every encrypted column in Tether's schema. A feature that stores a field with
 * `vault.encryptField` adds its column here (next to the migration that creates it), so that
 * `tether keys status` counts its rows per key version and `tether keys retire` refuses while any of
 * them still depends on the version. Listed explicitly, like the migrations, so the set is reviewed.
 */
export const encryptedColumns: readonly EncryptedColumn[] = [
  { table: 'provider_apps', column: 'client_secret', purpose: 'client_secrets' },
  { table: 'connect_sessions', column: 'code_verifier', purpose: 'tokens' },
  { table: 'connections', column: 'access_token', purpose: 'tokens' },
  { table: 'connections', column: 'refresh_token', purpose: 'tokens' },
  { table: 'webhook_subscriptions', column: 'signing_secret', purpose: 'client_secrets' },
];
