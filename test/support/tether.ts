import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import { createLogger } from '../../src/logging.ts';
import { startTether, type Tether } from '../../src/main.ts';
import { randomToken } from '../../src/security/tokens.ts';
import { capture, captureResponse } from './capture.ts';
import { createTestDatabase } from './database.ts';

export interface TestTether extends Tether {
  config: Config;
  /** Every log line this instance wrote, as text. */
  logs: string[];
  http: HttpClient;
  stop(): Promise<void>;
}

/** A real Tether (HTTP on an ephemeral port) on its own fresh database. */
export async function startTestTether(env: Record<string, string> = {}): Promise<TestTether> {
  const database = await createTestDatabase();
  const dataDir = mkdtempSync(join(tmpdir(), 'tether-test-'));
  const config = loadConfig({
    PORT: '0',
    DATABASE_URL: database.url,
    TETHER_DATA_DIR: dataDir,
    TETHER_OPERATOR_TOKEN: `op_${randomToken()}`,
    TETHER_LOG_LEVEL: 'debug',
    TETHER_PUBLIC_URL: 'http://tether.test',
    TETHER_JOBS_ENABLED: 'false',
    // Tests that need the provider sandbox start their own, with the knobs they turn.
    TETHER_SANDBOX: 'off',
    ...env,
  });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      logs.push(String(chunk));
      capture('log', String(chunk));
      done();
    },
  });
  const tether = await startTether(config, { logger: createLogger(config.log.level, sink) });
  return {
    ...tether,
    config,
    logs,
    http: new HttpClient(tether.url),
    async stop() {
      await tether.close();
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export type Auth =
  | { kind: 'operator'; token: string }
  | { kind: 'apiKey'; key: string; user?: string }
  | { kind: 'session'; cookie: string; csrf: string }
  | { kind: 'none' };

export interface Response<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/** A small fetch wrapper: JSON in, JSON out, with Tether's three ways to authenticate. */
export class HttpClient {
  readonly base: string;
  constructor(base: string) {
    this.base = base;
  }

  async request<T = any>(
    method: string,
    path: string,
    options: { auth?: Auth; body?: unknown; rawBody?: string | Buffer; headers?: Record<string, string> } = {},
  ): Promise<Response<T>> {
    const headers: Record<string, string> = { ...options.headers };
    const auth = options.auth ?? { kind: 'none' };
    if (auth.kind === 'operator') headers.authorization = `Bearer ${auth.token}`;
    if (auth.kind === 'apiKey') {
      headers.authorization = `Bearer ${auth.key}`;
      if (auth.user !== undefined) headers['tether-user'] = auth.user;
    }
    if (auth.kind === 'session') {
      headers.cookie = auth.cookie;
      headers['x-csrf-token'] ??= auth.csrf;
    }
    let body: string | Buffer | undefined = options.rawBody;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(`${this.base}${path}`, { method, headers, body, redirect: 'manual' });
    const text = await res.text();
    captureResponse(method, `${this.base}${path}`, res, text);
    let parsed: unknown = text;
    if ((res.headers.get('content-type') ?? '').includes('json') && text !== '') parsed = JSON.parse(text);
    return { status: res.status, headers: res.headers, body: parsed as T, text };
  }

  get<T = any>(path: string, auth?: Auth) {
    return this.request<T>('GET', path, { auth });
  }
  post<T = any>(path: string, body: unknown, auth?: Auth) {
    return this.request<T>('POST', path, { auth, body });
  }
  patch<T = any>(path: string, body: unknown, auth?: Auth) {
    return this.request<T>('PATCH', path, { auth, body });
  }
  put<T = any>(path: string, auth?: Auth) {
    return this.request<T>('PUT', path, { auth });
  }
  delete<T = any>(path: string, auth?: Auth) {
    return this.request<T>('DELETE', path, { auth });
  }
}

export interface OrgFixture {
  orgId: string;
  slug: string;
  admin: { id: string; email: string; password: string; session: Auth & { kind: 'session' } };
  member: { id: string; email: string; password: string; externalId: string; session: Auth & { kind: 'session' } };
  apiKey: { id: string; key: string };
  group: { id: string };
  /** A Google provider app (no provider is called to create one). */
  providerApp: { id: string };
  /** The API key acting as the admin / as the member. */
  asAdmin: Auth;
  asMember: Auth;
}

export async function signIn(http: HttpClient, org: string, email: string, password: string): Promise<Auth & { kind: 'session' }> {
  const res = await http.post('/api/v1/auth/login', { org, email, password });
  if (res.status !== 200) throw new Error(`sign-in failed: ${res.status} ${res.text}`);
  const cookie = res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  return { kind: 'session', cookie, csrf: res.body.csrfToken };
}

/** An org with an admin, a member (with an external id), a group and an API key, all made through the API. */
export async function createOrgFixture(t: TestTether, slug: string): Promise<OrgFixture> {
  const operator: Auth = { kind: 'operator', token: t.config.operatorToken! };
  const org = await t.http.post('/api/v1/operator/orgs', { slug, name: `Org ${slug}` }, operator);
  if (org.status !== 201) throw new Error(`org: ${org.status} ${org.text}`);
  const adminPassword = `pw-${randomToken(12)}`;
  const adminEmail = `admin@${slug}.test`;
  const admin = await t.http.post(`/api/v1/operator/orgs/${org.body.id}/admins`, { email: adminEmail, displayName: 'Admin', password: adminPassword }, operator);
  if (admin.status !== 201) throw new Error(`admin: ${admin.status} ${admin.text}`);
  const key = await t.http.post(`/api/v1/operator/orgs/${org.body.id}/api-keys`, { name: 'host app' }, operator);
  const adminSession = await signIn(t.http, slug, adminEmail, adminPassword);
  const group = await t.http.post('/api/v1/groups', { name: 'Marketing' }, adminSession);
  const memberPassword = `pw-${randomToken(12)}`;
  const memberEmail = `member@${slug}.test`;
  const member = await t.http.post(
    '/api/v1/users',
    { email: memberEmail, displayName: 'Member', role: 'member', externalId: `ext-${slug}-member`, password: memberPassword, groupIds: [group.body.id] },
    adminSession,
  );
  if (member.status !== 201) throw new Error(`member: ${member.status} ${member.text}`);
  const providerApp = await t.http.post(
    '/api/v1/provider-apps',
    { provider: 'google', displayName: 'Drive', clientId: `${slug}.apps.googleusercontent.com`, clientSecret: `secret-${randomToken(8)}` },
    adminSession,
  );
  if (providerApp.status !== 201) throw new Error(`provider app: ${providerApp.status} ${providerApp.text}`);
  return {
    orgId: org.body.id,
    slug,
    admin: { id: admin.body.user.id, email: adminEmail, password: adminPassword, session: adminSession },
    member: {
      id: member.body.id,
      email: memberEmail,
      password: memberPassword,
      externalId: `ext-${slug}-member`,
      session: await signIn(t.http, slug, memberEmail, memberPassword),
    },
    apiKey: { id: key.body.apiKey.id, key: key.body.key },
    group: { id: group.body.id },
    providerApp: { id: providerApp.body.id },
    asAdmin: { kind: 'apiKey', key: key.body.key, user: admin.body.user.id },
    asMember: { kind: 'apiKey', key: key.body.key, user: `ext-${slug}-member` },
  };
}
