// Google OAuth 2.0 / OpenID Connect: authorization endpoint with sign-in + consent page, token
// endpoint, revocation, discovery, JWKS and userinfo.
// https://developers.google.com/identity/protocols/oauth2/web-server
import { createHash } from 'node:crypto';
import type { Faults } from '../common/faults.ts';
import { basicCredentials, bearerToken, escapeHtml, html, json, parseForm, redirect, type Router, type SbRequest, type SbResponse } from '../common/http.ts';
import type { SigningKey } from '../common/keys.ts';
import { pkceMatches, type Grant, type OAuthStore } from '../common/oauth.ts';
import { renderSignIn } from '../common/signin.ts';
import { oauthError } from './errors.ts';
import { GOOGLE_DOMAIN, type GStore } from './store.ts';

export interface GoogleOAuthContext {
  store: GStore;
  oauth: OAuthStore;
  key: SigningKey;
  faults: Faults;
}

const ACCESS_SECONDS = 3599;
const SHORT_SCOPES: Record<string, string> = { email: 'https://www.googleapis.com/auth/userinfo.email', profile: 'https://www.googleapis.com/auth/userinfo.profile' };

export function normalizeGoogleScopes(scope: string): string[] {
  return [...new Set(scope.split(/\s+/).filter(Boolean).map((s) => SHORT_SCOPES[s] ?? s))];
}

/** Google shows most authorization errors on its own page instead of redirecting. */
function errorPage(status: number, error: string, detail: string): SbResponse {
  return html(status, `<!doctype html><html><head><title>Error ${status} (${escapeHtml(error)})</title></head><body><h1>Access blocked: authorization error</h1><p id="error">Error ${status}: ${escapeHtml(error)}</p><p>${escapeHtml(detail)}</p></body></html>`);
}

function authorizeGet(ctx: GoogleOAuthContext, req: SbRequest): SbResponse {
  const q = req.query;
  const clientId = q.get('client_id') ?? '';
  const app = ctx.oauth.apps.get(clientId);
  if (!app) return errorPage(401, 'invalid_client', 'The OAuth client was not found.');
  const redirectUri = q.get('redirect_uri') ?? '';
  if (!app.redirectUris.includes(redirectUri)) return errorPage(400, 'redirect_uri_mismatch', `You can't sign in to this app because it doesn't comply with Google's OAuth 2.0 policy. If you're the app developer, register the redirect URI in the Google Cloud Console. Request details: redirect_uri=${redirectUri}`);
  if (q.get('response_type') !== 'code') return errorPage(400, 'invalid_request', `Invalid response_type: ${q.get('response_type') ?? ''}`);
  const scope = q.get('scope');
  if (!scope) return errorPage(400, 'invalid_request', 'Missing required parameter: scope');
  const challenge = q.get('code_challenge') ?? undefined;
  const method = q.get('code_challenge_method') ?? (challenge ? 'plain' : undefined);
  if (method && method !== 'S256' && method !== 'plain') return errorPage(400, 'invalid_request', `Invalid code_challenge_method: ${method}`);
  const state = q.get('state') ?? undefined;
  const pending = ctx.oauth.addPending({
    clientId,
    redirectUri,
    scopes: normalizeGoogleScopes(scope),
    ...(state !== undefined ? { state } : {}),
    ...(q.get('nonce') ? { nonce: q.get('nonce')! } : {}),
    ...(challenge ? { codeChallenge: challenge, codeChallengeMethod: method as 'S256' | 'plain' } : {}),
    ...(q.get('login_hint') ? { loginHint: q.get('login_hint')! } : {}),
    extra: { accessType: q.get('access_type') ?? 'online', prompt: q.get('prompt') ?? '' },
  });
  return renderSignIn({
    brand: 'Google',
    action: '/o/oauth2/v2/auth',
    pendingId: pending.id,
    appName: app.name,
    scopes: pending.scopes,
    accounts: [...ctx.store.users.values()].map((u) => ({ id: u.id, email: u.email, displayName: u.displayName })),
    ...(pending.loginHint ? { loginHint: pending.loginHint } : {}),
  });
}

function authorizePost(ctx: GoogleOAuthContext, req: SbRequest): SbResponse {
  const form = parseForm(req);
  const pending = ctx.oauth.takePending(form.get('pending') ?? '');
  if (!pending) return errorPage(400, 'invalid_request', 'This sign-in request has expired or was already used.');
  const u = new URL(pending.redirectUri);
  if (form.get('decision') !== 'accept') {
    u.searchParams.set('error', 'access_denied');
    if (pending.state !== undefined) u.searchParams.set('state', pending.state);
    return redirect(u.toString());
  }
  const user = ctx.store.userByEmail(form.get('login') ?? '');
  if (!user) return errorPage(400, 'invalid_request', 'Unknown account.');
  const code = ctx.oauth.issueCode(pending, user.id);
  // Google returns state first, then code, scope, authuser, hd, prompt.
  if (pending.state !== undefined) u.searchParams.set('state', pending.state);
  u.searchParams.set('code', `4/0A${code.code}`);
  u.searchParams.set('scope', pending.scopes.join(' '));
  u.searchParams.set('authuser', '0');
  u.searchParams.set('hd', GOOGLE_DOMAIN);
  u.searchParams.set('prompt', 'consent');
  if (user.issInAuthResponse) u.searchParams.set('iss', req.origin);
  return redirect(u.toString());
}

/** Whether this grant gets a refresh token: offline access on the first consent (or prompt=consent). */
const offlineGranted = new WeakMap<OAuthStore, Set<string>>();

async function tokenResponse(ctx: GoogleOAuthContext, req: SbRequest, grant: Grant, nonce: string | undefined, refreshToken: string | undefined): Promise<SbResponse> {
  const user = ctx.store.users.get(grant.userId)!;
  const access = ctx.oauth.issueAccessToken(grant, ACCESS_SECONDS);
  const body: Record<string, unknown> = { access_token: access.token, expires_in: ACCESS_SECONDS };
  if (refreshToken) body.refresh_token = refreshToken;
  body.scope = grant.scopes.join(' ');
  body.token_type = 'Bearer';
  if (grant.scopes.includes('openid')) {
    const now = Math.floor(ctx.faults.now() / 1000);
    const withEmail = grant.scopes.includes(SHORT_SCOPES.email!);
    const withProfile = grant.scopes.includes(SHORT_SCOPES.profile!);
    body.id_token = await ctx.key.sign({
      iss: req.origin,
      azp: grant.clientId,
      aud: grant.clientId,
      sub: user.id,
      hd: GOOGLE_DOMAIN,
      ...(withEmail ? { email: user.email, email_verified: true } : {}),
      at_hash: createHash('sha256').update(access.token).digest().subarray(0, 16).toString('base64url'),
      ...(nonce ? { nonce } : {}),
      ...(withProfile ? { name: user.displayName, picture: `${req.origin}/_sandbox/avatar/${user.id}.png`, given_name: user.givenName, family_name: user.familyName } : {}),
      iat: now,
      exp: now + 3600,
    });
  }
  return json(200, body, { 'cache-control': 'no-cache, no-store, max-age=0, must-revalidate', pragma: 'no-cache' });
}

async function token(ctx: GoogleOAuthContext, req: SbRequest): Promise<SbResponse> {
  const now = ctx.faults.now();
  const form = parseForm(req);
  const basic = basicCredentials(req);
  const clientId = basic?.id ?? form.get('client_id');
  if (!clientId) return oauthError(400, 'invalid_request', 'Could not determine client ID from request.');
  const app = ctx.oauth.apps.get(clientId);
  if (!app) return oauthError(401, 'invalid_client', 'The OAuth client was not found.');
  const secret = basic?.secret ?? form.get('client_secret');
  if (!secret) return oauthError(400, 'invalid_request', 'client_secret is missing.');
  if (secret !== app.clientSecret) return oauthError(401, 'invalid_client', 'Unauthorized');
  const grantType = form.get('grant_type');
  if (!grantType) return oauthError(400, 'unsupported_grant_type', 'Invalid grant_type: ');
  if (grantType === 'authorization_code') {
    const raw = form.get('code');
    if (!raw) return oauthError(400, 'invalid_request', 'Missing required parameter: code');
    const code = raw.startsWith('4/0A') ? ctx.oauth.findCode(raw.slice(4)) : undefined;
    if (!code) return oauthError(400, 'invalid_grant', 'Malformed auth code.');
    if (code.redeemed || code.expiresAt <= now || code.grant.clientId !== clientId) return oauthError(400, 'invalid_grant', 'Bad Request');
    const redirectUri = form.get('redirect_uri');
    if (redirectUri !== code.redirectUri) return oauthError(400, 'redirect_uri_mismatch', 'Bad Request');
    if (code.codeChallenge) {
      const verifier = form.get('code_verifier');
      if (!verifier) return oauthError(400, 'invalid_grant', 'Missing code verifier.');
      if (!pkceMatches(code.codeChallenge, code.codeChallengeMethod ?? 'plain', verifier)) return oauthError(400, 'invalid_grant', 'Invalid code verifier.');
    }
    code.redeemed = true;
    if (ctx.oauth.grantRevoked(code.grant)) return oauthError(400, 'invalid_grant', 'Token has been expired or revoked.');
    // A refresh token comes with offline access the first time a user consents for this client,
    // and again whenever prompt=consent forces the consent screen.
    let granted = offlineGranted.get(ctx.oauth);
    if (!granted) offlineGranted.set(ctx.oauth, (granted = new Set()));
    const key = `${code.grant.userId}|${clientId}`;
    const offline = code.grant.extra.accessType === 'offline' && (!granted.has(key) || (code.grant.extra.prompt ?? '').includes('consent'));
    if (offline) granted.add(key);
    const rt = offline ? `1//0g${ctx.oauth.issueRefreshToken(code.grant, 180 * 24 * 3600).token}` : undefined;
    return tokenResponse(ctx, req, code.grant, code.nonce, rt);
  }
  if (grantType === 'refresh_token') {
    const raw = form.get('refresh_token');
    if (!raw) return oauthError(400, 'invalid_request', 'Missing required parameter: refresh_token');
    const rt = raw.startsWith('1//0g') ? ctx.oauth.findRefreshToken(raw.slice(5)) : undefined;
    if (!rt || !rt.active || rt.grant.clientId !== clientId || ctx.oauth.grantRevoked(rt.grant) || rt.expiresAt <= now) return oauthError(400, 'invalid_grant', 'Token has been expired or revoked.');
    // Google returns no refresh token on refresh; the rotation knob makes it return (and require) a new one.
    let next: string | undefined;
    if (ctx.faults.refreshRotation('google')) {
      rt.active = false;
      next = `1//0g${ctx.oauth.issueRefreshToken(rt.grant, 180 * 24 * 3600).token}`;
    }
    return tokenResponse(ctx, req, rt.grant, undefined, next);
  }
  return oauthError(400, 'unsupported_grant_type', `Invalid grant_type: ${grantType}`);
}

function revoke(ctx: GoogleOAuthContext, req: SbRequest): SbResponse {
  const token = req.query.get('token') ?? parseForm(req).get('token');
  if (!token) return oauthError(400, 'invalid_request', 'Missing required parameter: token');
  const raw = token.startsWith('1//0g') ? token.slice(5) : token;
  if (!ctx.oauth.revokeToken(raw)) return oauthError(400, 'invalid_token', 'Token expired or revoked');
  return json(200, {});
}

function userinfo(ctx: GoogleOAuthContext, req: SbRequest): SbResponse {
  const check = ctx.oauth.checkAccessToken(bearerToken(req));
  if (!check.ok) return json(401, { error: 'invalid_request', error_description: 'Invalid Credentials' }, { 'www-authenticate': 'Bearer realm="https://accounts.google.com/", error="invalid_token"' });
  const user = ctx.store.users.get(check.token.grant.userId)!;
  const scopes = check.token.grant.scopes;
  return json(200, {
    sub: user.id,
    ...(scopes.includes(SHORT_SCOPES.profile!) ? { name: user.displayName, given_name: user.givenName, family_name: user.familyName, picture: `${req.origin}/_sandbox/avatar/${user.id}.png` } : {}),
    ...(scopes.includes(SHORT_SCOPES.email!) ? { email: user.email, email_verified: true } : {}),
    hd: GOOGLE_DOMAIN,
  });
}

function discovery(req: SbRequest): SbResponse {
  const o = req.origin;
  return json(200, {
    issuer: o,
    authorization_endpoint: `${o}/o/oauth2/v2/auth`,
    device_authorization_endpoint: `${o}/device/code`,
    token_endpoint: `${o}/token`,
    userinfo_endpoint: `${o}/v1/userinfo`,
    revocation_endpoint: `${o}/revoke`,
    jwks_uri: `${o}/oauth2/v3/certs`,
    response_types_supported: ['code', 'token', 'id_token', 'code token', 'code id_token', 'token id_token', 'code token id_token', 'none'],
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
    scopes_supported: ['openid', 'email', 'profile'],
    token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
    claims_supported: ['aud', 'email', 'email_verified', 'exp', 'family_name', 'given_name', 'iat', 'iss', 'name', 'picture', 'sub'],
    code_challenge_methods_supported: ['plain', 'S256'],
    grant_types_supported: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code', 'urn:ietf:params:oauth:grant-type:jwt-bearer'],
  });
}

export function addGoogleOAuthRoutes(router: Router, ctx: GoogleOAuthContext): void {
  router
    .add('GET', /^\/\.well-known\/openid-configuration$/, (req) => discovery(req))
    .add('GET', /^\/oauth2\/v3\/certs$/, () => json(200, { keys: [ctx.key.publicJwk] }))
    .add('GET', /^\/o\/oauth2\/v2\/auth$/, (req) => authorizeGet(ctx, req))
    .add('POST', /^\/o\/oauth2\/v2\/auth$/, (req) => authorizePost(ctx, req))
    .add('POST', /^\/token$/, (req) => token(ctx, req))
    .add('POST', /^\/revoke$/, (req) => revoke(ctx, req))
    .add('GET', /^\/(v1\/userinfo|oauth2\/v3\/userinfo)$/, (req) => userinfo(ctx, req));
}
