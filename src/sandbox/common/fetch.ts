// A WHATWG-compatible `fetch` over node:https that trusts the sandbox CA in addition to the system
// roots. Node's global fetch (undici) cannot take a per-call CA without the undici package, and the
// sandbox never asks clients to turn verification off, so tests and tools use this instead.
import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import { rootCertificates } from 'node:tls';

export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

async function bodyBytes(body: RequestInit['body']): Promise<Buffer | undefined> {
  if (body == null) return undefined;
  if (typeof body === 'string') return Buffer.from(body);
  if (body instanceof URLSearchParams) return Buffer.from(body.toString());
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  if (ArrayBuffer.isView(body)) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  return Buffer.from(await new Response(body as ConstructorParameters<typeof Response>[0]).arrayBuffer());
}

function defaultContentType(body: RequestInit['body']): string | undefined {
  if (typeof body === 'string') return 'text/plain;charset=UTF-8';
  if (body instanceof URLSearchParams) return 'application/x-www-form-urlencoded;charset=UTF-8';
  return undefined;
}

/** Returns a fetch that verifies TLS against `caPem` plus Node's bundled roots. Redirects follow fetch semantics. */
export function createTrustingFetch(caPem: string): FetchLike {
  const agent = new https.Agent({ ca: [...rootCertificates, caPem], keepAlive: true });
  const doFetch: FetchLike = async (input, init = {}) => {
    let url: URL;
    let method = init.method ?? 'GET';
    const headers = new Headers(init.headers);
    let rawBody: RequestInit['body'] = init.body;
    if (input instanceof Request) {
      url = new URL(input.url);
      method = init.method ?? input.method;
      for (const [k, v] of input.headers) if (!headers.has(k)) headers.set(k, v);
      if (rawBody == null && input.body) rawBody = await input.arrayBuffer();
    } else {
      url = new URL(String(input));
    }
    const ct = defaultContentType(rawBody);
    if (ct && !headers.has('content-type')) headers.set('content-type', ct);
    const body = await bodyBytes(rawBody);
    const redirect = init.redirect ?? (input instanceof Request ? input.redirect : 'follow');
    for (let hops = 0; ; hops++) {
      const outHeaders: Record<string, string> = {};
      for (const [k, v] of headers) outHeaders[k] = v;
      if (body) outHeaders['content-length'] = String(body.length);
      const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
        const mod = url.protocol === 'https:' ? https : http;
        const req = mod.request(url, { method, headers: outHeaders, ...(url.protocol === 'https:' ? { agent } : {}) }, resolve);
        req.on('error', (err) => reject(new TypeError('fetch failed', { cause: err })));
        init.signal?.addEventListener('abort', () => req.destroy(init.signal?.reason as Error));
        req.end(body);
      });
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      if (redirect === 'follow' && [301, 302, 303, 307, 308].includes(status) && location) {
        res.resume();
        if (hops >= 20) throw new TypeError('fetch failed: too many redirects');
        url = new URL(location, url);
        if (status === 303 || ((status === 301 || status === 302) && method === 'POST')) {
          method = 'GET';
          headers.delete('content-type');
          return doFetch(url, { method, headers, redirect, signal: init.signal ?? null });
        }
        continue;
      }
      const resHeaders = new Headers();
      for (const [k, v] of Object.entries(res.headers)) {
        if (Array.isArray(v)) for (const one of v) resHeaders.append(k, one);
        else if (v !== undefined) resHeaders.set(k, v);
      }
      const nullBody = method === 'HEAD' || status === 204 || status === 304;
      if (nullBody) res.resume();
      const stream = nullBody ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>);
      const response = new Response(stream, { status, statusText: res.statusMessage ?? '', headers: resHeaders });
      Object.defineProperty(response, 'url', { value: url.toString() });
      return response;
    }
  };
  return doFetch;
}
