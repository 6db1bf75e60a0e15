// Google's error bodies: OAuth endpoints answer {error, error_description}; Drive v3 answers
// {"error":{code,message,errors:[{message,domain,reason,location?,locationType?}],status?}}.
import { json, type SbResponse } from '../common/http.ts';

export function oauthError(status: number, error: string, description: string): SbResponse {
  return json(status, { error, error_description: description }, { 'cache-control': 'no-cache, no-store, max-age=0, must-revalidate', pragma: 'no-cache' });
}

export interface DriveErrorDetail {
  reason: string;
  message: string;
  domain?: string;
  location?: string;
  locationType?: string;
}

const STATUS_NAMES: Record<number, string> = { 400: 'INVALID_ARGUMENT', 401: 'UNAUTHENTICATED', 403: 'PERMISSION_DENIED', 404: 'NOT_FOUND', 429: 'RESOURCE_EXHAUSTED', 500: 'INTERNAL', 503: 'UNAVAILABLE' };

export function driveError(status: number, detail: DriveErrorDetail, opts: { withStatus?: boolean; topMessage?: string } = {}): SbResponse {
  const err: Record<string, unknown> = { message: detail.message, domain: detail.domain ?? 'global', reason: detail.reason };
  if (detail.location) err.location = detail.location;
  if (detail.locationType) err.locationType = detail.locationType;
  const body: Record<string, unknown> = { code: status, message: opts.topMessage ?? detail.message, errors: [err] };
  if (opts.withStatus && STATUS_NAMES[status]) body.status = STATUS_NAMES[status];
  return json(status, { error: body }, { vary: 'Origin, X-Origin, Referer' });
}

export const DRIVE = {
  notFound: (id: string) => driveError(404, { reason: 'notFound', message: `File not found: ${id}.`, location: 'fileId', locationType: 'parameter' }),
  invalid: (location: string, message = 'Invalid Value') => driveError(400, { reason: 'invalid', message, location, locationType: 'parameter' }),
  required: (location: string) => driveError(400, { reason: 'required', message: `Required parameter: ${location}`, location, locationType: 'parameter' }),
  badRequest: (message: string) => driveError(400, { reason: 'badRequest', message }),
  insufficientPermissions: () => driveError(403, { reason: 'insufficientPermissions', message: 'Insufficient Permission' }, { withStatus: true, topMessage: 'Request had insufficient authentication scopes.' }),
  forbidden: (message: string, reason = 'insufficientFilePermissions') => driveError(403, { reason, message }),
  rateLimit: () => driveError(429, { reason: 'rateLimitExceeded', message: 'Rate Limit Exceeded', domain: 'usageLimits' }),
  userRateLimit: () => driveError(403, { reason: 'userRateLimitExceeded', message: 'User Rate Limit Exceeded', domain: 'usageLimits' }),
  backendError: (status: number) => driveError(status, { reason: 'backendError', message: status === 503 ? 'Service Unavailable' : 'Internal Error' }),
  unauthenticated: (missing: boolean) =>
    missing
      ? driveError(401, { reason: 'required', message: 'Login Required.', location: 'Authorization', locationType: 'header' }, { withStatus: true, topMessage: 'Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.' })
      : driveError(401, { reason: 'authError', message: 'Invalid Credentials', location: 'Authorization', locationType: 'header' }, { withStatus: true, topMessage: 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.' }),
};
