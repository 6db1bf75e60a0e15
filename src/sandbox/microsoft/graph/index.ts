// Graph v1.0 dispatcher for users, sites, drives and driveItems. Action segments are accepted both
// plain and namespaced (`/createLink` and `/microsoft.graph.createLink`), as Graph does.
import { json, type Router, type SbRequest, type SbResponse } from '../../common/http.ts';
import { graphError } from '../errors.ts';
import { authenticate, canReadUsers, checkDriveAccess, type Caller } from './access.ts';
import type { GraphContext } from './context.ts';
import { children, content, download, getItem, search, thumbnailBytes, thumbnails } from './items.ts';
import type { MsSite } from '../store.ts';
import { resolveDrive, resolveItem } from './resolve.ts';
import { iso, driveJson, userJson } from './serialize.ts';
import { createLink, permissions, preview, previewPage, shares } from './sharing.ts';
import { createFolder, createUploadSession, deleteItem, patchItem, simpleUpload, uploadSessionRequest } from './write.ts';

function err(ctx: GraphContext, req: SbRequest, status: number, code?: string, message?: string): SbResponse {
  return graphError(status, code, message, req, ctx.faults.now());
}

function stripNamespace(action: string): string {
  return action.replace(/^\/microsoft\.graph\./, '/');
}

function siteJson(s: MsSite) {
  return {
    createdDateTime: iso(s.createdAt),
    description: s.description,
    id: s.id,
    lastModifiedDateTime: iso(s.createdAt),
    name: s.name,
    webUrl: s.webUrl,
    displayName: s.displayName,
    siteCollection: { hostname: new URL(s.webUrl).hostname },
  };
}

function collection(req: SbRequest, context: string, value: unknown[]): SbResponse {
  return json(200, { '@odata.context': `${req.origin}/v1.0/$metadata#${context}`, value });
}

function driveRoutes(ctx: GraphContext, req: SbRequest, caller: Caller, path: string): SbResponse | undefined {
  const ref = resolveDrive(ctx, caller, path);
  if (ref.kind === 'none') return undefined;
  if (ref.kind === 'not-found') return err(ctx, req, 404, 'itemNotFound', 'The resource could not be found.');
  const { drive, rest } = ref;
  const write = req.method !== 'GET' && req.method !== 'HEAD' && !/\/(microsoft\.graph\.)?(preview|search)\b/.test(rest);
  const denied = checkDriveAccess(ctx, req, caller, drive, write);
  if (denied) return denied;
  const addr = resolveItem(ctx, drive, rest);
  if (addr === undefined) {
    if (req.method !== 'GET') return err(ctx, req, 405);
    return json(200, { '@odata.context': `${req.origin}/v1.0/$metadata#drives/$entity`, ...driveJson(ctx, drive) });
  }
  if (addr === 'bad') return err(ctx, req, 400, 'invalidRequest', 'Invalid request');
  const action = stripNamespace(addr.action);
  const { item, base } = addr;
  if (!base) return err(ctx, req, 404, 'itemNotFound', 'The resource could not be found.');
  // Uploads address a file that may not exist yet.
  if (action === '/content' && req.method === 'PUT') return simpleUpload(ctx, req, caller, drive, base, addr.relPath, item);
  if (action === '/createUploadSession' && req.method === 'POST') return createUploadSession(ctx, req, caller, drive, base, addr.relPath, item);
  if (!item) return err(ctx, req, 404, 'itemNotFound', 'The resource could not be found.');
  const searchMatch = /^\/search\(q='((?:[^']|'')*)'\)$/.exec(action);
  if (searchMatch) return req.method === 'GET' ? search(ctx, req, item, searchMatch[1]!.replace(/''/g, "'")) : err(ctx, req, 405);
  if (action === '') {
    if (req.method === 'GET') return getItem(ctx, req, item);
    if (req.method === 'PATCH') return patchItem(ctx, req, caller, drive, item);
    if (req.method === 'DELETE') return deleteItem(ctx, req, item);
    return err(ctx, req, 405);
  }
  if (action === '/children') {
    if (req.method === 'GET') return children(ctx, req, item);
    if (req.method === 'POST') return createFolder(ctx, req, caller, drive, item);
    return err(ctx, req, 405);
  }
  if (action === '/content') return req.method === 'GET' ? content(ctx, req, item) : err(ctx, req, 405);
  if (action === '/thumbnails' || action.startsWith('/thumbnails/')) return req.method === 'GET' ? thumbnails(ctx, req, item, action.slice('/thumbnails'.length)) : err(ctx, req, 405);
  if (action === '/createLink') return req.method === 'POST' ? createLink(ctx, req, caller, drive, item) : err(ctx, req, 405);
  if (action === '/preview') return req.method === 'POST' ? preview(ctx, req, item) : err(ctx, req, 405);
  const perm = /^\/permissions(?:\/([^/]+))?$/.exec(action);
  if (perm) return permissions(ctx, req, drive, item, perm[1]);
  return err(ctx, req, 400, 'BadRequest', `Resource not found for the segment '${action.split('/')[1] ?? ''}'.`);
}

function graph(ctx: GraphContext, req: SbRequest): SbResponse {
  const caller = authenticate(ctx, req);
  if ('status' in caller) return caller;
  const path = req.path.slice('/v1.0'.length);
  const { store } = ctx;

  if (path === '/me' || /^\/users\/[^/]+$/.test(path)) {
    if (req.method !== 'GET') return err(ctx, req, 405);
    const user = path === '/me' ? caller.user : store.userByIdOrUpn(path.split('/')[2]!);
    if (!user || user.tenantId !== caller.user.tenantId) return err(ctx, req, 404, 'Request_ResourceNotFound', `Resource '${path.split('/')[2]}' does not exist or one of its queried reference-property objects are not present.`);
    if (!canReadUsers(caller, user.id !== caller.user.id)) return err(ctx, req, 403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
    return json(200, { '@odata.context': `${req.origin}/v1.0/$metadata#users/$entity`, ...userJson(user) });
  }
  if (path === '/me/mailboxSettings') {
    if (!caller.scopes.has('MailboxSettings.Read') && !caller.scopes.has('MailboxSettings.ReadWrite')) return err(ctx, req, 403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.');
    const u = caller.user;
    return json(200, {
      '@odata.context': `${req.origin}/v1.0/$metadata#users('${u.id}')/mailboxSettings`,
      timeZone: u.timeZone,
      dateFormat: 'yyyy-MM-dd',
      timeFormat: 'HH:mm',
      language: { locale: u.preferredLanguage, displayName: u.preferredLanguage },
    });
  }
  const revoke = /^\/(?:(me)|users\/([^/]+))\/(?:microsoft\.graph\.)?revokeSignInSessions$/.exec(path);
  if (revoke) {
    // Invalidates the user's refresh tokens (and sessions); access tokens already issued stay
    // valid until they expire, as in Graph without continuous access evaluation.
    if (req.method !== 'POST') return err(ctx, req, 405);
    const user = revoke[1] ? caller.user : store.userByIdOrUpn(revoke[2]!);
    if (!user || user.tenantId !== caller.user.tenantId) return err(ctx, req, 404, 'Request_ResourceNotFound', 'Resource does not exist or one of its queried reference-property objects are not present.');
    if (!['User.RevokeSessions.All', 'User.ReadWrite.All', 'Directory.ReadWrite.All'].some((s) => caller.scopes.has(s))) return err(ctx, req, 403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
    ctx.oauth.retireRefreshTokens(user.id);
    return json(200, { '@odata.context': `${req.origin}/v1.0/$metadata#Edm.Boolean`, value: true });
  }
  const drivesOf = /^\/(?:(me)|users\/([^/]+))\/drives$/.exec(path);
  if (drivesOf) {
    const user = drivesOf[1] ? caller.user : store.userByIdOrUpn(drivesOf[2]!);
    const drive = user ? store.userDrive(user.id) : undefined;
    if (!user || !drive) return err(ctx, req, 404, 'itemNotFound', 'The resource could not be found.');
    const denied = checkDriveAccess(ctx, req, caller, drive, false);
    if (denied) return denied;
    return collection(req, 'drives', [driveJson(ctx, drive)]);
  }
  // GET /sites?search={query}: the sites of the caller's tenant whose name matches ('*' = all).
  if (path === '/sites' && req.method === 'GET') {
    const search = req.query.get('search');
    if (search === null) return err(ctx, req, 400, 'invalidRequest', 'Cannot enumerate sites');
    if (!['Sites.Read.All', 'Sites.ReadWrite.All'].some((x) => caller.scopes.has(x))) return err(ctx, req, 403, 'accessDenied', 'Access denied');
    const needle = search === '*' ? '' : search.toLowerCase();
    const found = [...store.sites.values()].filter((s) => s.tenantId === caller.user.tenantId && (needle === '' || `${s.name} ${s.displayName}`.toLowerCase().includes(needle)));
    return collection(req, 'sites', found.map((s) => siteJson(s)));
  }
  const site = /^\/sites\/([^/]+)(\/drives)?$/.exec(path);
  if (site) {
    const s = store.sites.get(decodeURIComponent(site[1]!));
    if (!s || s.tenantId !== caller.user.tenantId) return err(ctx, req, 404, 'itemNotFound', 'Requested site could not be found');
    if (!['Sites.Read.All', 'Sites.ReadWrite.All', 'Files.Read.All', 'Files.ReadWrite.All'].some((x) => caller.scopes.has(x))) return err(ctx, req, 403, 'accessDenied', 'Access denied');
    if (site[2]) return collection(req, 'drives', store.siteDrives(s.id).map((d) => driveJson(ctx, d)));
    return json(200, { '@odata.context': `${req.origin}/v1.0/$metadata#sites/$entity`, ...siteJson(s) });
  }
  const share = /^\/shares\/([^/]+)(\/.*)?$/.exec(path);
  if (share) return req.method === 'GET' ? shares(ctx, req, caller, share[1]!, share[2] ?? '') : err(ctx, req, 405);
  return driveRoutes(ctx, req, caller, path) ?? err(ctx, req, 400, 'BadRequest', `Resource not found for the segment '${path.split('/')[1] ?? ''}'.`);
}

export function addGraphRoutes(router: Router, ctx: GraphContext): void {
  const any = (re: RegExp, h: (req: SbRequest, m: RegExpExecArray) => SbResponse) => {
    for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']) router.add(method, re, h);
  };
  any(/^\/v1\.0\//, (req) => graph(ctx, req));
  router.add('GET', /^\/_layouts\/15\/download\.aspx$/, (req) => download(ctx, req));
  router.add('GET', /^\/_layouts\/15\/embed\.aspx$/, (req) => previewPage(ctx, req));
  router.add('GET', /^\/_sandbox\/thumbnails\/([^/]+)\/([a-z]+)$/, (req, m) => thumbnailBytes(ctx, req, decodeURIComponent(m[1]!), m[2]!));
  for (const method of ['GET', 'PUT', 'DELETE']) router.add(method, /^\/_api\/v2\.0\/drives\/[^/]+\/items\/[^/]+\/uploadSession$/, (req) => uploadSessionRequest(ctx, req));
}
