import type { ItemRef } from '../documents/ids.ts';
import type { DocumentItem, Drive, ItemPage, LinkRequest, Permission, SharedLink } from '../documents/model.ts';
import type { ParsedSharedLink } from '../documents/sharedLinks.ts';

export interface ApiRequest {
  method?: string;
  /** Parameters to encode; or a string: an already-encoded, validated query used as is (the proxy). */
  query?: Record<string, string | number | boolean | undefined> | string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
}

/** A file body arriving as a stream; `size` is known (Content-Length), so nothing is buffered whole. */
export interface UploadBody {
  size: number;
  contentType: string;
  stream: AsyncIterable<Uint8Array>;
}

export type ConflictBehavior = 'fail' | 'replace' | 'rename';

/**
 * What an adapter gets to talk to its provider. `api` takes a path relative to the connection
 * profile's API base — an adapter cannot name another host — and is already authorized, refreshed,
 * retried and throttled by Tether. Adapters never see refresh tokens and never touch the database.
 */
export interface ProviderContext {
  api(path: string, request?: ApiRequest): Promise<Response>;
  /**
   * `api` for JSON answers read whole: the parsed body of a 2xx answer, else the provider's error
   * mapped onto Tether's codes (the body is never passed on). At most 16 MiB is read.
   */
  apiJson<T>(path: string, request?: ApiRequest): Promise<T>;
  /**
   * Bytes (file content, thumbnails) that providers serve through redirects to content hosts.
   * `target` is an API path (sent with the token) or an absolute URL the provider handed out (a
   * Drive thumbnailLink; sent without). Redirects are followed only to `contentHosts` (DNS-label
   * suffixes) or the API host, re-checked on every hop, and never with the Authorization header.
   */
  download(target: string, request: ApiRequest & { contentHosts: readonly string[] }): Promise<Response>;
  /**
   * A request to a pre-authorized URL the provider handed out (a Graph upload session's uploadUrl, a
   * Drive resumable session URI): only on the API host or the content hosts, never with the token,
   * redirects not followed. A streamed body (an async iterable) needs its `content-length` header
   * and goes out as it is produced, never copied or held whole; it cannot be re-sent.
   */
  sendTo(url: string, request: Omit<ApiRequest, 'body'> & { body?: string | Uint8Array | AsyncIterable<Uint8Array>; contentHosts: readonly string[] }): Promise<Response>;
  signal?: AbortSignal;
}

export interface ListChildrenRequest {
  /** null: the root of `driveId` (or the user's default drive). */
  parent: ItemRef | null;
  driveId: string | null;
  cursor: string | null;
  limit: number;
  orderBy: 'name' | 'modifiedAt' | null;
}

export interface DocumentsApi {
  listDrives(ctx: ProviderContext): Promise<Drive[]>;
  listChildren(ctx: ProviderContext, request: ListChildrenRequest): Promise<ItemPage>;
  getItem(ctx: ProviderContext, ref: ItemRef): Promise<DocumentItem>;
  search(ctx: ProviderContext, query: string, cursor: string | null, limit: number): Promise<ItemPage>;
  resolveSharedLink(ctx: ProviderContext, link: ParsedSharedLink): Promise<DocumentItem>;
  /** An embeddable preview URL. */
  preview(ctx: ProviderContext, ref: ItemRef): Promise<{ url: string }>;
  /** A sharing link; asking twice for the same link returns the same one. */
  createLink(ctx: ProviderContext, ref: ItemRef, request: LinkRequest): Promise<SharedLink>;
  permissions(ctx: ProviderContext, ref: ItemRef): Promise<Permission[]>;
  /** The image bytes, streamed (a non-2xx answer is mapped to an error). */
  thumbnail(ctx: ProviderContext, ref: ItemRef, size: ThumbnailSize): Promise<Response>;
  /** The file's bytes, streamed; `range` is an HTTP Range header value passed through. */
  content(ctx: ProviderContext, ref: ItemRef, range: string | null): Promise<Response>;
}

export type ThumbnailSize = 'small' | 'medium' | 'large';

export interface DocumentsWriteApi {
  upload(ctx: ProviderContext, target: { parent: ItemRef | null; driveId: string | null; name: string; conflict: ConflictBehavior }, body: UploadBody): Promise<DocumentItem>;
  replaceContent(ctx: ProviderContext, ref: ItemRef, body: UploadBody): Promise<DocumentItem>;
  createFolder(ctx: ProviderContext, target: { parent: ItemRef | null; driveId: string | null; name: string; conflict: ConflictBehavior }): Promise<DocumentItem>;
  /** Rename and/or move; `ifMatch` is the item's version (ETag) and a mismatch is 412. */
  update(ctx: ProviderContext, ref: ItemRef, changes: { name?: string; parent?: ItemRef; ifMatch?: string }): Promise<DocumentItem>;
  delete(ctx: ProviderContext, ref: ItemRef, ifMatch?: string): Promise<void>;
}
