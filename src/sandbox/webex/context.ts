// Shared pieces of the Webex REST emulator: context, caller, scope checks and Link-header paging.
import type { Faults } from '../common/faults.ts';
import { json, type SbRequest, type SbResponse } from '../common/http.ts';
import type { OAuthStore } from '../common/oauth.ts';
import { webexError, WEBEX } from './errors.ts';
import type { WPerson, WStore } from './store.ts';
import type { WebhookDelivery } from './webhooks.ts';

export interface WebexApiContext {
  store: WStore;
  oauth: OAuthStore;
  faults: Faults;
  deliveries: WebhookDelivery[];
  /** Fetch used for webhook deliveries (the sandbox → Tether direction). */
  deliveryFetch: typeof fetch;
}

export interface Caller {
  person: WPerson;
  scopes: Set<string>;
  clientId: string;
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function allowed(c: Caller, scope: string): boolean {
  return c.scopes.has('spark:all') || c.scopes.has(scope);
}

export const denied = () => webexError(403, 'The request is understood, but it has been refused or access is not allowed.');

export function linkHeader(req: SbRequest, params: Record<string, string>): Record<string, string> {
  const next = new URL(req.path, req.origin);
  for (const [k, v] of req.query) next.searchParams.set(k, v);
  for (const [k, v] of Object.entries(params)) next.searchParams.set(k, v);
  return { link: `<${next.toString()}>; rel="next"` };
}

export function maxParam(req: SbRequest, def: number, cap: number): number | SbResponse {
  const raw = req.query.get('max');
  if (raw === null) return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) return WEBEX.badRequest('max must be a positive integer.');
  return Math.min(n, cap);
}

/** Offset paging for the small collections (cursor is opaque to clients). */
export function pageList<T>(req: SbRequest, items: T[], def: number, cap: number, render: (t: T) => unknown): SbResponse {
  const max = maxParam(req, def, cap);
  if (typeof max !== 'number') return max;
  const cursor = req.query.get('cursor');
  const start = cursor ? Number(Buffer.from(cursor, 'base64url').toString('utf8')) : 0;
  if (!Number.isInteger(start) || start < 0) return WEBEX.badRequest('Invalid cursor.');
  const page = items.slice(start, start + max);
  const headers = start + max < items.length ? linkHeader(req, { cursor: Buffer.from(String(start + max)).toString('base64url') }) : {};
  return json(200, { items: page.map(render) }, headers);
}

