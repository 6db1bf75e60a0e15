// Read-side driveItem endpoints: item, children, content, thumbnails, search.
import { bytes, json, redirect, type SbRequest, type SbResponse } from '../../common/http.ts';
import { gradientPng, fitWithin } from '../../common/png.ts';
import { verifyResource } from '../../common/signedUrl.ts';
import { graphError } from '../errors.ts';
import type { MsItem } from '../store.ts';
import type { GraphContext } from './context.ts';
import { pageOf } from './paging.ts';
import { downloadUrl, itemJson, THUMBNAIL_SIZES, thumbnailJson, thumbnailSets, thumbnailSource, type ItemOptions, type ThumbnailSize } from './serialize.ts';

export function itemOptions(req: SbRequest): ItemOptions | 'bad' {
  const select = req.query.get('$select') ?? req.query.get('select');
  const expand = req.query.get('$expand') ?? req.query.get('expand');
  const expands = expand ? expand.split(',').map((s) => s.trim()) : [];
  if (expands.some((e) => e !== 'thumbnails' && !e.startsWith('thumbnails('))) return 'bad';
  return { select: select ? new Set(select.split(',').map((s) => s.trim())) : undefined, expandThumbnails: expands.length > 0 };
}

function err(ctx: GraphContext, req: SbRequest, status: number, code?: string, message?: string): SbResponse {
  return graphError(status, code, message, req, ctx.faults.now());
}

export function getItem(ctx: GraphContext, req: SbRequest, item: MsItem): SbResponse {
  const opts = itemOptions(req);
  if (opts === 'bad') return err(ctx, req, 400, 'invalidRequest', 'Parsing OData Select and Expand failed: Could not find a property named in the type microsoft.graph.driveItem.');
  return json(200, { '@odata.context': `${req.origin}/v1.0/$metadata#drives('${item.driveId}')/items/$entity`, ...itemJson(ctx, req.origin, item, opts) }, { etag: itemJson(ctx, req.origin, item).eTag as string });
}

export function listCollection(ctx: GraphContext, req: SbRequest, sorted: MsItem[]): SbResponse {
  const opts = itemOptions(req);
  if (opts === 'bad') return err(ctx, req, 400, 'invalidRequest', 'Parsing OData Select and Expand failed.');
  const page = pageOf(req, sorted);
  if (page === 'bad-top') return err(ctx, req, 400, 'invalidRequest', 'Invalid page size specified');
  if (page === 'bad-token') return err(ctx, req, 400, 'invalidRequest', 'Invalid paging token specified.');
  const body: Record<string, unknown> = { '@odata.context': `${req.origin}/v1.0/$metadata#Collection(driveItem)` };
  if (page.nextLink) body['@odata.nextLink'] = page.nextLink;
  body.value = page.items.map((i) => itemJson(ctx, req.origin, i, opts));
  return json(200, body);
}

export function children(ctx: GraphContext, req: SbRequest, item: MsItem): SbResponse {
  if (!item.isFolder) return json(200, { '@odata.context': `${req.origin}/v1.0/$metadata#Collection(driveItem)`, value: [] });
  return listCollection(ctx, req, ctx.store.children(item.id));
}

/** GET …/content answers 302 to the pre-authenticated download URL, as Graph does. */
export function content(ctx: GraphContext, req: SbRequest, item: MsItem): SbResponse {
  if (item.isFolder) return err(ctx, req, 400, 'notSupported', 'Cannot download a folder.');
  return redirect(downloadUrl(ctx, req.origin, item));
}

/** Byte ranges per RFC 9110 §14 (single range only, like SharePoint). */
export function rangeResponse(req: SbRequest, data: Buffer, contentType: string, extra: Record<string, string> = {}): SbResponse {
  const range = req.headers.range;
  if (!range) return bytes(200, data, contentType, { 'accept-ranges': 'bytes', ...extra });
  const m = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
  if (!m || (m[1] === '' && m[2] === '')) return { status: 416, headers: { 'content-range': `bytes */${data.length}` }, body: '' };
  let start: number;
  let end: number;
  if (m[1] === '') {
    start = Math.max(0, data.length - Number(m[2]));
    end = data.length - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? data.length - 1 : Math.min(Number(m[2]), data.length - 1);
  }
  if (start >= data.length || start > end) return { status: 416, headers: { 'content-range': `bytes */${data.length}` }, body: '' };
  return bytes(206, data.subarray(start, end + 1), contentType, { 'accept-ranges': 'bytes', 'content-range': `bytes ${start}-${end}/${data.length}`, ...extra });
}

/** The pre-authenticated download URL: no Authorization header needed, expires after an hour. */
export function download(ctx: GraphContext, req: SbRequest): SbResponse {
  const id = req.query.get('UniqueId') ?? '';
  const item = ctx.store.items.get(id);
  const version = req.query.get('version') ?? '';
  if (!item || !verifyResource(`download:${item.id}:${version}`, req.query.get('tempauth'), ctx.faults.now())) {
    return json(401, { error_description: 'Invalid audience Uri.' });
  }
  return rangeResponse(req, ctx.store.contentOf(item), item.mimeType ?? 'application/octet-stream', { etag: `"{${item.id}},${item.version}"` });
}

export function thumbnails(ctx: GraphContext, req: SbRequest, item: MsItem, rest: string): SbResponse {
  const parts = rest.split('/').filter(Boolean);
  const sets = thumbnailSets(ctx, req.origin, item);
  if (parts.length === 0) return json(200, { '@odata.context': `${req.origin}/v1.0/$metadata#drives('${item.driveId}')/items('${item.id}')/thumbnails`, value: sets });
  const set = sets.find((s) => s.id === parts[0]);
  if (!set) return err(ctx, req, 404, 'itemNotFound', 'The resource could not be found.');
  if (parts.length === 1) return json(200, set);
  const size = parts[1] as ThumbnailSize;
  if (!(size in THUMBNAIL_SIZES)) return err(ctx, req, 400, 'invalidRequest', `Invalid thumbnail size '${parts[1]}'.`);
  const t = thumbnailJson(ctx, req.origin, item, size);
  if (parts.length === 2) return json(200, t);
  if (parts.length === 3 && parts[2] === 'content') return redirect(t.url as string);
  return err(ctx, req, 400, 'invalidRequest', 'Invalid request');
}

/** Serves the PNG thumbnail bytes behind a thumbnail URL (pre-authenticated, short-lived). */
export function thumbnailBytes(ctx: GraphContext, req: SbRequest, itemId: string, size: string): SbResponse {
  const item = ctx.store.items.get(itemId);
  const src = item ? thumbnailSource(item) : undefined;
  if (!item || !src || !(size in THUMBNAIL_SIZES) || !verifyResource(`thumb:${item.id}:${size}`, req.query.get('token'), ctx.faults.now())) return { status: 404, body: '' };
  const dims = fitWithin(src.width, src.height, THUMBNAIL_SIZES[size as ThumbnailSize]);
  return bytes(200, gradientPng(dims.width, dims.height, src.seed), 'image/png', { 'cache-control': 'private, max-age=3600' });
}

/** search(q='…'): case-insensitive name match below `scope` (the drive root or a folder). */
export function search(ctx: GraphContext, req: SbRequest, scope: MsItem, q: string): SbResponse {
  const needle = q.toLowerCase();
  const found: MsItem[] = [];
  const walk = (folder: MsItem) => {
    for (const c of ctx.store.children(folder.id)) {
      if (c.name.toLowerCase().includes(needle)) found.push(c);
      if (c.isFolder) walk(c);
    }
  };
  walk(scope);
  found.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.id < b.id ? -1 : 1));
  return listCollection(ctx, req, found);
}
