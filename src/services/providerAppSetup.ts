import type { Db } from '../db/database.ts';
import type { ConnectSession, Connection, ProviderApp } from '../db/schema.ts';
import { errors, TetherError } from '../errors.ts';
import type { Vault } from '../keys/index.ts';
import type { Logger } from '../logging.ts';
import type { OutboundFetch, OutboundRequest } from '../outbound/fetch.ts';
import { createProviderContext, type RetryPolicy } from '../providers/apiClient.ts';
import type { ProviderId } from '../providers/definition.ts';
import type { EndpointProfiles } from '../providers/profiles.ts';
import { providerDefinition } from '../providers/registry.ts';
import { capabilityCheck, identityChecks, type ApiCheck } from '../providers/verificationChecks.ts';
import { connectionsRepository } from '../repositories/connections.ts';
import { providerAppsRepository } from '../repositories/providerApps.ts';
import { audit } from './audit.ts';
import type { ConnectService } from './connect.ts';
import type { CallContext, UserPrincipal } from './context.ts';
import { resolveScopes, secretContext } from './providerApps.ts';
import type { TokenCustody } from './tokenCustody.ts';

export type VerificationStepId = 'token' | 'scopes' | 'identity' | 'capability';

/** One check of a verification. `code` (failed steps only) is stable; `message` is for people. */
export interface VerificationStep {
  id: VerificationStepId;
  status: 'passed' | 'failed' | 'skipped';
  message: string;
  code?: string;
  /** The API call the step made, relative to the profile's API base (`GET /me`). */
  request?: string;
  /** `scopes`: requested scopes the provider did not grant. */
  missingScopes?: string[];
}

/** Stored in provider_apps.verification and shown by GET /api/v1/provider-apps/{id}. */
export interface VerificationResult {
  status: 'passed' | 'failed';
  checkedAt: string;
  /** The service account's connection the checks ran with. */
  connectionId: string;
  /** Who the service account is, as the provider's identity call answered. */
  account: { email: string | null; displayName: string | null } | null;
  steps: VerificationStep[];
}

export type VerifyOutcome =
  | { kind: 'checked'; app: ProviderApp; result: VerificationResult }
  | { kind: 'authorization_required'; url: string; expiresAt: Date };

export interface ReconfigureInput {
  clientSecret?: string | undefined;
  scopes?: string[] | undefined;
  scopePreset?: string | undefined;
}

/** Why reconfigure flags connections `needs-reauth` (status reason and webhook `reason`). */
export const RECONFIGURED = 'provider_app_reconfigured';

/** Scopes providers grant for sign-in and do not always echo in the token response. */
const SIGN_IN_SCOPES = new Set(['openid', 'profile', 'email', 'offline_access']);

/** Each verification gets this long for all of its provider calls together. */
const CHECK_TIMEOUT_MS = 30_000;

/**
 * Seed 001's admin set-up of a provider app, after provisioning:
 * - verify: the org admin authorizes once as the app's service account (a connection linked to the
 *   app), then Tether makes real API calls with that token and reports, step by step, what worked;
 * - reconfigure: a new client secret and/or scopes. The service account's tokens are reset and
 *   every connection made through the app is flagged `needs-reauth` (webhook + audit); nothing else
 *   changes, so a reconnect of the same account brings each connection back as it was.
 */
export class ProviderAppSetup {
  private readonly deps: {
    db: Db;
    vault: Vault;
    connect: ConnectService;
    custody: TokenCustody;
    profiles: EndpointProfiles;
    fetch: OutboundFetch;
    request: OutboundRequest;
    retry: RetryPolicy;
    logger: Logger;
  };

  constructor(deps: ProviderAppSetup['deps']) {
    this.deps = deps;
    deps.connect.useVerification(this);
  }

  /**
   * Runs the checks now with the app's service account, or — when there is none that works, or
   * `reauthorize` — starts its authorization: a connect session whose callback runs the checks and
   * sends the browser to `returnTo` with `verification=passed|failed`.
   */
  async verify(ctx: CallContext, principal: UserPrincipal, appId: string, input: { returnTo?: string | undefined; reauthorize?: boolean | undefined }): Promise<VerifyOutcome> {
    const { db, connect } = this.deps;
    const orgId = principal.orgId;
    const returnTo = input.returnTo === undefined ? undefined : connect.checkReturnTo(input.returnTo);
    const app = await providerAppsRepository.findById(db, orgId, appId);
    if (!app) throw errors.notFound('The provider app');
    const service = app.service_connection_id && !input.reauthorize ? await connectionsRepository.findById(db, orgId, app.service_connection_id) : undefined;
    if (service && (service.status === 'active' || service.status === 'refreshing-failed')) {
      const result = await this.check(app, service);
      return { kind: 'checked', app: await this.record(ctx, app, service, result), result };
    }
    if (returnTo === undefined) {
      throw new TetherError(422, 'return_to_required', 'The app has no working service account yet: give returnTo, the page the admin’s browser comes back to after authorizing it.');
    }
    const session = await connect.createSession(ctx, principal, { providerAppId: app.id, returnTo }, { purpose: 'verify' });
    return { kind: 'authorization_required', ...session };
  }

  /** The callback of a verify session: the connection is the service account now; check it. */
  async completeVerification(ctx: CallContext, _session: ConnectSession, app: ProviderApp, connection: Connection): Promise<{ status: 'passed' | 'failed' }> {
    const result = await this.check(app, connection);
    await this.record(ctx, app, connection, result);
    return result;
  }

  async reconfigure(ctx: CallContext, orgId: string, appId: string, input: ReconfigureInput): Promise<{ app: ProviderApp; flagged: number }> {
    const { db, vault, custody } = this.deps;
    const current = await providerAppsRepository.findById(db, orgId, appId);
    if (!current) throw errors.notFound('The provider app');
    const scopes = input.scopes !== undefined || input.scopePreset !== undefined ? resolveScopes(current.provider, input.scopes, input.scopePreset) : undefined;
    const clientSecret = input.clientSecret === undefined ? undefined : await vault.encryptField(secretContext(orgId, appId), input.clientSecret);
    const { app, flagged } = await db.transaction().execute(async (tx) => {
      if (!(await providerAppsRepository.findByIdForUpdate(tx, orgId, appId))) throw errors.notFound('The provider app');
      const app = (await providerAppsRepository.reconfigure(tx, orgId, appId, { ...(clientSecret && { client_secret: clientSecret }), ...(scopes && { scopes }) }))!;
      const usable = await connectionsRepository.usableOfAppForUpdate(tx, orgId, appId);
      await custody.flagNeedsReauth(tx, usable, RECONFIGURED, ctx);
      if (app.service_connection_id) {
        // The org's own tokens (seed 001: "reset CasbWebexAccessToken … CasbWebexRefreshToken"): gone, not only unusable.
        await connectionsRepository.update(tx, orgId, app.service_connection_id, { access_token: null, refresh_token: null, access_token_expires_at: null, refresh_token_expires_at: null });
      }
      await audit(tx, ctx, {
        orgId,
        action: 'provider_app.reconfigure',
        target: { type: 'provider_app', id: appId },
        details: {
          clientSecretChanged: clientSecret !== undefined,
          ...(scopes && { scopes: scopes.length, scopesAdded: scopes.filter((s) => !current.scopes.includes(s)), scopesRemoved: current.scopes.filter((s) => !scopes.includes(s)) }),
          connectionsFlagged: usable.length,
          configurationVersion: app.configuration_version,
        },
      });
      return { app, flagged: usable.map((c) => c.id) };
    });
    for (const id of [...flagged, ...(app.service_connection_id ? [app.service_connection_id] : [])]) custody.forget(id);
    return { app, flagged: flagged.length };
  }

  /** Stores the result (unless the app was reconfigured meanwhile), links the service account, audits. */
  private async record(ctx: CallContext, app: ProviderApp, connection: Connection, result: VerificationResult): Promise<ProviderApp> {
    const passed = result.status === 'passed';
    const failedStep = result.steps.find((s) => s.status === 'failed');
    return this.deps.db.transaction().execute(async (tx) => {
      const stored = await providerAppsRepository.updateIfConfiguration(tx, app.org_id, app.id, app.configuration_version, {
        service_connection_id: connection.id,
        verification: JSON.stringify(result),
        status: passed ? 'verified' : 'verification_failed',
        ...(passed && { verified_at: new Date(result.checkedAt) }),
      });
      await audit(tx, ctx, {
        orgId: app.org_id,
        action: 'provider_app.verify',
        outcome: passed ? 'success' : 'failure',
        target: { type: 'provider_app', id: app.id },
        details: { connectionId: connection.id, ...(failedStep && { step: failedStep.id, code: failedStep.code }), ...(!stored && { stale: 'the app was reconfigured during the verification; the result was not stored' }) },
      });
      if (stored) return stored;
      this.deps.logger.info({ providerAppId: app.id }, 'verification result not stored: the app was reconfigured meanwhile');
      return (await providerAppsRepository.findById(tx, app.org_id, app.id)) ?? app;
    });
  }

  /** The checks, in order. A step that cannot run because an earlier one failed is skipped. */
  private async check(app: ProviderApp, connection: Connection): Promise<VerificationResult> {
    const { custody, profiles, fetch, request, retry } = this.deps;
    const provider = app.provider;
    const steps: VerificationStep[] = [];
    let account: VerificationResult['account'] = null;

    // 1. A token, and one Tether can keep fresh without the admin.
    let tokenFailure: TetherError | undefined;
    try {
      await custody.accessToken(connection, app);
    } catch (err) {
      if (!(err instanceof TetherError)) throw err;
      tokenFailure = err;
    }
    if (tokenFailure) {
      steps.push({ id: 'token', status: 'failed', code: tokenFailure.code, message: `No usable access token: ${tokenFailure.message}` });
    } else if (!connection.refresh_token) {
      steps.push({ id: 'token', status: 'failed', code: 'no_refresh_token', message: `${name(provider)} issued an access token but no refresh token, so the service account would stop working when it expires. ${refreshHint(provider)}` });
    } else {
      steps.push({ id: 'token', status: 'passed', message: 'Access and refresh token obtained and stored encrypted.' });
    }

    // 2. The scopes the provider granted, against those the app asks for.
    const missing = missingScopes(provider, app.scopes, connection.scopes);
    steps.push(
      missing.length === 0
        ? { id: 'scopes', status: 'passed', message: `All ${app.scopes.length} requested scopes were granted.` }
        : { id: 'scopes', status: 'failed', code: 'scopes_missing', missingScopes: missing, message: `${name(provider)} did not grant ${missing.length} of the ${app.scopes.length} requested scopes: ${missing.join(', ')}. Add them to the app at the provider (an admin may have to consent), then verify with reauthorize.` },
    );

    // 3 and 4: real calls with the token, through Tether's normal provider client.
    const identity = identityChecks[provider];
    const capability = capabilityCheck(provider, app.scopes);
    if (tokenFailure) {
      steps.push({ id: 'identity', status: 'skipped', request: describe(identity), message: 'Not tried: there is no usable token.' });
      steps.push({ id: 'capability', status: 'skipped', ...(capability && { request: describe(capability) }), message: 'Not tried: there is no usable token.' });
    } else {
      const endpoints = profiles.resolve(provider, app.profile, app.tenant ?? undefined);
      let current: string | undefined;
      const api = createProviderContext({
        apiBaseUrl: endpoints.apiBaseUrl,
        fetch,
        request,
        retry,
        signal: AbortSignal.timeout(CHECK_TIMEOUT_MS),
        accessToken: async () => (current = await custody.accessToken(connection, app)),
        onUnauthorized: async () => current !== undefined && (await custody.afterUnauthorized(connection, app, current)) !== undefined,
      });
      // A 401 that survived the refresh: when the refresh itself was refused, custody has flagged the
      // connection needs-reauth (webhook + audit) and the admin must authorize again.
      const revoked = async () => (await connectionsRepository.findById(this.deps.db, connection.org_id, connection.id))?.status === 'needs-reauth';
      const identityStep = await call(api, provider, 'identity', identity, revoked);
      steps.push(identityStep.step);
      if (identityStep.body) {
        account = identity.account(identityStep.body);
        identityStep.step.message = `${identity.proves}: ${account.displayName ?? '(no name)'}${account.email ? ` <${account.email}>` : ''}.`;
      }
      if (!capability) {
        steps.push({ id: 'capability', status: 'skipped', message: `None of the app's scopes has a capability check for ${name(provider)}.` });
      } else if (identityStep.step.status !== 'passed') {
        steps.push({ id: 'capability', status: 'skipped', request: describe(capability), message: 'Not tried: the identity call failed.' });
      } else {
        steps.push((await call(api, provider, 'capability', capability, revoked)).step);
      }
    }
    return {
      status: steps.some((s) => s.status === 'failed') ? 'failed' : 'passed',
      checkedAt: new Date().toISOString(),
      connectionId: connection.id,
      account,
      steps,
    };
  }
}

/** One API call as a step: never the provider's body or a token in the message, only the status. */
async function call(api: ReturnType<typeof createProviderContext>, provider: ProviderId, id: VerificationStepId, check: ApiCheck, revoked: () => Promise<boolean>): Promise<{ step: VerificationStep; body?: Record<string, unknown> }> {
  const request = describe(check);
  let res: Response;
  try {
    res = await api.api(check.path, check.query ? { query: check.query } : {});
  } catch (err) {
    if (!(err instanceof TetherError)) throw err;
    return { step: { id, status: 'failed', request, code: err.code, message: `${request}: ${err.message}` } };
  }
  if (!res.ok) {
    await res.body?.cancel();
    if (res.status === 401 && (await revoked())) {
      return { step: { id, status: 'failed', request, code: 'needs_reauth', message: `${request} answered HTTP 401 and ${name(provider)} refused the refresh token: the grant was revoked or expired. Authorize the service account again (verify with reauthorize).` } };
    }
    const [code, why] =
      res.status === 401 ? ['provider_unauthorized', `${name(provider)} did not accept the token`]
      : res.status === 403 ? ['provider_forbidden', `${name(provider)} refused the call: ${check.forbiddenHint}`]
      : res.status === 404 ? ['provider_not_found', `${name(provider)} found nothing there for this account`]
      : ['provider_error', `${name(provider)} answered with an error`];
    return { step: { id, status: 'failed', request, code, message: `${request} answered HTTP ${res.status}: ${why}.` } };
  }
  let body: Record<string, unknown>;
  try {
    body = (await res.json()) as Record<string, unknown>;
  } catch {
    return { step: { id, status: 'failed', request, code: 'provider_error', message: `${request} answered HTTP ${res.status} with a body that is not JSON.` } };
  }
  return { step: { id, status: 'passed', request, message: `${check.proves}.` }, body: typeof body === 'object' && body !== null ? body : {} };
}

function describe(check: ApiCheck): string {
  const query = check.query ? `?${new URLSearchParams(Object.entries(check.query).map(([k, v]): [string, string] => [k, String(v)])).toString()}` : '';
  return `GET ${check.path}${query}`;
}

function name(provider: ProviderId): string {
  return providerDefinition(provider).displayName.replace(/ \(.*\)$/, '');
}

function refreshHint(provider: ProviderId): string {
  switch (provider) {
    case 'microsoft':
      return 'Microsoft issues one only with the offline_access permission.';
    case 'google':
      return 'Google issues one only on an offline consent; remove the app’s access in the Google account and verify with reauthorize.';
    case 'webex':
      return 'Webex integrations always get one; check the integration’s settings.';
  }
}

/**
 * Requested scopes missing from the granted ones. Sign-in scopes are left out (providers do not
 * always echo them); Microsoft may prefix Graph scopes with their resource; case does not matter.
 */
function missingScopes(provider: ProviderId, requested: readonly string[], granted: readonly string[]): string[] {
  const normalise = (scope: string) => (provider === 'microsoft' ? scope.replace(/^https:\/\/graph\.microsoft\.(com|us)\//i, '') : scope).toLowerCase();
  const have = new Set(granted.map(normalise));
  return requested.filter((s) => !SIGN_IN_SCOPES.has(s) && !have.has(normalise(s)));
}
