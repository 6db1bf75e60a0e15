import { z } from 'zod';
import type { Connection } from '../../../db/schema.ts';
import { uuid } from '../../schemas.ts';

export const connectionParams = z.strictObject({ connectionId: uuid });

/** A connection as the API shows it: never a token, never a ciphertext. */
export const connectionView = z
  .object({
    id: z.string(),
    providerAppId: z.string(),
    name: z.string(),
    ownerUserId: z.string(),
    shared: z.boolean(),
    groupIds: z.array(z.string()).describe('Shared connections: the groups whose members may use it.'),
    handle: z.string().nullable().describe('Shared connections: an opaque handle a host app may keep in its own configuration.'),
    account: z.object({
      issuer: z.string(),
      tenantId: z.string().nullable(),
      subject: z.string().describe('The provider’s immutable id of the account (with the issuer, the identity).'),
      email: z.string().nullable().describe('For display only; never used to match accounts.'),
      displayName: z.string().nullable(),
    }),
    scopes: z.array(z.string()),
    status: z.enum(['active', 'refreshing-failed', 'needs-reauth', 'revoked']),
    statusReason: z.string().nullable(),
    accessTokenExpiresAt: z.iso.datetime().nullable(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'Connection' });

export function toConnectionView(c: Connection): z.infer<typeof connectionView> {
  return {
    id: c.id,
    providerAppId: c.provider_app_id,
    name: c.name,
    ownerUserId: c.owner_user_id,
    shared: c.shared,
    groupIds: c.group_ids,
    handle: c.handle,
    account: { issuer: c.account_issuer, tenantId: c.account_tenant, subject: c.account_subject, email: c.account_email, displayName: c.account_display_name },
    scopes: c.scopes,
    status: c.status,
    statusReason: c.status_reason,
    accessTokenExpiresAt: c.access_token_expires_at?.toISOString() ?? null,
    createdAt: c.created_at.toISOString(),
    updatedAt: c.updated_at.toISOString(),
  };
}
