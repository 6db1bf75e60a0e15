import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { KeyStatus } from '../../src/keys/keyManagement.ts';
import { connect, startConnectEnv, tokenCalls, type ConnectEnv } from '../connections/support.ts';
import { runCli, spawnTether, type TetherProcess } from '../support/process.ts';
import { HttpClient, type Auth } from '../support/tether.ts';

export interface LiveSetup {
  provider: 'local' | 'remote';
  /** The key service settings, for every Tether process and every CLI run. */
  env(): Record<string, string>;
  /** The remote key service: stop it, start it again (on the same address, with the same keyring). */
  outage?: { stop(): Promise<void>; start(): Promise<void> };
}

interface Live {
  id: string;
  provider: 'microsoft' | 'google';
  login: string;
}

/**
 * Key rotation under connections made through the real connect flow, run with the local keyring
 * and with the remote key service: `tether keys rotate` (the CLI, a separate process on the same
 * database and keys), connections working mid-rotation, the rewrap job in a running Tether,
 * `tether keys status` counts per version, `tether keys retire` of the old version — and then every
 * connection still works from a fresh process with nothing cached, through a forced refresh (so
 * refresh tokens and client secrets are decrypted too), and a new connection can be made. With the
 * remote key service: stopping it answers 503 `key_service_unavailable` — no plaintext, no local
 * fallback, no connection flagged — and everything works again once it is back.
 */
export function liveConnectionsSuite(name: string, setup: LiveSetup): void {
  describe(`key rotation with live connections: ${name}`, () => {
    let env: ConnectEnv;
    let member: Auth;
    const live: Live[] = [];
    const procs: TetherProcess[] = [];

    const cli = async (args: string[], expectCode = 0) => {
      const result = await runCli(args, { ...env.processEnv, TETHER_LOG_LEVEL: 'warn' });
      assert.equal(result.code, expectCode, `tether ${args.join(' ')}: ${result.stderr}${result.stdout}`);
      return result;
    };
    const status = async (): Promise<KeyStatus> => JSON.parse((await cli(['keys', 'status', '--json'])).stdout);
    const usage = (s: KeyStatus) => s.versions.map((v) => [v.version, v.dataKeys, v.rows, v.retiredAt !== null]);
    const rowsOf = (s: KeyStatus, table: string, column: string) => s.columns.find((c) => c.table === table && c.column === column)!.rowsByVersion;
    const drives = (http: HttpClient, c: Live) => http.get(`/api/v1/connections/${c.id}/drives`, member);
    const spawn = async (extra: Record<string, string> = {}) => {
      const proc = await spawnTether({ ...env.processEnv, ...extra });
      procs.push(proc);
      return proc;
    };
    const stop = async (proc: TetherProcess) => {
      if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGTERM');
      await proc.exited;
    };
    /** Expires access tokens at the provider and in Tether's rows: the next use of each must refresh. */
    const expire = async (connections: Live[]) => {
      for (const c of connections) {
        env.sb.expireAccessTokens(c.provider, c.login);
        await env.db.query(`update connections set access_token_expires_at = now() - interval '1 minute' where id = $1`, [c.id]);
      }
    };
    const addConnection = async (provider: 'microsoft' | 'google', login: string) => {
      const { location } = await connect(env, provider, undefined, { login });
      assert.equal(location!.searchParams.get('status'), 'created');
      const c = { id: location!.searchParams.get('connectionId')!, provider, login };
      live.push(c);
      return c;
    };

    before(async () => {
      env = await startConnectEnv({ scopePresets: { microsoft: 'documents', google: 'documents' }, tetherEnv: setup.env() });
      member = env.org.member.session;
      const tenant = env.sb.microsoft.accounts[0]!.organization;
      const ms = env.sb.microsoft.accounts.filter((a) => a.organization === tenant);
      await addConnection('microsoft', ms[0]!.email);
      await addConnection('microsoft', ms[1]!.email);
      await addConnection('google', env.sb.google.accounts[0]!.email);
    });
    after(async () => {
      for (const proc of procs) await stop(proc);
      await env?.stop();
    });

    it('connections made through the connect flow work, and keys status counts their rows under version 1', async () => {
      for (const c of live) {
        const res = await drives(env.t.http, c);
        assert.equal(res.status, 200, res.text);
      }
      const s = await status();
      assert.equal(s.provider, setup.provider);
      assert.equal(env.t.services.keys.kind, setup.provider);
      assert.equal(s.current, 1);
      assert.deepEqual(usage(s).map(([v, , , retired]) => [v, retired]), [[1, false]]);
      assert.deepEqual(rowsOf(s, 'connections', 'access_token'), { 1: 3 });
      assert.deepEqual(rowsOf(s, 'connections', 'refresh_token'), { 1: 3 });
      // Three sandbox apps and the org fixture's own Google app.
      assert.deepEqual(rowsOf(s, 'provider_apps', 'client_secret'), { 1: 4 });
      assert.equal(s.pendingRewrap, 0);
      assert.equal(s.orphanedRows, 0);
    });

    it('tether keys rotate: version 2 is current; until the rewrap job runs the data keys stay under version 1, and connections keep working, refreshes included', async () => {
      const before = await status();
      const rotated = JSON.parse((await cli(['keys', 'rotate', '--json'])).stdout);
      assert.equal(rotated.version.version, 2);
      const s = await status();
      assert.equal(s.current, 2);
      const dataKeys = before.versions[0]!.dataKeys;
      assert.ok(dataKeys >= 2, 'tokens and client secrets of the org');
      assert.equal(s.pendingRewrap, dataKeys, 'nothing rewrapped yet (no Tether runs jobs)');
      assert.deepEqual(usage(s), [[1, dataKeys, before.versions[0]!.rows, false], [2, 0, 0, false]]);
      assert.match((await cli(['keys', 'retire', '--version', '1'], 1)).stderr, /^conflict: KEK version 1 still wraps/);

      await expire(live);
      const mark = env.sb.requestLog.mark();
      for (const c of live) {
        const res = await drives(env.t.http, c);
        assert.equal(res.status, 200, res.text);
      }
      assert.equal(tokenCalls(env, mark).length, live.length, 'each connection refreshed once, mid-rotation');
    });

    it('the rewrap job of a running Tether moves every data key to version 2', async () => {
      const worker = await spawn({ TETHER_JOBS_ENABLED: 'true', TETHER_LOG_LEVEL: 'info' });
      const deadline = Date.now() + 60_000;
      let s = await status();
      while (s.pendingRewrap > 0) {
        assert.ok(Date.now() < deadline, `the rewrap job did not finish:\n${worker.output()}`);
        await sleep(200);
        s = await status();
      }
      await stop(worker);
      assert.match(worker.output(), /data keys rewrapped/);
      assert.deepEqual(usage(s).map(([v, keys, , retired]) => [v, keys === 0, retired]), [[1, true, false], [2, false, false]]);
      assert.equal(s.versions[0]!.rows, 0);
      assert.deepEqual(rowsOf(s, 'connections', 'access_token'), { 2: 3 });
      assert.deepEqual(rowsOf(s, 'connections', 'refresh_token'), { 2: 3 });
      assert.deepEqual(rowsOf(s, 'provider_apps', 'client_secret'), { 2: 4 });
    });

    it('tether keys retire 1: afterwards every connection works from a fresh process, through a forced refresh, and new connections can be made', async () => {
      const retired = JSON.parse((await cli(['keys', 'retire', '--version', '1', '--json'])).stdout);
      assert.ok(retired.version.retiredAt);
      const s = await status();
      assert.deepEqual(usage(s).map(([v, keys, rows, r]) => [v, keys, rows, r]), [[1, 0, 0, true], [2, s.versions[1]!.dataKeys, s.versions[1]!.rows, false]]);
      assert.equal(s.orphanedRows, 0, 'no row names a data key that is gone');

      // A process that has cached nothing: every token and client secret is decrypted from the database.
      const fresh = await spawn();
      const http = new HttpClient(fresh.url);
      await expire(live);
      const mark = env.sb.requestLog.mark();
      for (const c of live) {
        const res = await drives(http, c);
        assert.equal(res.status, 200, res.text);
      }
      assert.equal(tokenCalls(env, mark).length, live.length, 'each connection refreshed once: its refresh token and its app secret decrypted');
      for (const c of live) {
        const res = await drives(http, c);
        assert.equal(res.status, 200, res.text);
        assert.equal((await drives(env.t.http, c)).status, 200);
      }
      assert.equal(tokenCalls(env, mark).length, live.length, 'the refreshed tokens are stored and used');
      const rows = await env.db.query(`select status from connections`);
      assert.deepEqual(new Set(rows.rows.map((r) => r.status)), new Set(['active']));

      const added = await addConnection('google', env.sb.google.accounts[1]!.email);
      const res = await drives(http, added);
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(rowsOf(await status(), 'connections', 'access_token'), { 2: 4 });
    });

    if (setup.outage) {
      const outage = setup.outage;
      it('stopping the key service answers 503 key_service_unavailable — no plaintext, no local fallback, no connection flagged — and it works again once the service is back', async () => {
        // A process with nothing cached, started while the key service is up.
        const fresh = await spawn();
        const http = new HttpClient(fresh.url);
        const [unexpired, expired] = live as [Live, Live];
        await expire([expired]);
        const mark = env.sb.requestLog.mark();
        await outage.stop();
        try {
          for (const c of [unexpired, expired]) {
            const res = await drives(http, c);
            assert.equal(res.status, 503, res.text);
            assert.equal(res.body.error.code, 'key_service_unavailable');
            assert.deepEqual(Object.keys(res.body), ['error']);
          }
          assert.deepEqual(tokenCalls(env, mark), [], 'no refresh without the refresh token');
          const ready = await http.get('/readyz');
          assert.equal(ready.status, 503);
          assert.equal(existsSync(join(env.t.config.dataDir, 'keyring.json')), false, 'no local keyring appeared as a fallback');
          const statuses = await env.db.query(`select status from connections`);
          assert.deepEqual(new Set(statuses.rows.map((r) => r.status)), new Set(['active']), 'an outage flags no connection');
          assert.match((await runCli(['keys', 'status'], env.processEnv)).stderr, /^key_service_unavailable:/);
        } finally {
          await outage.start();
        }
        for (const c of [unexpired, expired]) {
          const res = await drives(http, c);
          assert.equal(res.status, 200, res.text);
        }
        assert.equal(tokenCalls(env, mark).length, 1, 'the expired one refreshed once the keys were back');
        assert.equal((await http.get('/readyz')).status, 200);
      });
    }
  });
}
