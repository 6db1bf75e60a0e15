// Microsoft identity platform v2 endpoints: discovery, JWKS, authorize (sign-in + consent page),
// token (authorization_code, refresh_token) and the OIDC userinfo endpoint.
// https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow
import { createHash } from 'node:crypto';
import type { Faults } from '../common/faults.ts';
import { basicCredentials, bearerToken, escapeHtml, html, json, parseForm, redirect, type Router, type SbRequest, type SbResponse } from '../common/http.ts';
import type { SigningKey } from '../common/keys.ts';
import { pkceMatches, type Grant, type OAuthStore } from '../common/oauth.ts';
import { renderSignIn } from '../common/signin.ts';
import { AAD, aadError, aadErrorBody, graphError } from './errors.ts';
import type { MsStore, MsTenant, MsUser } from './store.ts';

export interface MsIdentityContext {
  store: MsStore;
  oauth: OAuthStore;
  key: SigningKey;
  faults: Faults;
}

const ACCESS_TOKEN_SECONDS = 3599;
const REFRESH_TOKEN_SECONDS = 90 * 24 * 3600;
const MULTI_TENANT = new Set(['common', 'organizations']);
const OIDC_SCOPES = new Set(['openid', 'profile', 'email', 'offline_access']);

/** "https://graph.microsoft.com/Files.Read" → "Files.Read"; OIDC scopes stay as they are. */
/** What `.default` stands for: the permissions the sandbox app is configured with. */
const DEFAULT_PERMISSIONS = ['User.Read', 'MailboxSettings.Read', 'Files.ReadWrite.All', 'Sites.ReadWrite.All'];

export function normalizeScopes(scope: string): string[] {
  const out = scope
    .split(/\s+/)
    .filter(Boolean)
    .map((s) => s.replace(/^https:\/\/graph\.microsoft\.com\//i, ''))
    .flatMap((s) => (s === '.default' ? DEFAULT_PERMISSIONS : [s]));
  return [...new Set(out)];
}

function tenantsFor(ctx: MsIdentityContext, segment: string): MsTenant[] | undefined {
  if (MULTI_TENANT.has(segment.toLowerCase())) return [...ctx.store.tenants.values()];
  const t = ctx.store.tenantByIdOrDomain(segment);
  return t ? [t] : undefined;
}

function discovery(req: SbRequest, segment: string, tenant: MsTenant | undefined): SbResponse {
  const o = req.origin;
  const issuerTenant = tenant ? tenant.id : '{tenantid}';
  return json(200, {
    token_endpoint: `${o}/${segment}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    jwks_uri: `${o}/${segment}/discovery/v2.0/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    issuer: `${o}/${issuerTenant}/v2.0`,
    request_uri_parameter_supported: false,
    userinfo_endpoint: `${o}/oidc/userinfo`,
    authorization_endpoint: `${o}/${segment}/oauth2/v2.0/authorize`,
    device_authorization_endpoint: `${o}/${segment}/oauth2/v2.0/devicecode`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${o}/${segment}/oauth2/v2.0/logout`,
    claims_supported: ['sub', 'iss', 'cloud_instance_name', 'cloud_instance_host_name', 'cloud_graph_host_name', 'msgraph_host', 'aud', 'exp', 'iat', 'auth_time', 'acr', 'nonce', 'preferred_username', 'name', 'tid', 'ver', 'at_hash', 'c_hash', 'email'],
    kerberos_endpoint: `${o}/${segment}/kerberos`,
    tenant_region_scope: 'NA',
    cloud_instance_name: 'microsoftonline.com',
    cloud_graph_host_name: 'graph.windows.net',
    msgraph_host: new URL(o).host,
    rbac_url: 'https://pas.windows.net',
  });
}

/** Errors the authorize endpoint cannot redirect (unknown app, bad redirect URI) are shown as a page. */
function errorPage(ctx: MsIdentityContext, e: Parameters<typeof aadError>[0]): SbResponse {
  const body = aadErrorBody(e, ctx.faults.now());
  return html(e.status, `<!doctype html><html><head><title>Sign in to your account</title></head><body><h1>Sign in</h1><p>Sorry, but we’re having trouble signing you in.</p><p id="error">${escapeHtml(String(body.error_description))}</p></body></html>`);
}

function authorizeRedirect(redirectUri: string, params: Record<string, string | undefined>): SbResponse {
  const u = new URL(redirectUri);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) u.searchParams.set(k, v);
  return redirect(u.toString());
}

function authorizeGet(ctx: MsIdentityContext, req: SbRequest, segment: string): SbResponse {
  const q = req.query;
  const tenants = tenantsFor(ctx, segment);
  if (!tenants) return errorPage(ctx, AAD.tenantNotFound(segment));
  const clientId = q.get('client_id') ?? '';
  const app = ctx.oauth.apps.get(clientId);
  if (!app) return errorPage(ctx, AAD.appNotFound(clientId, segment));
  const redirectUri = q.get('redirect_uri') ?? app.redirectUris[0] ?? '';
  if (!app.redirectUris.includes(redirectUri)) {
    return errorPage(ctx, { status: 400, error: 'invalid_request', code: 50011, description: `The redirect URI '${redirectUri}' specified in the request does not match the redirect URIs configured for the application '${clientId}'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal.` });
  }
  const state = q.get('state') ?? undefined;
  const fail = (error: string, code: number, description: string) => authorizeRedirect(redirectUri, { error, error_description: aadErrorBody({ error, code, description }, ctx.faults.now()).error_description as string, state });
  if (q.get('response_type') !== 'code') return fail('unsupported_response_type', 700054, `response_type '${q.get('response_type') ?? ''}' is not enabled for the application.`);
  const scope = q.get('scope');
  if (!scope) return fail('invalid_request', 900144, "The request body must contain the following parameter: 'scope'.");
  // The sandbox keeps no browser session, so a silent request can never succeed.
  if (q.get('prompt') === 'none') return fail('login_required', 50058, 'A silent sign-in request was sent but no user is signed in.');
  const challenge = q.get('code_challenge') ?? undefined;
  const method = q.get('code_challenge_method') ?? (challenge ? 'plain' : undefined);
  if (method && method !== 'S256' && method !== 'plain') return fail('invalid_request', 50149, `The code_challenge_method '${method}' is not supported.`);
  const pending = ctx.oauth.addPending({
    clientId,
    redirectUri,
    scopes: normalizeScopes(scope),
    ...(state !== undefined ? { state } : {}),
    ...(q.get('nonce') ? { nonce: q.get('nonce')! } : {}),
    ...(challenge ? { codeChallenge: challenge, codeChallengeMethod: method as 'S256' | 'plain' } : {}),
    ...(q.get('login_hint') ? { loginHint: q.get('login_hint')! } : {}),
    extra: { tenantSegment: segment },
  });
  const accounts = [...ctx.store.users.values()].filter((u) => tenants.some((t) => t.id === u.tenantId));
  return renderSignIn({
    brand: 'Microsoft',
    action: `/${segment}/oauth2/v2.0/authorize`,
    pendingId: pending.id,
    appName: app.name,
    scopes: pending.scopes,
    accounts: accounts.map((u) => ({ id: u.id, email: u.userPrincipalName, displayName: u.displayName })),
    ...(pending.loginHint ? { loginHint: pending.loginHint } : {}),
  });
}

function authorizePost(ctx: MsIdentityContext, req: SbRequest): SbResponse {
  const form = parseForm(req);
  const pending = ctx.oauth.takePending(form.get('pending') ?? '');
  if (!pending) return html(400, '<!doctype html><p>This sign-in request has expired or was already used. Start again from the application.</p>');
  if (form.get('decision') !== 'accept') {
    return authorizeRedirect(pending.redirectUri, {
      error: 'access_denied',
      error_description: aadErrorBody({ error: 'access_denied', code: 65004, description: 'User declined to consent to access the app.' }, ctx.faults.now()).error_description as string,
      state: pending.state,
    });
  }
  const user = ctx.store.userByIdOrUpn(form.get('login') ?? '');
  const tenants = tenantsFor(ctx, pending.extra.tenantSegment ?? 'common') ?? [];
  if (!user || !tenants.some((t) => t.id === user.tenantId)) return html(400, '<!doctype html><p>Unknown account for this tenant.</p>');
  const code = ctx.oauth.issueCode(pending, user.id);
  // Microsoft appends session_state alongside code and state.
  return authorizeRedirect(pending.redirectUri, { code: code.code, state: pending.state, session_state: createHash('sha256').update(user.id).digest('hex').slice(0, 36) });
}

async function idToken(ctx: MsIdentityContext, req: SbRequest, grant: Grant, user: MsUser, nonce: string | undefined): Promise<string> {
  const now = Math.floor(ctx.faults.now() / 1000);
  return ctx.key.sign({
    aud: grant.clientId,
    iss: `${req.origin}/${user.tenantId}/v2.0`,
    iat: now,
    nbf: now,
    exp: now + 3600,
    name: user.displayName,
    oid: user.id,
    preferred_username: user.userPrincipalName,
    ...(grant.scopes.includes('email') ? { email: user.mail } : {}),
    // v2 `sub` is pairwise: unique per user and application.
    sub: createHash('sha256').update(`${user.id}:${grant.clientId}`).digest('base64url').slice(0, 43),
    tid: user.tenantId,
    uti: createHash('sha256').update(`${now}:${user.id}:${Math.random()}`).digest('base64url').slice(0, 22),
    ver: '2.0',
    ...(nonce ? { nonce } : {}),
  });
}

async function tokenResponse(ctx: MsIdentityContext, req: SbRequest, grant: Grant, nonce: string | undefined, withRefresh: boolean): Promise<SbResponse> {
  const user = ctx.store.users.get(grant.userId)!;
  const access = ctx.oauth.issueAccessToken(grant, ACCESS_TOKEN_SECONDS);
  const body: Record<string, unknown> = {
    token_type: 'Bearer',
    scope: grant.scopes.filter((s) => s !== 'offline_access').join(' '),
    expires_in: ACCESS_TOKEN_SECONDS,
    ext_expires_in: ACCESS_TOKEN_SECONDS,
    access_token: access.token,
  };
  if (withRefresh && grant.scopes.includes('offline_access')) body.refresh_token = ctx.oauth.issueRefreshToken(grant, REFRESH_TOKEN_SECONDS).token;
  if (grant.scopes.includes('openid')) body.id_token = await idToken(ctx, req, grant, user, nonce);
  return json(200, body, { 'cache-control': 'no-store, no-cache', pragma: 'no-cache' });
}

async function token(ctx: MsIdentityContext, req: SbRequest, segment: string): Promise<SbResponse> {
  const now = ctx.faults.now();
  const fail = (e: Parameters<typeof aadError>[0]) => aadError(e, now);
  if (!tenantsFor(ctx, segment)) return fail(AAD.tenantNotFound(segment));
  const form = parseForm(req);
  const basic = basicCredentials(req);
  const grantType = form.get('grant_type');
  if (!grantType) return fail(AAD.missingParam('grant_type'));
  const clientId = basic?.id ?? form.get('client_id');
  if (!clientId) return fail(AAD.missingParam('client_id'));
  const app = ctx.oauth.apps.get(clientId);
  if (!app) return fail(AAD.appNotFound(clientId, segment));
  const secret = basic?.secret ?? form.get('client_secret');
  if (!secret) return fail(AAD.missingSecret());
  if (secret !== app.clientSecret) return fail(AAD.badSecret(clientId));

  if (grantType === 'authorization_code') {
    const codeValue = form.get('code');
    if (!codeValue) return fail(AAD.missingParam('code'));
    const code = ctx.oauth.findCode(codeValue);
    if (!code) return fail(AAD.malformedGrant());
    if (code.redeemed) return fail(AAD.codeRedeemed());
    if (code.expiresAt <= now) return fail(AAD.codeExpired());
    if (code.grant.clientId !== clientId) return fail(AAD.codeOtherClient());
    const redirectUri = form.get('redirect_uri');
    if (!redirectUri) return fail(AAD.missingParam('redirect_uri'));
    if (redirectUri !== code.redirectUri) return fail(AAD.redirectMismatch(redirectUri, code.redirectUri));
    if (code.codeChallenge) {
      const verifier = form.get('code_verifier');
      if (!verifier) return fail(AAD.verifierMissing());
      if (!pkceMatches(code.codeChallenge, code.codeChallengeMethod ?? 'plain', verifier)) return fail(AAD.verifierMismatch());
    }
    // Codes are single-use: the first redemption attempt that gets this far consumes it.
    code.redeemed = true;
    if (ctx.oauth.grantRevoked(code.grant)) return fail(AAD.grantRevoked());
    return tokenResponse(ctx, req, code.grant, code.nonce, true);
  }
  if (grantType === 'refresh_token') {
    const value = form.get('refresh_token');
    if (!value) return fail(AAD.missingParam('refresh_token'));
    const rt = ctx.oauth.findRefreshToken(value);
    if (!rt || rt.grant.clientId !== clientId) return fail(AAD.malformedGrant());
    if (rt.revoked || ctx.oauth.grantRevoked(rt.grant)) return fail(AAD.grantRevoked());
    if (!rt.active) return fail(AAD.malformedGrant());
    if (rt.expiresAt <= now) return fail(AAD.refreshExpired());
    const requested = form.get('scope');
    const grant = requested ? { ...rt.grant, scopes: normalizeScopes(requested).filter((s) => rt.grant.scopes.includes(s) || OIDC_SCOPES.has(s)) } : rt.grant;
    const rotate = ctx.faults.refreshRotation('microsoft');
    // With rotation on, the used refresh token is retired so a client that keeps using the old one
    // fails loudly; with rotation off the same refresh token keeps working and none is returned.
    if (rotate) rt.active = false;
    return tokenResponse(ctx, req, grant, undefined, rotate);
  }
  return fail(AAD.unsupportedGrant(grantType));
}

function userinfo(ctx: MsIdentityContext, req: SbRequest): SbResponse {
  const check = ctx.oauth.checkAccessToken(bearerToken(req));
  if (!check.ok) return graphError(401, 'InvalidAuthenticationToken', 'Access token is empty.', req, ctx.faults.now());
  const user = ctx.store.users.get(check.token.grant.userId)!;
  return json(200, {
    sub: createHash('sha256').update(`${user.id}:${check.token.grant.clientId}`).digest('base64url').slice(0, 43),
    name: user.displayName,
    family_name: user.surname,
    given_name: user.givenName,
    picture: `${req.origin}/v1.0/me/photo/$value`,
    email: user.mail,
  });
}

export function addIdentityRoutes(router: Router, ctx: MsIdentityContext): void {
  const seg = '([^/]+)';
  router
    .add('GET', /^\/oidc\/userinfo$/, (req) => userinfo(ctx, req))
    .add('GET', new RegExp(`^/${seg}/v2\\.0/\\.well-known/openid-configuration$`), (req, m) => {
      const tenants = tenantsFor(ctx, m[1]!);
      if (!tenants) return aadError(AAD.tenantNotFound(m[1]!), ctx.faults.now());
      return discovery(req, m[1]!, MULTI_TENANT.has(m[1]!.toLowerCase()) ? undefined : tenants[0]);
    })
    .add('GET', new RegExp(`^/${seg}/discovery/v2\\.0/keys$`), () => json(200, { keys: [{ ...ctx.key.publicJwk, x5t: ctx.key.kid, issuer: undefined }] }))
    .add('GET', new RegExp(`^/${seg}/oauth2/v2\\.0/authorize$`), (req, m) => authorizeGet(ctx, req, m[1]!))
    .add('POST', new RegExp(`^/${seg}/oauth2/v2\\.0/authorize$`), (req) => authorizePost(ctx, req))
    .add('POST', new RegExp(`^/${seg}/oauth2/v2\\.0/token$`), (req, m) => token(ctx, req, m[1]!));
}
