// Sharing: createLink (201 new / 200 existing), permissions, /shares/{u!…}/driveItem, preview.
// https://learn.microsoft.com/graph/api/driveitem-createlink, …/shares-get
import { randomBytes } from 'node:crypto';
import { empty, html, json, parseJson, INVALID_JSON, type SbRequest, type SbResponse } from '../../common/http.ts';
import { alnum, guid } from '../../common/ids.ts';
import { signResource, verifyResource } from '../../common/signedUrl.ts';
import { graphError } from '../errors.ts';
import type { MsDrive, MsItem, MsLink } from '../store.ts';
import type { Caller } from './access.ts';
import type { GraphContext } from './context.ts';
import { identity, itemJson } from './serialize.ts';

function err(ctx: GraphContext, req: SbRequest, status: number, code?: string, message?: string): SbResponse {
  return graphError(status, code, message, req, ctx.faults.now());
}

/** The letter SharePoint puts in sharing URLs (`/:w:/`) by file type. */
function linkLetter(item: MsItem): string {
  if (item.isFolder) return 'f';
  const ext = item.name.split('.').pop()?.toLowerCase() ?? '';
  if (['doc', 'docx'].includes(ext)) return 'w';
  if (['xls', 'xlsx'].includes(ext)) return 'x';
  if (['ppt', 'pptx'].includes(ext)) return 'p';
  if (ext === 'pdf') return 'b';
  if (['png', 'jpg', 'jpeg', 'gif'].includes(ext)) return 'i';
  if (ext === 'txt') return 't';
  return 'u';
}

function sharingUrl(ctx: GraphContext, drive: MsDrive, item: MsItem): string {
  const tenant = ctx.store.tenants.get(drive.tenantId)!;
  const token = `E${randomBytes(28).toString('base64url').replace(/[-_]/g, 'A').slice(0, 45)}`;
  const e = alnum(token, 6);
  if (drive.ownerUserId) {
    const owner = ctx.store.users.get(drive.ownerUserId)!;
    const personal = owner.userPrincipalName.replace(/[@.]/g, '_');
    return `https://${tenant.name}-my.sharepoint.com/:${linkLetter(item)}:/g/personal/${personal}/${token}?e=${e}`;
  }
  const site = ctx.store.sites.get(drive.siteId!)!;
  return `https://${tenant.name}.sharepoint.com/:${linkLetter(item)}:/s/${site.name}/${token}?e=${e}`;
}

function linkPermissionJson(l: MsLink): Record<string, unknown> {
  return {
    id: l.permissionId,
    roles: [l.type === 'edit' ? 'write' : 'read'],
    shareId: l.shareId,
    hasPassword: false,
    grantedToIdentitiesV2: [],
    grantedToIdentities: [],
    link: { scope: l.scope, type: l.type, webUrl: l.webUrl, preventsDownload: false },
  };
}

export function createLink(ctx: GraphContext, req: SbRequest, caller: Caller, drive: MsDrive, item: MsItem): SbResponse {
  const body = parseJson(req);
  if (body === INVALID_JSON || typeof body !== 'object' || body === null) return err(ctx, req, 400, 'invalidRequest', 'Invalid request');
  const b = body as { type?: unknown; scope?: unknown; recipients?: { email?: string }[] };
  if (b.type !== 'view' && b.type !== 'edit' && b.type !== 'embed') return err(ctx, req, 400, 'invalidRequest', 'Invalid value specified for parameter type');
  const scope = b.scope ?? 'anonymous';
  if (scope !== 'anonymous' && scope !== 'organization' && scope !== 'users') return err(ctx, req, 400, 'invalidRequest', 'Invalid value specified for parameter scope');
  if (b.type === 'embed' && drive.driveType !== 'business' && drive.driveType !== 'documentLibrary') return err(ctx, req, 400, 'invalidRequest', 'Embed links are not supported.');
  const recipients = (b.recipients ?? []).map((r) => String(r.email ?? '').toLowerCase()).filter(Boolean).sort();
  // An existing link with the same type and scope (and recipients) is returned as-is with 200.
  for (const l of ctx.store.links.values()) {
    if (l.itemId === item.id && l.type === b.type && l.scope === scope && l.recipients.join() === recipients.join()) return json(200, linkPermissionJson(l));
  }
  const permissionId = guid(`perm-${item.id}-${b.type}-${scope}-${recipients.join()}-${ctx.store.links.size}`);
  const webUrl = sharingUrl(ctx, drive, item);
  const link: MsLink = { permissionId, itemId: item.id, type: b.type, scope, webUrl, shareId: `u!${Buffer.from(webUrl).toString('base64url')}`, createdBy: caller.user.id, recipients };
  ctx.store.links.set(permissionId, link);
  return json(201, linkPermissionJson(link));
}

function ownerPermission(ctx: GraphContext, drive: MsDrive, item: MsItem): Record<string, unknown> {
  const owner = drive.ownerUserId ? ctx.store.users.get(drive.ownerUserId) : undefined;
  const who = owner ? identity(owner) : { user: { displayName: 'Owners' } };
  return { id: Buffer.from(`owner|${drive.id}|${item.id}`).toString('base64url').slice(0, 40), roles: ['owner'], shareId: `s!${item.id}`, hasPassword: false, grantedToV2: who, grantedTo: who };
}

export function permissions(ctx: GraphContext, req: SbRequest, drive: MsDrive, item: MsItem, permId: string | undefined): SbResponse {
  const links = [...ctx.store.links.values()].filter((l) => l.itemId === item.id);
  const all = [ownerPermission(ctx, drive, item), ...links.map(linkPermissionJson)];
  if (permId === undefined) {
    if (req.method !== 'GET') return err(ctx, req, 405);
    return json(200, { '@odata.context': `${req.origin}/v1.0/$metadata#drives('${drive.id}')/items('${item.id}')/permissions`, value: all });
  }
  const p = all.find((x) => x.id === permId);
  if (!p) return err(ctx, req, 404, 'itemNotFound', 'The resource could not be found.');
  if (req.method === 'GET') return json(200, p);
  if (req.method === 'DELETE') {
    if ((p.roles as string[]).includes('owner')) return err(ctx, req, 403, 'accessDenied', 'The owner permission cannot be removed.');
    ctx.store.links.delete(permId);
    return empty(204);
  }
  return err(ctx, req, 405);
}

function findLinkByShareToken(ctx: GraphContext, token: string): MsLink | undefined {
  if (token.startsWith('u!')) {
    let url: string;
    try {
      url = Buffer.from(token.slice(2), 'base64url').toString('utf8');
    } catch {
      return undefined;
    }
    const bare = url.split('?')[0];
    for (const l of ctx.store.links.values()) if (l.webUrl === url || l.webUrl.split('?')[0] === bare) return l;
    return undefined;
  }
  for (const l of ctx.store.links.values()) if (l.shareId === token) return l;
  return undefined;
}

/** GET /shares/{shareIdOrEncodedSharingUrl}[/driveItem]: who may resolve depends on the link scope. */
export function shares(ctx: GraphContext, req: SbRequest, caller: Caller, token: string, rest: string): SbResponse {
  const link = findLinkByShareToken(ctx, decodeURIComponent(token));
  const item = link ? ctx.store.items.get(link.itemId) : undefined;
  if (!link || !item) return err(ctx, req, 404, 'itemNotFound', 'The sharing link no longer exists, or you do not have permission to access it.');
  const drive = ctx.store.drives.get(item.driveId)!;
  const allowed = link.scope === 'anonymous' || (link.scope === 'organization' && drive.tenantId === caller.user.tenantId) || (link.scope === 'users' && (link.createdBy === caller.user.id || link.recipients.includes(caller.user.mail.toLowerCase())));
  if (!allowed) return err(ctx, req, 403, 'accessDenied', 'Access denied');
  if (rest === '/driveItem' || rest === '/root') return json(200, itemJson(ctx, req.origin, item));
  if (rest === '') {
    const owner = drive.ownerUserId ? ctx.store.users.get(drive.ownerUserId) : undefined;
    return json(200, { id: link.shareId, name: item.name, owner: identity(owner) });
  }
  return err(ctx, req, 400, 'invalidRequest', 'Invalid request');
}

/** POST …/preview: a short-lived embeddable URL (getUrl). */
export function preview(ctx: GraphContext, req: SbRequest, item: MsItem): SbResponse {
  if (item.isFolder) return err(ctx, req, 400, 'invalidRequest', 'Preview is not supported for folders.');
  const token = signResource(`preview:${item.id}`, ctx.faults.now() + 3600_000);
  return json(200, { getUrl: `${req.origin}/_layouts/15/embed.aspx?UniqueId=${encodeURIComponent(item.id)}&embed=%7B%22hvm%22%3Atrue%7D&access_token=${token}`, postParameters: null, postUrl: null });
}

export function previewPage(ctx: GraphContext, req: SbRequest): SbResponse {
  const item = ctx.store.items.get(req.query.get('UniqueId') ?? '');
  if (!item || !verifyResource(`preview:${item.id}`, req.query.get('access_token'), ctx.faults.now())) return html(403, '<!doctype html><p>Access denied</p>');
  return html(200, `<!doctype html><html><head><title>${item.name}</title></head><body><h1>${item.name.replace(/[<>&]/g, '')}</h1><p>Sandbox preview.</p></body></html>`);
}
