import { z } from 'zod';

/**
 * An endpoint URL in an operator profile: https, or http on a loopback host (local test
 * authorities and the sandbox without TLS). Microsoft's may contain the `{tenant}`/`{tenantid}`
 * templates.
 */
const endpointUrl = z.string().refine((value) => {
  try {
    const url = new URL(value.replaceAll('{tenantid}', 'x').replaceAll('{tenant}', 'x'));
    if (url.username || url.password || url.hash) return false;
    return url.protocol === 'https:' || (url.protocol === 'http:' && /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/.test(url.hostname));
  } catch {
    return false;
  }
}, 'must be an https URL (http only on a loopback host), without credentials or fragment');

const profileEndpoints = z.strictObject({
  issuer: endpointUrl,
  authorizationEndpoint: endpointUrl,
  tokenEndpoint: endpointUrl,
  revocationEndpoint: endpointUrl.nullable().default(null),
  jwksUri: endpointUrl,
  apiBaseUrl: endpointUrl,
});

/** An exact origin (scheme, host, port), as `returnTo` URLs are compared against. */
const origin = z.url({ protocol: /^https?$/ }).refine((value) => new URL(value).origin === value.replace(/\/$/, ''), 'must be an origin: scheme://host[:port], no path');

/**
 * Tether's whole configuration: one schema over an optional config file (`TETHER_CONFIG`, YAML or
 * JSON) and environment variables (which win). Strict objects, so a misspelt key is reported instead
 * of silently ignored.
 */
export const configSchema = z.strictObject({
  port: z.coerce.number().int().min(0).max(65535).default(8080),
  host: z.string().min(1).default('127.0.0.1'),
  /** The origin browsers and providers use to reach Tether; defaults to http://localhost:$PORT. */
  publicUrl: z.url({ protocol: /^https?$/ }).optional(),
  /** Unset: Tether runs its embedded Postgres in `$dataDir/postgres`. */
  databaseUrl: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  dataDir: z.string().min(1).default('./data'),
  /** Unset: generated on first start and kept in `$dataDir/operator-token` (mode 0600). */
  operatorToken: z.string().min(32, 'must be at least 32 characters').optional(),
  log: z
    .strictObject({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    })
    .prefault({}),
  http: z
    .strictObject({
      /** Largest JSON request body accepted, in bytes. */
      bodyLimitBytes: z.coerce.number().int().min(1024).max(64 * 1024 * 1024).default(1024 * 1024),
      /** Trust X-Forwarded-* headers (only behind a reverse proxy you run). */
      trustProxy: z.stringbool().or(z.boolean()).default(false),
      /** How long a shutdown waits for in-flight requests and jobs before giving up. */
      shutdownTimeoutMs: z.coerce.number().int().min(0).default(15_000),
    })
    .prefault({}),
  sessions: z
    .strictObject({
      ttlHours: z.coerce.number().min(0.01).max(24 * 30).default(12),
    })
    .prefault({}),
  auth: z
    .strictObject({
      /** Failed sign-ins per account and client address before sign-in is refused for the window. */
      loginMaxFailures: z.coerce.number().int().min(1).default(5),
      loginWindowMinutes: z.coerce.number().int().min(1).default(15),
    })
    .prefault({}),
  embeddedPostgres: z
    .strictObject({
      port: z.coerce.number().int().min(1024).max(65535).default(54329),
    })
    .prefault({}),
  /** Named endpoint profiles, beyond the built-in clouds and `sandbox`. */
  profiles: z
    .record(
      z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'profile names: lowercase letters, digits, dashes'),
      z.strictObject({ microsoft: profileEndpoints.optional(), google: profileEndpoints.optional(), webex: profileEndpoints.optional() }),
    )
    .default({}),
  connect: z
    .strictObject({
      /** Origins a connect session's `returnTo` may point at (Tether's own origin is always allowed). */
      allowedReturnOrigins: z.array(origin).default([]),
      /**
       * `shared`: one redirect URI, $publicUrl/oauth/callback, for every provider app. `per-app`:
       * $publicUrl/oauth/callback/<providerAppId>, so a response that reaches another app's redirect
       * URI (an OAuth mix-up) is refused before any token request, also for providers that do not send
       * RFC 9207 `iss` (Microsoft, Webex).
       */
      redirectUris: z.enum(['shared', 'per-app']).default('shared'),
    })
    .prefault({}),
  /** Provider tokens (README "Connections"). */
  tokens: z
    .strictObject({
      /** Refresh an access token this long before it expires. */
      refreshMarginSeconds: z.coerce.number().int().min(0).max(3600).default(300),
      /** Access tokens kept decrypted in memory (per instance, oldest dropped first); 0 = decrypt from the row on every call. */
      cacheSize: z.coerce.number().int().min(0).max(1_000_000).default(10_000),
    })
    .prefault({}),
  /** The documents API (README "Documents"). */
  documents: z
    .strictObject({
      /** Longest provider-imposed wait (Retry-After) a request sits out; beyond it the caller gets 503 + Retry-After. */
      maxWaitSeconds: z.coerce.number().int().min(0).max(600).default(30),
      /** Largest upload accepted, in bytes (streamed, never held in memory). */
      maxUploadBytes: z.coerce.number().int().min(1).default(16 * 1024 ** 3),
      /** A full (incremental) garbage collection after every this many MiB of file bytes streamed, so dead network buffers do not pile up (src/documents/reclaim.ts); 0 = leave it to V8. */
      reclaimEveryMiB: z.coerce.number().int().min(0).max(4096).default(16),
    })
    .prefault({}),
  /** The restricted proxy /api/v1/connections/{id}/proxy/<path> (README "Provider API proxy"). */
  proxy: z
    .strictObject({
      /** Largest request body forwarded, in bytes (buffered, so that a refresh can resend it). */
      maxRequestBytes: z.coerce.number().int().min(0).max(256 * 1024 ** 2).default(10 * 1024 ** 2),
      /** Largest response body passed back, in bytes (streamed). */
      maxResponseBytes: z.coerce.number().int().min(1).default(50 * 1024 ** 2),
      /** Total time for one proxied request: refresh, retries, waits and the whole response body. */
      timeoutMs: z.coerce.number().int().min(100).max(3_600_000).default(60_000),
    })
    .prefault({}),
  /** The provider sandbox inside `npm start` (README "Provider sandbox"). */
  sandbox: z
    .strictObject({
      /** auto: run it while no provider app uses a real profile; on: always; off: never (production). */
      mode: z.enum(['auto', 'on', 'off']).default('auto'),
    })
    .prefault({}),
  outbound: z
    .strictObject({
      /** PEM file of extra CAs trusted for calls to providers (the sandbox's local CA, a corporate proxy's). */
      extraCaFile: z.string().min(1).optional(),
    })
    .prefault({}),
  /** Webhooks to host apps (README "Webhooks"). */
  webhooks: z
    .strictObject({
      /** Allow private, loopback and link-local targets, and plain http: development, or host apps on your own network. */
      allowPrivateTargets: z.stringbool().or(z.boolean()).default(false),
      /** Time for one delivery attempt (connect, send, answer), in milliseconds. */
      timeoutMs: z.coerce.number().int().min(100).max(60_000).default(10_000),
      /** Attempts per delivery before it is marked failed. */
      maxAttempts: z.coerce.number().int().min(1).max(30).default(8),
      /** Backoff: the delay after the first failed attempt, doubling (with jitter) up to retryMaxMs. */
      retryBaseMs: z.coerce.number().int().min(10).max(3_600_000).default(30_000),
      retryMaxMs: z.coerce.number().int().min(10).max(86_400_000).default(6 * 3_600_000),
    })
    .prefault({}),
  jobs: z
    .strictObject({
      concurrency: z.coerce.number().int().min(1).max(64).default(4),
      enabled: z.stringbool().or(z.boolean()).default(true),
    })
    .prefault({}),
  /** Key-encryption keys (src/keys): a local keyring, or a remote key service (`tether keys serve`). */
  keys: z
    .strictObject({
      provider: z.enum(['local', 'remote']).default('local'),
      /** Local keyring file; unset: `$dataDir/keyring.json`, created (mode 0600) on first start. */
      keyFile: z.string().min(1).optional(),
      /** Local keys given directly, instead of a key file: `1:<base64 32 bytes>,2:<…>`; the highest version is current. */
      localKeys: z.string().min(1).optional(),
      /** The remote key service's base URL (provider `remote`). */
      remoteUrl: z.url({ protocol: /^https?$/ }).optional(),
      /** The secret Tether and the key service share to sign requests and answers (both sides). */
      remoteToken: z.string().min(32, 'must be at least 32 characters').optional(),
      /** PEM file of the CA that issued the remote key service's TLS certificate (when it is not a public one). */
      remoteCaFile: z.string().min(1).optional(),
      remoteTimeoutMs: z.coerce.number().int().min(100).max(60_000).default(5000),
      /** How long an unwrapped data key stays in memory; 0 = ask the key service every time. */
      dataKeyCacheSeconds: z.coerce.number().int().min(0).max(3600).default(60),
      /** Where `tether keys serve` listens. */
      serveHost: z.string().min(1).default('127.0.0.1'),
      servePort: z.coerce.number().int().min(0).max(65535).default(8091),
      /** PEM certificate (chain) and key for `tether keys serve` to answer over HTTPS. */
      serveTlsCertFile: z.string().min(1).optional(),
      serveTlsKeyFile: z.string().min(1).optional(),
    })
    .superRefine((keys, ctx) => {
      if (Boolean(keys.serveTlsCertFile) !== Boolean(keys.serveTlsKeyFile)) {
        ctx.addIssue({ code: 'custom', path: ['serveTlsKeyFile'], message: 'serveTlsCertFile and serveTlsKeyFile go together' });
      }
      if (keys.provider !== 'remote') return;
      if (!keys.remoteUrl) ctx.addIssue({ code: 'custom', path: ['remoteUrl'], message: 'is required when keys.provider is remote' });
      if (!keys.remoteToken) ctx.addIssue({ code: 'custom', path: ['remoteToken'], message: 'is required when keys.provider is remote' });
    })
    .prefault({}),
});

export type ConfigInput = z.input<typeof configSchema>;
export type Config = z.output<typeof configSchema> & { publicUrl: string };

/** Environment variables and the config path they set. Documented in the README. */
export const envMapping: ReadonlyArray<readonly [env: string, path: readonly string[], kind?: 'list']> = [
  ['PORT', ['port']],
  ['HOST', ['host']],
  ['TETHER_PUBLIC_URL', ['publicUrl']],
  ['DATABASE_URL', ['databaseUrl']],
  ['TETHER_DATA_DIR', ['dataDir']],
  ['TETHER_OPERATOR_TOKEN', ['operatorToken']],
  ['TETHER_LOG_LEVEL', ['log', 'level']],
  ['LOG_LEVEL', ['log', 'level']],
  ['TETHER_BODY_LIMIT_BYTES', ['http', 'bodyLimitBytes']],
  ['TETHER_TRUST_PROXY', ['http', 'trustProxy']],
  ['TETHER_SHUTDOWN_TIMEOUT_MS', ['http', 'shutdownTimeoutMs']],
  ['TETHER_SESSION_TTL_HOURS', ['sessions', 'ttlHours']],
  ['TETHER_LOGIN_MAX_FAILURES', ['auth', 'loginMaxFailures']],
  ['TETHER_LOGIN_WINDOW_MINUTES', ['auth', 'loginWindowMinutes']],
  ['TETHER_EMBEDDED_PG_PORT', ['embeddedPostgres', 'port']],
  ['TETHER_JOB_CONCURRENCY', ['jobs', 'concurrency']],
  ['TETHER_JOBS_ENABLED', ['jobs', 'enabled']],
  ['TETHER_KEYS_PROVIDER', ['keys', 'provider']],
  ['TETHER_KEYS_KEY_FILE', ['keys', 'keyFile']],
  ['TETHER_KEYS_LOCAL_KEYS', ['keys', 'localKeys']],
  ['TETHER_KEYS_REMOTE_URL', ['keys', 'remoteUrl']],
  ['TETHER_KEYS_REMOTE_TOKEN', ['keys', 'remoteToken']],
  ['TETHER_KEYS_REMOTE_CA_FILE', ['keys', 'remoteCaFile']],
  ['TETHER_KEYS_REMOTE_TIMEOUT_MS', ['keys', 'remoteTimeoutMs']],
  ['TETHER_KEYS_CACHE_SECONDS', ['keys', 'dataKeyCacheSeconds']],
  ['TETHER_KEYS_SERVE_HOST', ['keys', 'serveHost']],
  ['TETHER_KEYS_SERVE_PORT', ['keys', 'servePort']],
  ['TETHER_KEYS_SERVE_TLS_CERT_FILE', ['keys', 'serveTlsCertFile']],
  ['TETHER_KEYS_SERVE_TLS_KEY_FILE', ['keys', 'serveTlsKeyFile']],
  ['TETHER_EXTRA_CA_FILE', ['outbound', 'extraCaFile']],
  ['TETHER_SANDBOX', ['sandbox', 'mode']],
  ['TETHER_TOKEN_REFRESH_MARGIN_SECONDS', ['tokens', 'refreshMarginSeconds']],
  ['TETHER_TOKEN_CACHE_SIZE', ['tokens', 'cacheSize']],
  ['TETHER_DOCUMENTS_MAX_WAIT_SECONDS', ['documents', 'maxWaitSeconds']],
  ['TETHER_DOCUMENTS_MAX_UPLOAD_BYTES', ['documents', 'maxUploadBytes']],
  ['TETHER_DOCUMENTS_RECLAIM_EVERY_MIB', ['documents', 'reclaimEveryMiB']],
  ['TETHER_PROXY_MAX_REQUEST_BYTES', ['proxy', 'maxRequestBytes']],
  ['TETHER_PROXY_MAX_RESPONSE_BYTES', ['proxy', 'maxResponseBytes']],
  ['TETHER_PROXY_TIMEOUT_MS', ['proxy', 'timeoutMs']],
  ['TETHER_WEBHOOKS_ALLOW_PRIVATE_TARGETS', ['webhooks', 'allowPrivateTargets']],
  ['TETHER_WEBHOOKS_TIMEOUT_MS', ['webhooks', 'timeoutMs']],
  ['TETHER_WEBHOOKS_MAX_ATTEMPTS', ['webhooks', 'maxAttempts']],
  ['TETHER_WEBHOOKS_RETRY_BASE_MS', ['webhooks', 'retryBaseMs']],
  ['TETHER_WEBHOOKS_RETRY_MAX_MS', ['webhooks', 'retryMaxMs']],
  ['TETHER_ALLOWED_RETURN_ORIGINS', ['connect', 'allowedReturnOrigins'], 'list'], // comma-separated
  ['TETHER_CONNECT_REDIRECT_URIS', ['connect', 'redirectUris']],
];
