import { errorResponses } from '../../schemas.ts';
import { userOf, type Route } from '../../types.ts';
import { connectionParams, connectionView, toConnectionView } from './view.ts';

export const getConnection: Route = (app, { connections }) => {
  app.get('/api/v1/connections/:connectionId', {
    config: { access: 'member' },
    schema: { tags: ['connections'], summary: 'Get a connection (never its tokens)', params: connectionParams, response: { 200: connectionView, ...errorResponses } },
  }, async (request) => toConnectionView(await connections.get(userOf(request), request.params.connectionId)));
};
