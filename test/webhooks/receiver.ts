import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /** Wait this long before answering (a slow or hanging host app). */
  delayMs?: number;
}

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * A host app's webhook endpoint on loopback. Each path answers with the statuses queued for it, in
 * order (then 200); every request is recorded with its raw body.
 */
export class Receiver {
  readonly received: Received[] = [];
  private readonly plans = new Map<string, Answer[]>();
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const path = req.url ?? '/';
        this.received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        const next = this.plans.get(path)?.shift() ?? { status: 200, body: 'ok' };
        const answer = () => {
          if (res.destroyed) return;
          res.writeHead(next.status, next.headers ?? { 'content-type': 'text/plain' });
          res.end(next.body ?? '');
        };
        if (next.delayMs) setTimeout(answer, next.delayMs).unref();
        else answer();
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  plan(path: string, ...answers: Answer[]): void {
    this.plans.set(path, answers);
  }

  at(path: string): Received[] {
    return this.received.filter((r) => r.path === path);
  }

  stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    return closed;
  }
}

/** The verification recipe from the README, as a host app would write it. */
export function verifyTetherWebhook(secret: string, headers: IncomingHttpHeaders, rawBody: string, toleranceSeconds = 300): boolean {
  const timestamp = String(headers['tether-webhook-timestamp'] ?? '');
  const signatures = String(headers['tether-webhook-signature'] ?? '');
  if (!/^\d+$/.test(timestamp) || Math.abs(Date.now() / 1000 - Number(timestamp)) > toleranceSeconds) return false;
  const expected = Buffer.from(`v1=${createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest('hex')}`);
  return signatures.split(',').some((s) => s.trim().length === expected.length && timingSafeEqual(Buffer.from(s.trim()), expected));
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
