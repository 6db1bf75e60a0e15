import { errorResponses } from '../../schemas.ts';
import { userOf, type Route } from '../../types.ts';
import { providerAppParams, providerAppView, toProviderAppView } from './view.ts';

export const getProviderApp: Route = (app, { providerApps }) => {
  app.get('/api/v1/provider-apps/:appId', {
    config: { access: 'member' },
    schema: { tags: ['provider-apps'], summary: 'Get a provider app', params: providerAppParams, response: { 200: providerAppView, ...errorResponses } },
  }, async (request) => toProviderAppView(await providerApps.get(userOf(request).orgId, request.params.appId), providerApps));
};
