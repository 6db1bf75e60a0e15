// Drive v3 permissions, drives.list, about.get and the bytes behind thumbnailLinks.
import { createHash } from 'node:crypto';
import { bytes, empty, json, parseJson, type SbRequest, type SbResponse } from '../common/http.ts';
import { gradientPng } from '../common/png.ts';
import { verifyResource } from '../common/signedUrl.ts';
import { DRIVE, driveError } from './errors.ts';
import { parseFields, type FieldTree } from './fields.ts';
import { bool, fieldsOr, findFile, project } from './files.ts';
import { canWrite, hasScope, hasThumbnail, isGoogleApps, permissionJson, permissionsOf, READ_SCOPES, sharedDriveJson, thumbnailDims, thumbnailSource, WRITE_SCOPES, type DriveContext, type GCaller } from './model.ts';
import type { GPermission } from './store.ts';

function permissionIdFor(ctx: DriveContext, p: Omit<GPermission, 'id'>): string {
  if (p.type === 'anyone') return 'anyoneWithLink';
  if (p.emailAddress) {
    const u = ctx.store.userByEmail(p.emailAddress);
    if (u) return u.permissionId;
  }
  return `${createHash('sha256').update(`${p.type}:${p.emailAddress ?? p.domain}`).digest('hex').replace(/[a-f]/g, '').slice(0, 20)}`;
}

export function permissions(ctx: DriveContext, req: SbRequest, caller: GCaller, fileId: string, permId: string | undefined): SbResponse {
  const file = findFile(ctx, req, caller, fileId);
  if ('status' in file) return file;
  const defaultFields = parseFields('kind,id,type,role');
  if (req.method === 'GET' && permId === undefined) {
    if (!hasScope(caller, READ_SCOPES)) return DRIVE.insufficientPermissions();
    const fields = fieldsOr(req, parseFields('kind,nextPageToken,permissions(kind,id,type,role)'));
    if ('status' in fields) return fields as SbResponse;
    return json(200, project({ kind: 'drive#permissionList', permissions: permissionsOf(ctx, file).map((p) => permissionJson(p, ctx)) }, fields as FieldTree, new Set(['kind', 'nextPageToken', 'permissions'])));
  }
  if (req.method === 'GET') {
    const p = permissionsOf(ctx, file).find((x) => x.id === permId);
    if (!p) return driveError(404, { reason: 'notFound', message: `Permission not found: ${permId}.`, location: 'permissionId', locationType: 'parameter' });
    const fields = fieldsOr(req, defaultFields);
    if ('status' in fields) return fields as SbResponse;
    return json(200, project(permissionJson(p, ctx), fields as FieldTree));
  }
  if (!hasScope(caller, WRITE_SCOPES)) return DRIVE.insufficientPermissions();
  if (!canWrite(ctx, caller, file)) return DRIVE.forbidden('The user does not have sufficient permissions for this file.');
  if (req.method === 'DELETE' && permId !== undefined) {
    const i = file.permissions.findIndex((x) => x.id === permId);
    if (i < 0 || file.permissions[i]!.role === 'owner') return driveError(404, { reason: 'notFound', message: `Permission not found: ${permId}.`, location: 'permissionId', locationType: 'parameter' });
    file.permissions.splice(i, 1);
    return empty(204);
  }
  if (req.method !== 'POST' || permId !== undefined) return driveError(405, { reason: 'methodNotAllowed', message: 'Method not allowed' });
  const body = parseJson(req) as Record<string, unknown> | undefined | symbol;
  if (typeof body !== 'object' || body === null) return DRIVE.required('permission');
  const type = body.type;
  const role = body.role;
  if (!['user', 'group', 'domain', 'anyone'].includes(String(type))) return DRIVE.invalid('permission.type');
  if (!['owner', 'organizer', 'fileOrganizer', 'writer', 'commenter', 'reader'].includes(String(role))) return DRIVE.invalid('permission.role');
  if ((type === 'user' || type === 'group') && typeof body.emailAddress !== 'string') return DRIVE.required('permission.emailAddress');
  if (type === 'domain' && typeof body.domain !== 'string') return DRIVE.required('permission.domain');
  if (role === 'owner' && !bool(req, 'transferOwnership')) return driveError(403, { reason: 'forbidden', message: 'The transferOwnership parameter must be enabled when the permission role is \'owner\'.', location: 'transferOwnership', locationType: 'parameter' });
  if (file.driveId) return driveError(403, { reason: 'cannotShareTeamDriveItem', message: 'Sharing items in shared drives is managed through drive membership in this sandbox.' });
  const p: Omit<GPermission, 'id'> = {
    type: type as GPermission['type'],
    role: role as GPermission['role'],
    ...(typeof body.emailAddress === 'string' ? { emailAddress: body.emailAddress.toLowerCase() } : {}),
    ...(typeof body.domain === 'string' ? { domain: body.domain } : {}),
    ...(type === 'domain' || type === 'anyone' ? { allowFileDiscovery: body.allowFileDiscovery === true } : {}),
  };
  const id = permissionIdFor(ctx, p);
  const existing = file.permissions.findIndex((x) => x.id === id);
  const perm = { id, ...p };
  if (existing >= 0) file.permissions[existing] = perm;
  else file.permissions.push(perm);
  const fields = fieldsOr(req, defaultFields);
  if ('status' in fields) return fields as SbResponse;
  return json(200, project(permissionJson(perm, ctx), fields as FieldTree));
}

export function listDrives(ctx: DriveContext, req: SbRequest, caller: GCaller): SbResponse {
  if (!hasScope(caller, READ_SCOPES)) return DRIVE.insufficientPermissions();
  const pageSize = Math.min(Number(req.query.get('pageSize') ?? 10), 100);
  if (!Number.isInteger(pageSize) || pageSize < 1) return DRIVE.invalid('pageSize');
  const all = [...ctx.store.drives.values()].filter((d) => d.members.has(caller.user.id)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.id < b.id ? -1 : 1));
  const start = req.query.get('pageToken') ? Number(Buffer.from(req.query.get('pageToken')!, 'base64url').toString()) : 0;
  if (!Number.isInteger(start) || start < 0) return DRIVE.invalid('pageToken');
  const page = all.slice(start, start + pageSize);
  const body: Record<string, unknown> = { kind: 'drive#driveList' };
  if (start + pageSize < all.length) body.nextPageToken = Buffer.from(String(start + pageSize)).toString('base64url');
  body.drives = page.map((d) => sharedDriveJson(d, d.members.get(caller.user.id)));
  const fields = fieldsOr(req, parseFields('kind,nextPageToken,drives(kind,id,name)'));
  if ('status' in fields) return fields as SbResponse;
  return json(200, project(body, fields as FieldTree, new Set(['kind', 'nextPageToken', 'drives'])));
}

export function about(ctx: DriveContext, req: SbRequest, caller: GCaller): SbResponse {
  if (!hasScope(caller, READ_SCOPES)) return DRIVE.insufficientPermissions();
  if (!req.query.get('fields')) return driveError(400, { reason: 'required', message: "The 'fields' parameter is required for this method.", location: 'fields', locationType: 'parameter' });
  const fields = fieldsOr(req, parseFields('*'));
  if ('status' in fields) return fields as SbResponse;
  let usage = 0;
  for (const f of ctx.store.files.values()) if (f.ownerId === caller.user.id && !isGoogleApps(f)) usage += ctx.store.contentOf(f)?.length ?? 0;
  const u = caller.user;
  const body = {
    kind: 'drive#about',
    user: { kind: 'drive#user', displayName: u.displayName, photoLink: 'https://lh3.googleusercontent.com/a/default-user=s64', me: true, permissionId: u.permissionId, emailAddress: u.email },
    storageQuota: { limit: String(30 * 1024 ** 3), usage: String(usage), usageInDrive: String(usage), usageInDriveTrash: '0' },
    importFormats: { 'text/plain': ['application/vnd.google-apps.document'] },
    exportFormats: { 'application/vnd.google-apps.document': ['application/pdf', 'text/plain'] },
    maxImportSizes: { 'application/vnd.google-apps.document': '10485760' },
    maxUploadSize: String(5 * 1024 ** 4),
    appInstalled: false,
    folderColorPalette: ['#ac725e', '#d06b64', '#f83a22'],
    canCreateDrives: true,
    driveThemes: [{ id: 'abstract_blue', backgroundImageLink: 'https://ssl.gstatic.com/team_drive_themes/abstract_blue_background.jpg', colorRgb: '#4986e7' }],
  };
  return json(200, project(body, fields as FieldTree, new Set(Object.keys(body).concat(['teamDriveThemes', 'canCreateTeamDrives']))));
}

/** The bytes behind a thumbnailLink: pre-authenticated, expiring, resizable with `=sN`. */
export function thumbnailBytes(ctx: DriveContext, id: string, version: string, tokenAndSize: string): SbResponse {
  const m = /^(.+)=s(\d+)$/.exec(tokenAndSize);
  const file = ctx.store.files.get(id);
  if (!m || !file || !hasThumbnail(file) || String(file.version) !== version || !verifyResource(`gthumb:${file.id}:${file.version}`, m[1]!, ctx.faults.now())) return { status: 404, headers: { 'content-type': 'text/html; charset=UTF-8' }, body: '<!doctype html><p>404. That’s an error.</p>' };
  const size = Math.min(Math.max(Number(m[2]), 16), 1600);
  const dims = thumbnailDims(file, size);
  return bytes(200, gradientPng(dims.width, dims.height, thumbnailSource(file).seed), 'image/png', { 'cache-control': 'private, max-age=86400' });
}
