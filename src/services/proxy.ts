import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import { TetherError } from '../errors.ts';
import { proxyUrlFor, rewriteLinkHeader, upstreamUrl, type ProxyTarget } from '../outbound/proxyTarget.ts';
import type { ProviderContext } from '../providers/adapter.ts';
import type { ProviderId } from '../providers/definition.ts';
import type { UserPrincipal } from './context.ts';
import { connectionContext, loadConnection, type Prefetched, type ProviderCallDeps } from './providerContext.ts';
import { needsReauth } from './tokenCustody.ts';

export interface ProxyLimits {
  maxRequestBytes: number;
  maxResponseBytes: number;
  timeoutMs: number;
}

/**
 * Request headers that travel to the provider: content negotiation, conditional requests, ranges and
 * Graph's `Prefer`/`ConsistencyLevel`. Everything else stays here — above all the caller's own
 * Authorization (a Tether credential), cookies, Host, X-Forwarded-*, Tether-User and X-CSRF-Token.
 */
const REQUEST_HEADERS = ['accept', 'accept-language', 'content-type', 'if-match', 'if-none-match', 'if-modified-since', 'if-unmodified-since', 'if-range', 'range', 'prefer', 'consistencylevel'];

/**
 * Response headers passed back. Never Set-Cookie, WWW-Authenticate or hop-by-hop headers;
 * Content-Encoding and its Content-Length neither (the body arrives decoded). Location and Link are
 * rewritten to proxy URLs when they stay below the API base, and dropped otherwise.
 */
const RESPONSE_HEADERS = ['content-type', 'content-range', 'accept-ranges', 'content-language', 'content-disposition', 'etag', 'last-modified', 'retry-after', 'preference-applied', 'trackingid', 'request-id', 'client-request-id'];

export interface OpenProxy {
  provider: ProviderId;
  connectionId: string;
  apiBaseUrl: string;
  ctx: ProviderContext;
  /** Fires at the proxy's total time limit. */
  deadline: AbortSignal;
}

export interface ProxyAnswer {
  status: number;
  headers: Record<string, string>;
  /** Streamed, cut off at the response size limit; null for HEAD and bodiless answers. */
  body: Readable | null;
}

/**
 * The restricted proxy: a request on a connection's behalf to its profile's API base, for the
 * provider APIs the unified APIs do not cover (e.g. Webex compliance and meetings, seed 001). Auth,
 * the one refresh on a 401, throttling and retries are the documents API's own (apiClient.ts); this
 * adds the checks of what a caller may name and the size and time limits.
 */
export class ProxyService {
  private readonly deps: ProviderCallDeps;
  private readonly limits: ProxyLimits;
  private readonly publicUrl: string;

  constructor(deps: ProviderCallDeps & { limits: ProxyLimits; publicUrl: string }) {
    this.deps = deps;
    this.limits = deps.limits;
    this.publicUrl = deps.publicUrl.replace(/\/$/, '');
  }

  get maxRequestBytes(): number {
    return this.limits.maxRequestBytes;
  }

  /** The connection, if the caller may see it (else 404, before any upstream call), under one deadline. */
  async open(principal: UserPrincipal, connectionId: string, callerGone: AbortSignal, prefetched?: Prefetched): Promise<OpenProxy> {
    const deadline = AbortSignal.timeout(this.limits.timeoutMs);
    const signal = AbortSignal.any([callerGone, deadline]);
    const { connection, app } = await loadConnection(this.deps, principal, connectionId, prefetched);
    const { apiBaseUrl, ctx } = connectionContext(this.deps, connection, app, { signal, sleep: (ms) => sleepUnless(ms, signal) });
    return { provider: app.provider, connectionId: connection.id, apiBaseUrl, ctx, deadline };
  }

  async forward(open: OpenProxy, target: ProxyTarget, request: { method: string; headers: IncomingHttpHeaders; body: Buffer | undefined }): Promise<ProxyAnswer> {
    upstreamUrl(open.apiBaseUrl, target); // 400 unless it stays below the API base; nothing sent yet
    let res: Response;
    try {
      res = await open.ctx.api(`/${target.path}`, {
        method: request.method,
        query: target.query ?? {},
        headers: forwardedHeaders(request.headers),
        ...(request.body !== undefined && request.body.length > 0 && { body: request.body }),
      });
    } catch (err) {
      if (open.deadline.aborted) throw upstreamTimeout(this.limits.timeoutMs, err);
      throw err;
    }
    // A 401 that outlived one refresh: the connection's grant is gone. Passing it on would read as
    // the caller's own credentials being refused.
    if (res.status === 401) {
      await res.body?.cancel().catch(() => undefined);
      throw needsReauth();
    }
    const headers = answerHeaders(res, open, `${this.publicUrl}/api/v1/connections/${open.connectionId}/proxy`);
    const max = this.limits.maxResponseBytes;
    if (headers['content-length'] !== undefined && Number(headers['content-length']) > max) {
      await res.body?.cancel().catch(() => undefined);
      throw responseTooLarge(max);
    }
    const body = res.body && request.method !== 'HEAD' ? limitedBody(res.body, max, open.deadline, this.limits.timeoutMs) : null;
    if (!body) await res.body?.cancel().catch(() => undefined);
    return { status: res.status, headers, body };
  }
}

function forwardedHeaders(incoming: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of REQUEST_HEADERS) {
    const value = incoming[name];
    if (typeof value === 'string') out[name] = value;
  }
  return out;
}

function answerHeaders(res: Response, open: OpenProxy, proxyBase: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of RESPONSE_HEADERS) {
    const value = res.headers.get(name);
    if (value !== null) out[name] = value;
  }
  const length = res.headers.get('content-length');
  if (length !== null && /^\d+$/.test(length) && !res.headers.has('content-encoding')) out['content-length'] = length;
  const relativeTo = res.url || open.apiBaseUrl;
  const location = res.headers.get('location');
  const rewritten = location && proxyUrlFor(location, relativeTo, open.apiBaseUrl, proxyBase);
  if (rewritten) out.location = rewritten;
  const link = res.headers.get('link');
  const links = link && rewriteLinkHeader(link, relativeTo, open.apiBaseUrl, proxyBase);
  if (links) out.link = links;
  out['cache-control'] = 'private, no-store';
  // Tells a provider's answer (passed through, whatever its status) from Tether's own errors.
  out['tether-proxy'] = 'upstream';
  return out;
}

/**
 * The provider's body as a stream that errors once it exceeds `max` bytes or the deadline passes.
 * The status line is sent by then, so the caller sees the response cut off (the connection is closed).
 */
export function limitedBody(body: ReadableStream<Uint8Array>, max: number, deadline?: AbortSignal, timeoutMs = 0): Readable {
  async function* chunks(): AsyncGenerator<Uint8Array> {
    let seen = 0;
    try {
      for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
        seen += chunk.byteLength;
        if (seen > max) throw responseTooLarge(max);
        yield chunk;
      }
    } catch (err) {
      if (deadline?.aborted) throw upstreamTimeout(timeoutMs, err);
      throw err;
    }
  }
  return Readable.from(chunks(), { objectMode: false });
}

function responseTooLarge(max: number): TetherError {
  return new TetherError(502, 'upstream_too_large', `The provider's answer is larger than the proxy's limit of ${max} bytes.`);
}

function upstreamTimeout(ms: number, cause: unknown): TetherError {
  return new TetherError(504, 'upstream_timeout', `The provider did not answer within the proxy's limit of ${ms} ms.`, { cause });
}

/** A wait (Retry-After, backoff) that ends early when the request is abandoned or out of time. */
function sleepUnless(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
