import type { User } from '../db/schema.ts';

/** Who is calling. Resolved once per request by the HTTP layer, before any handler runs. */
export type Principal =
  | { kind: 'operator' }
  | {
      kind: 'user';
      orgId: string;
      user: User;
      via: 'session' | 'api_key';
      apiKeyId?: string;
      sessionIdHash?: Buffer;
    };

export type UserPrincipal = Extract<Principal, { kind: 'user' }>;

/** What every service call that changes state needs, for authorization and for the audit log. */
export interface CallContext {
  principal: Principal | undefined;
  requestId: string | null;
  ip: string | null;
}

export function auditActor(ctx: CallContext): {
  actor_type: 'operator' | 'user' | 'anonymous' | 'system';
  actor_id: string | null;
  request_id: string | null;
  ip: string | null;
} {
  const p = ctx.principal;
  const base = { request_id: ctx.requestId, ip: ctx.ip };
  if (!p) return { actor_type: ctx.requestId ? 'anonymous' : 'system', actor_id: null, ...base };
  if (p.kind === 'operator') return { actor_type: 'operator', actor_id: null, ...base };
  return { actor_type: 'user', actor_id: p.user.id, ...base };
}

/** Details every audit event of a user principal carries: which credential acted. */
export function auditVia(ctx: CallContext): Record<string, unknown> {
  const p = ctx.principal;
  if (p?.kind !== 'user') return {};
  return p.via === 'api_key' ? { via: 'api_key', apiKeyId: p.apiKeyId } : { via: 'session' };
}
