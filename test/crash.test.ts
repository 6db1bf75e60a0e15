import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import pg from 'pg';
import { createTestDatabase } from './support/database.ts';
import { freePort, spawnTether, type TetherProcess } from './support/process.ts';
import { HttpClient, signIn } from './support/tether.ts';

/**
 * `kill -9` while requests are writing, then start again: Tether must come back (including its
 * embedded Postgres, which the killed process left running), report ready, and every multi-row
 * write must be all-or-nothing.
 */
async function crashWhileWriting(env: Record<string, string>, connect: (proc: TetherProcess) => Promise<string>): Promise<void> {
  const operatorToken = `op_${'x'.repeat(40)}`;
  const fullEnv = { ...env, TETHER_OPERATOR_TOKEN: operatorToken };
  let proc = await spawnTether(fullEnv);
  const http = new HttpClient(proc.url);
  const operator = { kind: 'operator', token: operatorToken } as const;
  const org = await http.post('/api/v1/operator/orgs', { slug: 'crash', name: 'Crash' }, operator);
  assert.equal(org.status, 201, org.text);
  await http.post(`/api/v1/operator/orgs/${org.body.id}/admins`, { email: 'a@crash.test', displayName: 'A', password: 'correct horse battery' }, operator);
  const admin = await signIn(http, 'crash', 'a@crash.test', 'correct horse battery');
  const groups: string[] = [];
  for (const name of ['g1', 'g2', 'g3']) groups.push((await http.post('/api/v1/groups', { name }, admin)).body.id);

  // Writers: each creates a user in three groups (user row + 3 memberships + audit row, one transaction).
  let created = 0;
  let stop = false;
  const writers = Array.from({ length: 8 }, async (_, w) => {
    for (let i = 0; !stop; i++) {
      const res = await http
        .post('/api/v1/users', { email: `u${w}-${i}@crash.test`, displayName: `U${w}-${i}`, groupIds: groups }, admin)
        .catch(() => undefined);
      if (res?.status === 201) created++;
    }
  });
  while (created < 20) await new Promise((r) => setTimeout(r, 20));
  proc.child.kill('SIGKILL');
  assert.equal(await proc.exited, 137);
  stop = true;
  await Promise.all(writers);

  proc = await spawnTether(fullEnv);
  try {
    const ready = await fetch(`${proc.url}/readyz`);
    assert.equal(ready.status, 200, await ready.text());
    const client = new pg.Client({ connectionString: await connect(proc) });
    await client.connect();
    try {
      const users = await client.query<{ id: string; memberships: number; audits: number }>(`
        select u.id,
          (select count(*)::int from group_members m where m.user_id = u.id) as memberships,
          (select count(*)::int from audit_events e where e.action = 'user.create' and e.target_id = u.id::text) as audits
        from users u where u.email like 'u%@crash.test'`);
      assert.ok(users.rows.length >= 20, `expected the acknowledged users to survive, found ${users.rows.length}`);
      for (const row of users.rows) {
        assert.equal(row.memberships, 3, `user ${row.id} has ${row.memberships} of 3 memberships`);
        assert.equal(row.audits, 1, `user ${row.id} has ${row.audits} create audit events`);
      }
      const orphans = await client.query(`
        select e.target_id from audit_events e
        where e.action = 'user.create' and not exists (select 1 from users u where u.id::text = e.target_id)`);
      assert.deepEqual(orphans.rows, [], 'audit events for users that were never committed');
    } finally {
      await client.end();
    }
    // And it still takes writes.
    const again = await signIn(new HttpClient(proc.url), 'crash', 'a@crash.test', 'correct horse battery');
    assert.equal((await new HttpClient(proc.url).post('/api/v1/groups', { name: 'after' }, again)).status, 201);
  } finally {
    proc.child.kill('SIGTERM');
    assert.equal(await proc.exited, 0, proc.output());
  }
}

describe('kill -9 while writing', () => {
  it('recovers with the embedded Postgres (orphaned postmaster is stopped and restarted)', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tether-crash-'));
    const pgPort = String(await freePort());
    try {
      await crashWhileWriting({ TETHER_DATA_DIR: dataDir, TETHER_EMBEDDED_PG_PORT: pgPort }, async () => {
        const { readFileSync } = await import('node:fs');
        const password = readFileSync(join(dataDir, 'postgres-password'), 'utf8').trim();
        return `postgres://postgres:${password}@127.0.0.1:${pgPort}/tether`;
      });
      // The clean shutdown that ends crashWhileWriting stopped the embedded Postgres too.
      const { existsSync } = await import('node:fs');
      assert.equal(existsSync(join(dataDir, 'postgres', 'postmaster.pid')), false, 'embedded Postgres stopped at shutdown');
      assert.equal(existsSync(join(dataDir, 'tether.pid')), false);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('recovers on an external Postgres (DATABASE_URL)', async () => {
    const database = await createTestDatabase();
    const dataDir = mkdtempSync(join(tmpdir(), 'tether-crash-'));
    try {
      await crashWhileWriting({ DATABASE_URL: database.url, TETHER_DATA_DIR: dataDir }, async () => database.url);
    } finally {
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
