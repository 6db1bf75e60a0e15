// In-process entry point of the provider sandbox. Tests (the sandbox's and Tether's) call
// `startSandbox()`; `npm run sandbox` (cli.ts) calls it too and prints `describe()`.
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BadRequest as AdminBadRequest, startAdminServer, type IssuedGrant } from './common/admin.ts';
import { loadOrCreateTls } from './common/ca.ts';
import { Faults } from './common/faults.ts';
import { createTrustingFetch, type FetchLike } from './common/fetch.ts';
import type { ProviderId } from './common/http.ts';
import { guid } from './common/ids.ts';
import { loadOrCreateSigningKey } from './common/keys.ts';
import { randomToken, type OAuthApp, type OAuthStore } from './common/oauth.ts';
import { RequestLog } from './common/requestLog.ts';
import { startServer, type Emulator, type RunningServer } from './common/server.ts';
import { createGoogleEmulator, type GoogleEmulator } from './google/index.ts';
import { GOOGLE_DOMAIN } from './google/store.ts';
import { createMicrosoftEmulator, type MicrosoftEmulator } from './microsoft/index.ts';
import type { WebhookDelivery } from './webex/api.ts';
import { createWebexEmulator, type WebexEmulator } from './webex/index.ts';
import { WEBEX_DOMAIN } from './webex/store.ts';

export type { ProviderId } from './common/http.ts';
export type { OAuthApp } from './common/oauth.ts';
export type { LoggedRequest } from './common/requestLog.ts';
export type { FaultScope } from './common/faults.ts';
export type { WebhookDelivery } from './webex/api.ts';
export { Faults } from './common/faults.ts';
export { RequestLog } from './common/requestLog.ts';
export { createTrustingFetch, type FetchLike } from './common/fetch.ts';
export { completeSignIn, pkcePair } from './client.ts';
export { trustCaProcessWide } from './trust.ts';

export interface SandboxOptions {
  /** Where the CA, TLS certificate and signing keys are kept. Default: `<tmp>/tether-sandbox`. */
  dataDir?: string;
  /** HTTPS with the local CA (default) or plain HTTP. */
  https?: boolean;
  host?: string;
  /** Fixed ports (0 or absent: any free port). */
  ports?: Partial<Record<ProviderId | 'admin', number>>;
  /** Fetch used to deliver Webex webhooks (default: the global fetch). */
  webhookFetch?: typeof fetch;
}

export interface SandboxAccount {
  id: string;
  email: string;
  displayName: string;
  timeZone: string;
  /** Microsoft: tenant id; Google: Workspace domain; Webex: org id. */
  organization: string;
}

export interface ProviderEndpoints {
  /** Origin of this provider's server; the real paths follow it unchanged. */
  baseUrl: string;
  issuer: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  revocationEndpoint: string | null;
  jwksUri: string;
  discoveryUrl: string;
  userinfoEndpoint: string | null;
  /** Base of the provider's REST API as clients configure it (e.g. https://…/v1.0 for Graph). */
  apiBaseUrl: string;
  apps: OAuthApp[];
  accounts: SandboxAccount[];
}

export interface SandboxDescription {
  https: boolean;
  caCertPath: string | null;
  adminUrl: string;
  providers: Record<ProviderId, ProviderEndpoints & Record<string, unknown>>;
}

export interface Sandbox {
  /** PEM of the local CA (undefined with `https: false`). Trust it via `ca` / NODE_EXTRA_CA_CERTS. */
  caCertPem: string | undefined;
  caCertPath: string | undefined;
  /** A fetch that trusts the sandbox CA (and the system roots). */
  fetch: FetchLike;
  faults: Faults;
  requestLog: RequestLog;
  adminUrl: string;
  microsoft: ProviderEndpoints & { emulator: MicrosoftEmulator; tenants: { id: string; name: string; domain: string }[]; authorizationEndpointFor(tenant: string): string; tokenEndpointFor(tenant: string): string; discoveryUrlFor(tenant: string): string; issuerFor(tenantId: string): string };
  google: ProviderEndpoints & { emulator: GoogleEmulator; domain: string; driveApiBaseUrl: string; uploadBaseUrl: string };
  webex: ProviderEndpoints & { emulator: WebexEmulator; orgId: string; deliveries: WebhookDelivery[] };
  /**
   * Per provider, just the six endpoint fields a provider definition carries (issuer, authorization,
   * token, revocation, JWKS, API base URL) — Microsoft's as `{tenant}`/`{tenantid}` templates.
   */
  endpoints(): Record<ProviderId, Pick<ProviderEndpoints, 'issuer' | 'authorizationEndpoint' | 'tokenEndpoint' | 'revocationEndpoint' | 'jwksUri' | 'apiBaseUrl'>>;
  /** Expires the access tokens issued so far (all, or one user's, by id or email), to force refreshes. */
  expireAccessTokens(provider: ProviderId, user?: string): void;
  /** Registers an OAuth app at run time; id and secret are generated when not given. */
  registerApp(provider: ProviderId, app: Partial<OAuthApp> & { redirectUris: string[] }): OAuthApp;
  describe(): SandboxDescription;
  close(): Promise<void>;
}

function appsOf(oauth: OAuthStore): OAuthApp[] {
  return [...oauth.apps.values()].map((a) => ({ ...a, redirectUris: [...a.redirectUris] }));
}

export async function startSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  const dataDir = opts.dataDir ?? join(tmpdir(), 'tether-sandbox');
  mkdirSync(dataDir, { recursive: true });
  const useHttps = opts.https ?? true;
  const host = opts.host ?? '127.0.0.1';
  const tlsMaterial = useHttps ? await loadOrCreateTls(dataDir) : undefined;
  const tls = tlsMaterial ? { cert: tlsMaterial.certPem, key: tlsMaterial.keyPem } : undefined;
  const faults = new Faults();
  const requestLog = new RequestLog();

  const msKey = await loadOrCreateSigningKey(dataDir, 'microsoft');
  const microsoft = createMicrosoftEmulator(faults, msKey);
  const google = createGoogleEmulator(faults, await loadOrCreateSigningKey(dataDir, 'google'));
  const webex = createWebexEmulator(faults, await loadOrCreateSigningKey(dataDir, 'webex'), opts.webhookFetch);
  const emulators: Record<ProviderId, { emulator: Emulator; oauth: OAuthStore }> = { microsoft: { emulator: microsoft, oauth: microsoft.oauth }, google: { emulator: google, oauth: google.oauth }, webex: { emulator: webex, oauth: webex.oauth } };

  const servers: RunningServer[] = [];
  const start = async (emulator: Emulator) => {
    const s = await startServer({ emulator, faults, log: requestLog, host, ...(tls ? { tls } : {}), ...(opts.ports?.[emulator.id] ? { port: opts.ports[emulator.id] } : {}) });
    servers.push(s);
    return s.origin;
  };
  const msOrigin = await start(microsoft);
  const gOrigin = await start(google);
  const wOrigin = await start(webex);

  const registerApp = (provider: ProviderId, app: Partial<OAuthApp> & { redirectUris: string[] }): OAuthApp => {
    const target = emulators[provider];
    const clientId = app.clientId ?? (provider === 'microsoft' ? guid(`runtime-app-${randomToken(8)}`) : provider === 'google' ? `${Math.floor(1e11 + Math.random() * 9e11)}-${randomToken(12).toLowerCase().replace(/[^a-z0-9]/g, 'a')}.apps.googleusercontent.com` : `C${randomToken(32).replace(/[^a-zA-Z0-9]/g, '0')}`);
    return target.oauth.registerApp({ clientId, clientSecret: app.clientSecret ?? randomToken(24), redirectUris: [...app.redirectUris], name: app.name ?? 'Runtime app' });
  };

  // Microsoft endpoints are templates, as for the real service: `{tenant}` is common,
  // organizations, a tenant id or domain; `{tenantid}` in the issuer is the token's `tid`.
  const msDescription = (): Sandbox['microsoft'] => ({
    baseUrl: msOrigin,
    issuer: `${msOrigin}/{tenantid}/v2.0`,
    authorizationEndpoint: `${msOrigin}/{tenant}/oauth2/v2.0/authorize`,
    tokenEndpoint: `${msOrigin}/{tenant}/oauth2/v2.0/token`,
    revocationEndpoint: null,
    jwksUri: `${msOrigin}/{tenant}/discovery/v2.0/keys`,
    discoveryUrl: `${msOrigin}/{tenant}/v2.0/.well-known/openid-configuration`,
    userinfoEndpoint: `${msOrigin}/oidc/userinfo`,
    apiBaseUrl: `${msOrigin}/v1.0`,
    apps: appsOf(microsoft.oauth),
    accounts: [...microsoft.store.users.values()].map((u) => ({ id: u.id, email: u.userPrincipalName, displayName: u.displayName, timeZone: u.ianaTimeZone, organization: u.tenantId })),
    tenants: [...microsoft.store.tenants.values()].map((t) => ({ id: t.id, name: t.name, domain: t.domain })),
    authorizationEndpointFor: (tenant) => `${msOrigin}/${tenant}/oauth2/v2.0/authorize`,
    tokenEndpointFor: (tenant) => `${msOrigin}/${tenant}/oauth2/v2.0/token`,
    discoveryUrlFor: (tenant) => `${msOrigin}/${tenant}/v2.0/.well-known/openid-configuration`,
    issuerFor: (tenantId) => `${msOrigin}/${tenantId}/v2.0`,
    emulator: microsoft,
  });

  const googleDescription = (): Sandbox['google'] => ({
    baseUrl: gOrigin,
    issuer: gOrigin,
    authorizationEndpoint: `${gOrigin}/o/oauth2/v2/auth`,
    tokenEndpoint: `${gOrigin}/token`,
    revocationEndpoint: `${gOrigin}/revoke`,
    jwksUri: `${gOrigin}/oauth2/v3/certs`,
    discoveryUrl: `${gOrigin}/.well-known/openid-configuration`,
    userinfoEndpoint: `${gOrigin}/v1/userinfo`,
    // googleapis clients take this as `rootUrl`; Drive lives under /drive/v3 and /upload/drive/v3.
    apiBaseUrl: gOrigin,
    driveApiBaseUrl: `${gOrigin}/drive/v3`,
    uploadBaseUrl: `${gOrigin}/upload/drive/v3`,
    domain: GOOGLE_DOMAIN,
    apps: appsOf(google.oauth),
    accounts: [...google.store.users.values()].map((u) => ({ id: u.id, email: u.email, displayName: u.displayName, timeZone: u.timeZone, organization: GOOGLE_DOMAIN })),
    emulator: google,
  });

  const webexDescription = (): Sandbox['webex'] => ({
    baseUrl: wOrigin,
    // Webex ID tokens are issued by its identity broker (idbroker.webex.com/idb), served here
    // under /idb on the same origin as webexapis.com's /v1 paths.
    issuer: `${wOrigin}/idb`,
    authorizationEndpoint: `${wOrigin}/v1/authorize`,
    tokenEndpoint: `${wOrigin}/v1/access_token`,
    revocationEndpoint: null,
    jwksUri: `${wOrigin}/idb/oauth2/v2/keys/verificationjwk`,
    discoveryUrl: `${wOrigin}/idb/.well-known/openid-configuration`,
    userinfoEndpoint: `${wOrigin}/v1/userinfo`,
    apiBaseUrl: `${wOrigin}/v1`,
    orgId: webex.store.orgId,
    apps: appsOf(webex.oauth),
    accounts: [...webex.store.people.values()].map((p) => ({ id: p.id, email: p.email, displayName: p.displayName, timeZone: p.timezone, organization: webex.store.orgId })),
    deliveries: webex.deliveries,
    emulator: webex,
  });

  const describe = (): SandboxDescription => {
    const { emulator: _e, authorizationEndpointFor: _a, tokenEndpointFor: _t, discoveryUrlFor: _d, issuerFor: _i, ...ms } = msDescription();
    return {
      https: useHttps,
      caCertPath: tlsMaterial?.caCertPath ?? null,
      adminUrl: admin.origin,
      providers: {
        microsoft: ms,
        google: (({ emulator: _g, ...g }) => g)(googleDescription()),
        webex: (({ emulator: _w, deliveries: _d, ...w }) => ({ ...w, domain: WEBEX_DOMAIN }))(webexDescription()),
      },
    };
  };

  const resolveUserId = (provider: ProviderId, user: string): string | undefined => {
    if (provider === 'microsoft') return microsoft.store.userByIdOrUpn(user)?.id;
    if (provider === 'google') return google.store.userByEmail(user)?.id;
    if (provider === 'webex') return webex.store.personByEmail(user)?.id ?? (webex.store.people.has(user) ? user : undefined);
    return undefined;
  };

  const admin = await startAdminServer(
    {
      faults,
      log: requestLog,
      describe,
      registerApp,
      resolveUserId,
      expireAccessTokens: (p, userId) => emulators[p].oauth.expireAccessTokens(userId),
      issueGrants: (p, request) => {
        const oauth = emulators[p].oauth;
        if (!oauth.apps.has(request.clientId)) throw new AdminBadRequest(`unknown ${p} app ${request.clientId}`);
        const issued: IssuedGrant[] = [];
        for (let i = 0; i < request.count; i++) {
          const grant = oauth.newGrant(request.clientId, request.userId, request.scopes);
          const access = oauth.issueAccessToken(grant, request.accessTokenSeconds);
          // Refresh tokens live 90 days at every provider the sandbox emulates.
          const refresh = oauth.issueRefreshToken(grant, 90 * 24 * 3600);
          issued.push({ accessToken: access.token, refreshToken: refresh.token, accessTokenExpiresAt: new Date(access.expiresAt).toISOString() });
        }
        return issued;
      },
    },
    { host, ...(tls ? { tls } : {}), ...(opts.ports?.admin ? { port: opts.ports.admin } : {}) },
  );

  return {
    caCertPem: tlsMaterial?.caCertPem,
    caCertPath: tlsMaterial?.caCertPath,
    fetch: tlsMaterial ? createTrustingFetch(tlsMaterial.caCertPem) : (globalThis.fetch as FetchLike),
    faults,
    requestLog,
    adminUrl: admin.origin,
    get microsoft() {
      return msDescription();
    },
    get google() {
      return googleDescription();
    },
    get webex() {
      return webexDescription();
    },
    registerApp,
    endpoints() {
      const pick = (p: ProviderEndpoints) => ({ issuer: p.issuer, authorizationEndpoint: p.authorizationEndpoint, tokenEndpoint: p.tokenEndpoint, revocationEndpoint: p.revocationEndpoint, jwksUri: p.jwksUri, apiBaseUrl: p.apiBaseUrl });
      return { microsoft: pick(msDescription()), google: pick(googleDescription()), webex: pick(webexDescription()) };
    },
    expireAccessTokens(provider, user) {
      const userId = user === undefined ? undefined : resolveUserId(provider, user);
      if (user !== undefined && !userId) throw new Error(`unknown ${provider} user ${user}`);
      emulators[provider].oauth.expireAccessTokens(userId);
    },
    describe,
    async close() {
      await Promise.all([...servers.map((s) => s.close()), admin.close()]);
    },
  };
}
