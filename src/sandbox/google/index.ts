// The Google emulator: accounts.google.com / oauth2.googleapis.com OAuth endpoints and the Drive v3
// API (www.googleapis.com/drive/v3 and /upload/drive/v3) on one origin.
import type { Faults } from '../common/faults.ts';
import { Router, type SbRequest, type SbResponse } from '../common/http.ts';
import type { SigningKey } from '../common/keys.ts';
import { OAuthStore } from '../common/oauth.ts';
import type { Emulator } from '../common/server.ts';
import { DRIVE, driveError, oauthError } from './errors.ts';
import { authenticate, createMetadataOnly, deleteFile, getFile, listFiles, updateFile } from './files.ts';
import { about, listDrives, permissions, thumbnailBytes } from './resources.ts';
import { exportFile } from './export.ts';
import type { DriveContext } from './model.ts';
import { addGoogleOAuthRoutes } from './oauth.ts';
import { GOOGLE_APP, GStore, seedGoogle } from './store.ts';
import { resumableChunk, upload } from './upload.ts';

export interface GoogleEmulator extends Emulator {
  store: GStore;
  oauth: OAuthStore;
  key: SigningKey;
}

function authed(ctx: DriveContext, h: (req: SbRequest, caller: Exclude<ReturnType<typeof authenticate>, SbResponse>, m: RegExpExecArray) => SbResponse) {
  return (req: SbRequest, m: RegExpExecArray): SbResponse => {
    const caller = authenticate(ctx, req);
    if ('status' in caller) return caller;
    return h(req, caller, m);
  };
}

const OAUTH_PATHS = /^\/(token|revoke|o\/oauth2\/|\.well-known\/|oauth2\/v3\/certs)/;

export function createGoogleEmulator(faults: Faults, key: SigningKey): GoogleEmulator {
  const store = new GStore();
  seedGoogle(store);
  const oauth = new OAuthStore('google', faults, 'ya29.a0');
  oauth.registerApp({ ...GOOGLE_APP, redirectUris: [...GOOGLE_APP.redirectUris] });
  const ctx: DriveContext = { store, oauth, faults };
  const router = new Router();
  addGoogleOAuthRoutes(router, { store, oauth, key, faults });
  const id = (m: RegExpExecArray) => decodeURIComponent(m[1]!);
  router
    .add('GET', /^\/drive\/v3\/about$/, authed(ctx, (req, c) => about(ctx, req, c)))
    .add('GET', /^\/drive\/v3\/drives$/, authed(ctx, (req, c) => listDrives(ctx, req, c)))
    .add('GET', /^\/drive\/v3\/files$/, authed(ctx, (req, c) => listFiles(ctx, req, c)))
    .add('POST', /^\/drive\/v3\/files$/, authed(ctx, (req, c) => createMetadataOnly(ctx, req, c)))
    .add('GET', /^\/drive\/v3\/files\/([^/]+)$/, authed(ctx, (req, c, m) => getFile(ctx, req, c, id(m))))
    .add('PATCH', /^\/drive\/v3\/files\/([^/]+)$/, authed(ctx, (req, c, m) => updateFile(ctx, req, c, id(m))))
    .add('DELETE', /^\/drive\/v3\/files\/([^/]+)$/, authed(ctx, (req, c, m) => deleteFile(ctx, req, c, id(m))))
    .add('GET', /^\/drive\/v3\/files\/([^/]+)\/export$/, authed(ctx, (req, c, m) => exportFile(ctx, req, c, id(m))))
    .add('GET', /^\/drive\/v3\/files\/([^/]+)\/permissions(?:\/([^/]+))?$/, authed(ctx, (req, c, m) => permissions(ctx, req, c, id(m), m[2])))
    .add('POST', /^\/drive\/v3\/files\/([^/]+)\/permissions$/, authed(ctx, (req, c, m) => permissions(ctx, req, c, id(m), undefined)))
    .add('DELETE', /^\/drive\/v3\/files\/([^/]+)\/permissions\/([^/]+)$/, authed(ctx, (req, c, m) => permissions(ctx, req, c, id(m), m[2])))
    .add('PUT', /^\/upload\/drive\/v3\/files(?:\/[^/]+)?$/, (req) => resumableChunk(ctx, req))
    .add('POST', /^\/upload\/drive\/v3\/files$/, (req) => (req.query.get('upload_id') ? resumableChunk(ctx, req) : authed(ctx, (r, c) => upload(ctx, r, c, undefined))(req, [] as unknown as RegExpExecArray)))
    .add('PATCH', /^\/upload\/drive\/v3\/files\/([^/]+)$/, (req, m) => (req.query.get('upload_id') ? resumableChunk(ctx, req) : authed(ctx, (r, c) => upload(ctx, r, c, id(m)))(req, m)))
    .add('GET', /^\/_sandbox\/drive-storage\/([^/]+)\/(\d+)\/([^/]+)$/, (_req, m) => thumbnailBytes(ctx, id(m), m[2]!, m[3]!));
  return {
    id: 'google',
    router,
    store,
    oauth,
    key,
    isTokenEndpoint: (path) => path === '/token',
    errorResponse(req, status, opts = {}) {
      if (OAUTH_PATHS.test(req.path)) {
        if (status === 404) return { status: 404, headers: { 'content-type': 'text/html; charset=UTF-8' }, body: '<!doctype html><p>404. That’s an error.</p>' };
        return oauthError(status, status === 503 || status === 429 ? 'temporarily_unavailable' : 'server_error', status === 503 ? 'The service is currently unavailable.' : 'Internal error.');
      }
      if (status === 429) return DRIVE.rateLimit();
      if (status === 403 && opts.reason === 'userRateLimitExceeded') return DRIVE.userRateLimit();
      if (status === 403 && opts.reason === 'rateLimitExceeded') return driveError(403, { reason: 'rateLimitExceeded', message: 'Rate Limit Exceeded', domain: 'usageLimits' });
      if (status >= 500) return DRIVE.backendError(status);
      if (status === 404) return driveError(404, { reason: 'notFound', message: 'Not Found' });
      if (status === 405) return driveError(405, { reason: 'methodNotAllowed', message: 'Method Not Allowed' });
      return driveError(status, { reason: opts.reason ?? 'badRequest', message: 'Bad Request' });
    },
  };
}
