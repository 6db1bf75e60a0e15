import { createRemoteJWKSet, customFetch as joseCustomFetch, decodeJwt, jwtVerify, type JWTPayload } from 'jose';
import * as oauth from 'oauth4webapi';
import type { ProviderDefinition } from '../providers/definition.ts';
import type { ResolvedEndpoints } from '../providers/profiles.ts';
import type { OutboundFetch } from '../outbound/fetch.ts';
import { OAuthError } from './errors.ts';

/**
 * The one generic OAuth 2.0 / OpenID Connect flow for every provider, on oauth4webapi (protocol)
 * and jose (ID token signatures). It knows nothing of the database: callers persist the pending
 * request (state, verifier, nonce) and the resulting tokens.
 */
export interface OAuthClient {
  provider: ProviderDefinition;
  endpoints: ResolvedEndpoints;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  /** The scopes the provider app asks for; the provider's base scopes are added. */
  scopes: readonly string[];
  /** Microsoft: the org's tenant id (GUID). ID tokens from any other tenant are refused. */
  tenantId?: string;
  fetch: OutboundFetch;
}

export interface PendingAuthorization {
  state: string;
  codeVerifier: string;
  nonce: string | null;
}

export interface TokenSet {
  accessToken: string;
  refreshToken: string | null;
  /** Absolute expiry of the access token. */
  expiresAt: Date | null;
  refreshTokenExpiresAt: Date | null;
  scopes: string[];
  idToken: string | null;
}

/** The account a connection belongs to: never an email, always (issuer or tenant, immutable subject). */
export interface ExternalAccount {
  issuer: string;
  tenantId: string | null;
  subject: string;
  email: string | null;
  displayName: string | null;
}

function requestedScopes(client: OAuthClient): string[] {
  return [...new Set([...client.provider.baseScopes, ...client.scopes])];
}

function authorizationServer(client: OAuthClient, issuer?: string): oauth.AuthorizationServer {
  return {
    issuer: issuer ?? client.endpoints.issuerFor(client.tenantId),
    authorization_endpoint: client.endpoints.authorizationEndpoint,
    token_endpoint: client.endpoints.tokenEndpoint,
    jwks_uri: client.endpoints.jwksUri,
    ...(client.endpoints.revocationEndpoint && { revocation_endpoint: client.endpoints.revocationEndpoint }),
    authorization_response_iss_parameter_supported: client.provider.authorizationResponseIss,
  };
}

function clientAuth(client: OAuthClient): oauth.ClientAuth {
  return client.provider.clientAuthentication === 'client_secret_basic' ? oauth.ClientSecretBasic(client.clientSecret) : oauth.ClientSecretPost(client.clientSecret);
}

function httpOptions(client: OAuthClient) {
  return {
    [oauth.customFetch]: client.fetch as typeof fetch,
    // Loopback http is allowed only for endpoints an operator configured (sandbox, test authority).
    [oauth.allowInsecureRequests]: new URL(client.endpoints.tokenEndpoint).protocol === 'http:',
  };
}

/** Step 1: the URL to send the browser to, and what must be kept (server side) to finish. */
export async function createAuthorizationRequest(client: OAuthClient, extra: { loginHint?: string } = {}): Promise<{ url: URL; pending: PendingAuthorization }> {
  // RFC 7636 (PKCE S256) always; state ≥ 128 bits (oauth4webapi: 256); nonce for OpenID Connect.
  const codeVerifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const nonce = client.provider.openid ? oauth.generateRandomNonce() : null;
  const pending = { state, codeVerifier, nonce };
  const url = buildUrl(client, pending, extra);
  url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(codeVerifier));
  url.searchParams.set('code_challenge_method', 'S256');
  return { pending, url };
}

function buildUrl(client: OAuthClient, pending: PendingAuthorization, extra: { loginHint?: string }): URL {
  const url = new URL(client.endpoints.authorizationEndpoint);
  const params = url.searchParams;
  params.set('client_id', client.clientId);
  params.set('response_type', 'code');
  params.set('redirect_uri', client.redirectUri);
  params.set('scope', requestedScopes(client).join(client.provider.scopeSeparator));
  params.set('state', pending.state);
  if (pending.nonce) params.set('nonce', pending.nonce);
  for (const [key, value] of Object.entries(client.provider.authorizationParams)) params.set(key, value);
  if (extra.loginHint) params.set('login_hint', extra.loginHint);
  return url;
}

/**
 * Step 2: the provider redirected back. Validates the response (state, RFC 9207 `iss`, `error`),
 * exchanges the code with the PKCE verifier, validates the ID token fully and reads the account.
 */
export async function completeAuthorization(client: OAuthClient, callback: URL, pending: PendingAuthorization): Promise<{ tokens: TokenSet; account: ExternalAccount }> {
  const as = authorizationServer(client);
  const oauthClient: oauth.Client = { client_id: client.clientId };
  let params: URLSearchParams;
  try {
    params = oauth.validateAuthResponse(as, oauthClient, callback, pending.state);
  } catch (err) {
    if (err instanceof oauth.AuthorizationResponseError) {
      throw new OAuthError(400, 'invalid_callback', `The provider refused the authorization: ${err.error}`, { details: { error: err.error, description: err.error_description ?? null } });
    }
    throw new OAuthError(400, 'invalid_callback', `The authorization response is not acceptable: ${(err as Error).message}`, { cause: err });
  }
  const response = await call(() => oauth.authorizationCodeGrantRequest(as, oauthClient, clientAuth(client), params, client.redirectUri, pending.codeVerifier, httpOptions(client)));
  const idTokenIssuer = await expectedIdTokenIssuer(client, response);
  const result = await processTokens(() =>
    oauth.processAuthorizationCodeResponse(authorizationServer(client, idTokenIssuer), oauthClient, response, {
      expectedNonce: pending.nonce ?? oauth.expectNoNonce,
      requireIdToken: client.provider.openid,
    }),
  );
  const tokens = toTokenSet(result, client, null);
  const claims = client.provider.openid ? await verifyIdToken(client, result.id_token!, idTokenIssuer!, pending.nonce!) : undefined;
  return { tokens, account: accountFrom(client, claims) };
}

/** Refresh grant. A provider that returns no new refresh token keeps the old one (Google). */
export async function refreshTokens(client: OAuthClient, refreshToken: string): Promise<TokenSet> {
  const as = authorizationServer(client);
  const oauthClient: oauth.Client = { client_id: client.clientId };
  const response = await call(() => oauth.refreshTokenGrantRequest(as, oauthClient, clientAuth(client), refreshToken, httpOptions(client)));
  // Overloaded or down (5xx, 429): transient, unlike an OAuth error answer. The caller may retry.
  if (response.status >= 500 || response.status === 429) {
    throw new OAuthError(503, 'provider_unreachable', `The provider's token endpoint is unavailable (HTTP ${response.status}).`, { details: { status: response.status } });
  }
  const issuer = await expectedIdTokenIssuer(client, response);
  const result = await processTokens(() => oauth.processRefreshTokenResponse(authorizationServer(client, issuer), oauthClient, response));
  return toTokenSet(result, client, refreshToken);
}

/**
 * Microsoft's issuer is per tenant: `{tenantid}` comes from the ID token's `tid`, which must be the
 * provider app's tenant. The claim is read here only to choose the expected issuer; the signature and
 * every claim are verified afterwards.
 */
async function expectedIdTokenIssuer(client: OAuthClient, response: Response): Promise<string | undefined> {
  const template = client.endpoints.issuer;
  if (!template.includes('{tenantid}')) return template;
  if (!response.ok) return undefined;
  const body = (await response.clone().json().catch(() => ({}))) as { id_token?: unknown };
  if (typeof body.id_token !== 'string') return client.tenantId ? client.endpoints.issuerFor(client.tenantId) : undefined;
  let tid: unknown;
  try {
    tid = decodeJwt(body.id_token).tid;
  } catch (cause) {
    throw new OAuthError(400, 'invalid_id_token', 'The ID token is not a JWT.', { cause });
  }
  if (typeof tid !== 'string' || !/^[0-9a-f-]{36}$/i.test(tid)) throw new OAuthError(400, 'invalid_id_token', 'The ID token has no valid tid claim.');
  if (client.tenantId && tid.toLowerCase() !== client.tenantId.toLowerCase()) {
    throw new OAuthError(400, 'invalid_id_token', "The ID token comes from another tenant than the provider app's.");
  }
  return client.endpoints.issuerFor(tid);
}

const jwksByUri = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

/**
 * Full ID token validation (OpenID Connect Core §3.1.3.7): RS256 signature against the provider's
 * JWKS (jose refetches once on an unknown `kid`, with a cooldown), issuer, audience, expiry, nonce.
 */
async function verifyIdToken(client: OAuthClient, idToken: string, issuer: string, nonce: string): Promise<JWTPayload> {
  let jwks = jwksByUri.get(client.endpoints.jwksUri);
  if (!jwks) {
    jwks = createRemoteJWKSet(new URL(client.endpoints.jwksUri), { [joseCustomFetch]: client.fetch as typeof fetch, cooldownDuration: 30_000 });
    jwksByUri.set(client.endpoints.jwksUri, jwks);
  }
  try {
    const { payload } = await jwtVerify(idToken, jwks, { issuer, audience: client.clientId, algorithms: ['RS256'], clockTolerance: 60, requiredClaims: ['exp', 'iat', 'sub'] });
    if (payload.nonce !== nonce) throw new Error('nonce mismatch');
    return payload;
  } catch (cause) {
    throw new OAuthError(400, 'invalid_id_token', `The ID token is not valid: ${(cause as Error).message}`, { cause });
  }
}

function accountFrom(client: OAuthClient, claims: JWTPayload | undefined): ExternalAccount {
  if (!claims) throw new OAuthError(400, 'invalid_id_token', 'This provider needs an ID token to identify the account.');
  const subject = claims[client.provider.subjectClaim];
  if (typeof subject !== 'string' || subject === '') throw new OAuthError(400, 'invalid_id_token', `The ID token has no ${client.provider.subjectClaim} claim.`);
  const tenant = client.provider.tenantClaim ? claims[client.provider.tenantClaim] : undefined;
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : null);
  return {
    issuer: claims.iss!,
    tenantId: str(tenant),
    subject,
    email: str(claims.email) ?? str(claims.preferred_username),
    displayName: str(claims.name),
  };
}

function toTokenSet(result: oauth.TokenEndpointResponse, client: OAuthClient, previousRefreshToken: string | null): TokenSet {
  const now = Date.now();
  const refreshExpiresIn = (result as { refresh_token_expires_in?: unknown }).refresh_token_expires_in;
  return {
    accessToken: result.access_token,
    refreshToken: result.refresh_token ?? previousRefreshToken,
    expiresAt: typeof result.expires_in === 'number' ? new Date(now + result.expires_in * 1000) : null,
    refreshTokenExpiresAt: typeof refreshExpiresIn === 'number' ? new Date(now + refreshExpiresIn * 1000) : null,
    scopes: typeof result.scope === 'string' ? result.scope.split(/[ ,]+/).filter(Boolean) : requestedScopes(client),
    idToken: result.id_token ?? null,
  };
}

async function call(fn: () => Promise<Response>): Promise<Response> {
  try {
    return await fn();
  } catch (cause) {
    throw new OAuthError(503, 'provider_unreachable', 'The provider could not be reached.', { cause });
  }
}

async function processTokens(fn: () => Promise<oauth.TokenEndpointResponse>): Promise<oauth.TokenEndpointResponse> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof oauth.ResponseBodyError) {
      // RFC 6749 §5.2: invalid_grant means the code or refresh token is dead: reconnect.
      if (err.error === 'invalid_grant') throw new OAuthError(401, 'invalid_grant', 'The provider no longer accepts this grant; the user must connect again.', { details: { error: err.error } });
      throw new OAuthError(502, 'provider_error', `The provider's token endpoint answered ${err.status} ${err.error}.`, { details: { error: err.error, status: err.status } });
    }
    if (err instanceof OAuthError) throw err;
    // JWT/JWS errors in a token response can only concern the ID token (e.g. `alg: none`).
    if ((err instanceof oauth.OperationProcessingError || err instanceof oauth.UnsupportedOperationError) && /id_token|nonce|"iss"|"aud"|claim|JWT|JWS/i.test(err.message)) {
      throw new OAuthError(400, 'invalid_id_token', `The ID token is not valid: ${err.message}`, { cause: err });
    }
    throw new OAuthError(502, 'provider_error', `The provider's token response is not acceptable: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * RFC 7009 token revocation, for providers that offer it (Google revokes the whole grant when given
 * the refresh token). Throws `provider_error` / `provider_unreachable` like the other calls.
 */
export async function revokeToken(client: OAuthClient, token: string): Promise<void> {
  const as = authorizationServer(client);
  if (!as.revocation_endpoint) throw new Error('revokeToken: the provider has no revocation endpoint');
  const response = await call(() => oauth.revocationRequest(as, { client_id: client.clientId }, clientAuth(client), token, httpOptions(client)));
  try {
    await oauth.processRevocationResponse(response);
  } catch (err) {
    const status = err instanceof oauth.ResponseBodyError ? err.status : response.status;
    throw new OAuthError(502, 'provider_error', `The provider's revocation endpoint answered ${status}.`, { cause: err });
  }
}
