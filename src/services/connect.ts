import { randomUUID, timingSafeEqual } from 'node:crypto';
import type { Db } from '../db/database.ts';
import type { ConnectSession, Connection, ProviderApp } from '../db/schema.ts';
import { errors, TetherError } from '../errors.ts';
import type { Vault } from '../keys/index.ts';
import type { Logger } from '../logging.ts';
import { OAuthError } from '../oauth/errors.ts';
import { completeAuthorization, createAuthorizationRequest } from '../oauth/flow.ts';
import { connectSessionsRepository } from '../repositories/connectSessions.ts';
import { groupsRepository } from '../repositories/groups.ts';
import { providerAppsRepository } from '../repositories/providerApps.ts';
import { randomToken, sha256 } from '../security/tokens.ts';
import { audit } from './audit.ts';
import type { ConnectionsService } from './connections.ts';
import type { CallContext, UserPrincipal } from './context.ts';
import type { OAuthClients } from './oauthClients.ts';
import { checkReturnTo } from './returnTo.ts';

export const CONNECT_SESSION_TTL_MS = 10 * 60 * 1000;
export const CONNECT_COOKIE_PREFIX = 'tether_connect_';

/** Parameters that belong to the implicit/hybrid flows or to the token response: never in our callback. */
const FORBIDDEN_CALLBACK_PARAMS = ['access_token', 'id_token', 'token', 'token_type', 'refresh_token', 'expires_in', 'code_verifier', 'response'];

export interface NewConnectSession {
  providerAppId: string;
  returnTo: string;
  name?: string | undefined;
  shared?: { groupIds: string[] } | undefined;
}

/** What the callback route sends: a 303 to the session's returnTo, or (session unknown) an error page. */
export type CallbackOutcome = { kind: 'redirect'; location: string; clearCookie: string } | { kind: 'page'; status: number; title: string; message: string };

/** The connect link was unknown, already opened or expired: one answer for all three (no oracle). */
export class ConnectLinkInvalid extends Error {}

/** What finishes a `verify` session: links the service account's connection to its app and runs the checks. */
export interface VerificationHook {
  completeVerification(ctx: CallContext, session: ConnectSession, app: ProviderApp, connection: Connection): Promise<{ status: 'passed' | 'failed' }>;
}

/**
 * The OAuth connect flow (DESIGN.md security rules): a session is created by the authenticated user
 * (`POST /api/v1/connect-sessions`), opened once by a browser (`GET /connect/:token`, which binds
 * it to that browser with a cookie and redirects to the provider) and finished once by the callback
 * (`GET /oauth/callback`). Every check on the callback runs before any token request.
 */
export class ConnectService {
  private readonly db: Db;
  private readonly vault: Vault;
  private readonly clients: OAuthClients;
  private readonly connections: ConnectionsService;
  private readonly publicUrl: string;
  private readonly allowedOrigins: string[];
  private readonly logger: Logger;
  private verification: VerificationHook | undefined;

  constructor(deps: { db: Db; vault: Vault; clients: OAuthClients; connections: ConnectionsService; publicUrl: string; allowedReturnOrigins: readonly string[]; logger: Logger }) {
    this.db = deps.db;
    this.vault = deps.vault;
    this.clients = deps.clients;
    this.connections = deps.connections;
    this.publicUrl = deps.publicUrl;
    this.allowedOrigins = [new URL(deps.publicUrl).origin, ...deps.allowedReturnOrigins];
    this.logger = deps.logger;
  }

  /** Set by the provider app setup service, which finishes `verify` sessions. */
  useVerification(hook: VerificationHook): void {
    this.verification = hook;
  }

  /** A `returnTo` checked against the allowlist (Tether's origin and `connect.allowedReturnOrigins`). */
  checkReturnTo(raw: string): string {
    return checkReturnTo(raw, this.allowedOrigins);
  }

  /**
   * `purpose: 'verify'`: the authorization of a provider app's service account (org admins only;
   * see ProviderAppSetup.verify); its callback runs the app's checks instead of only connecting.
   */
  async createSession(ctx: CallContext, principal: UserPrincipal, input: NewConnectSession, options: { purpose?: 'connect' | 'verify' } = {}): Promise<{ url: string; expiresAt: Date }> {
    const orgId = principal.orgId;
    const purpose = options.purpose ?? 'connect';
    const returnTo = checkReturnTo(input.returnTo, this.allowedOrigins);
    const app = await providerAppsRepository.findById(this.db, orgId, input.providerAppId);
    if (!app) throw errors.notFound('The provider app');
    // Fails now (unknown or unsupported profile) rather than in the user's browser.
    this.clients.withoutSecret(app);
    const groupIds = [...new Set(input.shared?.groupIds ?? [])];
    if (input.shared) {
      // Sharing a connection with groups hands its access to other people: an org admin decision.
      if (principal.user.role !== 'admin') throw errors.forbidden('Only org admins can create shared connections.');
      const known = await groupsRepository.existingIds(this.db, orgId, groupIds);
      const missing = groupIds.filter((id) => !known.has(id));
      if (missing.length > 0) throw new TetherError(422, 'unknown_group', 'Some group ids are not groups of this org.', { details: { groupIds: missing } });
    }
    const token = randomToken();
    const id = randomUUID();
    const expiresAt = new Date(Date.now() + CONNECT_SESSION_TTL_MS);
    await this.db.transaction().execute(async (tx) => {
      await connectSessionsRepository.create(tx, {
        id,
        org_id: orgId,
        // The owner is whoever is authenticated: never a user id from the request.
        user_id: principal.user.id,
        provider_app_id: app.id,
        token_hash: sha256(token),
        return_to: returnTo,
        name: input.name ?? null,
        shared: input.shared !== undefined,
        shared_group_ids: groupIds,
        purpose,
        expires_at: expiresAt,
      });
      await audit(tx, ctx, {
        orgId,
        action: 'connect_session.create',
        target: { type: 'connect_session', id },
        details: { providerAppId: app.id, provider: app.provider, returnToOrigin: new URL(returnTo).origin, shared: input.shared !== undefined, purpose },
      });
    });
    return { url: `${this.publicUrl}/connect/${token}`, expiresAt };
  }

  /**
   * The browser opened the connect URL: once only. Generates state, PKCE verifier and nonce, keeps
   * them server side (state hashed, verifier encrypted) with the hash of a fresh browser-binding
   * cookie, and returns where to send the browser.
   */
  async open(token: string): Promise<{ location: string; cookie: { name: string; value: string; maxAgeSeconds: number } }> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(token)) throw new ConnectLinkInvalid();
    const session = await connectSessionsRepository.findOpenable(this.db, sha256(token));
    if (!session) throw new ConnectLinkInvalid();
    const app = await providerAppsRepository.findById(this.db, session.org_id, session.provider_app_id);
    if (!app) throw new ConnectLinkInvalid();
    const { url, pending } = await createAuthorizationRequest(this.clients.withoutSecret(app));
    const browser = randomToken();
    const codeVerifier = await this.vault.encryptField(verifierContext(session), pending.codeVerifier);
    const opened = await connectSessionsRepository.markOpened(this.db, session.id, {
      state_hash: sha256(pending.state),
      browser_hash: sha256(browser),
      code_verifier: codeVerifier,
      nonce: pending.nonce,
    });
    if (!opened) throw new ConnectLinkInvalid();
    const maxAgeSeconds = Math.max(1, Math.ceil((session.expires_at.getTime() - Date.now()) / 1000));
    return { location: url.href, cookie: { name: `${CONNECT_COOKIE_PREFIX}${session.id}`, value: browser, maxAgeSeconds } };
  }

  /**
   * The provider sent the browser back. `rawQuery` is the callback's query string as received;
   * `cookie(name)` reads the request's cookies; `pathAppId` is the app id in the redirect URI's path
   * (`/oauth/callback/<id>`, with `connect.redirectUris: per-app`).
   */
  async complete(ctx: CallContext, rawQuery: string, cookie: (name: string) => string | undefined, pathAppId?: string): Promise<CallbackOutcome> {
    const params = new URLSearchParams(rawQuery);
    const states = params.getAll('state');
    if (states.length !== 1 || states[0] === '') {
      this.logger.warn({ requestId: ctx.requestId, states: states.length }, 'OAuth callback without exactly one state');
      return unknownSession(params);
    }
    const found = await connectSessionsRepository.consumeByState(this.db, sha256(states[0]!));
    if (!found) {
      this.logger.warn({ requestId: ctx.requestId }, 'OAuth callback with an unknown state');
      return unknownSession(params);
    }
    const { session, consumed } = found;
    const fail = (code: string, reason: string) => this.fail(ctx, session, code, reason);

    // Everything below runs before any request to the provider.
    if (!consumed) return fail('connect_session_used', 'the state was already used');
    if (session.expires_at.getTime() <= Date.now()) return fail('connect_session_expired', 'the session expired');
    const browser = cookie(`${CONNECT_COOKIE_PREFIX}${session.id}`);
    if (browser === undefined || !session.browser_hash || !timingSafeEqual(sha256(browser), session.browser_hash)) {
      return fail('browser_mismatch', 'the callback came from another browser than the one that started the flow');
    }
    const arrivedAt = `${this.publicUrl}/oauth/callback${pathAppId === undefined ? '' : `/${pathAppId}`}`;
    if (arrivedAt !== this.clients.redirectUriFor({ id: session.provider_app_id })) {
      // An OAuth mix-up (RFC 9700 §4.4): this state's app has another redirect URI than the one the
      // provider sent the browser to. Refused before the code goes to any token endpoint.
      return fail('invalid_callback', "the response arrived at another provider app's redirect URI");
    }
    const duplicated = [...new Set(params.keys())].filter((key) => params.getAll(key).length > 1);
    if (duplicated.length > 0) return fail('invalid_callback', `duplicate parameters: ${duplicated.join(', ')}`);
    const forbidden = FORBIDDEN_CALLBACK_PARAMS.filter((key) => params.has(key));
    if (forbidden.length > 0) return fail('invalid_callback', `token parameters in the callback: ${forbidden.join(', ')}`);
    const providerError = params.get('error');
    if (providerError !== null) {
      // The provider's own error: its code is passed on only when it is a plain RFC 6749 §4.1.2.1 code.
      const code = /^[a-z_]{1,64}$/.test(providerError) ? providerError : 'provider_error';
      return this.fail(ctx, session, 'provider_denied', `the provider answered error=${code}`, { providerError: code });
    }

    const app = await providerAppsRepository.findById(this.db, session.org_id, session.provider_app_id);
    if (!app) return fail('invalid_callback', 'the provider app is gone');
    const verification = this.verification;
    if (session.purpose === 'verify' && !verification) return fail('invalid_callback', 'provider app verification is not available');
    try {
      const client = await this.clients.withSecret(app);
      const codeVerifier = await this.vault.decryptText(verifierContext(session), session.code_verifier!);
      const callbackUrl = new URL(`${client.redirectUri}?${params.toString()}`);
      const { tokens, account } = await completeAuthorization(client, callbackUrl, { state: states[0]!, codeVerifier, nonce: session.nonce });
      const { connection, created } = await this.connections.saveAuthorization(ctx, session, app, tokens, account);
      if (session.purpose === 'verify') {
        const result = await verification!.completeVerification(ctx, session, app, connection);
        return redirect(session, { providerAppId: app.id, verification: result.status });
      }
      return redirect(session, { connectionId: connection.id, status: created ? 'created' : 'updated' });
    } catch (err) {
      if (err instanceof TetherError) {
        const code = err instanceof OAuthError ? err.failure : err.code;
        return fail(code, err.message);
      }
      throw err;
    }
  }

  private async fail(ctx: CallContext, session: ConnectSession, code: string, reason: string, extra: Record<string, string> = {}): Promise<CallbackOutcome> {
    this.logger.warn({ requestId: ctx.requestId, connectSessionId: session.id, code, reason }, 'OAuth callback refused');
    await audit(this.db, ctx, {
      orgId: session.org_id,
      action: 'connection.connect',
      outcome: 'failure',
      target: { type: 'connect_session', id: session.id },
      details: { code, reason, providerAppId: session.provider_app_id, userId: session.user_id },
    });
    // A verify session's returnTo (the admin's page) learns which app failed to verify.
    const verify: Record<string, string> = session.purpose === 'verify' ? { providerAppId: session.provider_app_id, verification: 'failed' } : {};
    return redirect(session, { status: 'error', error: code, ...extra, ...verify });
  }
}

function verifierContext(session: ConnectSession) {
  return { orgId: session.org_id, table: 'connect_sessions', rowId: session.id, field: 'code_verifier', purpose: 'tokens' } as const;
}

/** To the returnTo stored with the session (never one from the callback), with only an id and a status. */
function redirect(session: ConnectSession, params: Record<string, string>): CallbackOutcome {
  const url = new URL(session.return_to);
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  return { kind: 'redirect', location: url.href, clearCookie: `${CONNECT_COOKIE_PREFIX}${session.id}` };
}

/** The page for a callback no session claims. The provider's error, if any, is shown as text (the route escapes it), never followed. */
function unknownSession(params: URLSearchParams): CallbackOutcome {
  const providerSaid = params.has('error') ? ` The response carried the error "${(params.get('error') ?? '').slice(0, 100)}": ${(params.get('error_description') ?? '').slice(0, 300)}` : '';
  return {
    kind: 'page',
    status: 400,
    title: 'This sign-in cannot be completed',
    message: `The sign-in response does not belong to a connection Tether is waiting for (it is unknown, was already used, or is malformed). Start connecting again from the application.${providerSaid}`,
  };
}

export type { ProviderApp };
