import type pg from 'pg';
import type { ConnectSession, ProviderApp } from '../../src/db/schema.ts';
import type { OrgFixture, TestTether } from '../support/tether.ts';

/**
 * A connection for the org's member on the fixture's Google app, stored through the connections
 * service as a completed authorization would store it (real Vault encryption), without a provider:
 * for tests about who may see and change connections. The OAuth flow itself is tested end to end
 * against the sandbox in test/connections/connectFlow.test.ts.
 */
export async function storeConnection(t: TestTether, db: pg.Client, org: OrgFixture, options: { ownerId?: string; shared?: string[]; subject?: string } = {}): Promise<string> {
  const app = (await db.query<ProviderApp>('select * from provider_apps where id = $1', [org.providerApp.id])).rows[0]!;
  const session = {
    id: crypto.randomUUID(),
    org_id: org.orgId,
    user_id: options.ownerId ?? org.member.id,
    provider_app_id: app.id,
    name: null,
    shared: options.shared !== undefined,
    shared_group_ids: options.shared ?? [],
  } as unknown as ConnectSession;
  const { connection } = await t.services.connections.saveAuthorization(
    { principal: undefined, requestId: null, ip: null },
    session,
    app,
    { accessToken: `fixture-access-${crypto.randomUUID()}`, refreshToken: `fixture-refresh-${crypto.randomUUID()}`, expiresAt: new Date(Date.now() + 3600_000), refreshTokenExpiresAt: null, scopes: ['openid'], idToken: null },
    { issuer: 'https://accounts.google.com', tenantId: null, subject: options.subject ?? `fixture-${org.slug}-${crypto.randomUUID()}`, email: `someone@${org.slug}.test`, displayName: 'Someone' },
  );
  return connection.id;
}
