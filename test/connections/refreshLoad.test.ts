import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { connectionsRepository } from '../../src/repositories/connections.ts';
import { tokenContext } from '../../src/services/connections.ts';
import { connect, startConnectEnv, tokenCalls, type ConnectEnv } from './support.ts';

/**
 * Many refreshes at once on one instance — more than its database pool has connections (20) —
 * while every decryption must read its data key from the database (TETHER_KEYS_CACHE_SECONDS=0)
 * and the token endpoint is slow, so that every pool connection is held by a refresh transaction.
 * A refresh must not need a second pool connection while it holds one (the data-key reads go through
 * its own transaction), or the instance stalls until the pool's timeout and answers 500s.
 */
describe('refreshes under load', () => {
  let env: ConnectEnv;
  const ids: string[] = [];
  const N = 30;

  before(async () => {
    env = await startConnectEnv({ scopePresets: { microsoft: 'documents' }, tetherEnv: { TETHER_KEYS_CACHE_SECONDS: '0' } });
    const { location } = await connect(env, 'microsoft');
    const db = env.t.database.db;
    const template = (await connectionsRepository.findById(db, env.org.orgId, location!.searchParams.get('connectionId')!))!;
    // N more grants of the same account, as N sign-ins would give (the sandbox's admin endpoint).
    const res = await env.sb.fetch(`${env.sb.adminUrl}/sandbox/grants`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ provider: 'microsoft', clientId: env.apps.microsoft.clientId, user: env.logins.microsoft, scopes: ['openid', 'profile', 'offline_access', ...template.scopes], count: N, accessTokenSeconds: 0 }),
    });
    assert.equal(res.status, 201, await res.clone().text());
    const { grants } = (await res.json()) as { grants: { accessToken: string; refreshToken: string }[] };
    const vault = env.t.services.vault;
    for (const [i, grant] of grants.entries()) {
      const id = randomUUID();
      const { id: _id, version: _v, created_at: _c, updated_at: _u, ...rest } = template;
      await connectionsRepository.insertIfAbsent(db, {
        ...rest,
        id,
        name: `Load ${i}`,
        account_subject: `${template.account_subject}#${i}`,
        access_token: await vault.encryptField(tokenContext(env.org.orgId, id, 'access_token'), grant.accessToken),
        refresh_token: await vault.encryptField(tokenContext(env.org.orgId, id, 'refresh_token'), grant.refreshToken),
        access_token_expires_at: new Date(Date.now() - 60_000),
      });
      ids.push(id);
    }
  });
  after(() => env?.stop());

  it(`${N} concurrent calls that must each refresh, with a slow token endpoint: all succeed, one refresh each`, async () => {
    env.sb.faults.setTokenEndpoint('microsoft', { delayMs: 300 });
    const mark = env.sb.requestLog.mark();
    const results = await Promise.all(ids.map((id) => env.t.http.get(`/api/v1/connections/${id}/drives`, env.org.member.session)));
    env.sb.faults.reset();
    assert.deepEqual(
      results.map((r) => r.status),
      ids.map(() => 200),
      results.find((r) => r.status !== 200)?.text,
    );
    assert.equal(tokenCalls(env, mark).length, N, 'one refresh per connection');
  });
});
