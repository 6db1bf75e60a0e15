import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Db, Queryable } from '../db/database.ts';
import type { ProviderApp } from '../db/schema.ts';
import { errors, TetherError } from '../errors.ts';
import type { Vault } from '../keys/index.ts';
import type { ProviderId } from '../providers/definition.ts';
import type { EndpointProfiles } from '../providers/profiles.ts';
import { providerDefinition } from '../providers/registry.ts';
import { providerAppsRepository } from '../repositories/providerApps.ts';
import { audit } from './audit.ts';
import type { CallContext } from './context.ts';

export interface NewProviderAppInput {
  provider: ProviderId;
  profile?: string | undefined;
  displayName: string;
  clientId: string;
  clientSecret: string;
  tenant?: string | undefined;
  scopes?: string[] | undefined;
  scopePreset?: string | undefined;
  webexIntegrationId?: string | undefined;
}

/** Microsoft's multi-tenant aliases: an org's app must name its own tenant. */
const TENANT_ALIASES = new Set(['common', 'organizations', 'consumers']);

/**
 * Org admins' provider apps (seed 000/001 provisioning). The client secret is write-only: it is
 * encrypted before it is stored and never returned; only the connect and refresh flows decrypt it.
 */
export class ProviderAppsService {
  private readonly db: Db;
  private readonly vault: Vault;
  private readonly profiles: EndpointProfiles;
  private readonly callbackUrl: string;
  readonly redirectUriMode: 'shared' | 'per-app';

  constructor(db: Db, vault: Vault, profiles: EndpointProfiles, publicUrl: string, redirectUriMode: 'shared' | 'per-app' = 'shared') {
    this.db = db;
    this.vault = vault;
    this.profiles = profiles;
    this.callbackUrl = `${publicUrl}/oauth/callback`;
    this.redirectUriMode = redirectUriMode;
  }

  /**
   * The exact redirect URI to register at the provider for `app` (RFC 6749 §3.1.2; providers compare
   * exactly): one for all apps, or one per app (`connect.redirectUris: per-app`, a mix-up defence).
   */
  redirectUriFor(app: { id: string }): string {
    return this.redirectUriMode === 'per-app' ? `${this.callbackUrl}/${app.id}` : this.callbackUrl;
  }

  async create(ctx: CallContext, orgId: string, input: NewProviderAppInput): Promise<ProviderApp> {
    const definition = providerDefinition(input.provider);
    const profile = input.profile ?? definition.defaultCloud;
    const tenant = this.checkTenant(input.provider, input.tenant);
    this.profiles.resolve(input.provider, profile, tenant ?? undefined);
    const scopes = resolveScopes(input.provider, input.scopes, input.scopePreset);
    if (input.webexIntegrationId !== undefined && input.provider !== 'webex') {
      throw new TetherError(422, 'not_applicable', 'webexIntegrationId applies to Webex apps only.');
    }
    const id = randomUUID();
    const clientSecret = await this.vault.encryptField(secretContext(orgId, id), input.clientSecret);
    return this.db.transaction().execute(async (tx) => {
      // Serialise app changes per org, so two admins cannot add two Microsoft tenants at once.
      await sql`select 1 from orgs where id = ${orgId} for update`.execute(tx);
      if (tenant) await this.checkOneTenantPerOrg(tx, orgId, tenant);
      const app = await providerAppsRepository.create(tx, {
        id,
        org_id: orgId,
        provider: input.provider,
        profile,
        display_name: input.displayName,
        client_id: input.clientId,
        client_secret: clientSecret,
        tenant,
        scopes,
        webex_integration_id: input.webexIntegrationId ?? null,
      });
      await audit(tx, ctx, {
        orgId,
        action: 'provider_app.create',
        target: { type: 'provider_app', id },
        details: { provider: app.provider, profile, clientId: app.client_id, scopes: scopes.length },
      });
      return app;
    });
  }

  async get(orgId: string, id: string): Promise<ProviderApp> {
    const app = await providerAppsRepository.findById(this.db, orgId, id);
    if (!app) throw errors.notFound('The provider app');
    return app;
  }

  list(orgId: string, page: { after?: string; limit: number }): Promise<ProviderApp[]> {
    return providerAppsRepository.list(this.db, orgId, page);
  }

  async update(ctx: CallContext, orgId: string, id: string, changes: { displayName?: string | undefined; webexIntegrationId?: string | null | undefined }): Promise<ProviderApp> {
    return this.db.transaction().execute(async (tx) => {
      const before = await providerAppsRepository.findById(tx, orgId, id);
      if (!before) throw errors.notFound('The provider app');
      if (changes.webexIntegrationId !== undefined && before.provider !== 'webex') {
        throw new TetherError(422, 'not_applicable', 'webexIntegrationId applies to Webex apps only.');
      }
      const app = (await providerAppsRepository.update(tx, orgId, id, {
        ...(changes.displayName !== undefined && { display_name: changes.displayName }),
        ...(changes.webexIntegrationId !== undefined && { webex_integration_id: changes.webexIntegrationId }),
      }))!;
      await audit(tx, ctx, { orgId, action: 'provider_app.update', target: { type: 'provider_app', id }, details: { fields: Object.keys(changes) } });
      return app;
    });
  }

  async delete(ctx: CallContext, orgId: string, id: string): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      if (!(await providerAppsRepository.delete(tx, orgId, id))) throw errors.notFound('The provider app');
      await audit(tx, ctx, { orgId, action: 'provider_app.delete', target: { type: 'provider_app', id } });
    });
  }

  /** The client secret, for the OAuth flows only. `db`: the caller's transaction, if it holds one. */
  clientSecretOf(app: ProviderApp, db?: Queryable): Promise<string> {
    return this.vault.decryptText(secretContext(app.org_id, app.id), app.client_secret, db);
  }

  private checkTenant(provider: ProviderId, tenant: string | undefined): string | null {
    const requires = providerDefinition(provider).requiresTenant;
    if (!requires) {
      if (tenant !== undefined) throw new TetherError(422, 'not_applicable', `${provider} apps have no tenant.`);
      return null;
    }
    if (tenant === undefined) throw new TetherError(422, 'tenant_required', 'A Microsoft app needs the tenant of the org: its directory (tenant) id or primary domain.');
    const normalised = tenant.toLowerCase();
    if (TENANT_ALIASES.has(normalised)) {
      throw new TetherError(422, 'tenant_required', `"${tenant}" is a multi-tenant alias; give the org's own tenant id or domain (one Microsoft 365 tenant per org).`);
    }
    return normalised;
  }

  private async checkOneTenantPerOrg(tx: Parameters<typeof providerAppsRepository.microsoftTenants>[0], orgId: string, tenant: string): Promise<void> {
    const existing = await providerAppsRepository.microsoftTenants(tx, orgId);
    if (existing.some((t) => t !== tenant)) {
      throw new TetherError(409, 'tenant_conflict', `This org already uses the Microsoft tenant ${existing[0]}; an org has one Microsoft 365 tenant.`, {
        details: { tenant: existing[0] },
      });
    }
  }
}

export function secretContext(orgId: string, appId: string) {
  return { orgId, table: 'provider_apps', rowId: appId, field: 'client_secret', purpose: 'client_secrets' } as const;
}

/** The app's scopes: a preset or an explicit list, each checked against the provider's catalog. */
export function resolveScopes(provider: ProviderId, scopes: string[] | undefined, presetId: string | undefined): string[] {
  const definition = providerDefinition(provider);
  let chosen: string[];
  if (presetId !== undefined) {
    const preset = definition.scopePresets.find((p) => p.id === presetId);
    if (!preset) {
      throw new TetherError(422, 'unknown_scope', `There is no ${provider} scope preset "${presetId}".`, {
        details: { presets: definition.scopePresets.map((p) => p.id) },
      });
    }
    chosen = [...preset.scopes, ...(scopes ?? [])];
  } else {
    chosen = scopes ?? definition.scopePresets[0]!.scopes;
  }
  const catalog = new Set(definition.scopes.map((s) => s.name));
  const unknown = chosen.filter((s) => !catalog.has(s));
  if (unknown.length > 0) throw new TetherError(422, 'unknown_scope', `Not ${provider} scopes Tether knows: ${unknown.join(', ')}.`, { details: { scopes: unknown } });
  return [...new Set(chosen)];
}
