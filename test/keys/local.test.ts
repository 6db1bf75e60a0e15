import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { TetherError } from '../../src/errors.ts';
import { loadConfig } from '../../src/config/load.ts';
import { createKeyService } from '../../src/keys/index.ts';
import { LocalKeyService } from '../../src/keys/localKeyService.ts';
import { Vault } from '../../src/keys/vault.ts';
import { startTestTether } from '../support/tether.ts';
import { keyServiceSuite, operator } from './suite.ts';

const dir = mkdtempSync(join(tmpdir(), 'tether-keys-local-'));

/** The key-service step of Tether's boot (src/main.ts runs it before touching the database). */
function boot(env: Record<string, string>) {
  return createKeyService(loadConfig({ TETHER_DATA_DIR: join(dir, 'boot'), ...env }));
}
after(() => rmSync(dir, { recursive: true, force: true }));

/** Every KEK the key file has held, as base64 and hex (collected while the suite runs, before any is retired). */
function keyMaterialOf(file: string, seen: Set<string>): string[] {
  if (existsSync(file)) {
    for (const v of JSON.parse(readFileSync(file, 'utf8')).versions as Array<{ key: string | null }>) {
      if (v.key) seen.add(v.key).add(Buffer.from(v.key, 'base64').toString('hex'));
    }
  }
  return [...seen];
}

const keyFile = join(dir, 'tether', 'keyring.json');
const seen = new Set<string>();
keyServiceSuite(
  'local keyring (key file)',
  { env: () => ({ TETHER_KEYS_KEY_FILE: keyFile }), keyMaterial: () => keyMaterialOf(keyFile, seen), otherLogs: () => '' },
  (get) => {
    it('created the key file on first start, mode 0600, holding every version', () => {
      assert.equal(statSync(keyFile).mode & 0o777, 0o600);
      const file = JSON.parse(readFileSync(keyFile, 'utf8'));
      assert.equal(file.format, 'tether-keyring');
      assert.deepEqual(file.versions.map((v: { version: number; key: string | null }) => [v.version, v.key === null]), [[1, true], [2, false]], 'version 1 retired (key destroyed), 2 current');
      assert.equal(get().t.services.keys.kind, 'local');
      assert.ok(get().t.logs.some((l) => l.includes('local keyring created')));
    });
  },
);

describe('local keyring', () => {
  it('creates the key file in the data dir by default, 0600, and reuses it on the next start', async () => {
    const dataDir = mkdtempSync(join(dir, 'data-'));
    const t = await startTestTether({ TETHER_DATA_DIR: dataDir });
    try {
      const file = join(dataDir, 'keyring.json');
      assert.equal(statSync(file).mode & 0o777, 0o600);
      const before = readFileSync(file, 'utf8');
      const again = new LocalKeyService({ kind: 'file', path: file });
      assert.equal(again.init(), false, 'an existing key file is kept');
      assert.equal(readFileSync(file, 'utf8'), before);
    } finally {
      await t.stop();
    }
  });

  it('refuses to start with a key file other users can read', () => {
    const file = join(dir, 'loose', 'keyring.json');
    new LocalKeyService({ kind: 'file', path: file }).init();
    chmodSync(file, 0o644);
    assert.throws(() => boot({ TETHER_KEYS_KEY_FILE: file }), (err: TetherError) => err.code === 'key_service_unavailable' && /chmod 600/.test(err.message));
  });

  it('refuses a damaged key file rather than making a new key', async () => {
    const file = join(dir, 'damaged', 'keyring.json');
    const keyring = new LocalKeyService({ kind: 'file', path: file });
    keyring.init();
    const text = readFileSync(file, 'utf8').replace('"current": 1', '"current": 7');
    rmSync(file);
    writeFileSync(file, text, { mode: 0o600 });
    assert.throws(() => boot({ TETHER_KEYS_KEY_FILE: file }), (err: TetherError) => err.code === 'key_service_unavailable');
  });

  it('sees a rotation made by another process without a restart', async () => {
    const file = join(dir, 'shared', 'keyring.json');
    const server = new LocalKeyService({ kind: 'file', path: file });
    server.init();
    const context = { orgId: randomUUID(), purpose: 'tokens' as const, dataKeyId: randomUUID() };
    const old = await server.wrap(context, randomBytes(32));
    assert.equal(old.kekVersion, 1);
    const cli = new LocalKeyService({ kind: 'file', path: file });
    assert.equal((await cli.addVersion()).version, 2);
    assert.equal(statSync(file).mode & 0o777, 0o600, 'the rewritten file keeps mode 0600');
    assert.equal((await server.wrap(context, randomBytes(32))).kekVersion, 2);
    assert.equal(await server.currentVersion(), 2);
    await cli.retireVersion(1);
    await assert.rejects(server.unwrap(context, 1, old.wrapped), (err: TetherError) => err.code === 'decryption_failed');
  });

  it('takes keys from TETHER_KEYS_LOCAL_KEYS instead of a file; rotating is then the operator\'s change', async () => {
    const dataDir = mkdtempSync(join(dir, 'env-'));
    const k1 = randomBytes(32).toString('base64');
    const k3 = randomBytes(32).toString('base64');
    const t = await startTestTether({ TETHER_DATA_DIR: dataDir, TETHER_KEYS_LOCAL_KEYS: `1:${k1}, 3:${k3}` });
    try {
      assert.equal(existsSync(join(dataDir, 'keyring.json')), false, 'no key file is made');
      assert.equal(await t.services.keys.currentVersion(), 3);
      const org = await t.services.accounts.createOrg(operator, { slug: 'env-keys', name: 'Env keys' });
      const ctx = { orgId: org.id, table: 'connections', rowId: randomUUID(), field: 'access_token', purpose: 'tokens' as const };
      const value = await t.services.vault.encryptField(ctx, 'secret value');
      assert.equal(await t.services.vault.decryptText(ctx, value), 'secret value');
      await assert.rejects(t.services.keyManagement.rotate(operator), (err: TetherError) => err.code === 'conflict' && /configuration/.test(err.message));
      assert.ok(!t.logs.join('').includes(k1) && !t.logs.join('').includes(k3), 'configured keys are not logged');
    } finally {
      await t.stop();
    }
  });

  it('makes one data key per org and purpose when many callers on several instances race for it', async () => {
    const t = await startTestTether();
    try {
      const org = await t.services.accounts.createOrg(operator, { slug: 'race', name: 'Race' });
      // Separate Vaults stand in for separate instances: each has its own cache and single-flight.
      const vaults = [t.services.vault, new Vault(t.services.db, t.services.keys, { cacheTtlMs: 60_000 }), new Vault(t.services.db, t.services.keys, { cacheTtlMs: 0 })];
      const contexts = Array.from({ length: 30 }, () => ({ orgId: org.id, table: 'connections', rowId: randomUUID(), field: 'access_token', purpose: 'tokens' as const }));
      const sealed = await Promise.all(contexts.map((ctx, i) => vaults[i % 3]!.encryptField(ctx, `value-${i}`)));
      const keys = await t.services.db.selectFrom('data_keys').select('id').where('org_id', '=', org.id).execute();
      assert.equal(keys.length, 1);
      for (const [i, ctx] of contexts.entries()) assert.equal(await vaults[(i + 1) % 3]!.decryptText(ctx, sealed[i]!), `value-${i}`);
    } finally {
      await t.stop();
    }
  });

  it('rewraps every other data key when one does not unwrap, and reports that one', async () => {
    const t = await startTestTether();
    try {
      const orgs = await Promise.all(['rw-a', 'rw-b', 'rw-c'].map((slug) => t.services.accounts.createOrg(operator, { slug, name: slug })));
      for (const org of orgs) await t.services.vault.encryptField({ orgId: org.id, table: 'connections', rowId: randomUUID(), field: 'access_token', purpose: 'tokens' }, 'v');
      const broken = await t.services.db.selectFrom('data_keys').selectAll().where('org_id', '=', orgs[1]!.id).executeTakeFirstOrThrow();
      const tampered = Buffer.from(broken.wrapped_key);
      tampered[40]! ^= 1;
      await t.services.db.updateTable('data_keys').set({ wrapped_key: tampered }).where('id', '=', broken.id).execute();
      await t.services.keyManagement.rotate(operator);
      const result = await t.services.keyManagement.rewrapAll({ batchSize: 1 });
      assert.deepEqual(result, { rewrapped: 2, failed: [broken.id] });
      const versions = await t.services.db.selectFrom('data_keys').select(['id', 'kek_version']).execute();
      assert.deepEqual(new Map(versions.map((v) => [v.id, v.kek_version])).get(broken.id), 1);
      assert.equal(versions.filter((v) => v.kek_version === 2).length, 2);
      await assert.rejects(t.services.keyManagement.retire(operator, 1), (err: TetherError) => err.code === 'conflict', 'the unreadable key still pins version 1');
      assert.ok(t.logs.some((l) => l.includes('data key does not unwrap') && l.includes(broken.id)));
    } finally {
      await t.stop();
    }
  });

  it('refuses malformed TETHER_KEYS_LOCAL_KEYS at start', () => {
    for (const bad of ['1:short', 'nokey', `0:${randomBytes(32).toString('base64')}`, `1:${randomBytes(32).toString('base64')},1:${randomBytes(32).toString('base64')}`]) {
      assert.throws(() => boot({ TETHER_KEYS_LOCAL_KEYS: bad }), (err: TetherError) => err.code === 'key_service_unavailable', bad);
    }
  });
});
