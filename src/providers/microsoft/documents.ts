import { decodePageCursor, encodePageCursor } from '../../documents/cursor.ts';
import { encodeItemId, type ItemRef } from '../../documents/ids.ts';
import type { DocumentItem, Drive, ItemPage, Permission, SharedLink } from '../../documents/model.ts';
import { json, ok, upstreamError } from '../../documents/upstream.ts';
import { TetherError } from '../../errors.ts';
import { FragmentReader, fragmentRanges, readAll } from '../../documents/chunks.ts';
import type { ConflictBehavior, DocumentsApi, DocumentsWriteApi, ListChildrenRequest, ProviderContext, UploadBody } from '../adapter.ts';

/** Graph driveItem fields Tether maps (v1.0 `driveItem`, `itemReference`, `identitySet`). */
interface GraphIdentitySet {
  user?: { displayName?: string; email?: string };
  application?: { displayName?: string };
}
export interface GraphDriveItem {
  id: string;
  name: string;
  size?: number;
  webUrl?: string;
  createdDateTime?: string;
  lastModifiedDateTime?: string;
  createdBy?: GraphIdentitySet;
  lastModifiedBy?: GraphIdentitySet;
  parentReference?: { driveId?: string; id?: string; driveType?: string };
  file?: { mimeType?: string; hashes?: Record<string, string> };
  folder?: { childCount?: number };
  root?: object;
  shared?: object;
  thumbnails?: unknown[];
  eTag?: string;
  cTag?: string;
}
interface GraphDrive {
  id: string;
  name?: string;
  driveType?: string;
  webUrl?: string;
  owner?: GraphIdentitySet;
}
interface GraphPage<T> {
  value: T[];
  '@odata.nextLink'?: string;
}

// Graph's page size maximum for children and search.
const GRAPH_MAX_TOP = 999;
const SELECT = 'id,name,size,webUrl,createdDateTime,lastModifiedDateTime,createdBy,lastModifiedBy,parentReference,file,folder,root,shared,eTag,cTag';
// Pages (children, search) never carry provider fields: without eTag and cTag a 200-item page is 10% smaller.
const PAGE_SELECT = SELECT.replace(',eTag,cTag', '');
// The children of a folder Tether names by drive and id all have that folder as their parent: its
// parentReference (drive, id, name, path: a quarter of each item) need not come back 200 times.
const CHILDREN_SELECT = PAGE_SELECT.replace(',parentReference', '');

const seg = encodeURIComponent;

/**
 * Where Graph sends content and thumbnail redirects: pre-authenticated download URLs on SharePoint
 * and OneDrive hosts, thumbnails on the media transform service (`*.svc.ms`).
 */
export const MICROSOFT_CONTENT_HOSTS = ['sharepoint.com', 'sharepoint.us', 'files.1drv.com', 'svc.ms'] as const;

function person(identity: GraphIdentitySet | undefined): DocumentItem['createdBy'] {
  const who = identity?.user ?? identity?.application;
  if (!who) return null;
  return { displayName: who.displayName ?? null, email: (who as { email?: string }).email ?? null };
}

/** `parent`: the folder whose children these are (its drive and Tether id), when Tether asked by its drive and id. */
export function mapGraphItem(item: GraphDriveItem, includeProvider = false, parent?: { driveId: string; tetherId: string }): DocumentItem {
  const reference = item.parentReference;
  const driveId = parent ? parent.driveId : (reference?.driveId ?? null);
  const parentId = parent ? parent.tetherId : item.root || !reference?.id || !driveId ? null : encodeItemId('microsoft', { driveId, itemId: reference.id });
  return {
    id: driveId ? encodeItemId('microsoft', { driveId, itemId: item.id }) : item.id,
    name: item.name,
    kind: item.folder || item.root ? 'folder' : 'file',
    mimeType: item.file?.mimeType ?? null,
    size: typeof item.size === 'number' ? item.size : null,
    parentId,
    driveId,
    webUrl: item.webUrl ?? null,
    createdAt: item.createdDateTime ?? null,
    modifiedAt: item.lastModifiedDateTime ?? null,
    createdBy: person(item.createdBy),
    modifiedBy: person(item.lastModifiedBy),
    hashes: item.file?.hashes ?? {},
    childCount: item.folder?.childCount ?? null,
    // Graph thumbnails exist for files it can render; `thumbnails` is present when expanded.
    hasThumbnail: Array.isArray(item.thumbnails) ? item.thumbnails.length > 0 : Boolean(item.file),
    shared: Boolean(item.shared),
    ...(includeProvider && { provider: { etag: item.eTag ?? null, cTag: item.cTag ?? null, driveType: item.parentReference?.driveType ?? null } }),
  };
}

function mapDrive(d: GraphDrive): Drive {
  return {
    id: d.id,
    name: d.name ?? 'OneDrive',
    kind: d.driveType === 'documentLibrary' ? 'sharepoint' : 'onedrive',
    webUrl: d.webUrl ?? null,
    owner: person(d.owner),
  };
}

interface GraphPermission {
  id: string;
  roles?: string[];
  link?: { type?: string; scope?: string; webUrl?: string };
  grantedToV2?: GraphIdentitySet & { group?: { displayName?: string; email?: string } };
  grantedTo?: GraphIdentitySet;
  expirationDateTime?: string;
}

function linkOf(p: GraphPermission): SharedLink | null {
  if (!p.link?.webUrl) return null;
  return {
    url: p.link.webUrl,
    type: p.link.type === 'edit' ? 'edit' : 'view',
    scope: p.link.scope === 'organization' ? 'organization' : p.link.scope === 'users' ? 'users' : 'anonymous',
    expiresAt: p.expirationDateTime ?? null,
  };
}

function mapPermission(p: GraphPermission): Permission {
  const roles = p.roles ?? [];
  const role = roles.includes('owner') ? 'owner' : roles.includes('write') ? 'write' : 'read';
  const link = linkOf(p);
  const who = p.grantedToV2 ?? p.grantedTo;
  const group = p.grantedToV2?.group;
  return {
    id: p.id,
    role,
    grantee: {
      type: link ? (link.scope === 'anonymous' ? 'anyone' : 'link') : group ? 'group' : 'user',
      displayName: group?.displayName ?? who?.user?.displayName ?? null,
      email: group?.email ?? who?.user?.email ?? null,
      domain: null,
      link,
    },
    expiresAt: p.expirationDateTime ?? null,
  };
}

function skipToken(nextLink: string | undefined): string | null {
  if (!nextLink) return null;
  // Only the opaque token is kept; the next request is rebuilt from the API base (never the link's host).
  return new URL(nextLink).searchParams.get('$skiptoken');
}

function itemPath(ref: ItemRef): string {
  return `/drives/${seg(ref.driveId!)}/items/${seg(ref.itemId)}`;
}

export const microsoftDocuments: DocumentsApi = {
  async listDrives(ctx) {
    const own = await ctx.apiJson<GraphDrive>('/me/drive');
    // SharePoint document libraries: the sites the account can see (Graph `GET /sites?search=*`).
    // Without a Sites scope Graph answers 403: the account then simply has its OneDrive.
    const found = await ctx.api('/sites', { query: { search: '*', $select: 'id', $top: 50 } });
    if (found.status === 403) return [mapDrive(own)];
    const sites = await json<GraphPage<{ id: string }>>(found);
    const libraries: Drive[] = [];
    for (const site of sites.value) {
      const drives = await ctx.apiJson<GraphPage<GraphDrive>>(`/sites/${seg(site.id)}/drives`);
      libraries.push(...drives.value.map(mapDrive));
    }
    return [mapDrive(own), ...libraries];
  },

  async listChildren(ctx, request: ListChildrenRequest): Promise<ItemPage> {
    const state = request.cursor ? decodePageCursor(request.cursor) : undefined;
    const base = request.parent
      ? itemPath(request.parent)
      : request.driveId
        ? `/drives/${seg(request.driveId)}/root`
        : '/me/drive/root';
    const top = Math.min(request.limit, GRAPH_MAX_TOP);
    const orderBy = request.orderBy === 'modifiedAt' ? 'lastModifiedDateTime desc' : request.orderBy === 'name' ? 'name' : undefined;
    const parent = request.parent?.driveId ? { driveId: request.parent.driveId, tetherId: encodeItemId('microsoft', request.parent) } : undefined;
    const page = await ctx.apiJson<GraphPage<GraphDriveItem>>(`${base}/children`, {
      query: { $top: top, $select: parent ? CHILDREN_SELECT : PAGE_SELECT, $orderby: orderBy, ...(state && { $skiptoken: String(state.t) }) },
    });
    const token = skipToken(page['@odata.nextLink']);
    return { items: page.value.map((i) => mapGraphItem(i, false, parent)), nextCursor: token ? encodePageCursor({ t: token }) : null };
  },

  async getItem(ctx, ref) {
    return mapGraphItem(await ctx.apiJson<GraphDriveItem>(itemPath(ref), { query: { $select: SELECT } }), true);
  },

  async search(ctx, query, cursor, limit) {
    const state = cursor ? decodePageCursor(cursor) : undefined;
    // OData string literal: a single quote is escaped by doubling it.
    const q = query.replaceAll("'", "''");
    const page = await ctx.apiJson<GraphPage<GraphDriveItem>>(`/me/drive/root/search(q='${encodeURIComponent(q)}')`, { query: { $top: Math.min(limit, GRAPH_MAX_TOP), $select: PAGE_SELECT, ...(state && { $skiptoken: String(state.t) }) } });
    const token = skipToken(page['@odata.nextLink']);
    return { items: page.value.map((i) => mapGraphItem(i)), nextCursor: token ? encodePageCursor({ t: token }) : null };
  },

  async preview(ctx, ref) {
    const body = await ctx.apiJson<{ getUrl?: string }>(`${itemPath(ref)}/preview`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    if (!body.getUrl) throw new Error('Graph preview answered without getUrl');
    return { url: body.getUrl };
  },

  async createLink(ctx, ref, request) {
    // Graph createLink is idempotent by itself: the same type/scope/recipients answer 200 with the existing link.
    const permission = await ctx.apiJson<GraphPermission>(`${itemPath(ref)}/createLink`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        type: request.type,
        scope: request.scope,
        ...(request.recipients.length > 0 && { recipients: request.recipients.map((email) => ({ email })) }),
        ...(request.expiresAt && { expirationDateTime: request.expiresAt }),
      }),
    });
    const link = linkOf(permission);
    if (!link) throw new Error('Graph createLink answered without a link');
    return link;
  },

  async permissions(ctx, ref) {
    const page = await ctx.apiJson<GraphPage<GraphPermission>>(`${itemPath(ref)}/permissions`);
    return page.value.map(mapPermission);
  },

  async thumbnail(ctx, ref, size) {
    // Graph thumbnail sizes: small 96, medium 176, large 800 (longest side); set 0 is the default set.
    return ok(await ctx.download(`${itemPath(ref)}/thumbnails/0/${size}/content`, { contentHosts: MICROSOFT_CONTENT_HOSTS }));
  },

  async content(ctx, ref, range) {
    return ok(await ctx.download(`${itemPath(ref)}/content`, { contentHosts: MICROSOFT_CONTENT_HOSTS, ...(range && { headers: { range } }) }));
  },

  async resolveSharedLink(ctx, link) {
    if (link.provider !== 'microsoft') throw new Error('not a Microsoft link');
    return mapGraphItem(await ctx.apiJson<GraphDriveItem>(`/shares/${seg(link.shareId)}/driveItem`, { query: { $select: SELECT } }), true);
  },
};

/** Graph: simple upload up to 4 MiB; above, an upload session in fragments of a multiple of 320 KiB. */
export const GRAPH_SIMPLE_UPLOAD_MAX = 4 * 1024 * 1024;
export const GRAPH_FRAGMENT = 16 * 320 * 1024; // 5 MiB

function parentPath(parent: ItemRef | null, driveId: string | null): string {
  if (parent) return itemPath(parent);
  return driveId ? `/drives/${seg(driveId)}/root` : '/me/drive/root';
}

async function uploadInSession(ctx: ProviderContext, sessionPath: string, conflict: ConflictBehavior | null, body: UploadBody): Promise<GraphDriveItem> {
  const session = await ctx.apiJson<{ uploadUrl: string }>(sessionPath, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(conflict ? { item: { '@microsoft.graph.conflictBehavior': conflict } } : {}),
  });
  // Each fragment streams straight from the caller's request to the uploadUrl (nothing is held).
  const reader = new FragmentReader(body.stream);
  let last: Response | undefined;
  for (const fragment of fragmentRanges(body.size, GRAPH_FRAGMENT)) {
    // The uploadUrl is pre-authenticated: Graph refuses an Authorization header on it.
    last = await ctx.sendTo(session.uploadUrl, {
      method: 'PUT',
      contentHosts: MICROSOFT_CONTENT_HOSTS,
      headers: { 'content-length': String(fragment.length), 'content-range': `bytes ${fragment.start}-${fragment.end}/${body.size}` },
      body: reader.take(fragment.length),
    });
    if (fragment.end + 1 < body.size) {
      if (last.status !== 202) throw await upstreamError(last);
      await last.body?.cancel();
    }
  }
  if (!last) throw new Error('an upload session needs a body');
  await reader.end();
  return json<GraphDriveItem>(last);
}

export const microsoftDocumentsWrite: DocumentsWriteApi = {
  async upload(ctx, target, body) {
    const where = `${parentPath(target.parent, target.driveId)}:/${seg(target.name)}:`;
    if (body.size <= GRAPH_SIMPLE_UPLOAD_MAX) {
      const bytes = await readAll(body.stream, body.size);
      return mapGraphItem(
        await ctx.apiJson<GraphDriveItem>(`${where}/content`, { method: 'PUT', query: { '@microsoft.graph.conflictBehavior': target.conflict }, headers: { 'content-type': body.contentType }, body: bytes }),
      );
    }
    return mapGraphItem(await uploadInSession(ctx, `${where}/createUploadSession`, target.conflict, body));
  },

  async replaceContent(ctx, ref, body) {
    if (body.size <= GRAPH_SIMPLE_UPLOAD_MAX) {
      const bytes = await readAll(body.stream, body.size);
      return mapGraphItem(await ctx.apiJson<GraphDriveItem>(`${itemPath(ref)}/content`, { method: 'PUT', headers: { 'content-type': body.contentType }, body: bytes }));
    }
    return mapGraphItem(await uploadInSession(ctx, `${itemPath(ref)}/createUploadSession`, null, body));
  },

  async createFolder(ctx, target) {
    return mapGraphItem(
      await ctx.apiJson<GraphDriveItem>(`${parentPath(target.parent, target.driveId)}/children`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: target.name, folder: {}, '@microsoft.graph.conflictBehavior': target.conflict }),
      }),
    );
  },

  async update(ctx, ref, changes) {
    if (changes.parent && changes.parent.driveId !== ref.driveId) {
      throw new TetherError(422, 'not_applicable', 'Moving between drives is not supported; copy instead.');
    }
    return mapGraphItem(
      await ctx.apiJson<GraphDriveItem>(itemPath(ref), {
        method: 'PATCH',
        headers: { 'content-type': 'application/json', ...(changes.ifMatch && { 'if-match': changes.ifMatch }) },
        body: JSON.stringify({ ...(changes.name && { name: changes.name }), ...(changes.parent && { parentReference: { id: changes.parent.itemId } }) }),
      }),
      true,
    );
  },

  async delete(ctx, ref, ifMatch) {
    const res = await ctx.api(itemPath(ref), { method: 'DELETE', ...(ifMatch && { headers: { 'if-match': ifMatch } }) });
    if (res.status !== 204) await json(res);
  },
};
