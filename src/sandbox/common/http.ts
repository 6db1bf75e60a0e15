// The sandbox's tiny request/response model. Handlers return a plain response value instead of
// writing to the socket, so the fault layer can delay, corrupt or drop any answer uniformly.
import type { IncomingHttpHeaders } from 'node:http';
import { randomUUID } from 'node:crypto';

export type ProviderId = 'microsoft' | 'google' | 'webex';

export interface SbRequest {
  provider: ProviderId;
  method: string;
  url: URL;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** Origin of the server that received the request, e.g. https://127.0.0.1:4431. */
  origin: string;
}

export interface SbResponse {
  status: number;
  headers?: Record<string, string | number | string[]>;
  body?: Buffer | string;
}

export function json(status: number, value: unknown, headers: Record<string, string | number | string[]> = {}): SbResponse {
  return { status, headers: { 'content-type': 'application/json; charset=utf-8', ...headers }, body: JSON.stringify(value) };
}

export function html(status: number, body: string, headers: Record<string, string> = {}): SbResponse {
  return { status, headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', ...headers }, body };
}

export function redirect(location: string, status = 302): SbResponse {
  return { status, headers: { location, 'cache-control': 'no-store' }, body: '' };
}

export function empty(status: number, headers: Record<string, string | number | string[]> = {}): SbResponse {
  return { status, headers, body: '' };
}

export function bytes(status: number, body: Buffer, contentType: string, headers: Record<string, string | number | string[]> = {}): SbResponse {
  return { status, headers: { 'content-type': contentType, 'content-length': body.length, ...headers }, body };
}

export function parseForm(req: SbRequest): URLSearchParams {
  return new URLSearchParams(req.body.toString('utf8'));
}

export function parseJson(req: SbRequest): unknown {
  if (req.body.length === 0) return undefined;
  try {
    return JSON.parse(req.body.toString('utf8'));
  } catch {
    return Symbol.for('invalid-json');
  }
}
export const INVALID_JSON = Symbol.for('invalid-json');

export function bearerToken(req: SbRequest): string | undefined {
  const h = req.headers.authorization;
  if (!h) return undefined;
  const m = /^Bearer\s+(.+)$/i.exec(h);
  return m?.[1]?.trim();
}

/** HTTP Basic client credentials (RFC 6749 §2.3.1: form-urlencoded before base64). */
export function basicCredentials(req: SbRequest): { id: string; secret: string } | undefined {
  const h = req.headers.authorization;
  const m = h ? /^Basic\s+(.+)$/i.exec(h) : null;
  if (!m?.[1]) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return undefined;
  return { id: decodeURIComponent(decoded.slice(0, i).replace(/\+/g, ' ')), secret: decodeURIComponent(decoded.slice(i + 1).replace(/\+/g, ' ')) };
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function newId(): string {
  return randomUUID();
}

type Handler = (req: SbRequest, m: RegExpExecArray) => SbResponse | Promise<SbResponse>;

/** Ordered method + regex routes; the first match wins. */
export class Router {
  readonly #routes: { method: string; re: RegExp; handler: Handler }[] = [];
  add(method: string, re: RegExp, handler: Handler): this {
    this.#routes.push({ method, re, handler });
    return this;
  }
  /** Returns undefined when nothing matches; `405` when the path matches with another method. */
  match(req: SbRequest): (() => SbResponse | Promise<SbResponse>) | 'method-not-allowed' | undefined {
    let pathMatched = false;
    for (const r of this.#routes) {
      const m = r.re.exec(req.path);
      if (!m) continue;
      pathMatched = true;
      if (r.method === req.method || (r.method === 'GET' && req.method === 'HEAD')) return () => r.handler(req, m);
    }
    return pathMatched ? 'method-not-allowed' : undefined;
  }
}
