import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { spawnTether, type TetherProcess } from '../support/process.ts';
import { HttpClient } from '../support/tether.ts';
import { connect, startConnectEnv, tokenCalls, type ConnectEnv } from './support.ts';

/**
 * Refresh never races: 50 concurrent API calls on a connection whose access token has expired,
 * spread over three Tether processes on one Postgres, make exactly one refresh at the provider and
 * all succeed. And a revoked grant turns the connection needs-reauth, with webhook and audit.
 */
describe('token refresh across processes', () => {
  let env: ConnectEnv;
  const procs: TetherProcess[] = [];
  let connectionId: string;
  let key: string;

  before(async () => {
    env = await startConnectEnv({ scopePresets: { google: 'documents' } });
    const { location } = await connect(env, 'google');
    connectionId = location!.searchParams.get('connectionId')!;
    const created = await env.t.http.post('/api/v1/api-keys', { name: 'refresh test' }, env.org.admin.session);
    key = created.body.key;
    // Three more instances on the same database and keyring, configured like the test instance.
    for (let i = 0; i < 3; i++) {
      procs.push(await spawnTether({ ...env.processEnv, TETHER_LOG_LEVEL: 'warn' }));
    }
  });
  after(async () => {
    for (const p of procs) {
      p.child.kill('SIGTERM');
      await p.exited;
    }
    await env.stop();
  });

  it('50 concurrent calls on an expired token over three processes: exactly one refresh, all succeed', async () => {
    env.sb.expireAccessTokens('google');
    await env.db.query(`update connections set access_token_expires_at = now() - interval '1 minute' where id = $1`, [connectionId]);
    const mark = env.sb.requestLog.mark();
    const auth = { kind: 'apiKey' as const, key, user: env.org.member.externalId };
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => new HttpClient(procs[i % 3]!.url).get(`/api/v1/connections/${connectionId}/items?limit=5`, auth)),
    );
    assert.deepEqual([...new Set(results.map((r) => r.status))], [200], results.find((r) => r.status !== 200)?.text);
    assert.equal(tokenCalls(env, mark).length, 1, 'exactly one refresh at the provider');
    const row = (await env.db.query('select status, access_token_expires_at from connections where id = $1', [connectionId])).rows[0];
    assert.equal(row.status, 'active');
    assert.ok(row.access_token_expires_at > new Date());
  });

  it('a revoked grant marks the connection needs-reauth once, with the webhook and an audit event, and is not retried', async () => {
    const hook = await env.t.http.post('/api/v1/webhooks', { url: 'https://hooks.example.com/reauth', events: ['connection.needs_reauth'] }, env.org.admin.session);
    assert.equal(hook.status, 201, hook.text);
    env.sb.faults.revokeGrant('google', env.sb.google.accounts.find((a) => a.email === env.logins.google)!.id);
    await env.db.query(`update connections set access_token_expires_at = now() - interval '1 minute' where id = $1`, [connectionId]);
    const mark = env.sb.requestLog.mark();
    const auth = { kind: 'apiKey' as const, key, user: env.org.member.externalId };
    const results = await Promise.all(Array.from({ length: 9 }, (_, i) => new HttpClient(procs[i % 3]!.url).get(`/api/v1/connections/${connectionId}/items?limit=5`, auth)));
    for (const r of results) {
      assert.equal(r.status, 409, r.text);
      assert.equal(r.body.error.code, 'needs_reauth');
    }
    assert.equal(tokenCalls(env, mark).length, 1, 'one refresh attempt, no retry loop');
    const row = (await env.db.query('select status, status_reason from connections where id = $1', [connectionId])).rows[0];
    assert.equal(row.status, 'needs-reauth');
    const deliveries = await env.db.query(`select count(*)::int as n from webhook_deliveries where event_type = 'connection.needs_reauth'`);
    assert.equal(deliveries.rows[0].n, 1);
    const audits = await env.db.query(`select count(*)::int as n from audit_events where action = 'connection.needs_reauth' and target_id = $1`, [connectionId]);
    assert.equal(audits.rows[0].n, 1);
  });
});
