// Microsoft's two error formats: the identity platform's OAuth errors (AADSTS codes, RFC 6749 §5.2
// plus error_codes/timestamp/trace_id/correlation_id) and Graph's `{"error":{code,message,innerError}}`.
import { randomUUID } from 'node:crypto';
import { json, type SbResponse } from '../common/http.ts';

function aadTimestamp(now: number): string {
  // "2026-11-23 10:51:02Z" — the format the token endpoint uses in `timestamp`.
  return new Date(now).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z');
}

export interface AadError {
  status: number;
  error: string;
  code: number;
  description: string;
}

export function aadErrorBody(e: Omit<AadError, 'status'>, now: number): Record<string, unknown> {
  const traceId = randomUUID();
  const correlationId = randomUUID();
  const timestamp = aadTimestamp(now);
  return {
    error: e.error,
    error_description: `AADSTS${e.code}: ${e.description} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
    error_codes: [e.code],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: `https://login.microsoftonline.com/error?code=${e.code}`,
  };
}

export function aadError(e: AadError, now: number): SbResponse {
  return json(e.status, aadErrorBody(e, now), { 'cache-control': 'no-store, no-cache', pragma: 'no-cache' });
}

/** The AADSTS errors the emulator produces, with the status and `error` the real endpoint uses. */
export const AAD = {
  missingParam: (name: string): AadError => ({ status: 400, error: 'invalid_request', code: 900144, description: `The request body must contain the following parameter: '${name}'.` }),
  unsupportedGrant: (g: string): AadError => ({ status: 400, error: 'unsupported_grant_type', code: 70003, description: `The app requested an unsupported grant type '${g}'.` }),
  appNotFound: (clientId: string, tenant: string): AadError => ({
    status: 400,
    error: 'unauthorized_client',
    code: 700016,
    description: `Application with identifier '${clientId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
  }),
  missingSecret: (): AadError => ({ status: 401, error: 'invalid_client', code: 7000218, description: "The request body must contain the following parameter: 'client_assertion' or 'client_secret'." }),
  badSecret: (clientId: string): AadError => ({
    status: 401,
    error: 'invalid_client',
    code: 7000215,
    description: `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
  }),
  malformedGrant: (): AadError => ({ status: 400, error: 'invalid_grant', code: 9002313, description: 'Invalid request. Request is malformed or invalid.' }),
  codeRedeemed: (): AadError => ({ status: 400, error: 'invalid_grant', code: 54005, description: 'OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.' }),
  codeExpired: (): AadError => ({ status: 400, error: 'invalid_grant', code: 70008, description: 'The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.' }),
  codeOtherClient: (): AadError => ({ status: 400, error: 'invalid_grant', code: 700005, description: 'Provided Authorization Code is intended to use against other tenant, thus rejected.' }),
  verifierMismatch: (): AadError => ({ status: 400, error: 'invalid_grant', code: 501481, description: 'The Code_Verifier does not match the code_challenge supplied in the authorization request.' }),
  verifierMissing: (): AadError => ({ status: 400, error: 'invalid_grant', code: 50148, description: 'The code_verifier does not match the code_challenge supplied in the authorization request for PKCE.' }),
  redirectMismatch: (sent: string, original: string): AadError => ({
    status: 400,
    error: 'invalid_grant',
    code: 500112,
    description: `The reply address '${sent}' does not match the reply address '${original}' provided when requesting Authorization code.`,
  }),
  grantRevoked: (): AadError => ({
    status: 400,
    error: 'invalid_grant',
    code: 50173,
    description: 'The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password.',
  }),
  refreshExpired: (): AadError => ({ status: 400, error: 'invalid_grant', code: 700082, description: 'The refresh token has expired due to inactivity.' }),
  tenantNotFound: (t: string): AadError => ({
    status: 400,
    error: 'invalid_request',
    code: 90002,
    description: `Tenant '${t}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
  }),
  temporarilyUnavailable: (): AadError => ({ status: 503, error: 'temporarily_unavailable', code: 90033, description: 'A transient error has occurred. Please try again.' }),
  throttled: (): AadError => ({ status: 429, error: 'temporarily_unavailable', code: 90033, description: 'A transient error has occurred. Please try again.' }),
  serverError: (): AadError => ({ status: 500, error: 'server_error', code: 90033, description: 'A transient error has occurred. Please try again.' }),
};

const GRAPH_MESSAGES: Record<number, [string, string]> = {
  400: ['invalidRequest', 'Invalid request'],
  401: ['InvalidAuthenticationToken', 'Access token is empty.'],
  403: ['accessDenied', 'Access denied'],
  404: ['itemNotFound', 'The resource could not be found.'],
  405: ['BadRequest', 'Specified HTTP method is not allowed for the request uri.'],
  409: ['nameAlreadyExists', 'The specified item name already exists.'],
  412: ['preconditionFailed', "ETag does not match current item's value"],
  416: ['invalidRange', 'The requested range is not satisfiable'],
  429: ['activityLimitReached', 'The request has been throttled'],
  500: ['generalException', 'An unspecified error has occurred.'],
  503: ['serviceNotAvailable', 'The service is not available. Try the request again after a delay. There may be a Retry-After header.'],
};

export function graphError(status: number, code?: string, message?: string, req?: { headers: Record<string, string | string[] | undefined> }, now = Date.now()): SbResponse {
  const [defCode, defMessage] = GRAPH_MESSAGES[status] ?? ['generalException', 'An unspecified error has occurred.'];
  const requestId = randomUUID();
  const clientRequestId = (req?.headers['client-request-id'] as string | undefined) ?? requestId;
  return json(
    status,
    { error: { code: code ?? defCode, message: message ?? defMessage, innerError: { date: new Date(now).toISOString().replace(/\.\d{3}Z$/, ''), 'request-id': requestId, 'client-request-id': clientRequestId } } },
    { 'request-id': requestId, 'client-request-id': clientRequestId },
  );
}
