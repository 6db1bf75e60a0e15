import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { createDb, type Db } from '../../src/db/database.ts';
import { LocalKeyService } from '../../src/keys/localKeyService.ts';
import { Vault } from '../../src/keys/vault.ts';
import { createTestDatabase } from '../support/database.ts';
import { runCli, spawnTether } from '../support/process.ts';

/**
 * The operator's path: `tether keys status`, `keys rotate` (the rewrap job then runs in a separate
 * `tether serve` process), `keys retire` refused while in use and allowed after, `rotate --wait`.
 */
describe('tether keys (CLI)', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let dataDir: string;
  let env: Record<string, string>;
  let db: Db;
  before(async () => {
    database = await createTestDatabase();
    dataDir = mkdtempSync(join(tmpdir(), 'tether-keys-cli-'));
    env = { DATABASE_URL: database.url, TETHER_DATA_DIR: dataDir, TETHER_LOG_LEVEL: 'warn' };
    db = createDb(database.url).db;
  });
  after(async () => {
    await db.destroy();
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const cli = async (args: string[], expectCode = 0) => {
    const result = await runCli(args, env);
    assert.equal(result.code, expectCode, `tether ${args.join(' ')}: ${result.stderr}${result.stdout}`);
    return result;
  };
  const status = async () => JSON.parse((await cli(['keys', 'status', '--json'])).stdout);

  it('rotates, rewraps in the background job, retires only what nothing uses', async () => {
    assert.equal((await cli(['keys', 'status'])).stdout.split('\n')[0], 'Key service: local; current KEK version 1');
    assert.equal(statSync(join(dataDir, 'keyring.json')).mode & 0o777, 0o600, 'the keyring is created 0600 in the data dir');
    const org = JSON.parse((await cli(['org', 'create', '--slug', 'keys-cli', '--name', 'Keys', '--json'])).stdout);

    // Data written by "Tether" (a Vault on the same database and keyring).
    const keyring = new LocalKeyService({ kind: 'file', path: join(dataDir, 'keyring.json') });
    keyring.init();
    const ctx = { orgId: org.id, table: 'connections', rowId: randomUUID(), field: 'refresh_token', purpose: 'tokens' as const };
    const value = await new Vault(db, keyring, { cacheTtlMs: 0 }).encryptField(ctx, 'refresh-token-value');

    let s = await status();
    assert.equal(s.current, 1);
    assert.deepEqual(s.versions.map((v: { version: number; dataKeys: number }) => [v.version, v.dataKeys]), [[1, 1]]);

    const rotated = JSON.parse((await cli(['keys', 'rotate', '--json'])).stdout);
    assert.equal(rotated.version.version, 2);
    s = await status();
    assert.equal(s.current, 2);
    assert.equal(s.pendingRewrap, 1);
    assert.match((await cli(['keys', 'retire', '--version', '1'], 1)).stderr, /^conflict: KEK version 1 still wraps 1 data keys/);
    assert.match((await cli(['keys', 'retire', '--version', '2'], 1)).stderr, /^conflict: .*current version/);
    assert.match((await cli(['keys', 'retire', '--version', 'two'], 1)).stderr, /^validation_failed/);

    // A running Tether picks up the job `keys rotate` queued.
    const tether = await spawnTether(env);
    try {
      const deadline = Date.now() + 60_000;
      while ((await db.selectFrom('data_keys').select('kek_version').executeTakeFirstOrThrow()).kek_version !== 2) {
        assert.ok(Date.now() < deadline, `the rewrap job did not run:\n${tether.output()}`);
        await sleep(200);
      }
    } finally {
      tether.child.kill('SIGTERM');
      await tether.exited;
    }
    assert.ok(!tether.output().includes('refresh-token-value'));

    const retired = JSON.parse((await cli(['keys', 'retire', '--version', '1', '--json'])).stdout);
    assert.ok(retired.version.retiredAt);
    const text = (await cli(['keys', 'status'])).stdout;
    assert.match(text, /^1\s+retired\s/m);
    assert.match(text, /^2\s+current\s.*\s1\s+\d+$/m, 'version 2 wraps the one data key');
    assert.match(text, /Encrypted columns \(rows per KEK version\):\n/);
    assert.match(text, /^ {2}provider_apps\.client_secret\s+client_secrets\s+no rows$/m);
    assert.equal(await new Vault(db, keyring, { cacheTtlMs: 0 }).decryptText(ctx, value), 'refresh-token-value');

    // --wait rewraps in the command itself.
    const waited = JSON.parse((await cli(['keys', 'rotate', '--wait', '--json'])).stdout);
    assert.deepEqual([waited.version.version, waited.rewrapped], [3, 1]);
    await cli(['keys', 'retire', '--version', '2']);
    s = await status();
    assert.deepEqual(s.versions.map((v: { version: number; dataKeys: number; retiredAt: string | null }) => [v.version, v.dataKeys, v.retiredAt !== null]), [[1, 0, true], [2, 0, true], [3, 1, false]]);
    assert.equal(await new Vault(db, keyring, { cacheTtlMs: 0 }).decryptText(ctx, value), 'refresh-token-value');
  });

  it('keys serve refuses to run without the shared secret', async () => {
    const result = await runCli(['keys', 'serve'], env);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /TETHER_KEYS_REMOTE_TOKEN/);
  });

  it('reports a remote key service that is not there, instead of using a local key', async () => {
    const result = await runCli(['keys', 'status'], { ...env, TETHER_KEYS_PROVIDER: 'remote', TETHER_KEYS_REMOTE_URL: 'http://127.0.0.1:9', TETHER_KEYS_REMOTE_TOKEN: 'x'.repeat(32) });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^key_service_unavailable:/);
  });

  it('refuses remote mode without its URL and secret (configuration error, exit 2)', async () => {
    const result = await runCli(['keys', 'status'], { ...env, TETHER_KEYS_PROVIDER: 'remote' });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /keys\.remoteUrl: is required/);
    assert.match(result.stderr, /keys\.remoteToken: is required/);
  });
});
