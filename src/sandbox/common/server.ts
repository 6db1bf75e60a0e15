// One HTTP(S) server per emulated provider, on loopback. The dispatcher here is the only place
// that applies fault knobs and writes the request log, so every emulator gets them for free.
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Faults } from './faults.ts';
import type { ProviderId, Router, SbRequest, SbResponse } from './http.ts';
import type { RequestLog } from './requestLog.ts';

export interface Emulator {
  readonly id: ProviderId;
  readonly router: Router;
  isTokenEndpoint(path: string): boolean;
  /** An error answer in the provider's own format (used by fault knobs and for unknown routes). */
  errorResponse(req: SbRequest, status: number, opts?: { retryAfter?: number | string; reason?: string }): SbResponse;
}

export interface RunningServer {
  origin: string;
  close(): Promise<void>;
}

const MAX_BODY = 256 * 1024 * 1024;

async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new Error('request body too large');
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

function withRetryAfter(res: SbResponse, retryAfter: number | string | undefined): SbResponse {
  if (retryAfter === undefined) return res;
  return { ...res, headers: { ...res.headers, 'retry-after': String(retryAfter) } };
}

export async function startServer(opts: {
  emulator: Emulator;
  faults: Faults;
  log: RequestLog;
  tls?: { cert: string; key: string };
  host?: string;
  port?: number;
}): Promise<RunningServer> {
  const { emulator, faults, log } = opts;
  const host = opts.host ?? '127.0.0.1';
  let origin = '';
  const sockets = new Set<import('node:net').Socket>();

  const listener = async (nreq: http.IncomingMessage, nres: http.ServerResponse) => {
    const started = performance.now();
    const method = (nreq.method ?? 'GET').toUpperCase();
    const rawPath = nreq.url ?? '/';
    const url = new URL(rawPath, origin);
    const finish = (status: number, fault?: string) =>
      log.record({ time: new Date(faults.now()).toISOString(), provider: emulator.id, method, path: rawPath, status, durationMs: Math.round(performance.now() - started), ...(fault ? { fault } : {}) });
    let body: Buffer;
    try {
      body = await readBody(nreq);
    } catch {
      nreq.socket.destroy();
      finish(0, 'body-read-failed');
      return;
    }
    const req: SbRequest = { provider: emulator.id, method, url, path: url.pathname, query: url.searchParams, headers: nreq.headers, body, origin };

    const latency = faults.latencyFor(emulator.id, method, url.pathname);
    if (latency > 0) await sleep(latency);

    let res: SbResponse;
    let faultName: string | undefined;
    const queued = faults.take(emulator.id, method, url.pathname);
    if (queued?.kind === 'reset') {
      // A TCP RST where the socket allows it (plain HTTP); over TLS the raw socket is owned by
      // the TLS layer, so it is destroyed without close_notify — clients see ECONNRESET either way.
      const sock = nreq.socket as import('node:net').Socket & { encrypted?: boolean };
      if (sock.encrypted) sock.destroy();
      else sock.resetAndDestroy();
      finish(0, 'reset');
      return;
    }
    const tokenFault = emulator.isTokenEndpoint(url.pathname) ? faults.tokenEndpoint(emulator.id) : undefined;
    if (tokenFault && tokenFault.delayMs > 0) await sleep(tokenFault.delayMs);
    if (queued?.kind === 'status') {
      faultName = `status-${queued.status}`;
      res = withRetryAfter(emulator.errorResponse(req, queued.status, queued), queued.retryAfter);
    } else if (tokenFault?.down) {
      faultName = 'token-endpoint-down';
      res = emulator.errorResponse(req, 503);
    } else {
      const route = emulator.router.match(req);
      try {
        if (route === undefined) res = emulator.errorResponse(req, 404);
        else if (route === 'method-not-allowed') res = emulator.errorResponse(req, 405);
        else res = await route();
      } catch (err) {
        console.error(`[sandbox:${emulator.id}] ${method} ${rawPath} failed:`, err);
        res = emulator.errorResponse(req, 500);
      }
      if (queued?.kind === 'malformed') {
        faultName = 'malformed';
        const text = Buffer.isBuffer(res.body) ? res.body : Buffer.from(res.body ?? '');
        // Cut the body in half and drop the length so the client sees a truncated JSON document.
        res = { ...res, body: text.subarray(0, Math.max(1, Math.floor(text.length / 2))), headers: { ...res.headers, 'content-length': Math.max(1, Math.floor(text.length / 2)) } };
        if (text.length === 0) res = { ...res, body: '{"', headers: { ...res.headers, 'content-type': 'application/json', 'content-length': 2 } };
      }
      // Produced (tokens issued, a rotated refresh token retired) but not yet sent: a test may hold it.
      if (tokenFault) await faults.holdTokenResponse(emulator.id);
    }
    const headers: Record<string, string | number | string[]> = { date: new Date(faults.now()).toUTCString(), ...res.headers };
    const payload = method === 'HEAD' ? undefined : res.body;
    if (payload !== undefined && headers['content-length'] === undefined) headers['content-length'] = Buffer.byteLength(payload);
    nres.writeHead(res.status, headers);
    nres.end(payload);
    finish(res.status, faultName);
  };

  const handler = (q: http.IncomingMessage, r: http.ServerResponse) => {
    listener(q, r).catch((err) => {
      console.error(`[sandbox:${emulator.id}]`, err);
      if (!r.headersSent) r.writeHead(500).end();
    });
  };
  const server = opts.tls ? https.createServer({ cert: opts.tls.cert, key: opts.tls.key }, handler) : http.createServer(handler);
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('secureConnection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  origin = `${opts.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return {
    origin,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}
