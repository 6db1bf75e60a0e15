// Drive v3 files.list / get / create (metadata) / update / delete.
// https://developers.google.com/workspace/drive/api/reference/rest/v3
import { createHash } from 'node:crypto';
import { bearerToken, bytes, empty, json, parseJson, INVALID_JSON, type SbRequest, type SbResponse } from '../common/http.ts';
import { DRIVE, driveError } from './errors.ts';
import { applyFields, FieldsError, parseFields, type FieldTree } from './fields.ts';
import { canSee, canWrite, CONTENT_SCOPES, fileJson, hasScope, isGoogleApps, listable, READ_SCOPES, roleOf, WRITE_SCOPES, type DriveContext, type GCaller } from './model.ts';
import { parseQuery, QueryError, type QueryContext } from './query.ts';
import { FOLDER_MIME, ownerPerm, type GFile } from './store.ts';

export function authenticate(ctx: DriveContext, req: SbRequest): GCaller | SbResponse {
  const token = bearerToken(req) ?? req.query.get('access_token') ?? undefined;
  const check = ctx.oauth.checkAccessToken(token);
  if (!check.ok) {
    const res = DRIVE.unauthenticated(check.reason === 'missing');
    return { ...res, headers: { ...res.headers, 'www-authenticate': 'Bearer realm="https://accounts.google.com/", error="invalid_token"' } };
  }
  return { user: ctx.store.users.get(check.token.grant.userId)!, scopes: new Set(check.token.grant.scopes), clientId: check.token.grant.clientId };
}

const FILE_DEFAULT = parseFields('kind,id,name,mimeType');
const FILE_KEYS = new Set(['kind', 'driveId', 'fileExtension', 'copyRequiresWriterPermission', 'md5Checksum', 'contentHints', 'writersCanShare', 'viewedByMe', 'mimeType', 'exportLinks', 'parents', 'thumbnailLink', 'iconLink', 'shared', 'lastModifyingUser', 'owners', 'headRevisionId', 'sharingUser', 'webViewLink', 'webContentLink', 'size', 'viewersCanCopyContent', 'permissions', 'hasThumbnail', 'spaces', 'folderColorRgb', 'id', 'name', 'description', 'starred', 'trashed', 'explicitlyTrashed', 'createdTime', 'modifiedTime', 'modifiedByMeTime', 'viewedByMeTime', 'sharedWithMeTime', 'quotaBytesUsed', 'version', 'originalFilename', 'ownedByMe', 'fullFileExtension', 'properties', 'appProperties', 'isAppAuthorized', 'teamDriveId', 'capabilities', 'hasAugmentedPermissions', 'trashingUser', 'thumbnailVersion', 'trashedTime', 'modifiedByMe', 'permissionIds', 'imageMediaMetadata', 'videoMediaMetadata', 'shortcutDetails', 'contentRestrictions', 'resourceKey', 'linkShareMetadata', 'labelInfo', 'sha1Checksum', 'sha256Checksum', 'inheritedPermissionsDisabled', 'downloadRestrictions', 'clientEncryptionDetails']);

export function fieldsOr(req: SbRequest, def: FieldTree): FieldTree | SbResponse {
  const f = req.query.get('fields');
  if (!f) return def;
  try {
    return parseFields(f);
  } catch {
    return DRIVE.invalid('fields', `Invalid field selection ${f}`);
  }
}

export function project(value: Record<string, unknown>, tree: FieldTree, known?: Set<string>): Record<string, unknown> | SbResponse {
  try {
    return applyFields(value, tree, known);
  } catch (e) {
    if (e instanceof FieldsError) return DRIVE.invalid('fields', e.message);
    throw e;
  }
}

export const bool = (req: SbRequest, name: string) => req.query.get(name) === 'true';

/**
 * Files.get-style lookup: shared-drive items are invisible without supportsAllDrives=true — for the
 * methods that have that parameter (`allDrives`: files.export has none and finds them regardless).
 */
export function findFile(ctx: DriveContext, req: SbRequest, caller: GCaller, rawId: string, options: { allDrives?: boolean } = {}): GFile | SbResponse {
  const id = rawId === 'root' ? caller.user.rootId : rawId;
  const file = ctx.store.files.get(id);
  if (!file || !canSee(ctx, caller, file) || (file.driveId && !options.allDrives && !bool(req, 'supportsAllDrives') && !bool(req, 'supportsTeamDrives'))) return DRIVE.notFound(rawId);
  return file;
}

function queryContext(ctx: DriveContext, caller: GCaller): QueryContext {
  return {
    alias: (id) => (id === 'root' ? caller.user.rootId : id),
    ownerEmail: (f) => (f.ownerId ? ctx.store.users.get(f.ownerId)?.email : undefined),
    roleOf: (f, email) => {
      const u = ctx.store.userByEmail(email);
      return u ? roleOf(ctx, f, u) : undefined;
    },
    sharedWithMe: (f) => !f.driveId && f.ownerId !== caller.user.id && f.permissions.some((p) => p.type === 'user' && p.emailAddress === caller.user.email),
    text: (f) => `${f.name}\n${f.description ?? ''}\n${isGoogleApps(f) ? '' : (ctx.store.contentOf(f)?.toString('utf8') ?? '')}`,
  };
}

const ORDER_KEYS = new Set(['createdTime', 'folder', 'modifiedByMeTime', 'modifiedTime', 'name', 'name_natural', 'quotaBytesUsed', 'recency', 'sharedWithMeTime', 'starred', 'viewedByMeTime']);
type SortKey = (string | number)[];

function sortKeyOf(ctx: DriveContext, f: GFile, order: { key: string; desc: boolean }[]): SortKey {
  return order.map(({ key }) => {
    switch (key) {
      case 'folder':
        return f.mimeType === FOLDER_MIME ? 0 : 1;
      case 'name':
      case 'name_natural':
        return f.name.toLowerCase();
      case 'createdTime':
        return f.createdTime;
      case 'starred':
        return f.starred ? 0 : 1;
      case 'quotaBytesUsed':
        return isGoogleApps(f) ? 0 : (ctx.store.contentOf(f)?.length ?? 0);
      default:
        return f.modifiedTime;
    }
  });
}

function compareKeys(a: SortKey, aId: string, b: SortKey, bId: string, order: { desc: boolean }[]): number {
  for (let i = 0; i < order.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x !== y) return (x < y ? -1 : 1) * (order[i]!.desc ? -1 : 1);
  }
  return aId < bId ? -1 : aId > bId ? 1 : 0;
}

export function listFiles(ctx: DriveContext, req: SbRequest, caller: GCaller): SbResponse {
  if (!hasScope(caller, READ_SCOPES)) return DRIVE.insufficientPermissions();
  const q = req.query;
  const fields = fieldsOr(req, parseFields('kind,incompleteSearch,nextPageToken,files(kind,id,name,mimeType)'));
  if ('status' in fields) return fields as SbResponse;
  const corpora = q.get('corpora') ?? 'user';
  if (!['user', 'drive', 'domain', 'allDrives'].includes(corpora)) return DRIVE.invalid('corpora');
  const supportsAll = bool(req, 'supportsAllDrives') || bool(req, 'supportsTeamDrives');
  const includeAll = bool(req, 'includeItemsFromAllDrives') || bool(req, 'includeTeamDriveItems');
  if (includeAll && !supportsAll) return driveError(403, { reason: 'teamDrivesParameterRequired', message: 'The includeItemsFromAllDrives parameter can only be set to true when supportsAllDrives is also true.', location: 'includeItemsFromAllDrives', locationType: 'parameter' });
  const driveId = q.get('driveId');
  if (corpora === 'drive') {
    if (!driveId) return DRIVE.required('driveId');
    if (!includeAll) return driveError(403, { reason: 'teamDrivesParameterRequired', message: 'The includeItemsFromAllDrives parameter must be set to true when corpora is drive.', location: 'includeItemsFromAllDrives', locationType: 'parameter' });
    const d = ctx.store.drives.get(driveId);
    if (!d || !d.members.has(caller.user.id)) return driveError(404, { reason: 'notFound', message: `Shared drive not found: ${driveId}`, location: 'driveId', locationType: 'parameter' });
  } else if (driveId) return DRIVE.invalid('driveId', 'The driveId parameter must be used with corpora=drive.');
  const pageSizeRaw = q.get('pageSize');
  const pageSize = pageSizeRaw === null ? 100 : Number(pageSizeRaw);
  if (!Number.isInteger(pageSize) || pageSize < 1) return DRIVE.invalid('pageSize');
  const size = Math.min(pageSize, 1000);
  const orderRaw = q.get('orderBy') ?? 'name';
  const order = orderRaw.split(',').map((s) => s.trim()).filter(Boolean).map((s) => {
    const [key, dir] = s.split(/\s+/);
    return { key: key!, desc: dir?.toLowerCase() === 'desc', bad: !ORDER_KEYS.has(key!) || (dir !== undefined && !['asc', 'desc'].includes(dir.toLowerCase())) };
  });
  if (order.some((o) => o.bad)) return DRIVE.invalid('orderBy', 'Invalid Value');
  let pred;
  try {
    pred = q.get('q') ? parseQuery(q.get('q')!) : undefined;
  } catch (e) {
    if (e instanceof QueryError) return DRIVE.invalid('q');
    throw e;
  }
  const qctx = queryContext(ctx, caller);
  const inCorpus = (f: GFile): boolean => {
    if (f.isRoot) return false;
    if (f.driveId) {
      if (corpora === 'drive') return f.driveId === driveId;
      return includeAll && (corpora === 'allDrives' || corpora === 'user' || corpora === 'domain');
    }
    if (corpora === 'drive') return false;
    return true;
  };
  // A top-level `'<id>' in parents` narrows the candidates to that folder's children (an index
  // lookup instead of a scan of every file); the full predicate still decides.
  const candidates = pred?.parentHint !== undefined ? ctx.store.childrenOf(qctx.alias(pred.parentHint)) : ctx.store.files.values();
  const matching = [...candidates].filter((f) => inCorpus(f) && listable(ctx, caller, f, corpora) && (!pred || pred(f, qctx)));
  const keyed = matching.map((f) => ({ f, k: sortKeyOf(ctx, f, order) }));
  keyed.sort((a, b) => compareKeys(a.k, a.f.id, b.k, b.f.id, order));
  // The page token is bound to the query and names the last item's sort key, so pages stay
  // consistent while files change.
  const binding = createHash('sha256').update(JSON.stringify([q.get('q'), orderRaw, corpora, driveId, includeAll, caller.user.id])).digest('base64url').slice(0, 12);
  let start = 0;
  const token = q.get('pageToken');
  if (token) {
    let parsed: { b: string; k: SortKey; id: string };
    try {
      parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    } catch {
      return DRIVE.invalid('pageToken');
    }
    if (parsed.b !== binding || !Array.isArray(parsed.k)) return DRIVE.invalid('pageToken');
    start = keyed.findIndex((x) => compareKeys(x.k, x.f.id, parsed.k, parsed.id, order) > 0);
    if (start < 0) start = keyed.length;
  }
  const page = keyed.slice(start, start + size);
  const body: Record<string, unknown> = { kind: 'drive#fileList', incompleteSearch: false };
  if (start + size < keyed.length && page.length) {
    const last = page[page.length - 1]!;
    body.nextPageToken = Buffer.from(JSON.stringify({ b: binding, k: last.k, id: last.f.id })).toString('base64url');
  }
  body.files = page.map((x) => fileJson(ctx, req.origin, caller, x.f));
  const filesTree = (fields as FieldTree).get('files');
  if (filesTree && filesTree !== true) {
    for (const k of filesTree.keys()) if (k !== '*' && !FILE_KEYS.has(k)) return DRIVE.invalid('fields', `Invalid field selection ${k}`);
  }
  return json(200, project(body, fields as FieldTree, new Set(['kind', 'incompleteSearch', 'nextPageToken', 'files'])));
}

export function rangeOf(req: SbRequest, data: Buffer, contentType: string): SbResponse {
  const range = req.headers.range;
  const m = range ? /^bytes=(\d*)-(\d*)$/.exec(range.trim()) : null;
  if (!range) return bytes(200, data, contentType, { 'accept-ranges': 'bytes' });
  if (!m || (m[1] === '' && m[2] === '')) return { status: 416, headers: { 'content-range': `bytes */${data.length}` }, body: '' };
  const start = m[1] === '' ? Math.max(0, data.length - Number(m[2])) : Number(m[1]);
  const end = m[1] === '' || m[2] === '' ? data.length - 1 : Math.min(Number(m[2]), data.length - 1);
  if (start >= data.length || start > end) return { status: 416, headers: { 'content-range': `bytes */${data.length}` }, body: '' };
  return bytes(206, data.subarray(start, end + 1), contentType, { 'accept-ranges': 'bytes', 'content-range': `bytes ${start}-${end}/${data.length}` });
}

export function getFile(ctx: DriveContext, req: SbRequest, caller: GCaller, id: string): SbResponse {
  if (!hasScope(caller, READ_SCOPES)) return DRIVE.insufficientPermissions();
  const file = findFile(ctx, req, caller, id);
  if ('status' in file) return file;
  if (req.query.get('alt') === 'media') {
    if (!hasScope(caller, CONTENT_SCOPES)) return DRIVE.insufficientPermissions();
    if (isGoogleApps(file)) return driveError(403, { reason: 'fileNotDownloadable', message: 'Only files with binary content can be downloaded. Use Export with Docs Editors files.', location: 'alt', locationType: 'parameter' });
    return rangeOf(req, ctx.store.contentOf(file) ?? Buffer.alloc(0), file.mimeType);
  }
  const fields = fieldsOr(req, FILE_DEFAULT);
  if ('status' in fields) return fields as SbResponse;
  return json(200, project(fileJson(ctx, req.origin, caller, file), fields as FieldTree, FILE_KEYS));
}

export function respondFile(ctx: DriveContext, req: SbRequest, caller: GCaller, file: GFile): SbResponse {
  const fields = fieldsOr(req, FILE_DEFAULT);
  if ('status' in fields) return fields as SbResponse;
  return json(200, project(fileJson(ctx, req.origin, caller, file), fields as FieldTree, FILE_KEYS));
}

const WRITABLE = new Set(['name', 'description', 'starred', 'trashed', 'mimeType', 'properties', 'appProperties', 'modifiedTime', 'originalFilename', 'contentHints', 'folderColorRgb', 'writersCanShare', 'viewersCanCopyContent', 'copyRequiresWriterPermission']);

/** Applies a files.update metadata body and addParents/removeParents. */
export function applyUpdate(ctx: DriveContext, req: SbRequest, caller: GCaller, file: GFile, meta: Record<string, unknown>): SbResponse | undefined {
  for (const k of Object.keys(meta)) {
    if (!WRITABLE.has(k)) {
      const msg = k === 'parents' ? 'The parents field is not directly writable in update requests. Use the addParents and removeParents parameters instead.' : `The resource body includes fields which are not directly writable.`;
      return driveError(403, { reason: 'fieldNotWritable', message: msg });
    }
  }
  const add = (req.query.get('addParents') ?? '').split(',').filter(Boolean);
  const remove = (req.query.get('removeParents') ?? '').split(',').filter(Boolean);
  let parents = [...file.parents];
  for (const r of remove) {
    if (!parents.includes(r)) return driveError(400, { reason: 'invalidParent', message: `File not found: ${r}.`, location: 'removeParents', locationType: 'parameter' });
    parents = parents.filter((p) => p !== r);
  }
  for (const a0 of add) {
    const a = a0 === 'root' ? caller.user.rootId : a0;
    const parent = ctx.store.files.get(a);
    if (!parent || parent.mimeType !== FOLDER_MIME || !canWrite(ctx, caller, parent)) return DRIVE.notFound(a0);
    if (ctx.store.isAncestor(file.id, a)) return driveError(400, { reason: 'invalidParent', message: 'A folder cannot be its own ancestor.' });
    if (!parents.includes(a)) parents.push(a);
  }
  // My Drive items have exactly one parent since 2020 (single-parent model).
  if (parents.length > 1 && !file.driveId) return driveError(403, { reason: 'cannotAddParent', message: 'Increasing the number of parents is not allowed.' });
  if (typeof meta.name === 'string') file.name = meta.name;
  if (typeof meta.description === 'string') file.description = meta.description;
  if (typeof meta.starred === 'boolean') file.starred = meta.starred;
  if (typeof meta.trashed === 'boolean') file.trashed = meta.trashed;
  if (add.length || remove.length) ctx.store.setParents(file, parents);
  file.modifiedTime = ctx.faults.now();
  file.lastModifyingUserId = caller.user.id;
  file.version += 1;
  return undefined;
}

export function updateFile(ctx: DriveContext, req: SbRequest, caller: GCaller, id: string): SbResponse {
  if (!hasScope(caller, WRITE_SCOPES)) return DRIVE.insufficientPermissions();
  const file = findFile(ctx, req, caller, id);
  if ('status' in file) return file;
  if (!canWrite(ctx, caller, file)) return DRIVE.forbidden('The user does not have sufficient permissions for this file.');
  const meta = parseJson(req);
  if (meta === INVALID_JSON || (meta !== undefined && (typeof meta !== 'object' || meta === null))) return DRIVE.badRequest('Invalid JSON payload received.');
  const err = applyUpdate(ctx, req, caller, file, (meta ?? {}) as Record<string, unknown>);
  return err ?? respondFile(ctx, req, caller, file);
}

export function deleteFile(ctx: DriveContext, req: SbRequest, caller: GCaller, id: string): SbResponse {
  if (!hasScope(caller, WRITE_SCOPES)) return DRIVE.insufficientPermissions();
  const file = findFile(ctx, req, caller, id);
  if ('status' in file) return file;
  const role = roleOf(ctx, file, caller.user);
  if (file.isRoot || (file.driveId ? !['organizer', 'fileOrganizer'].includes(role ?? '') : role !== 'owner')) return DRIVE.forbidden('The user does not have sufficient permissions for this file.');
  ctx.store.remove(file);
  return empty(204);
}

/** Resolves and checks the parents for a new file. */
export function newFileParents(ctx: DriveContext, req: SbRequest, caller: GCaller, meta: Record<string, unknown>): string[] | SbResponse {
  const parents = Array.isArray(meta.parents) ? (meta.parents as unknown[]).map(String).map((p) => (p === 'root' ? caller.user.rootId : p)) : [caller.user.rootId];
  if (parents.length !== 1) return driveError(403, { reason: 'cannotAddParent', message: 'Increasing the number of parents is not allowed.' });
  const parent = ctx.store.files.get(parents[0]!) ?? undefined;
  const drive = ctx.store.drives.get(parents[0]!);
  if (drive) {
    if (!bool(req, 'supportsAllDrives') || !drive.members.has(caller.user.id)) return DRIVE.notFound(parents[0]!);
    return parents;
  }
  if (!parent || parent.mimeType !== FOLDER_MIME || (parent.driveId && !bool(req, 'supportsAllDrives'))) return DRIVE.notFound(parents[0]!);
  if (!canWrite(ctx, caller, parent)) return DRIVE.forbidden('The user does not have sufficient permissions for this file.');
  return parents;
}

export function createFileRecord(ctx: DriveContext, caller: GCaller, meta: Record<string, unknown>, parents: string[], content: Buffer | undefined, contentType: string | undefined): GFile {
  const parentFile = ctx.store.files.get(parents[0]!);
  const driveId = ctx.store.drives.has(parents[0]!) ? parents[0]! : parentFile?.driveId;
  const now = ctx.faults.now();
  const mimeType = typeof meta.mimeType === 'string' ? meta.mimeType : (contentType ?? 'application/octet-stream');
  return ctx.store.add({
    id: ctx.store.newFileId(),
    name: typeof meta.name === 'string' ? meta.name : 'Untitled',
    mimeType,
    parents,
    ...(driveId ? { driveId } : { ownerId: caller.user.id }),
    ...(content && !mimeType.startsWith('application/vnd.google-apps.') ? { content } : {}),
    ...(typeof meta.description === 'string' ? { description: meta.description } : {}),
    starred: meta.starred === true,
    trashed: false,
    createdTime: now,
    modifiedTime: now,
    lastModifyingUserId: caller.user.id,
    version: 1,
    permissions: driveId ? [] : [ownerPerm(caller.user)],
    createdByClient: caller.clientId,
  });
}

/** POST /drive/v3/files: metadata-only create (folders, Google Docs). Answers 200, as Drive does. */
export function createMetadataOnly(ctx: DriveContext, req: SbRequest, caller: GCaller): SbResponse {
  if (!hasScope(caller, WRITE_SCOPES)) return DRIVE.insufficientPermissions();
  const meta = parseJson(req);
  if (meta === INVALID_JSON || (meta !== undefined && (typeof meta !== 'object' || meta === null))) return DRIVE.badRequest('Invalid JSON payload received.');
  const m = (meta ?? {}) as Record<string, unknown>;
  const parents = newFileParents(ctx, req, caller, m);
  if (!Array.isArray(parents)) return parents;
  return respondFile(ctx, req, caller, createFileRecord(ctx, caller, m, parents, undefined, undefined));
}
