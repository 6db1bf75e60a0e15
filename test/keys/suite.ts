import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { TetherError } from '../../src/errors.ts';
import { queueRewrap } from '../../src/jobs/queue.ts';
import { KeyManagement, Vault, isDecryptionFailure, type EncryptedColumn, type FieldContext } from '../../src/keys/index.ts';
import type { CallContext } from '../../src/services/context.ts';
import { pgDumpOf } from '../support/database.ts';
import { startTestTether, type TestTether } from '../support/tether.ts';

export const operator: CallContext = { principal: { kind: 'operator' }, requestId: null, ip: null };

/** A stand-in for the tables later features add (connections, provider apps), registered like they will be. */
export const testColumns: EncryptedColumn[] = [
  { table: 'vault_test_rows', column: 'access_token', purpose: 'tokens' },
  { table: 'vault_test_rows', column: 'refresh_token', purpose: 'tokens' },
];

export interface SuiteSetup {
  /** Extra environment for the Tether under test (the key service configuration). */
  env(): Record<string, string>;
  /** Key material the suite must never find in the database or the logs (KEKs from the key file). */
  keyMaterial(): string[];
  /** Log output of other processes (the remote key service) to search for secrets as well. */
  otherLogs(): string;
}

export interface Stored {
  id: string;
  orgId: string;
  access: string;
  refresh: string;
}


export async function expectDecryptionFailure(promise: Promise<unknown>, what: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isDecryptionFailure(err), `${what}: expected decryption_failed, got ${String(err)}`);
    assert.equal((err as TetherError).status, 500);
    return true;
  });
}

/**
 * The key-service contract, run once with the local keyring and once with the remote key service
 * (a real `tether keys serve` process): envelope round trips through Postgres, AAD binding against
 * swapped rows, swapped fields, moved orgs and flipped bits, rotation with the real rewrap job,
 * retirement refused while in use and allowed after, and no plaintext or key material in the
 * database or any log.
 */
export function keyServiceSuite(name: string, setup: SuiteSetup, extra?: (get: () => { t: TestTether; rows: Stored[] }) => void): void {
  describe(`key service contract: ${name}`, () => {
    let t: TestTether;
    let db: pg.Client;
    let management: KeyManagement;
    const orgIds: string[] = [];
    const rows: Stored[] = [];
    const ctxOf = (row: Stored, field: 'access_token' | 'refresh_token'): FieldContext => ({
      orgId: row.orgId,
      table: 'vault_test_rows',
      rowId: row.id,
      field,
      purpose: 'tokens',
    });
    const read = async (row: Stored) =>
      (await db.query<{ access_token: Buffer; refresh_token: Buffer }>('select access_token, refresh_token from vault_test_rows where id = $1', [row.id])).rows[0]!;
    const decryptRow = async (vault: Vault, row: Stored) => {
      const stored = await read(row);
      return {
        access: await vault.decryptText(ctxOf(row, 'access_token'), stored.access_token),
        refresh: await vault.decryptText(ctxOf(row, 'refresh_token'), stored.refresh_token),
      };
    };
    const freshVault = () => new Vault(t.services.db, t.services.keys, { cacheTtlMs: 0 });

    before(async () => {
      t = await startTestTether({ TETHER_JOBS_ENABLED: 'true', ...setup.env() });
      db = new pg.Client({ connectionString: t.config.databaseUrl });
      await db.connect();
      await db.query(`create table vault_test_rows (id uuid primary key, org_id uuid not null references orgs (id), access_token bytea not null, refresh_token bytea not null)`);
      management = new KeyManagement(t.services.db, t.services.keys, { columns: testColumns });
      for (const slug of ['vault-a', 'vault-b']) orgIds.push((await t.services.accounts.createOrg(operator, { slug, name: slug })).id);
      // Three rows in org A, two in org B, written the way later features will write them.
      for (const [i, orgId] of [orgIds[0], orgIds[0], orgIds[0], orgIds[1], orgIds[1]].entries()) {
        const row: Stored = { id: randomUUID(), orgId: orgId!, access: `at-${i}-${randomBytes(18).toString('base64url')}`, refresh: `rt-${i}-${randomBytes(18).toString('base64url')}` };
        const access = await t.services.vault.encryptField(ctxOf(row, 'access_token'), row.access);
        const refresh = await t.services.vault.encryptField(ctxOf(row, 'refresh_token'), row.refresh);
        await db.query('insert into vault_test_rows values ($1, $2, $3, $4)', [row.id, row.orgId, access, refresh]);
        rows.push(row);
      }
    });
    after(async () => {
      await db?.end();
      await t?.stop();
    });

    it('round-trips every field through Postgres, with one data key per org and purpose', async () => {
      for (const row of rows) assert.deepEqual(await decryptRow(t.services.vault, row), { access: row.access, refresh: row.refresh });
      for (const row of rows) assert.deepEqual(await decryptRow(freshVault(), row), { access: row.access, refresh: row.refresh }, 'without the cache');
      const keys = await db.query<{ org_id: string; purpose: string; kek_version: number }>('select org_id, purpose, kek_version from data_keys order by org_id');
      assert.equal(keys.rows.length, 2);
      assert.deepEqual(new Set(keys.rows.map((k) => k.org_id)), new Set(orgIds));
      assert.ok(keys.rows.every((k) => k.purpose === 'tokens' && k.kek_version === 1));
      // Another purpose gets its own data key.
      const secret = await t.services.vault.encryptField({ orgId: orgIds[0]!, table: 'provider_apps', rowId: randomUUID(), field: 'client_secret', purpose: 'client_secrets' }, 'x');
      assert.equal(secret[0], 1);
      assert.equal((await db.query('select 1 from data_keys')).rowCount, 3);
    });

    it('stores no plaintext and no key material: every table dumped holds none of it', async () => {
      const tables = await db.query<{ name: string }>(
        `select format('%I.%I', table_schema, table_name) as name from information_schema.tables
         where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema')`,
      );
      let dump = '';
      for (const { name: table } of tables.rows) {
        const result = await db.query(`select * from ${table}`);
        dump += JSON.stringify(result.rows, (_k, v) => (Buffer.isBuffer(v) || v?.type === 'Buffer' ? Buffer.from(v.data ?? v).toString('latin1') + Buffer.from(v.data ?? v).toString('base64') + Buffer.from(v.data ?? v).toString('hex') : v));
      }
      assert.ok(dump.includes('vault-a') && dump.length > 1000, 'the dump is not vacuous');
      for (const row of rows) {
        for (const secret of [row.access, row.refresh]) assert.ok(!dump.includes(secret), `plaintext ${secret.slice(0, 6)}… stored`);
      }
      for (const key of setup.keyMaterial()) assert.ok(!dump.includes(key), 'KEK material stored in the database');
      // And with pg_dump itself, where the installed one can dump this server (it refuses newer majors).
      const pgDump = pgDumpOf(t.config.databaseUrl!, Number((await db.query('show server_version_num')).rows[0].server_version_num) / 10000);
      if (pgDump !== undefined) {
        assert.match(pgDump, /COPY public\.vault_test_rows/);
        for (const row of rows) for (const secret of [row.access, row.refresh]) assert.ok(!pgDump.includes(secret), 'plaintext in pg_dump output');
        for (const key of setup.keyMaterial()) assert.ok(!pgDump.includes(key), 'KEK material in pg_dump output');
      }
    });

    it('fails closed when two rows swap ciphertexts, a row swaps its fields, a value moves to another org, or a bit flips', async () => {
      const [a1, a2, , b1] = rows as [Stored, Stored, Stored, Stored];
      const s1 = await read(a1);
      const s2 = await read(a2);
      const sb = await read(b1);
      const vault = t.services.vault;
      await expectDecryptionFailure(vault.decryptField(ctxOf(a1, 'access_token'), s2.access_token), 'rows swapped');
      await expectDecryptionFailure(vault.decryptField(ctxOf(a2, 'access_token'), s1.access_token), 'rows swapped (other way)');
      await expectDecryptionFailure(vault.decryptField(ctxOf(a1, 'access_token'), s1.refresh_token), 'fields swapped');
      await expectDecryptionFailure(vault.decryptField(ctxOf(a1, 'refresh_token'), s1.access_token), 'fields swapped (other way)');
      await expectDecryptionFailure(vault.decryptField(ctxOf(a1, 'access_token'), sb.access_token), "another org's ciphertext");
      await expectDecryptionFailure(vault.decryptField({ ...ctxOf(b1, 'access_token'), orgId: a1.orgId }, sb.access_token), 'claiming another org');
      await expectDecryptionFailure(vault.decryptField({ ...ctxOf(a1, 'access_token'), purpose: 'client_secrets' }, s1.access_token), 'another purpose');
      for (const index of [0, 5, 20, 40, s1.access_token.length - 1]) {
        const flipped = Buffer.from(s1.access_token);
        flipped[index]! ^= 0x10;
        await expectDecryptionFailure(vault.decryptField(ctxOf(a1, 'access_token'), flipped), `bit flipped at byte ${index}`);
      }
      const unknownFormat = Buffer.from(s1.access_token);
      unknownFormat[0] = 2;
      await expectDecryptionFailure(vault.decryptField(ctxOf(a1, 'access_token'), unknownFormat), 'unknown format version');
      await expectDecryptionFailure(vault.decryptField(ctxOf(a1, 'access_token'), Buffer.alloc(0)), 'empty value');
      // Done in the database itself, as an attacker with write access would: swap, then read back.
      await db.query('update vault_test_rows set access_token = refresh_token, refresh_token = access_token where id = $1', [a1.id]);
      await expectDecryptionFailure(decryptRow(freshVault(), a1), 'fields swapped in the table');
      await db.query('update vault_test_rows set access_token = refresh_token, refresh_token = access_token where id = $1', [a1.id]);
      assert.deepEqual(await decryptRow(freshVault(), a1), { access: a1.access, refresh: a1.refresh }, 'restored');
    });

    it('refuses to decrypt under a tampered wrapped data key', async () => {
      const [a1] = rows as [Stored];
      const key = (await db.query<{ id: string; wrapped_key: Buffer }>('select id, wrapped_key from data_keys where org_id = $1 and purpose = $2', [a1.orgId, 'tokens'])).rows[0]!;
      const tampered = Buffer.from(key.wrapped_key);
      tampered[20]! ^= 1;
      await db.query('update data_keys set wrapped_key = $2 where id = $1', [key.id, tampered]);
      try {
        await expectDecryptionFailure(decryptRow(freshVault(), a1), 'tampered wrapped key');
      } finally {
        await db.query('update data_keys set wrapped_key = $2 where id = $1', [key.id, key.wrapped_key]);
      }
      assert.deepEqual(await decryptRow(freshVault(), a1), { access: a1.access, refresh: a1.refresh });
    });

    it('rotates: the rewrap job moves every data key to the new version; retiring the old one is refused until then, allowed after', async () => {
      const before = await management.status();
      assert.equal(before.current, 1);
      assert.deepEqual(before.versions.map((v) => [v.version, v.dataKeys, v.rows]), [[1, 3, 10]]);
      assert.deepEqual(before.columns.map((c) => c.rowsByVersion), [{ 1: 5 }, { 1: 5 }]);

      const added = await management.rotate(operator);
      assert.equal(added.version, 2);
      assert.equal(added.current, true);
      const rotated = await management.status();
      assert.equal(rotated.current, 2);
      assert.equal(rotated.pendingRewrap, 3);
      await assert.rejects(management.retire(operator, 1), (err: TetherError) => err.code === 'conflict' && /still wraps 3 data keys \(10 rows\)/.test(err.message));
      await assert.rejects(management.retire(operator, 2), (err: TetherError) => err.code === 'conflict' && /current version/.test(err.message));
      await assert.rejects(management.retire(operator, 9), (err: TetherError) => err.code === 'not_found');
      // Still readable mid-rotation, and new data keys are wrapped under the new version.
      assert.deepEqual(await decryptRow(freshVault(), rows[0]!), { access: rows[0]!.access, refresh: rows[0]!.refresh });
      await t.services.vault.encryptField({ orgId: orgIds[1]!, table: 'spaces', rowId: randomUUID(), field: 'metadata', purpose: 'space_metadata' }, 'm');
      assert.equal((await db.query(`select kek_version from data_keys where purpose = 'space_metadata'`)).rows[0].kek_version, 2);

      await queueRewrap(t.database.pool);
      const deadline = Date.now() + 60_000;
      let status = await management.status();
      while (status.pendingRewrap > 0 && Date.now() < deadline) {
        await sleep(200);
        status = await management.status();
      }
      assert.equal(status.pendingRewrap, 0, 'the rewrap job finished');
      assert.deepEqual(status.versions.map((v) => [v.version, v.dataKeys, v.rows]), [[1, 0, 0], [2, 4, 10]]);
      assert.ok((await db.query('select 1 from data_keys where rewrapped_at is not null')).rowCount === 3);

      const retired = await management.retire(operator, 1);
      assert.equal(retired.version, 1);
      assert.ok(retired.retiredAt);
      const final = await management.status();
      assert.ok(final.versions.find((v) => v.version === 1)?.retiredAt, 'status shows version 1 retired');
      // Nothing became unreadable: every row decrypts with the keys as they are now, without any cache.
      t.services.vault.forget();
      for (const row of rows) assert.deepEqual(await decryptRow(freshVault(), row), { access: row.access, refresh: row.refresh });
      for (const row of rows) assert.deepEqual(await decryptRow(t.services.vault, row), { access: row.access, refresh: row.refresh });
      const audit = await db.query<{ action: string }>(`select action from audit_events where action like 'keys.%' order by id`);
      assert.deepEqual(audit.rows.map((r) => r.action), ['keys.rotate', 'keys.retire']);
    });

    it('writes no plaintext, data key or KEK to any log line', async () => {
      const logs = t.logs.join('') + setup.otherLogs();
      assert.ok(t.logs.some((l) => l.includes('data key created')), 'the log is not vacuous');
      assert.ok(t.logs.some((l) => l.includes('decryption failed') && l.includes('vault_test_rows')), 'failures are logged, with where');
      for (const row of rows) {
        for (const secret of [row.access, row.refresh]) assert.ok(!logs.includes(secret), `plaintext ${secret.slice(0, 6)}… logged`);
      }
      for (const key of setup.keyMaterial()) assert.ok(!logs.includes(key), 'KEK material logged');
      // Data keys, as base64 or hex, from the current wrapping: unwrap each and search for it.
      const keys = await db.query<{ id: string; org_id: string; purpose: 'tokens'; kek_version: number; wrapped_key: Buffer }>('select * from data_keys');
      for (const k of keys.rows) {
        const plain = await t.services.keys.unwrap({ orgId: k.org_id, purpose: k.purpose, dataKeyId: k.id }, k.kek_version, k.wrapped_key);
        for (const encoding of ['base64', 'hex', 'base64url'] as const) assert.ok(!logs.includes(plain.toString(encoding)), `a data key is logged (${encoding})`);
      }
    });

    extra?.(() => ({ t, rows }));
  });
}
