// Drive uploads at /upload/drive/v3/files: uploadType=media, multipart (multipart/related) and
// resumable (session URI in Location, 308 Resume Incomplete with Range, chunks in 256 KiB multiples).
// https://developers.google.com/workspace/drive/api/guides/manage-uploads
import { randomBytes } from 'node:crypto';
import { json, parseJson, INVALID_JSON, type SbRequest, type SbResponse } from '../common/http.ts';
import { DRIVE, driveError } from './errors.ts';
import { applyUpdate, createFileRecord, findFile, newFileParents, respondFile } from './files.ts';
import { canWrite, hasScope, WRITE_SCOPES, type DriveContext, type GCaller } from './model.ts';
import type { GFile } from './store.ts';

const CHUNK_UNIT = 256 * 1024;

interface ResumableSession {
  id: string;
  userId: string;
  clientId: string;
  scopes: Set<string>;
  fileId?: string;
  meta: Record<string, unknown>;
  query: URLSearchParams;
  contentType?: string;
  total?: number;
  chunks: Buffer[];
  received: number;
  done?: string;
}

const sessionsByStore = new WeakMap<object, Map<string, ResumableSession>>();
function sessionsOf(ctx: DriveContext): Map<string, ResumableSession> {
  let m = sessionsByStore.get(ctx.store);
  if (!m) sessionsByStore.set(ctx.store, (m = new Map()));
  return m;
}

/** Splits a multipart/related body into its parts (RFC 2387). */
export function parseMultipart(body: Buffer, contentType: string): { headers: Record<string, string>; body: Buffer }[] | undefined {
  const m = /boundary="?([^";]+)"?/i.exec(contentType);
  if (!m) return undefined;
  const delim = Buffer.from(`--${m[1]}`);
  const parts: { headers: Record<string, string>; body: Buffer }[] = [];
  let pos = body.indexOf(delim);
  if (pos < 0) return undefined;
  for (;;) {
    pos += delim.length;
    if (body.subarray(pos, pos + 2).toString() === '--') break;
    if (body.subarray(pos, pos + 2).toString() === '\r\n') pos += 2;
    const next = body.indexOf(delim, pos);
    if (next < 0) return undefined;
    let part = body.subarray(pos, next);
    if (part.subarray(part.length - 2).toString() === '\r\n') part = part.subarray(0, part.length - 2);
    const sep = part.indexOf('\r\n\r\n');
    if (sep < 0) return undefined;
    const headers: Record<string, string> = {};
    for (const line of part.subarray(0, sep).toString('utf8').split('\r\n')) {
      const i = line.indexOf(':');
      if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    let content = part.subarray(sep + 4);
    if (headers['content-transfer-encoding']?.toLowerCase() === 'base64') content = Buffer.from(content.toString('ascii'), 'base64');
    parts.push({ headers, body: Buffer.from(content) });
    pos = next;
  }
  return parts;
}

function writeContent(ctx: DriveContext, file: GFile, caller: GCaller, content: Buffer, contentType: string | undefined): void {
  file.content = content;
  delete file.lazyContent;
  delete file.image;
  if (contentType && !file.mimeType.startsWith('application/vnd.google-apps.')) file.mimeType = contentType;
  file.modifiedTime = ctx.faults.now();
  file.lastModifyingUserId = caller.user.id;
  file.version += 1;
}

function finish(ctx: DriveContext, req: SbRequest, caller: GCaller, fileId: string | undefined, meta: Record<string, unknown>, content: Buffer, contentType: string | undefined): SbResponse {
  if (fileId) {
    const file = findFile(ctx, req, caller, fileId);
    if ('status' in file) return file;
    if (!canWrite(ctx, caller, file)) return DRIVE.forbidden('The user does not have sufficient permissions for this file.');
    const err = applyUpdate(ctx, req, caller, file, meta);
    if (err) return err;
    writeContent(ctx, file, caller, content, contentType);
    return respondFile(ctx, req, caller, file);
  }
  const parents = newFileParents(ctx, req, caller, meta);
  if (!Array.isArray(parents)) return parents;
  return respondFile(ctx, req, caller, createFileRecord(ctx, caller, meta, parents, content, contentType));
}

/** POST /upload/drive/v3/files and PATCH /upload/drive/v3/files/{id}. */
export function upload(ctx: DriveContext, req: SbRequest, caller: GCaller, fileId: string | undefined): SbResponse {
  if (!hasScope(caller, WRITE_SCOPES)) return DRIVE.insufficientPermissions();
  const uploadType = req.query.get('uploadType');
  const contentType = req.headers['content-type'];
  if (uploadType === 'media') return finish(ctx, req, caller, fileId, {}, req.body, contentType);
  if (uploadType === 'multipart') {
    const parts = contentType ? parseMultipart(req.body, contentType) : undefined;
    if (!parts || parts.length !== 2) return DRIVE.badRequest('Malformed multipart body.');
    let meta: unknown;
    try {
      meta = JSON.parse(parts[0]!.body.toString('utf8') || '{}');
    } catch {
      return DRIVE.badRequest('Malformed multipart body.');
    }
    return finish(ctx, req, caller, fileId, meta as Record<string, unknown>, parts[1]!.body, parts[1]!.headers['content-type']);
  }
  if (uploadType === 'resumable') {
    const meta = parseJson(req);
    if (meta === INVALID_JSON) return DRIVE.badRequest('Invalid JSON payload received.');
    if (fileId) {
      const file = findFile(ctx, req, caller, fileId);
      if ('status' in file) return file;
    }
    const id = randomBytes(24).toString('base64url');
    const lengthHeader = req.headers['x-upload-content-length'];
    const session: ResumableSession = {
      id,
      userId: caller.user.id,
      clientId: caller.clientId,
      scopes: caller.scopes,
      ...(fileId ? { fileId } : {}),
      meta: (meta ?? {}) as Record<string, unknown>,
      query: new URLSearchParams(req.query),
      ...(req.headers['x-upload-content-type'] ? { contentType: String(req.headers['x-upload-content-type']) } : {}),
      ...(lengthHeader ? { total: Number(lengthHeader) } : {}),
      chunks: [],
      received: 0,
    };
    sessionsOf(ctx).set(id, session);
    const location = new URL(`${req.origin}${req.path}`);
    for (const [k, v] of req.query) location.searchParams.set(k, v);
    location.searchParams.set('upload_id', id);
    return { status: 200, headers: { location: location.toString(), 'x-guploader-uploadid': id, 'content-length': 0 }, body: '' };
  }
  return DRIVE.invalid('uploadType', `Invalid upload type: ${uploadType ?? ''}`);
}

function incomplete(s: ResumableSession): SbResponse {
  return { status: 308, headers: { ...(s.received > 0 ? { range: `bytes=0-${s.received - 1}` } : {}), 'x-guploader-uploadid': s.id, 'content-length': 0 }, body: '' };
}

/** PUT to a resumable session URI: a chunk (Content-Range: bytes a-b/total) or a status query (bytes *\/total). */
export function resumableChunk(ctx: DriveContext, req: SbRequest): SbResponse {
  const id = req.query.get('upload_id') ?? '';
  const session = sessionsOf(ctx).get(id);
  if (!session) return driveError(404, { reason: 'notFound', message: 'Upload session not found or expired.' });
  if (session.done) return json(200, JSON.parse(session.done));
  const range = String(req.headers['content-range'] ?? '');
  const caller: GCaller = { user: ctx.store.users.get(session.userId)!, scopes: session.scopes, clientId: session.clientId };
  const status = /^bytes \*\/(\d+|\*)$/.exec(range);
  if (status) return incomplete(session);
  let start = 0;
  let total: number | undefined = session.total;
  if (range) {
    const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(range);
    if (!m) return DRIVE.badRequest('Invalid Content-Range header.');
    start = Number(m[1]);
    if (Number(m[2]) - start + 1 !== req.body.length) return DRIVE.badRequest('The Content-Range does not match the body length.');
    if (m[3] !== '*') total = Number(m[3]);
  } else {
    total = req.body.length;
  }
  if (start !== session.received) return incomplete(session);
  const end = start + req.body.length;
  const last = total !== undefined && end === total;
  if (!last && req.body.length % CHUNK_UNIT !== 0) return DRIVE.badRequest('Chunk size must be a multiple of 256 KiB (262,144 bytes) except for the final chunk.');
  session.chunks.push(Buffer.from(req.body));
  session.received = end;
  if (total !== undefined) session.total = total;
  if (!last) return incomplete(session);
  const fakeReq: SbRequest = { ...req, query: session.query };
  const res = finish(ctx, fakeReq, caller, session.fileId, session.meta, Buffer.concat(session.chunks), session.contentType);
  if (res.status === 200) session.done = String(res.body);
  return res;
}
