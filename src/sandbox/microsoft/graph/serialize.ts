// driveItem / drive / user / thumbnailSet JSON exactly as Graph v1.0 names and types them.
import { guid } from '../../common/ids.ts';
import { fitWithin } from '../../common/png.ts';
import { signResource } from '../../common/signedUrl.ts';
import { quickXorHash } from '../quickXorHash.ts';
import type { MsDrive, MsItem, MsStore, MsUser } from '../store.ts';
import type { GraphContext } from './context.ts';

export const THUMBNAIL_SIZES = { small: 96, medium: 176, large: 800 } as const;
export type ThumbnailSize = keyof typeof THUMBNAIL_SIZES;

export function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const guidCache = new Map<string, string>();
function itemGuid(item: MsItem): string {
  let g = guidCache.get(item.id);
  if (!g) guidCache.set(item.id, (g = guid(item.id).toUpperCase()));
  return g;
}

export function eTag(item: MsItem): string {
  return `"{${itemGuid(item)}},${item.version}"`;
}

export function cTag(item: MsItem): string {
  return `"c:{${itemGuid(item)}},${item.version}"`;
}

export function identity(user: MsUser | undefined): Record<string, unknown> {
  if (!user) return { user: { displayName: 'System Account' } };
  return { user: { email: user.mail, id: user.id, displayName: user.displayName } };
}

const hashCache = new WeakMap<MsItem, { version: number; value: string }>();
function hashOf(store: MsStore, item: MsItem): string {
  const c = hashCache.get(item);
  if (c && c.version === item.version) return c.value;
  const value = quickXorHash(store.contentOf(item));
  hashCache.set(item, { version: item.version, value });
  return value;
}

export function itemWebUrl(store: MsStore, drive: MsDrive, item: MsItem): string {
  if (!item.parentId) return drive.webUrl;
  return `${drive.webUrl}${store.pathOf(item).split('/').map(encodeURIComponent).join('/')}`;
}

export function downloadUrl(ctx: GraphContext, origin: string, item: MsItem): string {
  const resource = `download:${item.id}:${item.version}`;
  return `${origin}/_layouts/15/download.aspx?UniqueId=${encodeURIComponent(item.id)}&tempauth=${signResource(resource, ctx.faults.now() + 3600_000)}&version=${item.version}`;
}

export function thumbnailUrl(ctx: GraphContext, origin: string, item: MsItem, size: ThumbnailSize): string {
  const resource = `thumb:${item.id}:${size}`;
  return `${origin}/_sandbox/thumbnails/${encodeURIComponent(item.id)}/${size}?token=${signResource(resource, ctx.faults.now() + 3600_000)}`;
}

const PAGE_THUMBNAIL_TYPES = /\.(docx?|xlsx?|pptx?|pdf)$/i;

/**
 * What a thumbnail is rendered from: the image itself, or — for Office documents and PDFs, which
 * OneDrive also thumbnails — a portrait "first page". Folders and other files have none.
 */
export function thumbnailSource(item: MsItem): { width: number; height: number; seed: number } | undefined {
  if (item.image) return { width: item.image.width, height: item.image.height, seed: item.image.pngSeed };
  if (!item.isFolder && PAGE_THUMBNAIL_TYPES.test(item.name)) return { width: 816, height: 1056, seed: item.id.charCodeAt(5) };
  return undefined;
}

export function thumbnailSets(ctx: GraphContext, origin: string, item: MsItem): Record<string, unknown>[] {
  if (!thumbnailSource(item)) return [];
  const set: Record<string, unknown> = { id: '0' };
  for (const size of Object.keys(THUMBNAIL_SIZES) as ThumbnailSize[]) set[size] = thumbnailJson(ctx, origin, item, size);
  return [set];
}

export function thumbnailJson(ctx: GraphContext, origin: string, item: MsItem, size: ThumbnailSize): Record<string, unknown> {
  const src = thumbnailSource(item)!;
  const dims = fitWithin(src.width, src.height, THUMBNAIL_SIZES[size]);
  return { height: dims.height, width: dims.width, url: thumbnailUrl(ctx, origin, item, size) };
}

export interface ItemOptions {
  select?: Set<string> | undefined;
  expandThumbnails?: boolean;
}

export function itemJson(ctx: GraphContext, origin: string, item: MsItem, opts: ItemOptions = {}): Record<string, unknown> {
  const { store } = ctx;
  const drive = store.drives.get(item.driveId)!;
  const by = store.users.get(item.createdBy);
  const modBy = store.users.get(item.modifiedBy);
  const out: Record<string, unknown> = {};
  // The pre-authenticated download URL is an annotation: present by default, and with $select only
  // when selected by name (`$select=id,@microsoft.graph.downloadUrl`).
  if (!item.isFolder && (!opts.select || opts.select.has('@microsoft.graph.downloadUrl'))) out['@microsoft.graph.downloadUrl'] = downloadUrl(ctx, origin, item);
  out.createdDateTime = iso(item.createdAt);
  out.eTag = eTag(item);
  out.id = item.id;
  out.lastModifiedDateTime = iso(item.modifiedAt);
  out.name = item.name;
  out.webUrl = itemWebUrl(store, drive, item);
  out.cTag = cTag(item);
  out.size = store.sizeOf(item);
  if (item.description !== undefined) out.description = item.description;
  out.createdBy = identity(by);
  out.lastModifiedBy = identity(modBy);
  const parentRef: Record<string, unknown> = { driveType: drive.driveType, driveId: drive.id };
  if (item.parentId) {
    const parent = store.items.get(item.parentId)!;
    parentRef.id = parent.id;
    if (parent.parentId) parentRef.name = parent.name;
    parentRef.path = `/drives/${drive.id}/root:${store.pathOf(parent)}`;
  }
  if (drive.siteId) parentRef.siteId = drive.siteId.split(',')[1];
  out.parentReference = parentRef;
  out.fileSystemInfo = { createdDateTime: iso(item.createdAt), lastModifiedDateTime: iso(item.modifiedAt) };
  if (item.isFolder) out.folder = { childCount: store.childCount(item.id) };
  else out.file = { mimeType: item.mimeType ?? 'application/octet-stream', hashes: { quickXorHash: hashOf(store, item) } };
  if (item.image) out.image = { height: item.image.height, width: item.image.width };
  if (!item.parentId) out.root = {};
  if (opts.expandThumbnails) out.thumbnails = thumbnailSets(ctx, origin, item);
  if (!opts.select) return out;
  const picked: Record<string, unknown> = {};
  for (const k of Object.keys(out)) if (opts.select.has(k) || (k === 'thumbnails' && opts.expandThumbnails)) picked[k] = out[k];
  return picked;
}

export function driveJson(ctx: GraphContext, drive: MsDrive): Record<string, unknown> {
  const { store } = ctx;
  const owner = drive.ownerUserId ? store.users.get(drive.ownerUserId) : undefined;
  const site = drive.siteId ? store.sites.get(drive.siteId) : undefined;
  const used = store.sizeOf(store.items.get(drive.rootId)!);
  const total = 1024 ** 4;
  return {
    createdDateTime: iso(drive.createdAt),
    description: drive.description,
    id: drive.id,
    lastModifiedDateTime: iso(drive.createdAt),
    name: drive.name,
    webUrl: drive.webUrl,
    driveType: drive.driveType,
    createdBy: owner ? identity(owner) : { user: { displayName: 'System Account' } },
    lastModifiedBy: owner ? identity(owner) : { user: { displayName: 'System Account' } },
    owner: owner ? identity(owner) : { group: { id: guid(`group-${site?.id ?? drive.id}`), displayName: `${site?.displayName ?? drive.name} Owners` } },
    quota: { deleted: 0, remaining: total - used, state: 'normal', total, used },
  };
}

export function userJson(user: MsUser): Record<string, unknown> {
  return {
    businessPhones: user.businessPhones,
    displayName: user.displayName,
    givenName: user.givenName,
    jobTitle: user.jobTitle,
    mail: user.mail,
    mobilePhone: user.mobilePhone,
    officeLocation: user.officeLocation,
    preferredLanguage: user.preferredLanguage,
    surname: user.surname,
    userPrincipalName: user.userPrincipalName,
    id: user.id,
  };
}
