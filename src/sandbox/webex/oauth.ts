// Webex integration OAuth: /v1/authorize (sign-in + consent page), /v1/access_token, and the
// OpenID Connect side: the identity broker's issuer, discovery and JWKS under /idb, and /v1/userinfo.
// https://developer.webex.com/docs/integrations
import type { Faults } from '../common/faults.ts';
import { basicCredentials, bearerToken, escapeHtml, html, json, parseForm, redirect, type Router, type SbRequest, type SbResponse } from '../common/http.ts';
import type { SigningKey } from '../common/keys.ts';
import { pkceMatches, type Grant, type OAuthStore } from '../common/oauth.ts';
import { renderSignIn } from '../common/signin.ts';
import { tokenError, WEBEX } from './errors.ts';
import type { WStore } from './store.ts';

export interface WebexOAuthContext {
  store: WStore;
  oauth: OAuthStore;
  key: SigningKey;
  faults: Faults;
}

const ACCESS_SECONDS = 1_209_599; // 14 days
const REFRESH_SECONDS = 7_775_999; // 90 days

function errorPage(status: number, message: string): SbResponse {
  return html(status, `<!doctype html><html><head><title>Webex</title></head><body><h1>Something went wrong</h1><p id="error">${escapeHtml(message)}</p></body></html>`);
}

function authorizeGet(ctx: WebexOAuthContext, req: SbRequest): SbResponse {
  const q = req.query;
  const clientId = q.get('client_id') ?? '';
  const app = ctx.oauth.apps.get(clientId);
  if (!app) return errorPage(400, `invalid_client: The client ${clientId} is not registered.`);
  const redirectUri = q.get('redirect_uri') ?? '';
  if (!app.redirectUris.includes(redirectUri)) return errorPage(400, 'invalid_request: redirect_uri mismatch.');
  const state = q.get('state') ?? undefined;
  const fail = (error: string, description: string) => {
    const u = new URL(redirectUri);
    u.searchParams.set('error', error);
    u.searchParams.set('error_description', description);
    if (state !== undefined) u.searchParams.set('state', state);
    return redirect(u.toString());
  };
  if (q.get('response_type') !== 'code') return fail('unsupported_response_type', 'The response type is not supported.');
  const scope = q.get('scope');
  if (!scope) return fail('invalid_scope', 'The requested scope is invalid.');
  const challenge = q.get('code_challenge') ?? undefined;
  const method = q.get('code_challenge_method') ?? (challenge ? 'plain' : undefined);
  if (method && method !== 'S256' && method !== 'plain') return fail('invalid_request', 'Unsupported code_challenge_method.');
  const pending = ctx.oauth.addPending({
    clientId,
    redirectUri,
    scopes: [...new Set(scope.split(/\s+/).filter(Boolean))],
    ...(state !== undefined ? { state } : {}),
    ...(q.get('nonce') ? { nonce: q.get('nonce')! } : {}),
    ...(challenge ? { codeChallenge: challenge, codeChallengeMethod: method as 'S256' | 'plain' } : {}),
    ...(q.get('email') ? { loginHint: q.get('email')! } : {}),
    extra: {},
  });
  return renderSignIn({
    brand: 'Webex',
    action: '/v1/authorize',
    pendingId: pending.id,
    appName: app.name,
    scopes: pending.scopes,
    accounts: [...ctx.store.people.values()].map((p) => ({ id: p.id, email: p.email, displayName: p.displayName })),
    ...(pending.loginHint ? { loginHint: pending.loginHint } : {}),
  });
}

function authorizePost(ctx: WebexOAuthContext, req: SbRequest): SbResponse {
  const form = parseForm(req);
  const pending = ctx.oauth.takePending(form.get('pending') ?? '');
  if (!pending) return errorPage(400, 'This sign-in request has expired or was already used.');
  const u = new URL(pending.redirectUri);
  if (form.get('decision') !== 'accept') {
    u.searchParams.set('error', 'access_denied');
    u.searchParams.set('error_description', 'The user denied access.');
  } else {
    const person = ctx.store.personByEmail(form.get('login') ?? '');
    if (!person) return errorPage(400, 'Unknown account.');
    u.searchParams.set('code', ctx.oauth.issueCode(pending, person.id).code);
  }
  if (pending.state !== undefined) u.searchParams.set('state', pending.state);
  return redirect(u.toString());
}

async function tokenResponse(ctx: WebexOAuthContext, req: SbRequest, grant: Grant, refreshToken: { token: string; expiresAt: number }, nonce?: string): Promise<SbResponse> {
  const access = ctx.oauth.issueAccessToken(grant, ACCESS_SECONDS);
  const body: Record<string, unknown> = {
    access_token: access.token,
    expires_in: ACCESS_SECONDS,
    refresh_token: refreshToken.token,
    refresh_token_expires_in: Math.max(0, Math.ceil((refreshToken.expiresAt - ctx.faults.now()) / 1000)),
    token_type: 'Bearer',
    scope: grant.scopes.join(' '),
  };
  if (grant.scopes.includes('openid')) {
    const person = ctx.store.people.get(grant.userId)!;
    const now = Math.floor(ctx.faults.now() / 1000);
    body.id_token = await ctx.key.sign({
      iss: `${req.origin}/idb`,
      sub: person.uuid,
      aud: grant.clientId,
      iat: now,
      exp: now + 3600,
      ...(nonce ? { nonce } : {}),
      ...(grant.scopes.includes('email') ? { email: person.email, email_verified: 'true' } : {}),
      ...(grant.scopes.includes('profile') ? { name: person.displayName, given_name: person.firstName, family_name: person.lastName } : {}),
    });
  }
  return json(200, body, { 'cache-control': 'no-store' });
}

async function accessToken(ctx: WebexOAuthContext, req: SbRequest): Promise<SbResponse> {
  const now = ctx.faults.now();
  const form = parseForm(req);
  const basic = basicCredentials(req);
  const clientId = basic?.id ?? form.get('client_id');
  if (!clientId) return tokenError(400, 'invalid_request', 'client_id is required');
  const app = ctx.oauth.apps.get(clientId);
  if (!app) return tokenError(401, 'invalid_client', 'The client is not registered');
  const secret = basic?.secret ?? form.get('client_secret');
  if (!secret || secret !== app.clientSecret) return tokenError(401, 'invalid_client', 'The client secret is invalid');
  const grantType = form.get('grant_type');
  if (grantType === 'authorization_code') {
    const code = ctx.oauth.findCode(form.get('code') ?? '');
    if (!code || code.redeemed || code.expiresAt <= now || code.grant.clientId !== clientId) return tokenError(400, 'invalid_grant', 'Invalid Authorization Code');
    if (form.get('redirect_uri') !== code.redirectUri) return tokenError(400, 'invalid_request', 'The redirect_uri does not match the one used in the authorization request');
    if (code.codeChallenge && !pkceMatches(code.codeChallenge, code.codeChallengeMethod ?? 'plain', form.get('code_verifier'))) return tokenError(400, 'invalid_grant', 'The code_verifier does not match the code_challenge');
    code.redeemed = true;
    if (ctx.oauth.grantRevoked(code.grant)) return tokenError(400, 'invalid_grant', 'Invalid Authorization Code');
    const rt = ctx.oauth.issueRefreshToken(code.grant, REFRESH_SECONDS);
    return tokenResponse(ctx, req, code.grant, rt, code.nonce);
  }
  if (grantType === 'refresh_token') {
    const rt = ctx.oauth.findRefreshToken(form.get('refresh_token') ?? '');
    if (!rt || !rt.active || rt.grant.clientId !== clientId || rt.expiresAt <= now || ctx.oauth.grantRevoked(rt.grant)) return tokenError(400, 'invalid_grant', 'The refresh token provided is expired, revoked, malformed, or invalid');
    // Webex normally hands back the same refresh token (with its remaining lifetime); with
    // rotation on it issues a new one and retires the old.
    if (ctx.faults.refreshRotation('webex')) {
      rt.active = false;
      return tokenResponse(ctx, req, rt.grant, ctx.oauth.issueRefreshToken(rt.grant, REFRESH_SECONDS));
    }
    return tokenResponse(ctx, req, rt.grant, rt);
  }
  return tokenError(400, 'unsupported_grant_type', `The grant type ${grantType ?? ''} is not supported`);
}

function userinfo(ctx: WebexOAuthContext, req: SbRequest): SbResponse {
  const check = ctx.oauth.checkAccessToken(bearerToken(req));
  if (!check.ok) return WEBEX.unauthorized();
  const p = ctx.store.people.get(check.token.grant.userId)!;
  return json(200, { sub: p.uuid, name: p.displayName, given_name: p.firstName, family_name: p.lastName, email: p.email, email_verified: 'true' });
}

export function addWebexOAuthRoutes(router: Router, ctx: WebexOAuthContext): void {
  router
    .add('GET', /^\/v1\/authorize$/, (req) => authorizeGet(ctx, req))
    .add('POST', /^\/v1\/authorize$/, (req) => authorizePost(ctx, req))
    .add('POST', /^\/v1\/access_token$/, (req) => accessToken(ctx, req))
    .add('GET', /^\/idb\/oauth2\/v2\/keys\/verificationjwk$/, () => json(200, { keys: [ctx.key.publicJwk] }))
    .add('GET', /^\/v1\/userinfo$/, (req) => userinfo(ctx, req))
    .add('GET', /^\/idb\/\.well-known\/openid-configuration$/, (req) =>
      json(200, {
        issuer: `${req.origin}/idb`,
        authorization_endpoint: `${req.origin}/v1/authorize`,
        token_endpoint: `${req.origin}/v1/access_token`,
        userinfo_endpoint: `${req.origin}/v1/userinfo`,
        jwks_uri: `${req.origin}/idb/oauth2/v2/keys/verificationjwk`,
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
        scopes_supported: ['openid', 'email', 'profile'],
        token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
        code_challenge_methods_supported: ['S256', 'plain'],
      }),
    );
}
