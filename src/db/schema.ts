import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

/** Kysely's view of Tether's tables. Migrations in ./migrations are the source of truth. */
export interface Database {
  orgs: OrgsTable;
  users: UsersTable;
  groups: GroupsTable;
  group_members: GroupMembersTable;
  api_keys: ApiKeysTable;
  sessions: SessionsTable;
  audit_events: AuditEventsTable;
  rate_limits: RateLimitsTable;
  data_keys: DataKeysTable;
  provider_apps: ProviderAppsTable;
  connect_sessions: ConnectSessionsTable;
  connections: ConnectionsTable;
  webhook_subscriptions: WebhookSubscriptionsTable;
  webhook_deliveries: WebhookDeliveriesTable;
}

type CreatedAt = ColumnType<Date, never, never>;
type UpdatedAt = ColumnType<Date, never, Date>;

export interface OrgsTable {
  id: Generated<string>;
  slug: string;
  name: string;
  created_at: CreatedAt;
}

export type Role = 'admin' | 'member';

export interface UsersTable {
  id: Generated<string>;
  org_id: string;
  email: string;
  external_id: string | null;
  display_name: string;
  role: Role;
  /** scrypt hash in PHC-like form; null for users who only act through the host app. */
  password_hash: string | null;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface GroupsTable {
  id: Generated<string>;
  org_id: string;
  name: string;
  created_at: CreatedAt;
}

export interface GroupMembersTable {
  org_id: string;
  group_id: string;
  user_id: string;
  created_at: CreatedAt;
}

export interface ApiKeysTable {
  id: Generated<string>;
  org_id: string;
  name: string;
  /** The non-secret first characters, shown in listings so a key can be recognised. */
  prefix: string;
  /** SHA-256 of the whole key; the key itself is shown once and never stored. */
  secret_hash: Buffer;
  created_by: string | null;
  created_at: CreatedAt;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

export interface SessionsTable {
  /** SHA-256 of the cookie value; the cookie value itself is never stored. */
  id_hash: Buffer;
  org_id: string;
  user_id: string;
  csrf_hash: Buffer;
  created_at: CreatedAt;
  expires_at: Date;
  ip: string | null;
  user_agent: string | null;
}

export type AuditOutcome = 'success' | 'failure' | 'denied';

export interface AuditEventsTable {
  id: Generated<string>;
  org_id: string | null;
  actor_type: 'operator' | 'user' | 'api_key' | 'anonymous' | 'system';
  actor_id: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  outcome: AuditOutcome;
  request_id: string | null;
  ip: string | null;
  details: ColumnType<Record<string, unknown>, Record<string, unknown> | undefined, never>;
  created_at: CreatedAt;
}

export interface RateLimitsTable {
  key: string;
  window_start: Date;
  count: number;
}

/** A per-org, per-purpose data key, stored only wrapped by a KEK version of the key service (src/keys). */
export interface DataKeysTable {
  id: string;
  org_id: string;
  purpose: 'tokens' | 'client_secrets' | 'space_metadata';
  generation: ColumnType<number, number | undefined, never>;
  kek_version: number;
  wrapped_key: Buffer;
  created_at: CreatedAt;
  rewrapped_at: Date | null;
}

export type Org = Selectable<OrgsTable>;
export type User = Selectable<UsersTable>;
export type NewUser = Insertable<UsersTable>;
export type UserUpdate = Updateable<UsersTable>;
export type Group = Selectable<GroupsTable>;
export type ApiKey = Selectable<ApiKeysTable>;
export type Session = Selectable<SessionsTable>;
export type AuditEvent = Selectable<AuditEventsTable>;
export type NewAuditEvent = Insertable<AuditEventsTable>;
export type DataKey = Selectable<DataKeysTable>;

export interface ProviderAppsTable {
  id: string;
  org_id: string;
  provider: 'microsoft' | 'google' | 'webex';
  profile: string;
  display_name: string;
  client_id: string;
  /** Vault ciphertext bound to (org, provider_apps, id, client_secret). */
  client_secret: Buffer;
  /** Microsoft: the org's tenant (id or domain, lower case); null for other providers. */
  tenant: string | null;
  scopes: string[];
  webex_integration_id: string | null;
  status: Generated<'unverified' | 'verified' | 'verification_failed'>;
  verified_at: Date | null;
  /** The last verification's result (services/providerAppSetup.ts `VerificationResult`). */
  verification: ColumnType<Record<string, unknown> | null, string | null | undefined, string | null>;
  /** Bumped by every reconfigure; a verification stores its result only for the version it checked. */
  configuration_version: Generated<number>;
  /** The service account's connection (migration 0006), made by `POST …/{id}/verify`. */
  service_connection_id: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}
export type ProviderApp = Selectable<ProviderAppsTable>;
export type NewProviderApp = Insertable<ProviderAppsTable>;
export type ProviderAppUpdate = Updateable<ProviderAppsTable>;

/** A host app's webhook (migration 0005). */
export interface WebhookSubscriptionsTable {
  id: string;
  org_id: string;
  url: string;
  description: ColumnType<string, string | undefined, string>;
  events: string[];
  /** Vault ciphertext bound to (org, webhook_subscriptions, id, signing_secret). */
  signing_secret: Buffer;
  enabled: ColumnType<boolean, boolean | undefined, boolean>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}
export type WebhookSubscription = Selectable<WebhookSubscriptionsTable>;
export type NewWebhookSubscription = Insertable<WebhookSubscriptionsTable>;
export type WebhookSubscriptionUpdate = Updateable<WebhookSubscriptionsTable>;

/** One event for one webhook, and its delivery log: attempts, the last answer, the outcome. */
export interface WebhookDeliveriesTable {
  id: string;
  seq: ColumnType<string, never, never>;
  org_id: string;
  subscription_id: string;
  event_id: string;
  event_type: string;
  /** The event's `data` (jsonb); written as JSON text. */
  data: ColumnType<Record<string, unknown>, string, never>;
  event_created_at: Date;
  status: ColumnType<'pending' | 'delivered' | 'failed', undefined, 'pending' | 'delivered' | 'failed'>;
  attempts: ColumnType<number, never, number>;
  next_attempt_at: ColumnType<Date | null, never, Date | null>;
  last_attempt_at: ColumnType<Date | null, never, Date | null>;
  last_status_code: ColumnType<number | null, never, number | null>;
  last_error: ColumnType<string | null, never, string | null>;
  last_response_excerpt: ColumnType<string | null, never, string | null>;
  delivered_at: ColumnType<Date | null, never, Date | null>;
  created_at: CreatedAt;
}
export type WebhookDelivery = Selectable<WebhookDeliveriesTable>;
export type NewWebhookDelivery = Insertable<WebhookDeliveriesTable>;

/** One OAuth authorization in progress (migration 0004). Secrets only as hashes or Vault ciphertext. */
export interface ConnectSessionsTable {
  id: string;
  org_id: string;
  user_id: string;
  provider_app_id: string;
  /** SHA-256 of the token in the connect URL. */
  token_hash: Buffer;
  return_to: string;
  name: string | null;
  shared: boolean;
  shared_group_ids: string[];
  /** SHA-256 of the OAuth `state`; set when the browser opens the connect URL. */
  state_hash: Buffer | null;
  /** SHA-256 of the browser-binding cookie. */
  browser_hash: Buffer | null;
  /** Vault ciphertext of the PKCE verifier, bound to (org, connect_sessions, id, code_verifier). */
  code_verifier: Buffer | null;
  nonce: string | null;
  /** `connect`: a user's connection; `verify`: a provider app's service account (migration 0006). */
  purpose: ColumnType<'connect' | 'verify', 'connect' | 'verify' | undefined, never>;
  expires_at: Date;
  opened_at: Date | null;
  used_at: Date | null;
  created_at: CreatedAt;
}
export type ConnectSession = Selectable<ConnectSessionsTable>;

export type ConnectionStatus = 'active' | 'refreshing-failed' | 'needs-reauth' | 'revoked';

export interface ConnectionsTable {
  id: string;
  org_id: string;
  provider_app_id: string;
  owner_user_id: string;
  name: string;
  shared: boolean;
  group_ids: string[];
  /** Opaque handle of a shared connection (seed 002), for a host app's page config. */
  handle: string | null;
  account_issuer: string;
  account_tenant: string | null;
  account_subject: string;
  account_email: string | null;
  account_display_name: string | null;
  scopes: string[];
  /** Vault ciphertexts bound to (org, connections, id, access_token | refresh_token). */
  access_token: Buffer | null;
  refresh_token: Buffer | null;
  access_token_expires_at: Date | null;
  refresh_token_expires_at: Date | null;
  status: ConnectionStatus;
  status_reason: string | null;
  /** Long-running work needs the connection until then: the refresh task keeps its access token fresh. */
  keep_fresh_until: Generated<Date | null>;
  /** Bumped by every update: a refresh that read an older row loses its compare-and-swap. */
  version: Generated<number>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}
export type Connection = Selectable<ConnectionsTable>;
export type NewConnection = Insertable<ConnectionsTable>;
