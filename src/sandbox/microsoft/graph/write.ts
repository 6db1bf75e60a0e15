// Write-side driveItem endpoints: simple upload, upload sessions, create folder, PATCH, DELETE.
// https://learn.microsoft.com/graph/api/driveitem-createuploadsession
import { randomUUID } from 'node:crypto';
import { empty, json, parseJson, INVALID_JSON, type SbRequest, type SbResponse } from '../../common/http.ts';
import { signResource, verifyResource } from '../../common/signedUrl.ts';
import { graphError } from '../errors.ts';
import type { MsDrive, MsItem } from '../store.ts';
import type { Caller } from './access.ts';
import type { GraphContext } from './context.ts';
import { cTag, eTag, iso, itemJson } from './serialize.ts';

const FRAGMENT_UNIT = 320 * 1024;
const MAX_FRAGMENT = 60 * 1024 * 1024;
const SIMPLE_UPLOAD_LIMIT = 250 * 1024 * 1024;

interface UploadSession {
  id: string;
  driveId: string;
  parentId: string;
  name: string;
  conflictBehavior: string;
  userId: string;
  chunks: Buffer[];
  received: number;
  total?: number;
  expiresAt: number;
}

const sessionsByStore = new WeakMap<object, Map<string, UploadSession>>();
function sessionsOf(ctx: GraphContext): Map<string, UploadSession> {
  let m = sessionsByStore.get(ctx.store);
  if (!m) sessionsByStore.set(ctx.store, (m = new Map()));
  return m;
}

function err(ctx: GraphContext, req: SbRequest, status: number, code?: string, message?: string): SbResponse {
  return graphError(status, code, message, req, ctx.faults.now());
}

const MIME: Record<string, string> = {
  txt: 'text/plain',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  pdf: 'application/pdf',
  json: 'application/json',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
};

export function mimeFor(name: string): string {
  return MIME[name.split('.').pop()?.toLowerCase() ?? ''] ?? 'application/octet-stream';
}

function validName(name: string): boolean {
  return name.length > 0 && name.length <= 400 && !/["*:<>?/\\|]/.test(name) && name.trim() === name && !name.endsWith('.');
}

function uniqueName(ctx: GraphContext, parentId: string, name: string): string {
  const dot = name.lastIndexOf('.');
  const stem = dot > 0 ? name.slice(0, dot) : name;
  const ext = dot > 0 ? name.slice(dot) : '';
  for (let i = 1; ; i++) {
    const candidate = `${stem} ${i}${ext}`;
    if (!ctx.store.childByName(parentId, candidate)) return candidate;
  }
}

/** Creates or replaces a file; returns [status, item] or an error response. */
function writeFile(ctx: GraphContext, req: SbRequest, caller: Caller, drive: MsDrive, parentId: string, name: string, data: Buffer, behavior: string): SbResponse | [number, MsItem] {
  if (!validName(name)) return err(ctx, req, 400, 'invalidRequest', 'The provided name contains invalid characters.');
  const now = ctx.faults.now();
  const existing = ctx.store.childByName(parentId, name);
  if (existing && behavior === 'fail') return err(ctx, req, 409, 'nameAlreadyExists', 'The specified item name already exists.');
  if (existing && behavior !== 'rename') {
    if (existing.isFolder) return err(ctx, req, 409, 'nameAlreadyExists', 'The specified item name already exists.');
    existing.content = data;
    delete existing.lazyContent;
    delete existing.image;
    existing.modifiedAt = now;
    existing.modifiedBy = caller.user.id;
    existing.version += 1;
    ctx.store.contentChanged();
    return [200, existing];
  }
  const finalName = existing ? uniqueName(ctx, parentId, name) : name;
  const item = ctx.store.addItem({ id: ctx.store.newItemId(), driveId: drive.id, parentId, name: finalName, isFolder: false, mimeType: mimeFor(finalName), content: data, createdAt: now, modifiedAt: now, createdBy: caller.user.id, modifiedBy: caller.user.id, version: 1 });
  return [201, item];
}

/** Where an upload goes: an existing file (`target`), or a name under a folder path relative to `base`. */
function uploadTarget(ctx: GraphContext, req: SbRequest, base: MsItem, relPath: string | undefined, target: MsItem | undefined, folderMessage: string): { parentId: string; name: string } | SbResponse {
  if (relPath === undefined) {
    if (!target || target.isFolder) return err(ctx, req, 400, 'invalidRequest', folderMessage);
    return { parentId: target.parentId!, name: target.name };
  }
  const segs = relPath.split('/').filter(Boolean);
  const name = segs.pop() ?? '';
  const parent = ctx.store.resolvePath(base.id, segs.join('/'));
  if (!parent || !parent.isFolder) return err(ctx, req, 404, 'itemNotFound', 'The resource could not be found.');
  return { parentId: parent.id, name };
}

/** PUT /items/{parent-id}:/{filename}:/content, /root:/path:/content or /items/{id}/content. */
export function simpleUpload(ctx: GraphContext, req: SbRequest, caller: Caller, drive: MsDrive, base: MsItem, relPath: string | undefined, target: MsItem | undefined): SbResponse {
  if (req.body.length > SIMPLE_UPLOAD_LIMIT) return err(ctx, req, 413, 'requestTooLarge', 'The request is too large for a simple upload. Use an upload session.');
  const behavior = req.query.get('@microsoft.graph.conflictBehavior') ?? 'replace';
  const where = uploadTarget(ctx, req, base, relPath, target, 'Cannot upload content to a folder.');
  if ('status' in where) return where;
  const r = writeFile(ctx, req, caller, drive, where.parentId, where.name, req.body, behavior);
  if (!Array.isArray(r)) return r;
  return json(r[0], itemJson(ctx, req.origin, r[1]));
}

export function createUploadSession(ctx: GraphContext, req: SbRequest, caller: Caller, drive: MsDrive, base: MsItem, relPath: string | undefined, target: MsItem | undefined): SbResponse {
  const body = parseJson(req);
  if (body === INVALID_JSON) return err(ctx, req, 400, 'invalidRequest', 'Invalid request');
  const item = ((body as { item?: Record<string, unknown> } | undefined)?.item ?? {}) as Record<string, unknown>;
  const behavior = String(item['@microsoft.graph.conflictBehavior'] ?? req.query.get('@microsoft.graph.conflictBehavior') ?? 'replace');
  const where = uploadTarget(ctx, req, base, relPath, target, 'Upload sessions need a file name: use /items/{parent-id}:/{filename}:/createUploadSession.');
  if ('status' in where) return where;
  const { parentId, name } = where;
  if (typeof item.name === 'string' && item.name !== name) return err(ctx, req, 400, 'invalidRequest', 'The name in the request body does not match the name in the URL.');
  if (!validName(name)) return err(ctx, req, 400, 'invalidRequest', 'The provided name contains invalid characters.');
  if (behavior === 'fail' && ctx.store.childByName(parentId, name)) return err(ctx, req, 409, 'nameAlreadyExists', 'The specified item name already exists.');
  const expiresAt = ctx.faults.now() + 24 * 3600_000;
  const session: UploadSession = { id: randomUUID(), driveId: drive.id, parentId, name, conflictBehavior: behavior, userId: caller.user.id, chunks: [], received: 0, expiresAt };
  sessionsOf(ctx).set(session.id, session);
  const uploadUrl = `${req.origin}/_api/v2.0/drives/${encodeURIComponent(drive.id)}/items/${parentId}/uploadSession?guid='${session.id}'&overwrite=${behavior === 'replace' ? 'True' : 'False'}&rename=${behavior === 'rename' ? 'True' : 'False'}&tempauth=${signResource(`upload:${session.id}`, expiresAt)}`;
  return json(200, { '@odata.context': `${req.origin}/v1.0/$metadata#microsoft.graph.uploadSession`, expirationDateTime: iso(expiresAt), nextExpectedRanges: ['0-'], uploadUrl });
}

function sessionStatus(s: UploadSession): Record<string, unknown> {
  return { expirationDateTime: iso(s.expiresAt), nextExpectedRanges: [`${s.received}-${s.total !== undefined ? s.total - 1 : ''}`] };
}

/** PUT/GET/DELETE on an uploadUrl. Pre-authenticated: sending an Authorization header is an error (401), as in Graph. */
export function uploadSessionRequest(ctx: GraphContext, req: SbRequest): SbResponse {
  const id = (req.query.get('guid') ?? '').replace(/^'|'$/g, '');
  const sessions = sessionsOf(ctx);
  const session = sessions.get(id);
  if (!session || !verifyResource(`upload:${id}`, req.query.get('tempauth'), ctx.faults.now()) || session.expiresAt <= ctx.faults.now()) {
    return err(ctx, req, 404, 'itemNotFound', 'The upload session was not found.');
  }
  if (req.headers.authorization) return err(ctx, req, 401, 'unauthenticated', 'The uploadUrl is pre-authenticated; do not send an Authorization header.');
  if (req.method === 'DELETE') {
    sessions.delete(id);
    return empty(204);
  }
  if (req.method === 'GET') return json(200, sessionStatus(session));
  if (req.method !== 'PUT') return err(ctx, req, 405);
  const range = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(String(req.headers['content-range'] ?? ''));
  if (!range) return err(ctx, req, 400, 'invalidRequest', 'The Content-Range header is missing or malformed.');
  const start = Number(range[1]);
  const end = Number(range[2]);
  const total = Number(range[3]);
  const length = end - start + 1;
  if (length !== req.body.length) return err(ctx, req, 400, 'invalidRequest', 'The Content-Range header length does not match the provided number of bytes.');
  if (session.total !== undefined && session.total !== total) return err(ctx, req, 400, 'invalidRequest', 'The total size does not match the size declared by earlier fragments.');
  if (start !== session.received) return err(ctx, req, 416, 'invalidRange', `The uploaded fragment overlaps or leaves a gap; next expected range is ${session.received}-.`);
  if (length > MAX_FRAGMENT) return err(ctx, req, 413, 'requestTooLarge', 'Fragments must be smaller than 60 MiB.');
  const last = end + 1 === total;
  // Graph requires fragments in multiples of 320 KiB (except the last) and fails the upload
  // otherwise; the sandbox rejects such a fragment immediately so the mistake is easy to see.
  if (!last && length % FRAGMENT_UNIT !== 0) return err(ctx, req, 400, 'invalidRequest', 'Fragment size must be a multiple of 320 KiB (327,680 bytes).');
  session.total = total;
  session.chunks.push(Buffer.from(req.body));
  session.received += length;
  if (!last) return json(202, sessionStatus(session));
  sessions.delete(id);
  const drive = ctx.store.drives.get(session.driveId)!;
  const caller = { user: ctx.store.users.get(session.userId)!, scopes: new Set<string>(), clientId: '' };
  const r = writeFile(ctx, req, caller, drive, session.parentId, session.name, Buffer.concat(session.chunks), session.conflictBehavior);
  if (!Array.isArray(r)) return r;
  return json(r[0], itemJson(ctx, req.origin, r[1]));
}

export function createFolder(ctx: GraphContext, req: SbRequest, caller: Caller, drive: MsDrive, parent: MsItem): SbResponse {
  const body = parseJson(req) as Record<string, unknown> | undefined | symbol;
  if (typeof body !== 'object' || body === null) return err(ctx, req, 400, 'invalidRequest', 'Invalid request');
  const name = body.name;
  if (typeof name !== 'string' || !validName(name)) return err(ctx, req, 400, 'invalidRequest', 'The provided name contains invalid characters.');
  if (!('folder' in body)) return err(ctx, req, 400, 'invalidRequest', 'Only folders can be created with this request; upload files with PUT …/content.');
  const behavior = String(body['@microsoft.graph.conflictBehavior'] ?? 'fail');
  let finalName = name;
  if (ctx.store.childByName(parent.id, name)) {
    if (behavior === 'rename') finalName = uniqueName(ctx, parent.id, name);
    else return err(ctx, req, 409, 'nameAlreadyExists', 'The specified item name already exists.');
  }
  const now = ctx.faults.now();
  const item = ctx.store.addItem({ id: ctx.store.newItemId(), driveId: drive.id, parentId: parent.id, name: finalName, isFolder: true, createdAt: now, modifiedAt: now, createdBy: caller.user.id, modifiedBy: caller.user.id, version: 1 });
  return json(201, itemJson(ctx, req.origin, item));
}

function ifMatchFails(req: SbRequest, item: MsItem): boolean {
  const h = req.headers['if-match'];
  if (!h || h === '*') return false;
  // Graph's eTags contain a comma ("{GUID},3"), so split the list on quoted tags, not on commas.
  const tags = h.match(/(?:W\/)?"[^"]*"/g) ?? [h.trim()];
  return !tags.some((t) => t === eTag(item) || t === cTag(item));
}

export function patchItem(ctx: GraphContext, req: SbRequest, caller: Caller, drive: MsDrive, item: MsItem): SbResponse {
  if (ifMatchFails(req, item)) return err(ctx, req, 412, 'preconditionFailed', "ETag does not match current item's value");
  const body = parseJson(req) as Record<string, unknown> | undefined | symbol;
  if (typeof body !== 'object' || body === null) return err(ctx, req, 400, 'invalidRequest', 'Invalid request');
  if (!item.parentId && ('name' in body || 'parentReference' in body)) return err(ctx, req, 400, 'invalidRequest', 'Cannot rename or move the root.');
  let newParent = item.parentId ? ctx.store.items.get(item.parentId)! : undefined;
  const ref = body.parentReference as { id?: string; path?: string; driveId?: string } | undefined;
  if (ref) {
    if (ref.driveId && ref.driveId !== drive.id) return err(ctx, req, 400, 'invalidRequest', 'Moving items between drives is not supported; use copy.');
    const target = ref.id ? ctx.store.items.get(ref.id) : ref.path ? ctx.store.resolvePath(drive.rootId, ref.path.replace(/^\/drive(s\/[^/]+)?\/root:?/, '')) : undefined;
    if (!target || target.driveId !== drive.id || !target.isFolder) return err(ctx, req, 400, 'invalidRequest', 'The parent reference is invalid.');
    if (ctx.store.isDescendant(target.id, item.id)) return err(ctx, req, 400, 'invalidRequest', 'An item cannot be moved into itself or its descendants.');
    newParent = target;
  }
  const newName = typeof body.name === 'string' ? body.name : item.name;
  if (!validName(newName)) return err(ctx, req, 400, 'invalidRequest', 'The provided name contains invalid characters.');
  if (newParent) {
    const clash = ctx.store.childByName(newParent.id, newName);
    if (clash && clash.id !== item.id) return err(ctx, req, 409, 'nameAlreadyExists', 'The specified item name already exists.');
  }
  if (newParent && newParent.id !== item.parentId) ctx.store.move(item, newParent.id);
  if (newName !== item.name) {
    item.name = newName;
    ctx.store.renamed(item);
  }
  if (typeof body.description === 'string') item.description = body.description;
  item.modifiedAt = ctx.faults.now();
  item.modifiedBy = caller.user.id;
  item.version += 1;
  return json(200, itemJson(ctx, req.origin, item));
}

export function deleteItem(ctx: GraphContext, req: SbRequest, item: MsItem): SbResponse {
  if (!item.parentId) return err(ctx, req, 403, 'accessDenied', 'The root of a drive cannot be deleted.');
  if (ifMatchFails(req, item)) return err(ctx, req, 412, 'preconditionFailed', "ETag does not match current item's value");
  ctx.store.remove(item);
  return empty(204);
}
