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
  };
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
