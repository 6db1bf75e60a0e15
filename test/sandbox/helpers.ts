// Shared setup for the sandbox tests: one sandbox per test file, in its own data directory.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { completeSignIn, pkcePair, startSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox/index.ts';

export async function startTestSandbox(opts: SandboxOptions = {}): Promise<Sandbox & { dataDir: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sbx-test-'));
  const sb = await startSandbox({ dataDir, ...opts });
  const close = sb.close.bind(sb);
  return Object.assign(sb, {
    dataDir,
    close: async () => {
      await close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  });
}

export const REDIRECT = 'http://localhost:8080/oauth/callback';

export interface MsTokens {
  access_token: string;
  refresh_token?: string;
  id_token?: string;
  scope: string;
  expires_in: number;
}

export function form(values: Record<string, string>): URLSearchParams {
  return new URLSearchParams(values);
}

/** Full Microsoft sign-in through the form, then the code redeemed with PKCE S256. */
export async function microsoftSignIn(sb: Sandbox, login: string, scope = 'openid profile email offline_access User.Read Files.ReadWrite.All Sites.ReadWrite.All', tenant = 'common'): Promise<MsTokens> {
  const app = sb.microsoft.apps[0]!;
  const { verifier, challenge } = pkcePair();
  const u = new URL(sb.microsoft.authorizationEndpointFor(tenant));
  u.search = form({ client_id: app.clientId, response_type: 'code', redirect_uri: REDIRECT, scope, state: 's', code_challenge: challenge, code_challenge_method: 'S256' }).toString();
  const back = await completeSignIn(sb.fetch, u.toString(), { login });
  const res = await sb.fetch(sb.microsoft.tokenEndpointFor(tenant), {
    method: 'POST',
    body: form({ grant_type: 'authorization_code', code: back.searchParams.get('code')!, redirect_uri: REDIRECT, client_id: app.clientId, client_secret: app.clientSecret, code_verifier: verifier }),
  });
  if (res.status !== 200) throw new Error(`token endpoint answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as MsTokens;
}

export async function getJson(sb: Sandbox, url: string, token: string, init: RequestInit = {}): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await sb.fetch(url, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers as Record<string, string> | undefined) } });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

export interface GoogleTokens {
  access_token: string;
  refresh_token?: string;
  id_token?: string;
  scope: string;
  expires_in: number;
  token_type: string;
}

/** Google sign-in through the form with PKCE S256 and access_type=offline. */
export async function googleSignIn(sb: Sandbox, login: string, scope = 'openid email profile https://www.googleapis.com/auth/drive', extra: Record<string, string> = {}): Promise<GoogleTokens> {
  const app = sb.google.apps[0]!;
  const { verifier, challenge } = pkcePair();
  const u = new URL(sb.google.authorizationEndpoint);
  u.search = form({ client_id: app.clientId, response_type: 'code', redirect_uri: REDIRECT, scope, state: 'g', access_type: 'offline', prompt: 'consent', code_challenge: challenge, code_challenge_method: 'S256', ...extra }).toString();
  const back = await completeSignIn(sb.fetch, u.toString(), { login });
  const res = await sb.fetch(sb.google.tokenEndpoint, {
    method: 'POST',
    body: form({ grant_type: 'authorization_code', code: back.searchParams.get('code')!, redirect_uri: REDIRECT, client_id: app.clientId, client_secret: app.clientSecret, code_verifier: verifier }),
  });
  if (res.status !== 200) throw new Error(`token endpoint answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as GoogleTokens;
}

export interface WebexTokens {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  refresh_token_expires_in: number;
  id_token?: string;
  scope: string;
}

export async function webexSignIn(sb: Sandbox, login: string, scope = 'spark:all spark:kms openid email profile'): Promise<WebexTokens> {
  const app = sb.webex.apps[0]!;
  const { verifier, challenge } = pkcePair();
  const u = new URL(sb.webex.authorizationEndpoint);
  u.search = form({ client_id: app.clientId, response_type: 'code', redirect_uri: REDIRECT, scope, state: 'w', code_challenge: challenge, code_challenge_method: 'S256' }).toString();
  const back = await completeSignIn(sb.fetch, u.toString(), { login });
  const res = await sb.fetch(sb.webex.tokenEndpoint, {
    method: 'POST',
    body: form({ grant_type: 'authorization_code', code: back.searchParams.get('code')!, redirect_uri: REDIRECT, client_id: app.clientId, client_secret: app.clientSecret, code_verifier: verifier }),
  });
  if (res.status !== 200) throw new Error(`token endpoint answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as WebexTokens;
}
