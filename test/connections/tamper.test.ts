import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { tokenContext } from '../../src/services/connections.ts';
import { spawnTether, type TetherProcess } from '../support/process.ts';
import { HttpClient, type Auth } from '../support/tether.ts';
import { connect, startConnectEnv, tokenCalls, type ConnectEnv } from './support.ts';

type Case = 'swapA' | 'swapB' | 'fields' | 'flipAccess' | 'flipRefresh' | 'secret';

/**
 * Someone with write access to the database tampers with real connections made through the connect
 * flow: two connections' access tokens swapped, one connection's access and refresh fields swapped,
 * a bit flipped in an access and in a refresh token, a provider app's client secret swapped with
 * another app's. Every tampered value is refused by the AEAD (its associated data names org, table,
 * row, field and key version), the API fails closed with a stable code, and no request with a wrong
 * token ever reaches the provider.
 *
 * The calls after a tamper go through a second Tether process that has never used these connections,
 * so no access token cached in memory can hide the change (the first instance's cache would, for
 * as long as a cached token is valid — by design).
 */
describe('tampering with the stored tokens and client secrets of live connections', () => {
  let env: ConnectEnv;
  let fresh: TetherProcess;
  let freshHttp: HttpClient;
  let member: Auth;
  const conn = {} as Record<Case, { id: string; provider: 'microsoft' | 'google'; login: string }>;
  const secrets: Array<{ what: string; value: string }> = [];
  const responses: string[] = [];

  const drives = async (http: HttpClient, c: Case) => {
    const res = await http.get(`/api/v1/connections/${conn[c].id}/drives`, member);
    responses.push(res.text);
    return res;
  };
  const row = async (c: Case) => (await env.db.query('select * from connections where id = $1', [conn[c].id])).rows[0];
  const webhooks = async (c: Case) =>
    (await env.db.query<{ n: number }>(`select count(*)::int as n from webhook_deliveries where event_type = 'connection.needs_reauth' and data->>'connectionId' = $1`, [conn[c].id])).rows[0]!.n;
  const audits = async (c: Case) =>
    (await env.db.query<{ n: number }>(`select count(*)::int as n from audit_events where action = 'connection.needs_reauth' and target_id = $1`, [conn[c].id])).rows[0]!.n;
  /** The provider's token has expired, in the sandbox and in Tether's row: the next use must refresh. */
  const expire = async (c: Case) => {
    env.sb.expireAccessTokens(conn[c].provider, conn[c].login);
    await env.db.query(`update connections set access_token_expires_at = now() - interval '1 minute' where id = $1`, [conn[c].id]);
  };
  const flipBit = async (c: Case, field: 'access_token' | 'refresh_token') => {
    const value: Buffer = (await row(c))[field];
    const flipped = Buffer.from(value);
    flipped[Math.floor(flipped.length / 2)]! ^= 0x04;
    await env.db.query(`update connections set ${field} = $2 where id = $1`, [conn[c].id, flipped]);
  };

  /** The contract for a tampered token: 409 needs_reauth, status needs-reauth, one webhook and audit event, no token request — also on later calls. */
  const expectNeedsReauth = async (c: Case, mark: number) => {
    const res = await drives(freshHttp, c);
    assert.equal(res.status, 409, res.text);
    assert.equal(res.body.error.code, 'needs_reauth');
    const shown = await env.t.http.get(`/api/v1/connections/${conn[c].id}`, member);
    responses.push(shown.text);
    assert.equal(shown.body.status, 'needs-reauth');
    assert.equal(shown.body.statusReason, 'a stored token could not be decrypted');
    assert.equal(await webhooks(c), 1, 'one connection.needs_reauth webhook');
    assert.equal(await audits(c), 1, 'one connection.needs_reauth audit event');
    // No retry loop: later calls, on either instance, answer at once and send nothing to the provider.
    for (const http of [freshHttp, env.t.http, freshHttp]) {
      const again = await drives(http, c);
      assert.equal(again.status, 409, again.text);
      assert.equal(again.body.error.code, 'needs_reauth');
    }
    assert.equal(await webhooks(c), 1, 'still one webhook');
    assert.equal(await audits(c), 1, 'still one audit event');
    assert.deepEqual(tokenCalls(env, mark), [], 'no request with a tampered token reached a token endpoint');
  };

  before(async () => {
    env = await startConnectEnv({ scopePresets: { microsoft: 'documents', google: 'documents' } });
    member = env.org.member.session;
    const hook = await env.t.http.post('/api/v1/webhooks', { url: 'https://hooks.example.com/tether', events: ['connection.needs_reauth'] }, env.org.admin.session);
    assert.equal(hook.status, 201, hook.text);
    const tenant = env.sb.microsoft.accounts[0]!.organization;
    const ms = env.sb.microsoft.accounts.filter((a) => a.organization === tenant).map((a) => a.email);
    const google = env.sb.google.accounts.map((a) => a.email);
    const accounts: Record<Case, ['microsoft' | 'google', string]> = {
      swapA: ['google', google[0]!],
      swapB: ['google', google[1]!],
      fields: ['microsoft', ms[0]!],
      flipAccess: ['microsoft', ms[1]!],
      flipRefresh: ['google', google[2]!],
      secret: ['microsoft', ms[2]!],
    };
    for (const [c, [provider, login]] of Object.entries(accounts) as Array<[Case, ['microsoft' | 'google', string]]>) {
      const { location } = await connect(env, provider, undefined, { login });
      assert.equal(location!.searchParams.get('status'), 'created');
      conn[c] = { id: location!.searchParams.get('connectionId')!, provider, login };
      // Each connection works before it is tampered with.
      const ok = await drives(env.t.http, c);
      assert.equal(ok.status, 200, ok.text);
      const r = await row(c);
      for (const field of ['access_token', 'refresh_token'] as const) {
        secrets.push({ what: `${c} ${field}`, value: await env.t.services.vault.decryptText(tokenContext(r.org_id, r.id, field), r[field]) });
      }
    }
    for (const provider of ['microsoft', 'google', 'webex'] as const) {
      secrets.push({ what: `${provider} client secret`, value: await env.t.services.providerApps.clientSecretOf(await env.t.services.providerApps.get(env.org.orgId, env.apps[provider].id)) });
    }
    fresh = await spawnTether({ ...env.processEnv, TETHER_LOG_LEVEL: 'debug' });
    freshHttp = new HttpClient(fresh.url);
  });
  after(async () => {
    if (fresh) {
      fresh.child.kill('SIGTERM');
      await fresh.exited;
    }
    await env?.stop();
  });

  it('two connections with their access tokens swapped: both fail closed', async () => {
    const mark = env.sb.requestLog.mark();
    await env.db.query(
      `update connections c set access_token = o.access_token from connections o
       where (c.id, o.id) in (($1::uuid, $2::uuid), ($2::uuid, $1::uuid))`,
      [conn.swapA.id, conn.swapB.id],
    );
    await expectNeedsReauth('swapA', mark);
    await expectNeedsReauth('swapB', mark);
  });

  it("a connection's access and refresh fields swapped: fails closed", async () => {
    const mark = env.sb.requestLog.mark();
    await env.db.query('update connections set access_token = refresh_token, refresh_token = access_token where id = $1', [conn.fields.id]);
    await expectNeedsReauth('fields', mark);
  });

  it('one bit flipped in an access token: fails closed', async () => {
    const mark = env.sb.requestLog.mark();
    await flipBit('flipAccess', 'access_token');
    await expectNeedsReauth('flipAccess', mark);
  });

  it('one bit flipped in a refresh token, when the access token has expired: fails closed, no refresh is sent', async () => {
    await expire('flipRefresh');
    const mark = env.sb.requestLog.mark();
    await flipBit('flipRefresh', 'refresh_token');
    await expectNeedsReauth('flipRefresh', mark);
    assert.equal((await row('flipRefresh')).access_token, null, 'the expired access token is dropped too');
  });

  it("a provider app's client secret swapped with another app's: a clear 409, the connection is left as it is, and works again once the secret is right", async () => {
    await expire('secret');
    const ms = env.apps.microsoft.id;
    const webex = env.apps.webex.id;
    const original = (await env.db.query('select client_secret from provider_apps where id = $1', [ms])).rows[0].client_secret;
    const mark = env.sb.requestLog.mark();
    const swap = () =>
      env.db.query(
        `update provider_apps a set client_secret = o.client_secret from provider_apps o
         where (a.id, o.id) in (($1::uuid, $2::uuid), ($2::uuid, $1::uuid))`,
        [ms, webex],
      );
    await swap();
    for (const http of [freshHttp, freshHttp, env.t.http]) {
      const res = await drives(http, 'secret');
      assert.equal(res.status, 409, res.text);
      assert.equal(res.body.error.code, 'client_secret_unreadable');
      assert.deepEqual(res.body.error.details, { providerAppId: ms });
    }
    assert.deepEqual(tokenCalls(env, mark), [], 'no token request without the real secret');
    // The connection's own tokens are fine: it is not flagged (connecting again would not help).
    const shown = await env.t.http.get(`/api/v1/connections/${conn.secret.id}`, member);
    assert.equal(shown.body.status, 'active');
    assert.equal(await webhooks('secret'), 0);
    assert.ok((await row('secret')).refresh_token, 'the refresh token is kept');
    const audit = await env.db.query(`select outcome, details from audit_events where action = 'provider_app.secret_unreadable' and target_id = $1`, [ms]);
    assert.equal(audit.rows.length, 3, 'each refused use is audited');
    assert.equal(audit.rows[0].outcome, 'failure');

    await swap();
    assert.deepEqual((await env.db.query('select client_secret from provider_apps where id = $1', [ms])).rows[0].client_secret, original, 'restored');
    const ok = await drives(freshHttp, 'secret');
    assert.equal(ok.status, 200, ok.text);
    assert.equal(tokenCalls(env, mark).length, 1, 'one refresh, with the right secret');
    const r = await row('secret');
    for (const field of ['access_token', 'refresh_token'] as const) {
      secrets.push({ what: `secret (refreshed) ${field}`, value: await env.t.services.vault.decryptText(tokenContext(r.org_id, r.id, field), r[field]) });
    }
  });

  it('logs and answers none of the tokens or secrets, and says where decryption failed', async () => {
    const logs = env.t.logs.join('') + fresh.output();
    assert.ok(secrets.length >= 15, 'the search is not vacuous');
    assert.match(fresh.output(), /decryption failed/, 'the failures are logged');
    assert.match(fresh.output(), /connection needs reauthorization/);
    const all = responses.join('\n');
    for (const s of secrets) {
      assert.ok(s.value.length >= 16, `${s.what} is too short to search for`);
      assert.ok(!logs.includes(s.value), `${s.what} appears in a log line`);
      assert.ok(!all.includes(s.value), `${s.what} appears in a response`);
    }
  });
});
