// The Microsoft emulator: identity platform v2 (login.microsoftonline.com paths) and Graph v1.0
// (graph.microsoft.com paths) on one origin — their paths never collide.
import type { Emulator } from '../common/server.ts';
import type { Faults } from '../common/faults.ts';
import { Router, type SbRequest } from '../common/http.ts';
import type { SigningKey } from '../common/keys.ts';
import { OAuthStore } from '../common/oauth.ts';
import { aadError, AAD, graphError } from './errors.ts';
import { addGraphRoutes } from './graph/index.ts';
import { addIdentityRoutes } from './identity.ts';
import { MICROSOFT_APP, seedMicrosoft } from './seed.ts';
import { MsStore } from './store.ts';

export interface MicrosoftEmulator extends Emulator {
  store: MsStore;
  oauth: OAuthStore;
  key: SigningKey;
}

function isIdentityPath(path: string): boolean {
  return /^\/[^/]+\/(oauth2|discovery|v2\.0)\//.test(path) && !path.startsWith('/v1.0/');
}

export function createMicrosoftEmulator(faults: Faults, key: SigningKey): MicrosoftEmulator {
  const store = new MsStore();
  seedMicrosoft(store);
  const oauth = new OAuthStore('microsoft', faults, 'EwB');
  oauth.registerApp({ ...MICROSOFT_APP, redirectUris: [...MICROSOFT_APP.redirectUris] });
  const router = new Router();
  addIdentityRoutes(router, { store, oauth, key, faults });
  addGraphRoutes(router, { store, oauth, faults });
  return {
    id: 'microsoft',
    router,
    store,
    oauth,
    key,
    isTokenEndpoint: (path) => /^\/[^/]+\/oauth2\/v2\.0\/token$/.test(path),
    errorResponse(req: SbRequest, status) {
      if (isIdentityPath(req.path)) {
        const now = faults.now();
        if (status === 429) return aadError(AAD.throttled(), now);
        if (status === 503) return aadError(AAD.temporarilyUnavailable(), now);
        if (status === 405) return aadError({ status: 405, error: 'invalid_request', code: 900561, description: `The endpoint only accepts POST, OPTIONS requests. Received a ${req.method} request.` }, now);
        if (status === 404) return { status: 404, headers: { 'content-type': 'text/html; charset=utf-8' }, body: '<!doctype html><title>404 - Not Found</title><p>The resource you are looking for has been removed, had its name changed, or is temporarily unavailable.</p>' };
        return aadError({ ...AAD.serverError(), status }, now);
      }
      const code = status === 429 && !req.path.includes('/drive') && !req.path.includes('/items') ? 'TooManyRequests' : undefined;
      return graphError(status, code, undefined, req, faults.now());
    },
  };
}
