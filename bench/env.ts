// The world the benchmarks run in, each part its own process so that Tether's CPU can be read alone:
// the provider sandbox (`npm run sandbox`), Tether (`tether serve`, embedded Postgres or
// DATABASE_URL) wired to it through an operator profile, and this process as the client.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { rootCertificates } from 'node:tls';
import { Agent, request } from 'undici';
import { completeSignIn, createTrustingFetch, type FetchLike, type SandboxDescription } from '../src/sandbox/index.ts';
import { freePort, repoRoot, spawnTether, type TetherProcess } from '../test/support/process.ts';

export interface SandboxProcess {
  child: ChildProcess;
  description: SandboxDescription;
  caPem: string;
  caFile: string;
  /** A fetch trusting the sandbox CA (for the sign-in page and the admin endpoint). */
  fetch: FetchLike;
  admin(path: string, body?: unknown): Promise<any>;
  stop(): Promise<void>;
}

export async function spawnSandbox(dir: string): Promise<SandboxProcess> {
  const child = spawn(process.execPath, [join(repoRoot, 'src/sandbox/cli.ts'), '--json', '--data-dir', dir, '--port-admin', '0', '--port-microsoft', '0', '--port-google', '0', '--port-webex', '0'], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const firstLine = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => {
      lines.close();
      resolve(line);
    });
    child.once('exit', (code) => reject(new Error(`sandbox exited with ${code} before describing itself`)));
  });
  child.stdout!.resume();
  const description = JSON.parse(firstLine) as SandboxDescription;
  const caFile = description.caCertPath!;
  const caPem = readFileSync(caFile, 'utf8');
  const sbFetch = createTrustingFetch(caPem);
  return {
    child,
    description,
    caPem,
    caFile,
    fetch: sbFetch,
    async admin(path, body) {
      const res = await sbFetch(`${description.adminUrl}${path}`, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const text = await res.text();
      if (res.status >= 300) throw new Error(`sandbox admin ${path}: ${res.status} ${text}`);
      return text ? JSON.parse(text) : undefined;
    },
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Writes the operator config that points Tether's `sandbox` profile at this sandbox process. */
export function sandboxConfigFile(dir: string, sb: SandboxProcess): string {
  const p = sb.description.providers;
  const endpoints = (e: (typeof p)['google']) => ({ issuer: e.issuer, authorizationEndpoint: e.authorizationEndpoint, tokenEndpoint: e.tokenEndpoint, revocationEndpoint: e.revocationEndpoint, jwksUri: e.jwksUri, apiBaseUrl: e.apiBaseUrl });
  const file = join(dir, 'tether.json');
  writeFileSync(file, JSON.stringify({ profiles: { sandbox: { microsoft: endpoints(p.microsoft), google: endpoints(p.google), webex: endpoints(p.webex) } } }));
  return file;
}

/** The embedded cluster's URL, as Tether builds it (src/db/embedded.ts), for a second process or a seeding script. */
export function embeddedDatabaseUrl(dataDir: string, port: number): string {
  const password = readFileSync(join(dataDir, 'postgres-password'), 'utf8').trim();
  return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/tether`;
}

/** Tether as its own process; its log goes to `logFile` (not into this process's memory). */
export async function startTether(env: Record<string, string>, logFile: string): Promise<TetherProcess> {
  const port = env.PORT ?? String(await freePort());
  const tether = await spawnTether({ PORT: port, TETHER_PUBLIC_URL: `http://127.0.0.1:${port}`, ...env });
  tether.child.stdout!.removeAllListeners('data');
  tether.child.stdout!.pipe(createWriteStream(logFile, { flags: 'a' }));
  return tether;
}

/** The error lines of a Tether log, to show why a benchmark failed. */
export function logErrors(logFile: string, max = 5): string[] {
  try {
    return readFileSync(logFile, 'utf8').split('\n').filter((l) => /"level":"(error|fatal)"/.test(l)).slice(0, max);
  } catch {
    return [];
  }
}

/** One HTTP client for everything the benchmarks call: undici, keep-alive, trusting the sandbox CA. */
export function benchAgent(caPem: string, connections?: number): Agent {
  return new Agent({ connect: { ca: [...rootCertificates, caPem] }, keepAliveTimeout: 30_000, ...(connections && { connections }) });
}

export interface Json {
  status: number;
  body: any;
  headers: Record<string, string | string[] | undefined>;
}

export async function call(agent: Agent, method: string, url: string, options: { headers?: Record<string, string>; body?: unknown; raw?: string | Buffer } = {}): Promise<Json> {
  const headers = { ...options.headers };
  let body: string | Buffer | undefined = options.raw;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] = 'application/json';
  }
  const res = await request(url, { method: method as 'GET', headers, body, dispatcher: agent });
  const text = await res.body.text();
  const type = String(res.headers['content-type'] ?? '');
  return { status: res.statusCode, headers: res.headers, body: type.includes('json') && text ? JSON.parse(text) : text };
}

function expect(res: Json, status: number, what: string): any {
  if (res.status !== status) throw new Error(`${what}: expected ${status}, got ${res.status} ${typeof res.body === 'string' ? res.body : JSON.stringify(res.body)}`);
  return res.body;
}

export interface BenchWorld {
  sb: SandboxProcess;
  tether: TetherProcess;
  agent: Agent;
  env: Record<string, string>;
  logFile: string;
  dataDir: string;
  databaseUrl: string;
  orgId: string;
  /** API key + Tether-User of an ordinary member (not an admin), as a host app calls for its users. */
  member: Record<string, string>;
  admin: Record<string, string>;
  microsoftApp: { id: string; clientId: string; clientSecret: string; tenantId: string };
  account: string;
  /** A Microsoft connection made through the real connect flow, owned by the member. */
  connectionId: string;
  /** The embedded Postgres's postmaster, when Tether runs one. */
  postmasterPid(): number | undefined;
}

/** Sandbox, Tether, an org with an admin and a member, a Microsoft provider app and one connection made through the connect flow. */
export async function startWorld(dir: string, options: { logLevel: string }): Promise<BenchWorld> {
  const sb = await spawnSandbox(join(dir, 'sandbox'));
  const agent = benchAgent(sb.caPem);
  const dataDir = join(dir, 'tether');
  const operatorToken = `bench_${randomBytes(24).toString('base64url')}`;
  const pgPort = await freePort();
  const env: Record<string, string> = {
    TETHER_DATA_DIR: dataDir,
    TETHER_OPERATOR_TOKEN: operatorToken,
    TETHER_EMBEDDED_PG_PORT: String(pgPort),
    TETHER_CONFIG: sandboxConfigFile(dir, sb),
    TETHER_EXTRA_CA_FILE: sb.caFile,
    // Per-request info logging is on in production; keep it on so the figures are honest.
    TETHER_LOG_LEVEL: options.logLevel,
    ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}),
    // BENCH_CPU_PROF=<dir>: Tether writes a V8 CPU profile there when it stops (open it in Chrome
    // DevTools); BENCH_TETHER_NODE_OPTIONS: more Node options for the Tether process.
    ...((process.env.BENCH_CPU_PROF || process.env.BENCH_TETHER_NODE_OPTIONS) && {
      NODE_OPTIONS: [process.env.BENCH_TETHER_NODE_OPTIONS, process.env.BENCH_CPU_PROF && `--cpu-prof --cpu-prof-dir=${process.env.BENCH_CPU_PROF}`].filter(Boolean).join(' '),
    }),
  };
  let tether: TetherProcess | undefined;
  try {
    tether = await startTether(env, join(dir, 'tether.log'));
    const databaseUrl = process.env.DATABASE_URL ?? embeddedDatabaseUrl(dataDir, pgPort);
    const base = tether.url;
    const operator = { authorization: `Bearer ${operatorToken}` };
    const slug = `bench-${Date.now()}`;
    const org = expect(await call(agent, 'POST', `${base}/api/v1/operator/orgs`, { headers: operator, body: { slug, name: 'Bench' } }), 201, 'create org');
    expect(await call(agent, 'POST', `${base}/api/v1/operator/orgs/${org.id}/admins`, { headers: operator, body: { email: `admin@${slug}.test`, displayName: 'Bench admin', externalId: 'bench-admin' } }), 201, 'create admin');
    const key = expect(await call(agent, 'POST', `${base}/api/v1/operator/orgs/${org.id}/api-keys`, { headers: operator, body: { name: 'bench' } }), 201, 'create API key');
    const admin = { authorization: `Bearer ${key.key}`, 'tether-user': 'bench-admin' };
    expect(await call(agent, 'POST', `${base}/api/v1/users`, { headers: admin, body: { email: `user@${slug}.test`, displayName: 'Bench user', role: 'member', externalId: 'bench-user' } }), 201, 'create member');
    const member = { authorization: `Bearer ${key.key}`, 'tether-user': 'bench-user' };

    // The provider app, registered at the sandbox for Tether's exact redirect URI, as an org admin does it.
    const ms = sb.description.providers.microsoft;
    const account = ms.accounts[0]!;
    const registered = await sb.admin('/sandbox/apps', { provider: 'microsoft', redirectUris: [`${base}/oauth/callback`], name: 'Tether (bench)' });
    const app = expect(
      await call(agent, 'POST', `${base}/api/v1/provider-apps`, {
        headers: admin,
        body: { provider: 'microsoft', profile: 'sandbox', displayName: 'Bench Microsoft', clientId: registered.clientId, clientSecret: registered.clientSecret, tenant: account.organization, scopePreset: 'documents' },
      }),
      201,
      'create provider app',
    );

    const connectionId = await connectThroughBrowserFlow(agent, sb, base, member, app.id, account.email);
    return {
      sb,
      tether,
      agent,
      env,
      logFile: join(dir, 'tether.log'),
      dataDir,
      databaseUrl,
      orgId: org.id,
      member,
      admin,
      microsoftApp: { id: app.id, clientId: registered.clientId, clientSecret: registered.clientSecret, tenantId: account.organization },
      account: account.email,
      connectionId,
      postmasterPid: () => {
        if (process.env.DATABASE_URL) return undefined;
        try {
          return Number(readFileSync(join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
        } catch {
          return undefined;
        }
      },
    };
  } catch (err) {
    tether?.child.kill('SIGTERM');
    await tether?.exited;
    await sb.stop();
    await agent.close();
    throw err;
  }
}

/**
 * The connect flow as a browser does it (test/connections/support.ts `connect`, over real HTTP to a
 * separate process): connect session → Tether's connect page → the sandbox's sign-in page →
 * the callback, with Tether's cookies carried between.
 */
async function connectThroughBrowserFlow(agent: Agent, sb: SandboxProcess, base: string, auth: Record<string, string>, providerAppId: string, login: string): Promise<string> {
  const session = expect(await call(agent, 'POST', `${base}/api/v1/connect-sessions`, { headers: auth, body: { providerAppId, returnTo: `${base}/bench/connected` } }), 201, 'connect session');
  const cookies = new Map<string, string>();
  const browse = async (url: string) => {
    const res = await request(url, { headers: { cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') }, dispatcher: agent });
    await res.body.text();
    const set = res.headers['set-cookie'];
    for (const c of [set ?? []].flat()) {
      const pair = c.split(';')[0]!;
      cookies.set(pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1));
    }
    return { status: res.statusCode, location: res.headers.location as string | undefined };
  };
  const opened = await browse(session.url);
  if (opened.status !== 303 || !opened.location) throw new Error(`connect page answered ${opened.status}`);
  const callback = await completeSignIn(sb.fetch, opened.location, { login });
  const done = await browse(callback.href);
  if (done.status !== 303 || !done.location) throw new Error(`callback answered ${done.status}`);
  const id = new URL(done.location).searchParams.get('connectionId');
  if (!id) throw new Error(`callback redirected without a connection: ${done.location}`);
  return id;
}

/** An access token for the same account, got by this client itself (authorization code + PKCE): the "direct" caller's own credentials. */
export async function directAccessToken(world: BenchWorld): Promise<string> {
  const ms = world.sb.description.providers.microsoft;
  const redirectUri = 'http://localhost:9/bench-direct-callback';
  const app = await world.sb.admin('/sandbox/apps', { provider: 'microsoft', redirectUris: [redirectUri], name: 'Bench direct client' });
  const verifier = randomBytes(32).toString('base64url');
  const tenant = world.microsoftApp.tenantId;
  const authorize = new URL(ms.authorizationEndpoint.replace('{tenant}', tenant));
  authorize.search = new URLSearchParams({
    client_id: app.clientId,
    response_type: 'code',
    redirect_uri: redirectUri,
    scope: 'openid offline_access Files.ReadWrite.All',
    state: randomBytes(16).toString('base64url'),
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  }).toString();
  const back = await completeSignIn(world.sb.fetch, authorize.href, { login: world.account });
  const code = back.searchParams.get('code');
  if (!code) throw new Error(`sign-in returned no code: ${back.href}`);
  const res = await world.sb.fetch(ms.tokenEndpoint.replace('{tenant}', tenant), {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, client_id: app.clientId, client_secret: app.clientSecret, code_verifier: verifier }),
  });
  const body = (await res.json()) as { access_token?: string };
  if (!body.access_token) throw new Error(`token endpoint answered ${res.status}`);
  return body.access_token;
}

export async function stopWorld(world: BenchWorld): Promise<void> {
  world.tether.child.kill('SIGTERM');
  await world.tether.exited;
  await world.sb.stop();
  await world.agent.close();
}
