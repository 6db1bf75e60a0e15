import { TetherError } from '../errors.ts';
import { googleReason, mapUpstreamError, reasonOf } from '../documents/upstream.ts';
import type { OutboundFetch, OutboundRequest, WholeAnswer } from '../outbound/fetch.ts';
import type { ApiRequest, ProviderContext } from './adapter.ts';

/**
 * Builds the `api` an adapter gets: every request goes to the profile's API base and nowhere else.
 * Paths are built by adapters from validated ids, but are checked again here: a path that could
 * change the host or climb out of the base (`//`, `..`, `@`, a scheme, backslashes, control
 * characters) is a programming error and never sent.
 */
export interface RetryPolicy {
  /** Longest provider-imposed wait Tether sits out; above it the caller gets 503 + Retry-After. */
  maxWaitSeconds: number;
  maxAttempts: number;
}

export const defaultRetryPolicy: RetryPolicy = { maxWaitSeconds: 30, maxAttempts: 4 };

// RFC 9110 §9.2.2: methods whose repetition has the same effect. POST and PATCH are never retried.
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

/** The most Tether reads of one JSON answer (a page of 999 Graph items is about 1 MB). */
export const MAX_JSON_ANSWER_BYTES = 16 * 1024 * 1024;

/** What the retry loop looks at in an answer, whichever client read it. */
interface Attempt {
  status: number;
  header(name: string): string | null;
  /** Google's documented error reason, for 403 and 429 answers (reads the body). */
  reason(): Promise<string | undefined>;
  /** Lets the rest of the body go (the connection goes back to the pool). */
  discard(): Promise<void>;
}

export function createProviderContext(options: {
  apiBaseUrl: string;
  fetch: OutboundFetch;
  request: OutboundRequest;
  accessToken: () => Promise<string>;
  /** A 401 from the provider: force one refresh; true when there is a new token to retry with. */
  onUnauthorized?: () => Promise<boolean>;
  retry?: RetryPolicy;
  signal?: AbortSignal;
  sleep?: (ms: number) => Promise<void>;
}): ProviderContext {
  const base = new URL(options.apiBaseUrl);
  const policy = options.retry ?? defaultRetryPolicy;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));

  /** Sends with a fresh token per attempt: one forced refresh on a 401, waits and retries as the policy says. */
  async function withRetries<A extends Attempt>(method: string, send: (token: string) => Promise<A>): Promise<A> {
    const idempotent = IDEMPOTENT.has(method);
    let refreshed = false;
    for (let attempt = 1; ; attempt++) {
      const token = await options.accessToken();
      let res: A;
      try {
        res = await send(token);
      } catch (cause) {
        // Tether's own refusal (an answer over the size limit) is final.
        if (cause instanceof TetherError) throw cause;
        // A reset or timeout: only an idempotent request may be sent again.
        if (!idempotent || attempt >= policy.maxAttempts || options.signal?.aborted) {
          throw new TetherError(502, 'upstream_unavailable', 'The provider could not be reached.', { cause });
        }
        await sleep(backoff(attempt));
        continue;
      }
      // Reliability rule: refresh once on a 401, then retry once (any method: nothing was done).
      if (res.status === 401 && !refreshed && options.onUnauthorized) {
        refreshed = true;
        await res.discard();
        if (await options.onUnauthorized()) continue;
        return res;
      }
      const wait = await retryWait(res, attempt);
      if (wait === undefined || !idempotent) return res;
      if (wait > policy.maxWaitSeconds * 1000) {
        await res.discard();
        throw throttled(wait);
      }
      if (attempt >= policy.maxAttempts) return res;
      await res.discard();
      await sleep(wait);
    }
  }

  return {
    ...(options.signal && { signal: options.signal }),
    async api(path: string, request: ApiRequest = {}): Promise<Response> {
      const url = apiUrl(base, path, request.query);
      const method = request.method ?? 'GET';
      const answer = await withRetries(method, async (token) => {
        const headers = new Headers(request.headers);
        headers.set('authorization', `Bearer ${token}`);
        headers.set('accept', headers.get('accept') ?? 'application/json');
        const res = await options.fetch(url, {
          method,
          headers,
          ...(request.body !== undefined && { body: request.body as NonNullable<RequestInit['body']> }),
          redirect: 'manual',
          ...(options.signal && { signal: options.signal }),
        });
        return { res, status: res.status, header: (name: string) => res.headers.get(name), reason: () => googleReason(res), discard: async () => void (await res.body?.cancel()) };
      });
      return answer.res;
    },

    async apiJson<T>(path: string, request: ApiRequest = {}): Promise<T> {
      const url = apiUrl(base, path, request.query);
      const method = request.method ?? 'GET';
      const headers: Record<string, string> = { accept: 'application/json' };
      for (const [name, value] of Object.entries(request.headers ?? {})) headers[name.toLowerCase()] = value;
      const answer = await withRetries(method, async (token) =>
        wholeAnswer(
          await options.request(url, {
            method,
            headers: { ...headers, authorization: `Bearer ${token}` },
            ...(request.body !== undefined && { body: request.body }),
            ...(options.signal && { signal: options.signal }),
            maxBytes: MAX_JSON_ANSWER_BYTES,
          }),
        ),
      );
      if (answer.status < 200 || answer.status >= 300) {
        throw mapUpstreamError({ status: answer.status, retryAfter: answer.header('retry-after'), reason: await answer.reason() });
      }
      try {
        return JSON.parse(answer.text) as T;
      } catch (cause) {
        throw new TetherError(502, 'upstream_unavailable', 'The provider sent an unreadable answer.', { cause });
      }
    },

    async download(target, request) {
      let url: URL;
      let res: Response;
      if (target.startsWith('/')) {
        res = await this.api(target, { ...request, headers: { accept: '*/*', ...request.headers } });
        url = apiUrl(base, target, request.query);
      } else {
        url = checkContentUrl(new URL(target), base, request.contentHosts);
        res = await options.fetch(url, { headers: passHeaders(request.headers), redirect: 'manual', ...(options.signal && { signal: options.signal }) });
      }
      for (let hop = 0; res.status >= 300 && res.status < 400 && res.headers.get('location'); hop++) {
        await res.body?.cancel();
        if (hop >= MAX_REDIRECTS) throw redirectRefused('too many redirects');
        url = checkContentUrl(new URL(res.headers.get('location')!, url), base, request.contentHosts);
        // Pre-authenticated content URLs: the token stays on the API host (Graph documents this for
        // downloadUrl; sending it to the content host would leak it and Graph answers 401).
        res = await options.fetch(url, { headers: passHeaders(request.headers), redirect: 'manual', ...(options.signal && { signal: options.signal }) });
      }
      return res;
    },

    async sendTo(target, request) {
      const url = checkContentUrl(new URL(target), base, request.contentHosts);
      const body = request.body;
      const streamed = body !== undefined && typeof body !== 'string' && !(body instanceof Uint8Array);
      if (streamed && !Object.keys(request.headers ?? {}).some((h) => h.toLowerCase() === 'content-length')) throw new Error('a streamed body needs its content-length');
      return options.fetch(url, {
        method: request.method ?? 'PUT',
        headers: request.headers ?? {},
        // A ReadableStream is passed through as it is produced; undici copies any other body
        // (BufferSource) whole, which for upload fragments means megabytes per request.
        ...(body !== undefined && { body: (streamed ? ReadableStream.from(body) : body) as NonNullable<RequestInit['body']> }),
        ...(streamed && { duplex: 'half' }),
        redirect: 'manual',
        ...(options.signal && { signal: options.signal }),
      });
    },
  };
}

const MAX_REDIRECTS = 5;

function throttled(waitMs: number): TetherError {
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  return new TetherError(503, 'throttled', `The provider asks to wait ${seconds} s; try again then.`, { headers: { 'retry-after': String(seconds) } });
}

/** Capped exponential backoff with full jitter (0.25 s, 0.5 s, 1 s … up to 8 s). */
function backoff(attempt: number): number {
  return Math.random() * Math.min(8000, 250 * 2 ** (attempt - 1));
}

/**
 * How long to wait before retrying this answer, or undefined when it is not a retryable one:
 * 429 and 5xx (503 foremost), and Google's 403 rate-limit reasons. `Retry-After` (seconds or an
 * HTTP date, RFC 9110 §10.2.3) wins over backoff.
 */
async function retryWait(res: Attempt, attempt: number): Promise<number | undefined> {
  let retryable = res.status === 429 || res.status === 500 || res.status === 502 || res.status === 503 || res.status === 504;
  if (res.status === 403) {
    const reason = await res.reason();
    retryable = reason === 'userRateLimitExceeded' || reason === 'rateLimitExceeded';
  }
  if (!retryable) return undefined;
  const header = res.header('retry-after');
  if (header) {
    const seconds = /^\d+$/.test(header.trim()) ? Number(header) : (Date.parse(header) - Date.now()) / 1000;
    if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  }
  return backoff(attempt);
}

/** A whole answer as the retry loop sees it (the body is already read, so nothing is left to let go). */
function wholeAnswer(answer: WholeAnswer): Attempt & { text: string } {
  return {
    status: answer.status,
    text: answer.text,
    header(name) {
      const value = answer.headers[name];
      return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
    },
    async reason() {
      if (answer.status !== 403 && answer.status !== 429) return undefined;
      try {
        return reasonOf(JSON.parse(answer.text));
      } catch {
        return undefined;
      }
    },
    async discard() {},
  };
}

function redirectRefused(why: string): TetherError {
  return new TetherError(502, 'upstream_unavailable', `The provider redirected somewhere Tether does not follow (${why}).`);
}

/** Only the request headers that matter for content (Range, conditional requests) travel on. */
function passHeaders(headers: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) if (/^(range|if-none-match|if-range|accept)$/i.test(k)) out[k] = v;
  return out;
}

function checkContentUrl(url: URL, apiBase: URL, contentHosts: readonly string[]): URL {
  if (url.username || url.password) throw redirectRefused('credentials in the URL');
  const host = url.hostname.toLowerCase();
  const sameAsApi = url.origin === apiBase.origin;
  const onContentHost = url.protocol === 'https:' && url.port === '' && contentHosts.some((h) => host === h || host.endsWith(`.${h}`));
  if (!sameAsApi && !onContentHost) throw redirectRefused(`${url.protocol}//${host}`);
  return url;
}

export function apiUrl(base: URL, path: string, query: ApiRequest['query'] = {}): URL {
  if (!path.startsWith('/') || path.startsWith('//') || /[\\@\u0000-\u0020\u007f]|(^|\/)\.\.?(\/|$)|%2e%2e|%2f/i.test(path)) {
    throw new Error(`refusing to build a provider URL from path ${JSON.stringify(path.slice(0, 100))}`);
  }
  const url = new URL(`${base.href.replace(/\/$/, '')}${path}`);
  if (url.origin !== base.origin || !url.pathname.startsWith(base.pathname)) throw new Error('provider URL left the API base');
  if (typeof query === 'string') url.search = query;
  else {
    // One serialization (each searchParams.set re-serializes the whole query); keys are unique here.
    const pairs: [string, string][] = [];
    for (const [key, value] of Object.entries(query)) if (value !== undefined) pairs.push([key, String(value)]);
    if (pairs.length > 0) url.search = new URLSearchParams(pairs).toString();
  }
  return url;
}
