import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { spawnTether, type TetherProcess } from '../support/process.ts';
import { HttpClient } from '../support/tether.ts';
import { connect, startConnectEnv, type ConnectEnv } from './support.ts';

/**
 * `tokens.cacheSize` (TETHER_TOKEN_CACHE_SIZE): access tokens are kept in memory by default; with 0
 * every call decrypts the token from its row. Seen from outside: after the stored token is altered,
 * an instance with the cache keeps using the token it holds (by design, until it expires), while one
 * without it reads the altered row at once and fails closed.
 */
describe('the access-token cache setting', () => {
  let env: ConnectEnv;
  let uncached: TetherProcess;
  let id: string;

  before(async () => {
    env = await startConnectEnv({ scopePresets: { microsoft: 'documents' } });
    const { location } = await connect(env, 'microsoft');
    id = location!.searchParams.get('connectionId')!;
    uncached = await spawnTether({ ...env.processEnv, TETHER_TOKEN_CACHE_SIZE: '0' });
  });
  after(async () => {
    if (uncached) {
      uncached.child.kill('SIGTERM');
      await uncached.exited;
    }
    await env?.stop();
  });

  it('with 0, every call reads the stored token; by default the instance answers from memory', async () => {
    const other = new HttpClient(uncached.url);
    const member = env.org.member.session;
    const drives = (http: HttpClient) => http.get(`/api/v1/connections/${id}/drives`, member);
    assert.equal((await drives(env.t.http)).status, 200);
    assert.equal((await drives(other)).status, 200);
    const row = (await env.db.query('select access_token from connections where id = $1', [id])).rows[0];
    const flipped = Buffer.from(row.access_token);
    flipped[Math.floor(flipped.length / 2)]! ^= 0x01;
    await env.db.query('update connections set access_token = $2 where id = $1', [id, flipped]);
    const cached = await drives(env.t.http);
    assert.equal(cached.status, 200, 'the default instance uses the token it holds');
    const read = await drives(other);
    assert.equal(read.status, 409, read.text);
    assert.equal(read.body.error.code, 'needs_reauth', 'the instance without a cache decrypted the altered row');
  });
});
