import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { spawnTether, type TetherProcess } from '../support/process.ts';
import { HttpClient, type Auth } from '../support/tether.ts';
import { connect, startConnectEnv, tokenCalls, type ConnectEnv } from './support.ts';

/**
 * `kill -9` of a Tether process after the provider issued new tokens for its refresh but before
 * Tether committed them. The sandbox runs in this test process (it survives the kill) and holds the
 * token endpoint's answer once it is produced (`holdNextTokenResponse`): the refresh token Tether
 * sent is spent at the provider, the new tokens exist only in an answer nobody will read, and Tether
 * is killed while it waits for it — with its refresh transaction (and the row lock) open.
 *
 * What happens after a restart depends on the provider's refresh-token reuse policy:
 * - Microsoft, where the sandbox rotates refresh tokens and retires the used one at once (stricter
 *   than Entra ID, which keeps a replaced refresh token usable for a while): the stored, spent
 *   refresh token is refused (`invalid_grant`), so the connection becomes `needs-reauth` with
 *   exactly one webhook and audit event, and nothing retries it.
 * - Google, which does not rotate (the refresh token stays valid): the restarted Tether refreshes
 *   again with the stored refresh token and the connection simply works.
 * In both cases the token endpoint sees exactly two requests in all: the killed one and one after
 * the restart — never a loop.
 */
describe('kill -9 mid-refresh', () => {
  let env: ConnectEnv;
  let member: Auth;
  const running: TetherProcess[] = [];

  const spawn = async () => {
    const proc = await spawnTether({ ...env.processEnv, TETHER_LOG_LEVEL: 'debug' });
    running.push(proc);
    return proc;
  };
  const stop = async (proc: TetherProcess) => {
    if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGTERM');
    await proc.exited;
  };
  const row = async (id: string) => (await env.db.query('select * from connections where id = $1', [id])).rows[0];
  const count = async (sql: string, id: string) => (await env.db.query<{ n: number }>(sql, [id])).rows[0]!.n;
  const webhooks = (id: string) => count(`select count(*)::int as n from webhook_deliveries where event_type = 'connection.needs_reauth' and data->>'connectionId' = $1`, id);
  const audits = (id: string) => count(`select count(*)::int as n from audit_events where action = 'connection.needs_reauth' and target_id = $1`, id);

  before(async () => {
    env = await startConnectEnv({ scopePresets: { microsoft: 'documents', google: 'documents' } });
    member = env.org.member.session;
    const hook = await env.t.http.post('/api/v1/webhooks', { url: 'https://hooks.example.com/tether', events: ['connection.needs_reauth'] }, env.org.admin.session);
    assert.equal(hook.status, 201, hook.text);
  });
  after(async () => {
    for (const proc of running) await stop(proc);
    await env?.stop();
  });

  /** Connects `provider`, expires its access token, and kills a Tether mid-refresh. Returns the connection, a restarted Tether and the request-log mark from before the killed refresh. */
  async function killMidRefresh(provider: 'microsoft' | 'google') {
    const { location } = await connect(env, provider);
    const id = location!.searchParams.get('connectionId')!;
    const before = await row(id);
    env.sb.expireAccessTokens(provider, env.logins[provider]);
    await env.db.query(`update connections set access_token_expires_at = now() - interval '1 minute' where id = $1`, [id]);

    const first = await spawn();
    const hold = env.sb.faults.holdNextTokenResponse(provider);
    const mark = env.sb.requestLog.mark();
    const pending = new HttpClient(first.url).get(`/api/v1/connections/${id}/drives`, member).then(
      (res) => ({ answered: res.status }),
      (err: unknown) => ({ failed: err }),
    );
    await hold.issued;
    first.child.kill('SIGKILL');
    assert.equal(await first.exited, 137);
    hold.release();
    assert.ok('failed' in (await pending), 'the killed process never answered');

    // Nothing of the refresh was committed: the row is as it was, the spent refresh token included.
    const after = await row(id);
    assert.equal(after.version, before.version, 'no update was committed (every update bumps the version)');
    assert.deepEqual(after.refresh_token, before.refresh_token);
    assert.equal(after.status, 'active');
    return { id, mark, restarted: await spawn() };
  }

  it('Microsoft (the used refresh token is retired at once): after restart the connection is needs-reauth, with one webhook, and nothing loops', async () => {
    assert.equal(env.sb.faults.refreshRotation('microsoft'), true, 'the sandbox rotates Microsoft refresh tokens');
    const { id, mark, restarted } = await killMidRefresh('microsoft');
    const http = new HttpClient(restarted.url);
    const res = await http.get(`/api/v1/connections/${id}/drives`, member);
    assert.equal(res.status, 409, res.text);
    assert.equal(res.body.error.code, 'needs_reauth');
    const shown = await env.t.http.get(`/api/v1/connections/${id}`, member);
    assert.equal(shown.body.status, 'needs-reauth');
    assert.equal(shown.body.statusReason, 'the provider refused the refresh token (invalid_grant)');
    assert.equal(tokenCalls(env, mark).length, 2, 'the killed refresh and one attempt after the restart');
    for (let i = 0; i < 5; i++) {
      const again = await (i % 2 === 0 ? http : env.t.http).get(`/api/v1/connections/${id}/drives`, member);
      assert.equal(again.status, 409, again.text);
    }
    assert.equal(tokenCalls(env, mark).length, 2, 'no further refresh attempts');
    assert.equal(await webhooks(id), 1, 'exactly one connection.needs_reauth webhook');
    assert.equal(await audits(id), 1, 'exactly one audit event');
    await stop(restarted);
  });

  it('Google (refresh tokens are not rotated): after restart the connection works, with one more refresh', async () => {
    assert.equal(env.sb.faults.refreshRotation('google'), false, 'the sandbox does not rotate Google refresh tokens');
    const { id, mark, restarted } = await killMidRefresh('google');
    const http = new HttpClient(restarted.url);
    const res = await http.get(`/api/v1/connections/${id}/drives`, member);
    assert.equal(res.status, 200, res.text);
    assert.equal(tokenCalls(env, mark).length, 2, 'the killed refresh and one after the restart');
    for (let i = 0; i < 5; i++) {
      const again = await (i % 2 === 0 ? http : env.t.http).get(`/api/v1/connections/${id}/drives`, member);
      assert.equal(again.status, 200, again.text);
    }
    assert.equal(tokenCalls(env, mark).length, 2, 'the new access token is used, not refreshed again');
    const r = await row(id);
    assert.equal(r.status, 'active');
    assert.ok(r.access_token_expires_at > new Date());
    assert.equal(await webhooks(id), 0);
    await stop(restarted);
  });
});
