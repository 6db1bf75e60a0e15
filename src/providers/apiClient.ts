import { TetherError } from '../errors.ts';
import type { OutboundFetch } from '../outbound/fetch.ts';
import type { ApiRequest, ProviderContext } from './adapter.ts';

/**
 * Builds the `api` an adapter gets: every request goes to the profile's API base and nowhere else.
 * Paths are built by adapters from validated ids, but are checked again here: a path that could
 * change the host or climb out of the base (`//`, `..`, `@`, a scheme, backslashes, control
 * characters) is a programming error and never sent.
 */
export function createProviderContext(options: {
  apiBaseUrl: string;
  fetch: OutboundFetch;
  accessToken: () => Promise<string>;
  signal?: AbortSignal;
}): ProviderContext {
  const base = new URL(options.apiBaseUrl);
  return {
    ...(options.signal && { signal: options.signal }),
    async api(path: string, request: ApiRequest = {}): Promise<Response> {
      const url = apiUrl(base, path, request.query);
      const headers = new Headers(request.headers);
      headers.set('authorization', `Bearer ${await options.accessToken()}`);
      headers.set('accept', headers.get('accept') ?? 'application/json');
      return options.fetch(url, {
        method: request.method ?? 'GET',
        headers,
        ...(request.body !== undefined && { body: request.body as NonNullable<RequestInit['body']> }),
        redirect: 'manual',
        ...(options.signal && { signal: options.signal }),
      });
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
      return options.fetch(url, {
        method: request.method ?? 'PUT',
        headers: request.headers ?? {},
        ...(request.body !== undefined && { body: request.body as NonNullable<RequestInit['body']> }),
        redirect: 'manual',
        ...(options.signal && { signal: options.signal }),
      });
    },
  };
}

const MAX_REDIRECTS = 5;

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
  for (const [key, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(key, String(value));
  return url;
}
