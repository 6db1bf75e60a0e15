// The sandbox's admin endpoint (loopback only): read the request log, set fault knobs, register
// apps at run time, and describe the running sandbox. Every knob maps onto the in-process API.
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Faults, FaultScope } from './faults.ts';
import type { ProviderId } from './http.ts';
import type { OAuthApp } from './oauth.ts';
import type { RequestLog } from './requestLog.ts';

export interface AdminHooks {
  faults: Faults;
  log: RequestLog;
  describe(): unknown;
  registerApp(provider: ProviderId, app: Partial<OAuthApp> & { redirectUris: string[] }): OAuthApp;
  expireAccessTokens(provider: ProviderId, userId?: string): void;
  resolveUserId(provider: ProviderId, user: string): string | undefined;
  issueGrants(provider: ProviderId, request: GrantRequest): IssuedGrant[];
}

/** `POST /sandbox/grants`: `count` grants of `user` to the app `clientId`, as if each had consented once. */
export interface GrantRequest {
  clientId: string;
  userId: string;
  scopes: string[];
  count: number;
  /** Lifetime of each grant's first access token; 0 issues it already expired (the next use must refresh). */
  accessTokenSeconds: number;
}
export interface IssuedGrant {
  accessToken: string;
  refreshToken: string;
  accessTokenExpiresAt: string;
}

const PROVIDERS = new Set(['microsoft', 'google', 'webex']);

export class BadRequest extends Error {}

function provider(v: unknown): ProviderId {
  if (typeof v !== 'string' || !PROVIDERS.has(v)) throw new BadRequest('provider must be one of microsoft, google, webex');
  return v as ProviderId;
}

function scopeOf(body: Record<string, unknown>): FaultScope {
  return {
    ...(body.provider !== undefined ? { provider: provider(body.provider) } : {}),
    ...(typeof body.method === 'string' ? { method: body.method } : {}),
    ...(typeof body.pathPrefix === 'string' ? { pathPrefix: body.pathPrefix } : {}),
  };
}

function count(v: unknown): number {
  const n = v === undefined ? 1 : Number(v);
  if (!Number.isInteger(n) || n < 1) throw new BadRequest('count must be a positive integer');
  return n;
}

/** Applies one admin action (the body of POST /sandbox/faults). */
export function applyFaultAction(hooks: AdminHooks, body: Record<string, unknown>): void {
  const f = hooks.faults;
  switch (body.action) {
    case 'latency':
      f.setLatency(Number(body.ms ?? 0), scopeOf(body));
      return;
    case 'failNext': {
      const status = Number(body.status);
      if (!Number.isInteger(status) || status < 400 || status > 599) throw new BadRequest('status must be an HTTP error status');
      const retryAfter = typeof body.retryAfter === 'number' || typeof body.retryAfter === 'string' ? body.retryAfter : undefined;
      f.failNext(count(body.count), { status, ...(retryAfter !== undefined ? { retryAfter } : {}), ...(typeof body.reason === 'string' ? { reason: body.reason } : {}) }, scopeOf(body));
      return;
    }
    case 'resetNext':
      f.resetNext(count(body.count), scopeOf(body));
      return;
    case 'malformedNext':
      f.malformedNext(count(body.count), scopeOf(body));
      return;
    case 'tokenEndpoint':
      f.setTokenEndpoint(provider(body.provider), { ...(body.down !== undefined ? { down: Boolean(body.down) } : {}), ...(body.delayMs !== undefined ? { delayMs: Number(body.delayMs) } : {}) });
      return;
    case 'revokeGrant': {
      const p = provider(body.provider);
      const userId = hooks.resolveUserId(p, String(body.user ?? ''));
      if (!userId) throw new BadRequest(`unknown ${p} user ${String(body.user)}`);
      f.revokeGrant(p, userId);
      return;
    }
    case 'expireAccessTokens': {
      const p = provider(body.provider);
      const userId = body.user === undefined ? undefined : hooks.resolveUserId(p, String(body.user));
      if (body.user !== undefined && !userId) throw new BadRequest(`unknown ${p} user ${String(body.user)}`);
      hooks.expireAccessTokens(p, userId);
      return;
    }
    case 'refreshRotation':
      f.setRefreshRotation(provider(body.provider), Boolean(body.enabled));
      return;
    case 'holdTokenResponse':
      f.holdNextTokenResponse(provider(body.provider));
      return;
    case 'releaseTokenResponses':
      f.releaseTokenResponses();
      return;
    case 'clockOffset':
      f.setClockOffset(Number(body.seconds ?? 0));
      return;
    case 'reset':
      f.reset();
      return;
    default:
      throw new BadRequest('unknown action; use latency, failNext, resetNext, malformedNext, tokenEndpoint, revokeGrant, expireAccessTokens, refreshRotation, holdTokenResponse, releaseTokenResponses, clockOffset or reset');
  }
}

async function readJson(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return {};
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error();
    return v as Record<string, unknown>;
  } catch {
    throw new BadRequest('body must be a JSON object');
  }
}

export async function startAdminServer(hooks: AdminHooks, opts: { tls?: { cert: string; key: string }; host: string; port?: number }): Promise<{ origin: string; close(): Promise<void> }> {
  const handler = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const send = (status: number, value: unknown) => {
      const body = value === undefined ? '' : JSON.stringify(value, null, 2);
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }).end(body);
    };
    try {
      const key = `${req.method} ${url.pathname}`;
      if (key === 'GET /sandbox') return send(200, hooks.describe());
      if (key === 'GET /sandbox/requests') {
        const p = url.searchParams.get('provider');
        const since = url.searchParams.get('since');
        return send(200, { requests: hooks.log.entries({ ...(p ? { provider: provider(p) } : {}), ...(since ? { since: Number(since) } : {}) }) });
      }
      if (key === 'DELETE /sandbox/requests') {
        hooks.log.clear();
        return send(204, undefined);
      }
      if (key === 'GET /sandbox/faults') return send(200, hooks.faults.snapshot());
      if (key === 'POST /sandbox/faults') {
        applyFaultAction(hooks, await readJson(req));
        return send(200, hooks.faults.snapshot());
      }
      if (key === 'DELETE /sandbox/faults') {
        hooks.faults.reset();
        return send(200, hooks.faults.snapshot());
      }
      if (key === 'POST /sandbox/grants') {
        const body = await readJson(req);
        const p = provider(body.provider);
        if (typeof body.clientId !== 'string' || !body.clientId) throw new BadRequest('clientId is required');
        const userId = hooks.resolveUserId(p, String(body.user ?? ''));
        if (!userId) throw new BadRequest(`unknown ${p} user ${String(body.user)}`);
        const scopes = body.scopes;
        if (!Array.isArray(scopes) || !scopes.every((s) => typeof s === 'string' && s.length > 0)) throw new BadRequest('scopes must be an array of strings');
        const n = count(body.count);
        if (n > 100_000) throw new BadRequest('count must be at most 100000');
        const seconds = body.accessTokenSeconds === undefined ? 3599 : Number(body.accessTokenSeconds);
        if (!Number.isInteger(seconds) || seconds < 0) throw new BadRequest('accessTokenSeconds must be a non-negative integer');
        const grants = hooks.issueGrants(p, { clientId: body.clientId, userId, scopes: scopes as string[], count: n, accessTokenSeconds: seconds });
        return send(201, { grants });
      }
      if (key === 'POST /sandbox/apps') {
        const body = await readJson(req);
        const p = provider(body.provider);
        const uris = body.redirectUris;
        if (!Array.isArray(uris) || uris.length === 0 || !uris.every((u) => typeof u === 'string' && URL.canParse(u))) throw new BadRequest('redirectUris must be a non-empty array of absolute URLs');
        const app = hooks.registerApp(p, {
          redirectUris: uris as string[],
          ...(typeof body.clientId === 'string' ? { clientId: body.clientId } : {}),
          ...(typeof body.clientSecret === 'string' ? { clientSecret: body.clientSecret } : {}),
          ...(typeof body.name === 'string' ? { name: body.name } : {}),
        });
        return send(201, { provider: p, ...app });
      }
      return send(404, { error: 'not_found', message: 'GET /sandbox, GET|DELETE /sandbox/requests, GET|POST|DELETE /sandbox/faults, POST /sandbox/apps, POST /sandbox/grants' });
    } catch (err) {
      if (err instanceof BadRequest) return send(400, { error: 'bad_request', message: err.message });
      console.error('[sandbox:admin]', err);
      return send(500, { error: 'internal', message: String(err) });
    }
  };
  const server = opts.tls ? https.createServer({ cert: opts.tls.cert, key: opts.tls.key }, (q, r) => void handler(q, r)) : http.createServer((q, r) => void handler(q, r));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const origin = `${opts.tls ? 'https' : 'http'}://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`;
  return {
    origin,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
