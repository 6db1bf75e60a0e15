import { join } from 'node:path';
import type { Config } from './config/schema.ts';
import type { Db } from './db/database.ts';
import type { Logger } from './logging.ts';
import { SANDBOX_PROFILE, type EndpointProfiles } from './providers/profiles.ts';
import { startSandbox, type Sandbox } from './sandbox/index.ts';
import type { CallContext } from './services/context.ts';
import type { ProviderAppsService } from './services/providerApps.ts';
import { randomToken } from './security/tokens.ts';

/**
 * The provider sandbox inside `npm start`: so anyone can try the whole product offline, Tether runs
 * the local emulators when no real provider credentials are configured (`TETHER_SANDBOX=auto`: no
 * provider app uses a real profile), or always (`on`), or never (`off`, for production). The
 * sandbox's endpoints become the `sandbox` profile and its CA is trusted for provider calls — TLS
 * stays verified. Its OAuth state is in memory: connections made against it need a new sign-in
 * after a restart, as with a revoked grant.
 */
export async function startEmbeddedSandbox(config: Config, db: Db, logger: Logger): Promise<Sandbox | undefined> {
  if (config.sandbox.mode === 'off') return undefined;
  if (config.sandbox.mode === 'auto') {
    const real = await db.selectFrom('provider_apps').select('id').where('profile', '!=', SANDBOX_PROFILE).limit(1).executeTakeFirst();
    if (real) return undefined;
  }
  const sandbox = await startSandbox({ dataDir: join(config.dataDir, 'sandbox') });
  logger.info({ admin: sandbox.adminUrl }, 'provider sandbox running');
  return sandbox;
}

/** Makes the running sandbox usable by Tether: profile endpoints, and every sandbox app registered. */
export async function attachSandbox(sandbox: Sandbox, profiles: EndpointProfiles, providerApps: ProviderAppsService, db: Db): Promise<void> {
  profiles.useSandbox(sandbox.endpoints());
  // The sandbox keeps apps in memory: register the sandbox-profile apps Tether already has.
  const apps = await db.selectFrom('provider_apps').selectAll().where('profile', '=', SANDBOX_PROFILE).execute();
  for (const app of apps) {
    sandbox.registerApp(app.provider, { clientId: app.client_id, clientSecret: await providerApps.clientSecretOf(app), redirectUris: [providerApps.redirectUriFor(app)], name: app.display_name });
  }
}

/** First start with the sandbox: the default org gets one sandbox app per provider, ready to connect. */
export async function provisionSandboxApps(sandbox: Sandbox, providerApps: ProviderAppsService, orgId: string): Promise<void> {
  const ctx: CallContext = { principal: { kind: 'operator' }, requestId: null, ip: null };
  const contoso = sandbox.microsoft.tenants.find((t) => t.name === 'contoso') ?? sandbox.microsoft.tenants[0]!;
  const presets = { microsoft: 'documents', google: 'documents', webex: 'message-scheduler' } as const;
  for (const provider of ['microsoft', 'google', 'webex'] as const) {
    const clientSecret = `sbx-${randomToken(18)}`;
    const name = `Tether (${provider} sandbox)`;
    const registered = sandbox.registerApp(provider, { clientSecret, redirectUris: [], name });
    const app = await providerApps.create(ctx, orgId, {
      provider,
      profile: SANDBOX_PROFILE,
      displayName: `${provider[0]!.toUpperCase()}${provider.slice(1)} (sandbox)`,
      clientId: registered.clientId,
      clientSecret,
      scopePreset: presets[provider],
      ...(provider === 'microsoft' && { tenant: contoso.id }),
    });
    // The redirect URI may name the app (connect.redirectUris: per-app): register it once the app exists.
    sandbox.registerApp(provider, { clientId: registered.clientId, clientSecret, redirectUris: [providerApps.redirectUriFor(app)], name });
  }
}
