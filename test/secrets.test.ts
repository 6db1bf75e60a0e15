import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createOrgFixture, signIn, startTestTether, type TestTether } from './support/tether.ts';

/**
 * A full run at debug log level: sign-ins (good and bad), API keys made and used, sessions used,
 * passwords changed, keys revoked. Afterwards, no secret appears in any log line or audit row, and
 * the database holds only hashes of them.
 */
describe('secrets stay secret', () => {
  let t: TestTether;
  const secrets: string[] = [];
  let dump = '';

  before(async () => {
    t = await startTestTether();
    secrets.push(t.config.operatorToken!);
    const a = await createOrgFixture(t, 'secrets');
    secrets.push(a.admin.password, a.member.password, a.apiKey.key, a.apiKey.key.slice('tk_'.length + 8 + 1));
    for (const session of [a.admin.session, a.member.session]) {
      secrets.push(session.csrf, ...session.cookie.split('; ').map((c) => c.split('=')[1]!));
    }
    // Use every credential, right and wrong.
    await t.http.get('/api/v1/me', a.asAdmin);
    await t.http.get('/api/v1/me', a.member.session);
    await t.http.post('/api/v1/auth/login', { org: 'secrets', email: a.admin.email, password: `${a.admin.password}-wrong` });
    secrets.push(`${a.admin.password}-wrong`);
    await t.http.get('/api/v1/me', { kind: 'apiKey', key: `${a.apiKey.key}x`, user: a.admin.id });
    const newPassword = 'a brand new passphrase';
    secrets.push(newPassword);
    await t.http.patch(`/api/v1/users/${a.member.id}`, { password: newPassword }, a.admin.session);
    const relogin = await signIn(t.http, 'secrets', a.member.email, newPassword);
    secrets.push(relogin.csrf, ...relogin.cookie.split('; ').map((c) => c.split('=')[1]!));
    const second = await t.http.post('/api/v1/api-keys', { name: 'second' }, a.admin.session);
    secrets.push(second.body.key);
    await t.http.delete(`/api/v1/api-keys/${second.body.apiKey.id}`, a.admin.session);
    await t.http.post('/api/v1/auth/logout', null, relogin);
    // A validation error that echoes input must not echo a password either.
    await t.http.post('/api/v1/users', { email: 'x@secrets.test', displayName: 'X', password: 'short' }, a.admin.session);

    const client = new pg.Client({ connectionString: t.config.databaseUrl });
    await client.connect();
    for (const table of ['orgs', 'users', 'groups', 'group_members', 'api_keys', 'sessions', 'audit_events', 'rate_limits']) {
      const rows = await client.query(`select * from ${table}`);
      dump += JSON.stringify(rows.rows, (_k, v) => (Buffer.isBuffer(v) ? v.toString('hex') + v.toString('base64url') : v));
    }
    await client.end();
  });
  after(() => t.stop());

  it('writes log lines (the test is not vacuous)', () => {
    assert.ok(t.logs.length > 20, `only ${t.logs.length} log lines`);
    assert.ok(t.logs.some((l) => l.includes('/api/v1/auth/login')));
    assert.ok(t.logs.some((l) => l.includes('"code":"invalid_credentials"')));
  });

  it('never logs passwords, API keys, session ids, CSRF tokens or the operator token', () => {
    const all = t.logs.join('');
    for (const secret of secrets) {
      assert.ok(secret.length >= 8, `fixture secret too short to search for: ${secret.length}`);
      assert.ok(!all.includes(secret), `a secret (${secret.slice(0, 4)}…) appears in the logs`);
    }
  });

  it('stores secrets only as hashes (no table holds any of them)', () => {
    assert.ok(dump.includes('scrypt$'), 'expected scrypt password hashes in the dump');
    for (const secret of secrets) assert.ok(!dump.includes(secret), `a secret (${secret.slice(0, 4)}…) is stored in clear`);
  });

  it('never returns a password hash or key hash in a response', async () => {
    const a = await createOrgFixture(t, 'secrets-b');
    for (const path of ['/api/v1/users', `/api/v1/users/${a.member.id}`, '/api/v1/api-keys', '/api/v1/me']) {
      const res = await t.http.get(path, a.admin.session);
      assert.equal(res.status, 200);
      assert.ok(!/scrypt\$|password_hash|secret_hash|id_hash/.test(res.text), `${path} leaks a hash: ${res.text.slice(0, 200)}`);
    }
  });
});
