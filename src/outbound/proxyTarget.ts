import { TetherError } from '../errors.ts';
import { apiUrl } from '../providers/apiClient.ts';

/**
 * What a caller of the restricted proxy (`/api/v1/connections/{id}/proxy/<path>`) may name: a path
 * below the connection profile's API base, and a query string. Both are taken from the raw request
 * URL — never from the router's decoded copy — checked, and forwarded byte for byte, so the provider
 * sees exactly what was checked. The caller can never name a host, a scheme or a port.
 */
export interface ProxyTarget {
  /** Still percent-encoded, without the leading slash. */
  path: string;
  /** Still percent-encoded, without the '?'; undefined when the URL has none. */
  query: string | undefined;
}

export const MAX_PROXY_PATH = 2048;
export const MAX_PROXY_QUERY = 8192;

// RFC 3986 §3.3 pchar and "/" — minus "@", so that no reading of the URL can see userinfo.
const PATH_CHARS = /^[A-Za-z0-9\-._~!$&'()*+,;=:%/]*$/;
// RFC 3986 §3.4: pchar, "/" and "?".
const QUERY_CHARS = /^[A-Za-z0-9\-._~!$&'()*+,;=:@%/?]*$/;
const BAD_PERCENT = /%(?![0-9A-Fa-f]{2})/;
const CONTROL = /[\u0000-\u001f\u007f]/;
const PROXY_URL = /^\/api\/v1\/connections\/[^/?#]+\/proxy\/([^?]*)(?:\?(.*))?$/s;

export function invalidProxyPath(reason: string): TetherError {
  return new TetherError(400, 'invalid_proxy_path', `The proxy path or query is refused: ${reason}.`, { details: { reason } });
}

/** Splits and checks a raw proxy request URL. Throws invalid_proxy_path (400); nothing has been sent anywhere. */
export function proxyTarget(rawUrl: string): ProxyTarget {
  const match = PROXY_URL.exec(rawUrl);
  if (!match) throw invalidProxyPath('not a proxy URL');
  const path = match[1]!;
  const query = match[2];
  checkPath(path);
  if (query !== undefined) checkQuery(query);
  return { path, query };
}

function checkPath(path: string): void {
  if (path === '') throw invalidProxyPath('the path is empty');
  if (path.length > MAX_PROXY_PATH) throw invalidProxyPath(`the path is longer than ${MAX_PROXY_PATH} characters`);
  if (CONTROL.test(path)) throw invalidProxyPath('control characters');
  if (path.includes('\\')) throw invalidProxyPath('backslashes');
  if (path.includes('@')) throw invalidProxyPath('"@" (percent-encode it as %40)');
  if (!PATH_CHARS.test(path)) throw invalidProxyPath('characters that must be percent-encoded');
  if (BAD_PERCENT.test(path)) throw invalidProxyPath('malformed percent-encoding');
  const segments = path.split('/');
  // "https:", "javascript:", "c:" — anything a URL parser could read as a scheme.
  if (segments[0]!.includes(':')) throw invalidProxyPath('a ":" in the first segment (a scheme or an absolute URL)');
  // Empty segments ("//") read as an authority by some parsers; only a trailing slash is allowed.
  if (segments.slice(0, -1).some((s) => s === '')) throw invalidProxyPath('empty segments ("//")');
  for (const segment of segments) checkSegment(segment);
}

/**
 * Each segment is decoded again and again (%252e → %2e → .) until it no longer changes: at no layer
 * may it be a dot segment, or hold a slash, backslash or control character — whichever layer the
 * provider or a proxy in front of it decodes, the path cannot climb out of the API base.
 */
function checkSegment(segment: string): void {
  let current = segment;
  for (let layer = 0; layer < 8; layer++) {
    if (current === '.' || current === '..') throw invalidProxyPath('"." or ".." segments (also percent-encoded)');
    if (layer > 0 && /[/\\]/.test(current)) throw invalidProxyPath('percent-encoded slashes or backslashes');
    if (CONTROL.test(current)) throw invalidProxyPath('control characters');
    let next: string;
    try {
      next = decodeURIComponent(current);
    } catch {
      return; // Not decodable any further: the provider sees a literal "%".
    }
    if (next === current) return;
    current = next;
  }
  throw invalidProxyPath('too many layers of percent-encoding');
}

function checkQuery(query: string): void {
  if (query.length > MAX_PROXY_QUERY) throw invalidProxyPath(`the query is longer than ${MAX_PROXY_QUERY} characters`);
  if (CONTROL.test(query)) throw invalidProxyPath('control characters in the query');
  if (!QUERY_CHARS.test(query)) throw invalidProxyPath('characters in the query that must be percent-encoded');
  if (BAD_PERCENT.test(query)) throw invalidProxyPath('malformed percent-encoding in the query');
}

/**
 * The upstream URL, checked once more after parsing: same origin as the API base, and a path that
 * is exactly the base path + "/" + the caller's path (a URL parser that normalised anything would
 * show here). Throws invalid_proxy_path.
 */
export function upstreamUrl(apiBaseUrl: string, target: ProxyTarget): URL {
  const base = new URL(apiBaseUrl);
  let url: URL;
  try {
    url = apiUrl(base, `/${target.path}`, target.query ?? {});
  } catch {
    throw invalidProxyPath('it does not stay below the API base');
  }
  if (url.origin !== base.origin || url.username || url.password || url.pathname !== `${basePath(base)}/${target.path}`) {
    throw invalidProxyPath('it does not stay below the API base');
  }
  return url;
}

function basePath(base: URL): string {
  return base.pathname.replace(/\/$/, '');
}

/**
 * A provider URL in a `Location` or `Link` header, as the proxy URL that reaches it — or undefined
 * when it points anywhere but below the API base (such URLs are dropped, never passed on).
 */
export function proxyUrlFor(target: string, relativeTo: string, apiBaseUrl: string, proxyBase: string): string | undefined {
  let url: URL;
  try {
    url = new URL(target, relativeTo);
  } catch {
    return undefined;
  }
  const base = new URL(apiBaseUrl);
  const prefix = basePath(base);
  if (url.origin !== base.origin || url.username || url.password || !url.pathname.startsWith(`${prefix}/`)) return undefined;
  return `${proxyBase}${url.pathname.slice(prefix.length)}${url.search}`;
}

/** A `Link` header (RFC 8288) with every target rewritten by proxyUrlFor; off-base links are dropped. */
export function rewriteLinkHeader(value: string, relativeTo: string, apiBaseUrl: string, proxyBase: string): string | undefined {
  const kept: string[] = [];
  for (const m of value.matchAll(/<([^>]*)>([^<]*)/g)) {
    const target = proxyUrlFor(m[1]!, relativeTo, apiBaseUrl, proxyBase);
    if (target) kept.push(`<${target}>${m[2]!.replace(/,\s*$/, '')}`);
  }
  return kept.length ? kept.join(', ') : undefined;
}
