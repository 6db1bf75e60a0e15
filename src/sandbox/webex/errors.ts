// Webex error bodies: {message, errors:[{description}], trackingId}, with a matching TrackingID header.
import { randomUUID } from 'node:crypto';
import { json, type SbResponse } from '../common/http.ts';

export function trackingId(): string {
  return `ROUTER_${randomUUID().toUpperCase().replace(/-/g, '').slice(0, 8)}-${randomUUID().slice(0, 4).toUpperCase()}-${randomUUID().slice(0, 4).toUpperCase()}-${randomUUID().slice(0, 4).toUpperCase()}-${randomUUID().slice(24).toUpperCase()}`;
}

export function webexError(status: number, message: string, headers: Record<string, string> = {}): SbResponse {
  const id = trackingId();
  return json(status, { message, errors: [{ description: message }], trackingId: id }, { trackingid: id, ...headers });
}

/** The token endpoint wraps the identity broker's error in the same envelope. */
export function tokenError(status: number, error: string, description: string): SbResponse {
  const id = trackingId();
  const message = `POST failed: HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : 'Bad Request'} (url = https://idbroker.webex.com/idb/oauth2/v1/access_token, request/response TrackingId: ${id}, error: '${error}', description: '${description}')`;
  return json(status, { message, errors: [{ description: message }], trackingId: id }, { trackingid: id });
}

export const WEBEX = {
  unauthorized: () => webexError(401, 'The request requires a valid access token set in the Authorization request header.'),
  forbidden: () => webexError(403, 'Failed to get activity.'),
  notFound: () => webexError(404, 'The requested resource could not be found.'),
  badRequest: (message: string) => webexError(400, message),
  tooMany: () => webexError(429, 'Too Many Requests'),
  server: (status: number) => webexError(status, status === 503 ? 'Service Unavailable' : 'Internal Server Error'),
};
