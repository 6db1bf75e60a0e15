import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { completeSignIn, startSandbox, type Sandbox } from '../../src/sandbox/index.ts';
import { createOrgFixture, startTestTether, type Auth, type OrgFixture, type TestTether } from '../support/tether.ts';
import { captureResponse } from '../support/capture.ts';

export const RETURN_ORIGIN = 'https://host.example';
export const RETURN_TO = `${RETURN_ORIGIN}/integrations/done?tab=files`;
export type ProviderId = 'microsoft' | 'google' | 'webex';
export const PROVIDERS: ProviderId[] = ['microsoft', 'google', 'webex'];

/**
 * Tether wired to the provider sandbox the way an operator would do it: the sandbox's endpoints as
 * the `sandbox` profile in a config file, its CA through TETHER_EXTRA_CA_FILE (TLS stays verified),
 * and one provider app per provider made through the admin API with an app registered at the sandbox
 * for Tether's exact redirect URI.
 */
export interface ConnectEnv {
  t: TestTether;
  sb: Sandbox;
  org: OrgFixture;
  db: pg.Client;
  apps: Record<ProviderId, { id: string; clientId: string }>;
  /** A sandbox account per provider to sign in as. */
  logins: Record<ProviderId, string>;
  /** Environment for another Tether process (spawnTether) on the same database, data dir, config and CA. */
  processEnv: Record<string, string>;
  stop(): Promise<void>;
}

/**
 * `profiles`: extra operator profiles (e.g. a test authority) beside the sandbox's — or a function
 * that makes them from the running sandbox; `tetherEnv`: more settings for the Tether under test.
 */
export async function startConnectEnv(
  options: { profiles?: Record<string, unknown> | ((sb: Sandbox) => Record<string, unknown>); scopePresets?: Partial<Record<ProviderId, string>>; tetherEnv?: Record<string, string> } = {},
): Promise<ConnectEnv> {
  const dir = mkdtempSync(join(tmpdir(), 'tether-connect-'));
  const sb = await startSandbox({ dataDir: join(dir, 'sandbox') });
  const caFile = join(dir, 'sandbox-ca.pem');
  writeFileSync(caFile, sb.caCertPem!);
  const endpoints = (p: ProviderId) => {
    const e = sb[p];
    return { issuer: e.issuer, authorizationEndpoint: e.authorizationEndpoint, tokenEndpoint: e.tokenEndpoint, revocationEndpoint: e.revocationEndpoint, jwksUri: e.jwksUri, apiBaseUrl: e.apiBaseUrl };
  };
  const configFile = join(dir, 'tether.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      profiles: {
        sandbox: {
          microsoft: { ...endpoints('microsoft'), authorizationEndpoint: sb.microsoft.authorizationEndpointFor('{tenant}'), tokenEndpoint: sb.microsoft.tokenEndpointFor('{tenant}') },
          google: endpoints('google'),
          webex: endpoints('webex'),
        },
        ...(typeof options.profiles === 'function' ? options.profiles(sb) : options.profiles),
      },
    }),
  );
  const t = await startTestTether({ TETHER_CONFIG: configFile, TETHER_EXTRA_CA_FILE: caFile, TETHER_ALLOWED_RETURN_ORIGINS: RETURN_ORIGIN, ...options.tetherEnv });
  const db = new pg.Client({ connectionString: t.config.databaseUrl });
  await db.connect();
  const org = await createOrgFixture(t, 'connect');
  const redirectUri = `${t.config.publicUrl}/oauth/callback`;
  const ms = sb.microsoft.accounts[0]!;
  const apps = {} as ConnectEnv['apps'];
  for (const provider of PROVIDERS) {
    const registered = sb.registerApp(provider, { redirectUris: [redirectUri], name: `Tether ${provider}` });
    const res = await t.http.post(
      '/api/v1/provider-apps',
      {
        provider,
        profile: 'sandbox',
        displayName: `Sandbox ${provider}`,
        clientId: registered.clientId,
        clientSecret: registered.clientSecret,
        ...(provider === 'microsoft' && { tenant: ms.organization }),
        ...(options.scopePresets?.[provider] && { scopePreset: options.scopePresets[provider] }),
      },
      org.admin.session,
    );
    assert.equal(res.status, 201, res.text);
    // With connect.redirectUris: per-app the redirect URI names the app: register that one.
    if (res.body.redirectUri !== redirectUri) sb.registerApp(provider, { ...registered, redirectUris: [res.body.redirectUri] });
    apps[provider] = { id: res.body.id, clientId: registered.clientId };
  }
  return {
    t,
    sb,
    org,
    db,
    apps,
    logins: { microsoft: ms.email, google: sb.google.accounts[0]!.email, webex: sb.webex.accounts[0]!.email },
    processEnv: {
      ...options.tetherEnv,
      DATABASE_URL: t.config.databaseUrl!,
      TETHER_DATA_DIR: t.config.dataDir,
      TETHER_CONFIG: configFile,
      TETHER_EXTRA_CA_FILE: caFile,
      TETHER_ALLOWED_RETURN_ORIGINS: RETURN_ORIGIN,
      TETHER_OPERATOR_TOKEN: t.config.operatorToken!,
      TETHER_PUBLIC_URL: t.config.publicUrl,
      TETHER_JOBS_ENABLED: 'false',
    },
    async stop() {
      await db.end();
      await t.stop();
      await sb.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A browser: a cookie jar for Tether's origin and no automatic redirects. */
export class Browser {
  readonly cookies = new Map<string, string>();
  private readonly tetherUrl: string;
  private readonly publicUrl: string;

  constructor(env: ConnectEnv) {
    this.tetherUrl = env.t.url;
    this.publicUrl = env.t.config.publicUrl;
  }

  /** GET a Tether URL (as published, on TETHER_PUBLIC_URL) at the test server's real address. */
  async get(publicUrl: string, headers: Record<string, string> = {}): Promise<globalThis.Response & { body_: string }> {
    assert.ok(publicUrl.startsWith(this.publicUrl), `not a Tether URL: ${publicUrl}`);
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(`${this.tetherUrl}${publicUrl.slice(this.publicUrl.length)}`, { redirect: 'manual', headers: { ...(cookie && { cookie }), ...headers } });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const [name, value] = [pair!.slice(0, pair!.indexOf('=')), pair!.slice(pair!.indexOf('=') + 1)];
      if (value === '' || /max-age=0|expires=thu, 01 jan 1970/i.test(c)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const body = await res.text();
    captureResponse('GET', publicUrl, res, body);
    return Object.assign(res, { body_: body });
  }
}

/** Creates a connect session for `auth` and opens it in `browser`: returns the provider URL the browser was sent to. */
export async function beginConnect(env: ConnectEnv, provider: ProviderId, browser: Browser, options: { auth?: Auth; body?: Record<string, unknown> } = {}) {
  const created = await env.t.http.post('/api/v1/connect-sessions', { providerAppId: env.apps[provider].id, returnTo: RETURN_TO, ...options.body }, options.auth ?? env.org.member.session);
  assert.equal(created.status, 201, created.text);
  const opened = await browser.get(created.body.url);
  assert.equal(opened.status, 303, opened.body_);
  return { connectUrl: created.body.url as string, authorizeUrl: new URL(opened.headers.get('location')!), opened };
}

/** Signs in at the sandbox's page like a browser; returns the callback URL the provider redirected to (not yet followed). */
export async function signInAtProvider(env: ConnectEnv, provider: ProviderId, authorizeUrl: URL, login = env.logins[provider]): Promise<URL> {
  return completeSignIn(env.sb.fetch, authorizeUrl.href, { login });
}

/** Follows the callback in the browser: returns the 303's Location as a URL (or the response when it is not a redirect). */
export async function deliverCallback(browser: Browser, callback: URL | string) {
  const res = await browser.get(callback.toString());
  return { res, location: res.status === 303 ? new URL(res.headers.get('location')!) : undefined };
}

/** The whole flow, as a user does it. */
export async function connect(env: ConnectEnv, provider: ProviderId, browser = new Browser(env), options: { auth?: Auth; body?: Record<string, unknown>; login?: string } = {}) {
  const { authorizeUrl } = await beginConnect(env, provider, browser, options);
  const callback = await signInAtProvider(env, provider, authorizeUrl, options.login);
  const { location, res } = await deliverCallback(browser, callback);
  assert.ok(location, `callback answered ${res.status}: ${res.body_}`);
  return { authorizeUrl, callback, location };
}

/** Requests to any provider's token endpoint since `mark`. */
export function tokenCalls(env: ConnectEnv, mark: number) {
  return env.sb.requestLog.since(mark).filter((e) => /\/token$|\/access_token$/.test(e.path));
}

export async function count(db: pg.Client, table: string): Promise<number> {
  return (await db.query<{ n: number }>(`select count(*)::int as n from ${table}`)).rows[0]!.n;
}
