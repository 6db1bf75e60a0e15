import { decodePageCursor, encodePageCursor } from '../../documents/cursor.ts';
import type { DocumentItem, Drive, ItemPage, Permission, SharedLink } from '../../documents/model.ts';
import { json, ok, upstreamError } from '../../documents/upstream.ts';
import { attachment } from '../../documents/disposition.ts';
import { TetherError } from '../../errors.ts';
import { FragmentReader, fragmentRanges, readAll } from '../../documents/chunks.ts';
import type { ItemRef } from '../../documents/ids.ts';
import type { ConflictBehavior, DocumentsApi, DocumentsWriteApi, ListChildrenRequest, ProviderContext, UploadBody } from '../adapter.ts';

/** Drive v3 `File` fields Tether maps. */
interface DriveUser {
  displayName?: string;
  emailAddress?: string;
}
export interface DriveFile {
  id: string;
  name: string;
  mimeType?: string;
  size?: string;
  parents?: string[];
  driveId?: string;
  webViewLink?: string;
  createdTime?: string;
  modifiedTime?: string;
  owners?: DriveUser[];
  lastModifyingUser?: DriveUser;
  md5Checksum?: string;
  sha1Checksum?: string;
  sha256Checksum?: string;
  hasThumbnail?: boolean;
  shared?: boolean;
  iconLink?: string;
  version?: string;
}

const FOLDER = 'application/vnd.google-apps.folder';
const GOOGLE_APPS = 'application/vnd.google-apps.';

/**
 * Google-native files (Docs Editors) have no bytes of their own: `GET …/content` exports them with
 * Drive's files.export to the matching Office format (a Drawing to PDF). Their DocumentItem shows
 * that format's `mimeType` (the native type is under `provider.mimeType`) and `size: null`, since
 * the export's size is known only once it is made. Other Google-native types (Forms, Sites,
 * shortcuts, …) cannot be downloaded.
 */
export const GOOGLE_EXPORTS: Record<string, { mimeType: string; extension: string }> = {
  'application/vnd.google-apps.document': { mimeType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', extension: 'docx' },
  'application/vnd.google-apps.spreadsheet': { mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', extension: 'xlsx' },
  'application/vnd.google-apps.presentation': { mimeType: 'application/vnd.openxmlformats-officedocument.presentationml.presentation', extension: 'pptx' },
  'application/vnd.google-apps.drawing': { mimeType: 'application/pdf', extension: 'pdf' },
};
const FILE_FIELDS = 'id,name,mimeType,size,parents,driveId,webViewLink,createdTime,modifiedTime,owners(displayName,emailAddress),lastModifyingUser(displayName,emailAddress),md5Checksum,sha1Checksum,sha256Checksum,hasThumbnail,shared,iconLink,version';
// Pages (listings, search) never carry provider fields.
const PAGE_FIELDS = FILE_FIELDS.replace(',iconLink,version', '');
const DRIVE_MAX_PAGE = 1000;

/** Where Drive serves thumbnails and redirected downloads. */
export const GOOGLE_CONTENT_HOSTS = ['googleusercontent.com'] as const;
/** Graph's thumbnail sizes, so both providers answer `small|medium|large` alike. */
const THUMBNAIL_PIXELS = { small: 96, medium: 176, large: 800 } as const;

function person(user: DriveUser | undefined): DocumentItem['createdBy'] {
  return user ? { displayName: user.displayName ?? null, email: user.emailAddress ?? null } : null;
}

export function mapDriveFile(file: DriveFile, includeProvider = false): DocumentItem {
  const hashes: Record<string, string> = {};
  if (file.md5Checksum) hashes.md5 = file.md5Checksum;
  if (file.sha1Checksum) hashes.sha1 = file.sha1Checksum;
  if (file.sha256Checksum) hashes.sha256 = file.sha256Checksum;
  return {
    id: file.id,
    name: file.name,
    kind: file.mimeType === FOLDER ? 'folder' : 'file',
    mimeType: file.mimeType === FOLDER ? null : (GOOGLE_EXPORTS[file.mimeType ?? '']?.mimeType ?? file.mimeType ?? null),
    // Drive sends int64 sizes as strings. A Google-native file's size (if Drive gives one) is not
    // that of its export, so it is left out.
    size: file.size === undefined || file.mimeType?.startsWith(GOOGLE_APPS) ? null : Number(file.size),
    parentId: file.parents?.[0] ?? null,
    driveId: file.driveId ?? null,
    webUrl: file.webViewLink ?? null,
    createdAt: file.createdTime ?? null,
    modifiedAt: file.modifiedTime ?? null,
    createdBy: person(file.owners?.[0]),
    modifiedBy: person(file.lastModifyingUser),
    hashes,
    childCount: null,
    hasThumbnail: Boolean(file.hasThumbnail),
    shared: Boolean(file.shared),
    ...(includeProvider && { provider: { etag: file.version ? `"${file.version}"` : null, mimeType: file.mimeType ?? null, iconLink: file.iconLink ?? null, version: file.version ?? null } }),
  };
}

interface DrivePermission {
  id: string;
  type: 'user' | 'group' | 'domain' | 'anyone';
  role: string;
  emailAddress?: string;
  domain?: string;
  displayName?: string;
  expirationTime?: string;
}
const PERMISSION_FIELDS = 'permissions(id,type,role,emailAddress,domain,displayName,expirationTime)';

function roleOf(role: string): Permission['role'] {
  if (role === 'owner' || role === 'organizer') return 'owner';
  return role === 'writer' || role === 'fileOrganizer' ? 'write' : 'read';
}

function mapPermission(p: DrivePermission): Permission {
  return {
    id: p.id,
    role: roleOf(p.role),
    grantee: { type: p.type, displayName: p.displayName ?? null, email: p.emailAddress ?? null, domain: p.domain ?? null, link: null },
    expiresAt: p.expirationTime ?? null,
  };
}

async function filePermissions(ctx: ProviderContext, fileId: string): Promise<DrivePermission[]> {
  const body = await ctx.apiJson<{ permissions: DrivePermission[] }>(`/drive/v3/files/${encodeURIComponent(fileId)}/permissions`, { query: { fields: PERMISSION_FIELDS, supportsAllDrives: true } });
  return body.permissions;
}

/** A Drive query string literal: backslashes and single quotes escaped (Drive "Search query terms"). */
function literal(value: string): string {
  return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

async function listFiles(ctx: ProviderContext, q: string, options: { cursor: string | null; limit: number; orderBy?: string; driveId?: string | null }): Promise<ItemPage> {
  const state = options.cursor ? decodePageCursor(options.cursor) : undefined;
  const page = await ctx.apiJson<{ files: DriveFile[]; nextPageToken?: string }>('/drive/v3/files', {
    query: {
      q,
      pageSize: Math.min(options.limit, DRIVE_MAX_PAGE),
      fields: `nextPageToken,files(${PAGE_FIELDS})`,
      orderBy: options.orderBy,
      supportsAllDrives: true,
      includeItemsFromAllDrives: true,
      ...(options.driveId ? { corpora: 'drive', driveId: options.driveId } : {}),
      ...(state && { pageToken: String(state.t) }),
    },
  });
  return { items: page.files.map((f) => mapDriveFile(f)), nextCursor: page.nextPageToken ? encodePageCursor({ t: page.nextPageToken }) : null };
}

function notDownloadable(what: string): TetherError {
  return new TetherError(422, 'not_downloadable', `This item is ${what}; it has no content to download.`);
}

/** `Roadmap` → `Roadmap.docx`; a name that already ends in the extension keeps it. */
function withExtension(name: string, extension: string): string {
  return name.toLowerCase().endsWith(`.${extension}`) ? name : `${name}.${extension}`;
}

export const googleDocuments: DocumentsApi = {
  async listDrives(ctx) {
    const about = await ctx.apiJson<{ user?: DriveUser }>('/drive/v3/about', { query: { fields: 'user(displayName,emailAddress)' } });
    const shared = await ctx.apiJson<{ drives: { id: string; name: string }[] }>('/drive/v3/drives', { query: { pageSize: 100 } });
    const myDrive: Drive = { id: 'root', name: 'My Drive', kind: 'my-drive', webUrl: 'https://drive.google.com/drive/my-drive', owner: person(about.user) };
    return [myDrive, ...shared.drives.map((d): Drive => ({ id: d.id, name: d.name, kind: 'shared-drive', webUrl: `https://drive.google.com/drive/folders/${d.id}`, owner: null }))];
  },

  async listChildren(ctx, request: ListChildrenRequest) {
    const parent = request.parent?.itemId ?? (request.driveId && request.driveId !== 'root' ? request.driveId : 'root');
    const orderBy = request.orderBy === 'modifiedAt' ? 'modifiedTime desc' : request.orderBy === 'name' ? 'folder,name' : undefined;
    const driveId = request.driveId && request.driveId !== 'root' ? request.driveId : null;
    return listFiles(ctx, `${literal(parent)} in parents and trashed = false`, { cursor: request.cursor, limit: request.limit, driveId, ...(orderBy && { orderBy }) });
  },

  async getItem(ctx, ref) {
    return mapDriveFile(await ctx.apiJson<DriveFile>(`/drive/v3/files/${encodeURIComponent(ref.itemId)}`, { query: { fields: FILE_FIELDS, supportsAllDrives: true } }), true);
  },

  async search(ctx, query, cursor, limit) {
    return listFiles(ctx, `name contains ${literal(query)} and trashed = false`, { cursor, limit });
  },

  async preview(ctx, ref) {
    const file = await ctx.apiJson<{ webViewLink?: string }>(`/drive/v3/files/${encodeURIComponent(ref.itemId)}`, { query: { fields: 'webViewLink', supportsAllDrives: true } });
    if (!file.webViewLink) throw new TetherError(404, 'not_found', 'This item has no preview.');
    // Drive's embeddable form of a view link ends in /preview instead of /edit or /view.
    const url = new URL(file.webViewLink);
    url.pathname = url.pathname.replace(/\/(edit|view)$/, '') + '/preview';
    url.search = '';
    return { url: url.toString() };
  },

  /**
   * A Drive "link" is a permission: anyone (anonymous), the user's domain (organization) or named
   * users, with reader or writer role; the URL is the file's webViewLink. An equal permission that
   * already exists is reused, so asking twice creates nothing new.
   */
  async createLink(ctx, ref, request) {
    const role = request.type === 'edit' ? 'writer' : 'reader';
    const file = await ctx.apiJson<{ webViewLink?: string }>(`/drive/v3/files/${encodeURIComponent(ref.itemId)}`, { query: { fields: 'webViewLink', supportsAllDrives: true } });
    let grants: Record<string, string>[];
    if (request.scope === 'anonymous') grants = [{ type: 'anyone', role }];
    else if (request.scope === 'organization') {
      const about = await ctx.apiJson<{ user?: { emailAddress?: string } }>('/drive/v3/about', { query: { fields: 'user(emailAddress)' } });
      const domain = about.user?.emailAddress?.split('@')[1];
      if (!domain) throw new TetherError(422, 'not_applicable', 'This Google account has no organization domain.');
      grants = [{ type: 'domain', domain, role }];
    } else {
      if (request.recipients.length === 0) throw new TetherError(422, 'recipients_required', 'A link for specific users needs recipients.');
      grants = request.recipients.map((emailAddress) => ({ type: 'user', emailAddress, role }));
    }
    const existing = await filePermissions(ctx, ref.itemId);
    for (const grant of grants) {
      const same = existing.find((p) => p.type === grant.type && p.role === grant.role && (p.emailAddress ?? '').toLowerCase() === (grant.emailAddress ?? '').toLowerCase() && (p.domain ?? '') === (grant.domain ?? ''));
      if (same) continue;
      await ctx.apiJson(`/drive/v3/files/${encodeURIComponent(ref.itemId)}/permissions`, {
        method: 'POST',
        query: { supportsAllDrives: true, sendNotificationEmail: grant.type === 'user' ? 'false' : undefined },
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...grant, ...(request.expiresAt && grant.type === 'user' && { expirationTime: request.expiresAt }) }),
      });
    }
    return { url: file.webViewLink ?? `https://drive.google.com/file/d/${ref.itemId}/view`, type: request.type, scope: request.scope, expiresAt: request.expiresAt };
  },

  async permissions(ctx, ref) {
    return (await filePermissions(ctx, ref.itemId)).map(mapPermission);
  },

  async thumbnail(ctx, ref, size) {
    const file = await ctx.apiJson<{ hasThumbnail?: boolean; thumbnailLink?: string }>(`/drive/v3/files/${encodeURIComponent(ref.itemId)}`, { query: { fields: 'hasThumbnail,thumbnailLink', supportsAllDrives: true } });
    if (!file.thumbnailLink) throw new TetherError(404, 'not_found', 'This item has no thumbnail.');
    // thumbnailLink ends in `=s<px>`; asking for another size is how Drive clients resize.
    const link = file.thumbnailLink.replace(/=s\d+$/, '') + `=s${THUMBNAIL_PIXELS[size]}`;
    return ok(await ctx.download(link, { contentHosts: GOOGLE_CONTENT_HOSTS }));
  },

  /**
   * Binary files: `alt=media`, with the Range passed through. Google-native files: files.export to
   * the matching Office format (GOOGLE_EXPORTS), with a Content-Disposition naming the file with
   * that extension. Exports are made on request and Drive serves them whole, so a Range is ignored
   * there: the answer is 200 with the whole file and `Accept-Ranges: none` (RFC 9110 §14.2 lets a
   * server ignore Range). Drive exports at most 10 MB; a larger one is 413 `too_large`.
   */
  async content(ctx, ref, range) {
    const path = `/drive/v3/files/${encodeURIComponent(ref.itemId)}`;
    const file = await ctx.apiJson<{ name: string; mimeType?: string }>(path, { query: { fields: 'name,mimeType', supportsAllDrives: true } });
    const mimeType = file.mimeType ?? '';
    if (!mimeType.startsWith(GOOGLE_APPS)) {
      return ok(await ctx.download(path, { query: { alt: 'media', supportsAllDrives: true }, contentHosts: GOOGLE_CONTENT_HOSTS, ...(range && { headers: { range } }) }));
    }
    const format = GOOGLE_EXPORTS[mimeType];
    if (!format) throw notDownloadable(mimeType === FOLDER ? 'a folder' : 'a Google item Drive cannot export');
    const exported = await ok(await ctx.download(`${path}/export`, { query: { mimeType: format.mimeType }, contentHosts: GOOGLE_CONTENT_HOSTS }));
    const headers = new Headers({ 'content-type': format.mimeType, 'content-disposition': attachment(withExtension(file.name, format.extension)), 'accept-ranges': 'none' });
    const length = exported.headers.get('content-length');
    if (length) headers.set('content-length', length);
    return new Response(exported.body, { status: 200, headers });
  },

  async resolveSharedLink(ctx, link) {
    if (link.provider !== 'google') throw new Error('not a Google link');
    return this.getItem(ctx, { driveId: null, itemId: link.fileId });
  },
};

/** Drive: multipart up to 5 MiB; above, a resumable session in chunks of a multiple of 256 KiB. */
export const DRIVE_MULTIPART_MAX = 5 * 1024 * 1024;
export const DRIVE_CHUNK = 20 * 256 * 1024; // 5 MiB

const fileUrl = (id: string) => `/drive/v3/files/${encodeURIComponent(id)}`;

function parentIdOf(parent: ItemRef | null, driveId: string | null): string {
  return parent?.itemId ?? (driveId && driveId !== 'root' ? driveId : 'root');
}

/** ETags are `"<version>"`; Drive v3 has no If-Match, so the version is compared first (best effort). */
async function checkVersion(ctx: ProviderContext, id: string, ifMatch: string | undefined): Promise<void> {
  if (!ifMatch) return;
  const file = await ctx.apiJson<{ version?: string }>(fileUrl(id), { query: { fields: 'version', supportsAllDrives: true } });
  const wanted = ifMatch.replace(/^W\//, '').replaceAll('"', '');
  if (file.version !== wanted) throw new TetherError(412, 'precondition_failed', 'The item changed since the given If-Match version.');
}

async function findByName(ctx: ProviderContext, parentId: string, name: string): Promise<DriveFile | undefined> {
  const page = await listFiles(ctx, `${literal(parentId)} in parents and name = ${literal(name)} and trashed = false`, { cursor: null, limit: 1 });
  return page.items[0] ? ({ id: page.items[0].id } as DriveFile) : undefined;
}

async function resumable(ctx: ProviderContext, method: 'POST' | 'PATCH', path: string, metadata: Record<string, unknown>, body: UploadBody): Promise<DriveFile> {
  const start = await ctx.api(path, {
    method,
    query: { uploadType: 'resumable', supportsAllDrives: true, fields: FILE_FIELDS },
    headers: { 'content-type': 'application/json; charset=UTF-8', 'x-upload-content-type': body.contentType, 'x-upload-content-length': String(body.size) },
    body: JSON.stringify(metadata),
  });
  if (!start.ok) throw await upstreamError(start);
  await start.body?.cancel();
  const session = start.headers.get('location');
  if (!session) throw new TetherError(502, 'upstream_unavailable', 'Drive opened no upload session.');
  // Each chunk streams straight from the caller's request to the session URI (nothing is held).
  const reader = new FragmentReader(body.stream);
  let last: Response | undefined;
  for (const chunk of fragmentRanges(body.size, DRIVE_CHUNK)) {
    // The session URI is the credential for the upload (it sits on the API host); no token needed.
    last = await ctx.sendTo(session, {
      method: 'PUT',
      contentHosts: GOOGLE_CONTENT_HOSTS,
      headers: { 'content-length': String(chunk.length), 'content-range': `bytes ${chunk.start}-${chunk.end}/${body.size}` },
      body: reader.take(chunk.length),
    });
    if (chunk.end + 1 < body.size) {
      if (last.status !== 308) throw await upstreamError(last);
      await last.body?.cancel();
    }
  }
  if (!last) throw new Error('a resumable upload needs a body');
  await reader.end();
  return json<DriveFile>(last);
}

function multipart(metadata: Record<string, unknown>, contentType: string, bytes: Buffer): { contentType: string; body: Buffer } {
  const boundary = `tether-${crypto.randomUUID()}`;
  const head = `--${boundary}\r\ncontent-type: application/json; charset=UTF-8\r\n\r\n${JSON.stringify(metadata)}\r\n--${boundary}\r\ncontent-type: ${contentType}\r\n\r\n`;
  return { contentType: `multipart/related; boundary=${boundary}`, body: Buffer.concat([Buffer.from(head), bytes, Buffer.from(`\r\n--${boundary}--`)]) };
}

export const googleDocumentsWrite: DocumentsWriteApi = {
  async upload(ctx, target, body) {
    const parentId = parentIdOf(target.parent, target.driveId);
    // Drive allows equal names side by side; Tether's conflict behaviours are applied by looking first.
    if (target.conflict !== 'rename') {
      const existing = await findByName(ctx, parentId, target.name);
      if (existing && target.conflict === 'fail') throw new TetherError(409, 'conflict', 'An item of that name exists in the folder.');
      if (existing) return this.replaceContent(ctx, { driveId: null, itemId: existing.id }, body);
    }
    const metadata = { name: target.name, parents: [parentId] };
    if (body.size > DRIVE_MULTIPART_MAX) return mapDriveFile(await resumable(ctx, 'POST', '/upload/drive/v3/files', metadata, body));
    const part = multipart(metadata, body.contentType, await readAll(body.stream, body.size));
    return mapDriveFile(
      await ctx.apiJson<DriveFile>('/upload/drive/v3/files', { method: 'POST', query: { uploadType: 'multipart', supportsAllDrives: true, fields: FILE_FIELDS }, headers: { 'content-type': part.contentType }, body: part.body }),
    );
  },

  async replaceContent(ctx, ref, body) {
    const path = `/upload/drive/v3/files/${encodeURIComponent(ref.itemId)}`;
    if (body.size > DRIVE_MULTIPART_MAX) return mapDriveFile(await resumable(ctx, 'PATCH', path, {}, body));
    const bytes = await readAll(body.stream, body.size);
    return mapDriveFile(
      await ctx.apiJson<DriveFile>(path, { method: 'PATCH', query: { uploadType: 'media', supportsAllDrives: true, fields: FILE_FIELDS }, headers: { 'content-type': body.contentType }, body: bytes }),
    );
  },

  async createFolder(ctx, target) {
    const parentId = parentIdOf(target.parent, target.driveId);
    if (target.conflict !== 'rename' && (await findByName(ctx, parentId, target.name))) {
      throw new TetherError(409, 'conflict', 'An item of that name exists in the folder.');
    }
    return mapDriveFile(
      await ctx.apiJson<DriveFile>('/drive/v3/files', {
        method: 'POST',
        query: { supportsAllDrives: true, fields: FILE_FIELDS },
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: target.name, mimeType: FOLDER, parents: [parentId] }),
      }),
    );
  },

  async update(ctx, ref, changes) {
    await checkVersion(ctx, ref.itemId, changes.ifMatch);
    let move: Record<string, string> = {};
    if (changes.parent) {
      const current = await ctx.apiJson<{ parents?: string[] }>(fileUrl(ref.itemId), { query: { fields: 'parents', supportsAllDrives: true } });
      move = { addParents: changes.parent.itemId, removeParents: (current.parents ?? []).join(',') };
    }
    return mapDriveFile(
      await ctx.apiJson<DriveFile>(fileUrl(ref.itemId), {
        method: 'PATCH',
        query: { supportsAllDrives: true, fields: FILE_FIELDS, ...move },
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(changes.name ? { name: changes.name } : {}),
      }),
      true,
    );
  },

  async delete(ctx, ref, ifMatch) {
    await checkVersion(ctx, ref.itemId, ifMatch);
    const res = await ctx.api(fileUrl(ref.itemId), { method: 'DELETE', query: { supportsAllDrives: true } });
    if (res.status !== 204) await json(res);
  },
};
