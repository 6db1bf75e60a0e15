import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { tokenContext } from '../../src/services/connections.ts';
import { pgDumpOf } from '../support/database.ts';
import { Browser, beginConnect, deliverCallback, PROVIDERS, signInAtProvider, startConnectEnv, type ConnectEnv } from './support.ts';

/**
 * After connecting every provider: the database (every table, every column) holds none of the
 * tokens the sandbox issued, nor the codes, states or PKCE verifiers; no log line and no response
 * carries any of them either.
 */
describe('token custody through the connect flow', () => {
  let env: ConnectEnv;
  const secrets: Array<{ what: string; value: string }> = [];
  const responses: string[] = [];
  let dump = '';
  let pgDump: string | undefined;

  before(async () => {
    env = await startConnectEnv();
    for (const provider of PROVIDERS) {
      const browser = new Browser(env);
      const { authorizeUrl, opened, connectUrl } = await beginConnect(env, provider, browser);
      // The 303 to the provider necessarily carries the state (and the PKCE challenge); nothing else does.
      assert.equal(new URL(opened.headers.get('location')!).origin, new URL(env.sb[provider].authorizationEndpoint).origin);
      responses.push(JSON.stringify([...opened.headers].filter(([k]) => k !== 'location')), opened.body_);
      secrets.push({ what: `${provider} connect link token`, value: connectUrl.split('/').at(-1)! });
      const callback = await signInAtProvider(env, provider, authorizeUrl);
      secrets.push({ what: `${provider} code`, value: callback.searchParams.get('code')! }, { what: `${provider} state`, value: callback.searchParams.get('state')! });
      const { res, location } = await deliverCallback(browser, callback);
      responses.push(JSON.stringify([...res.headers]), res.body_);
      assert.equal(location?.searchParams.get('status'), 'created');
      const id = location!.searchParams.get('connectionId')!;
      responses.push((await env.t.http.get(`/api/v1/connections/${id}`, env.org.member.session)).text);
      const row = (await env.db.query('select * from connections where id = $1', [id])).rows[0];
      for (const field of ['access_token', 'refresh_token'] as const) {
        if (row[field] === null) continue;
        secrets.push({ what: `${provider} ${field}`, value: await env.t.services.vault.decryptText(tokenContext(row.org_id, id, field), row[field]) });
      }
      const session = (await env.db.query('select * from connect_sessions where used_at is not null order by used_at desc limit 1')).rows[0];
      secrets.push({
        what: `${provider} PKCE verifier`,
        value: await env.t.services.vault.decryptText({ orgId: session.org_id, table: 'connect_sessions', rowId: session.id, field: 'code_verifier', purpose: 'tokens' }, session.code_verifier),
      });
    }
    responses.push((await env.t.http.get('/api/v1/connections', env.org.member.session)).text);
    responses.push((await env.t.http.get('/api/v1/connections', env.org.admin.session)).text);
    responses.push((await env.t.http.get('/api/v1/audit-events?limit=200', env.org.admin.session)).text);
    const tables = await env.db.query<{ name: string }>(`select format('%I.%I', table_schema, table_name) as name from information_schema.tables where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema')`);
    for (const { name } of tables.rows) {
      const rows = await env.db.query(`select * from ${name}`);
      dump += JSON.stringify(rows.rows, (_k, v) => (v && v.type === 'Buffer' ? Buffer.from(v.data).toString('hex') + Buffer.from(v.data).toString('base64') + Buffer.from(v.data).toString('latin1') : v));
    }
    const serverMajor = Number((await env.db.query('show server_version_num')).rows[0].server_version_num) / 10000;
    pgDump = pgDumpOf(env.t.config.databaseUrl!, serverMajor);
  });
  after(() => env?.stop());

  it('has real tokens to look for (the test is not vacuous)', () => {
    const tokens = secrets.filter((s) => /access_token|refresh_token/.test(s.what));
    assert.ok(tokens.length >= 5, tokens.map((s) => s.what).join(', '));
    assert.ok(secrets.find((s) => s.what === 'google access_token')!.value.startsWith('ya29.'), 'the access token Google issued');
    for (const s of secrets) assert.ok(s.value.length >= 16, `${s.what} too short to search for`);
    assert.ok(dump.includes('connect_sessions') || dump.length > 10_000);
  });

  it('stores none of them in any table', () => {
    for (const s of secrets) assert.ok(!dump.includes(s.value), `${s.what} is stored in clear`);
  });

  it('pg_dump of the database holds none of them (where the installed pg_dump can dump this server)', (t) => {
    if (pgDump === undefined) return t.skip('no pg_dump of this server major on PATH (the machine-Postgres run has one)');
    assert.match(pgDump, /COPY public\.connections /, 'the dump is not vacuous');
    for (const s of secrets) assert.ok(!pgDump.includes(s.value), `${s.what} is in the pg_dump output`);
  });

  it('writes none of them to any log line', () => {
    const logs = env.t.logs.join('');
    assert.ok(logs.includes('/oauth/callback'), 'the callback requests are logged (without their query)');
    for (const s of secrets) assert.ok(!logs.includes(s.value), `${s.what} appears in the logs`);
  });

  it('returns none of them in any response', () => {
    const all = responses.join('\n');
    for (const s of secrets) assert.ok(!all.includes(s.value), `${s.what} appears in a response`);
  });
});
