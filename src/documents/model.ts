import { z } from 'zod';

/**
 * One model over OneDrive, SharePoint and Google Drive. Provider-specific fields are returned only
 * on request (`?include=provider`), under `provider`.
 */
export const person = z.object({ displayName: z.string().nullable(), email: z.string().nullable() }).nullable();

export const documentItem = z
  .object({
    id: z.string().describe('Opaque and stable; safe to store.'),
    name: z.string(),
    kind: z.enum(['file', 'folder']),
    mimeType: z.string().nullable(),
    size: z.number().int().nullable(),
    parentId: z.string().nullable(),
    driveId: z.string().nullable(),
    webUrl: z.string().nullable(),
    createdAt: z.iso.datetime().nullable(),
    modifiedAt: z.iso.datetime().nullable(),
    createdBy: person,
    modifiedBy: person,
    hashes: z.record(z.string(), z.string()),
    childCount: z.number().int().nullable(),
    hasThumbnail: z.boolean(),
    shared: z.boolean(),
    provider: z.record(z.string(), z.unknown()).optional(),
  })
  .meta({ id: 'DocumentItem' });
export type DocumentItem = z.infer<typeof documentItem>;

export const drive = z
  .object({
    id: z.string(),
    name: z.string(),
    kind: z.enum(['onedrive', 'sharepoint', 'my-drive', 'shared-drive']),
    webUrl: z.string().nullable(),
    owner: person,
  })
  .meta({ id: 'Drive' });
export type Drive = z.infer<typeof drive>;

export interface ItemPage {
  items: DocumentItem[];
  /** Opaque; null on the last page. */
  nextCursor: string | null;
}

export const sharedLink = z
  .object({
    url: z.string(),
    type: z.enum(['view', 'edit']),
    scope: z.enum(['anonymous', 'organization', 'users']),
    expiresAt: z.iso.datetime().nullable(),
  })
  .meta({ id: 'SharedLink' });
export type SharedLink = z.infer<typeof sharedLink>;

export const permission = z
  .object({
    id: z.string(),
    role: z.enum(['read', 'write', 'owner']),
    grantee: z.object({
      type: z.enum(['user', 'group', 'domain', 'anyone', 'link']),
      displayName: z.string().nullable(),
      email: z.string().nullable(),
      domain: z.string().nullable(),
      link: sharedLink.nullable(),
    }),
    expiresAt: z.iso.datetime().nullable(),
  })
  .meta({ id: 'Permission' });
export type Permission = z.infer<typeof permission>;

export interface LinkRequest {
  type: 'view' | 'edit';
  scope: 'anonymous' | 'organization' | 'users';
  recipients: string[];
  expiresAt: string | null;
}
