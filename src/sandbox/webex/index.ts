// The Webex emulator: webexapis.com OAuth (integrations) and REST API on one origin.
import type { Faults } from '../common/faults.ts';
import { Router } from '../common/http.ts';
import type { SigningKey } from '../common/keys.ts';
import { OAuthStore } from '../common/oauth.ts';
import type { Emulator } from '../common/server.ts';
import { addWebexApiRoutes, type WebhookDelivery } from './api.ts';
import { tokenError, WEBEX, webexError } from './errors.ts';
import { seedEvents } from './events.ts';
import { addWebexOAuthRoutes } from './oauth.ts';
import { seedWebex, WEBEX_APP, WStore } from './store.ts';

export interface WebexEmulator extends Emulator {
  store: WStore;
  oauth: OAuthStore;
  key: SigningKey;
  /** Every webhook delivery attempted, with its signature and the receiver's status (or error). */
  deliveries: WebhookDelivery[];
}

export function createWebexEmulator(faults: Faults, key: SigningKey, deliveryFetch: typeof fetch = globalThis.fetch): WebexEmulator {
  const store = new WStore();
  seedWebex(store);
  seedEvents(store);
  const oauth = new OAuthStore('webex', faults);
  oauth.registerApp({ ...WEBEX_APP, redirectUris: [...WEBEX_APP.redirectUris] });
  const deliveries: WebhookDelivery[] = [];
  const router = new Router();
  addWebexOAuthRoutes(router, { store, oauth, key, faults });
  addWebexApiRoutes(router, { store, oauth, faults, deliveries, deliveryFetch });
  return {
    id: 'webex',
    router,
    store,
    oauth,
    key,
    deliveries,
    isTokenEndpoint: (path) => path === '/v1/access_token',
    errorResponse(req, status) {
      if (req.path === '/v1/access_token') return tokenError(status, status === 503 ? 'temporarily_unavailable' : 'server_error', status === 503 ? 'Service Unavailable' : 'Internal Server Error');
      if (status === 429) return WEBEX.tooMany();
      if (status >= 500) return WEBEX.server(status);
      if (status === 404) return WEBEX.notFound();
      if (status === 405) return webexError(405, 'Method not allowed.');
      return webexError(status, 'Bad Request');
    },
  };
}
