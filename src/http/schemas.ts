import { z } from 'zod';
import type { ApiKey, AuditEvent, Group, Org, User } from '../db/schema.ts';
import { TetherError } from '../errors.ts';

/** Shared request and response schemas. Request objects are strict: unknown fields are a 400. */

export const uuid = z.uuid({ version: 'v4', error: 'must be a UUID' });

export const errorResponse = z
  .object({
    error: z.object({
      code: z.string().describe('Stable, machine-readable error code.'),
      message: z.string(),
      details: z.unknown().optional(),
    }),
  })
  .meta({ id: 'Error' });

export const email = z.email().max(320);
export const password = z.string().min(12, 'must be at least 12 characters').max(256);
export const role = z.enum(['admin', 'member']);
export const slug = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lowercase letters, digits and dashes, up to 63');
export const name = z.string().trim().min(1).max(200);
export const externalId = z.string().min(1).max(256).regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces');

export const pageQuery = z.strictObject({
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export const orgView = z
  .object({ id: z.string(), slug: z.string(), name: z.string(), createdAt: z.iso.datetime() })
  .meta({ id: 'Org' });
export function toOrgView(org: Org): z.infer<typeof orgView> {
  return { id: org.id, slug: org.slug, name: org.name, createdAt: org.created_at.toISOString() };
}

export const userView = z
  .object({
    id: z.string(),
    orgId: z.string(),
    email: z.string(),
    externalId: z.string().nullable(),
    displayName: z.string(),
    role,
    hasPassword: z.boolean(),
    groupIds: z.array(z.string()).optional(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'User' });
export function toUserView(user: User & { groupIds?: string[] }): z.infer<typeof userView> {
  return {
    id: user.id,
    orgId: user.org_id,
    email: user.email,
    externalId: user.external_id,
    displayName: user.display_name,
    role: user.role,
    hasPassword: user.password_hash !== null,
    ...(user.groupIds && { groupIds: user.groupIds }),
    createdAt: user.created_at.toISOString(),
    updatedAt: user.updated_at.toISOString(),
  };
}

export const groupView = z
  .object({
    id: z.string(),
    name: z.string(),
    memberIds: z.array(z.string()).optional(),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: 'Group' });
export function toGroupView(group: Group & { memberIds?: string[] }): z.infer<typeof groupView> {
  return {
    id: group.id,
    name: group.name,
    ...(group.memberIds && { memberIds: group.memberIds }),
    createdAt: group.created_at.toISOString(),
  };
}

export const apiKeyView = z
  .object({
    id: z.string(),
    name: z.string(),
    prefix: z.string().describe('The non-secret start of the key, to recognise it.'),
    createdAt: z.iso.datetime(),
    lastUsedAt: z.iso.datetime().nullable(),
    revokedAt: z.iso.datetime().nullable(),
  })
  .meta({ id: 'ApiKey' });
export function toApiKeyView(key: ApiKey): z.infer<typeof apiKeyView> {
  return {
    id: key.id,
    name: key.name,
    prefix: key.prefix,
    createdAt: key.created_at.toISOString(),
    lastUsedAt: key.last_used_at?.toISOString() ?? null,
    revokedAt: key.revoked_at?.toISOString() ?? null,
  };
}
export const createdApiKey = z
  .object({ apiKey: apiKeyView, key: z.string().describe('The key itself. Shown only in this response.') })
  .meta({ id: 'CreatedApiKey' });

export const auditEventView = z
  .object({
    id: z.string(),
    actorType: z.string(),
    actorId: z.string().nullable(),
    action: z.string(),
    targetType: z.string().nullable(),
    targetId: z.string().nullable(),
    outcome: z.enum(['success', 'failure', 'denied']),
    requestId: z.string().nullable(),
    ip: z.string().nullable(),
    details: z.record(z.string(), z.unknown()),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: 'AuditEvent' });
export function toAuditEventView(e: AuditEvent): z.infer<typeof auditEventView> {
  return {
    id: e.id,
    actorType: e.actor_type,
    actorId: e.actor_id,
    action: e.action,
    targetType: e.target_type,
    targetId: e.target_id,
    outcome: e.outcome,
    requestId: e.request_id,
    ip: e.ip,
    details: e.details,
    createdAt: e.created_at.toISOString(),
  };
}

/** Opaque cursors: base64url of the last key of the page. */
export function encodeCursor(key: string): string {
  return Buffer.from(key, 'utf8').toString('base64url');
}
export function decodeCursor(cursor: string | undefined, pattern: RegExp): string | undefined {
  if (cursor === undefined) return undefined;
  const key = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!pattern.test(key)) throw new TetherError(400, 'invalid_cursor', 'The cursor is not one this API returned.');
  return key;
}
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** A bigint identity id. At most 18 digits, so it always fits int8 (max 9223372036854775807): a
 * 19-digit cursor would pass the check and then fail in Postgres as a 500. */
export const INTEGER_PATTERN = /^[1-9][0-9]{0,17}$/;

/** Standard error responses, documented on every route. */
export const errorResponses = {
  400: errorResponse,
  401: errorResponse,
  403: errorResponse,
  404: errorResponse,
  409: errorResponse,
  413: errorResponse,
  422: errorResponse,
  429: errorResponse,
} as const;

/** A page of a list: the items and the cursor of the next page (null on the last). */
export function paged<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() });
}

/** Turns `limit + 1` fetched rows into a page: the extra row only says that there is a next page. */
export function toPage<R, V>(rows: R[], limit: number, keyOf: (row: R) => string, view: (row: R) => V): { items: V[]; nextCursor: string | null } {
  const page = rows.slice(0, limit);
  return { items: page.map(view), nextCursor: rows.length > limit ? encodeCursor(keyOf(page.at(-1)!)) : null };
}
