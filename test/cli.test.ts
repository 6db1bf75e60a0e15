import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase } from './support/database.ts';
import { runCli, spawnTether, type TetherProcess } from './support/process.ts';
import { HttpClient, signIn } from './support/tether.ts';

describe('tether CLI', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let dataDir: string;
  let env: Record<string, string>;
  before(async () => {
    database = await createTestDatabase();
    dataDir = mkdtempSync(join(tmpdir(), 'tether-cli-'));
    env = { DATABASE_URL: database.url, TETHER_DATA_DIR: dataDir, TETHER_LOG_LEVEL: 'warn' };
  });
  after(async () => {
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('has --help on every command', async () => {
    const top = await runCli(['--help'], env);
    assert.equal(top.code, 0);
    const names = [...top.stdout.matchAll(/^ {2}([a-z-]+(?: [a-z-]+)?)\s{2,}/gm)].map((m) => m[1]!.trim());
    for (const expected of ['serve', 'migrate', 'org create', 'org list', 'user create', 'api-key create', 'api-key list', 'api-key revoke']) {
      assert.ok(names.includes(expected), `top-level help lists ${expected}`);
    }
    for (const name of names) {
      const help = await runCli([...name.split(' '), '--help'], env);
      assert.equal(help.code, 0, `${name} --help`);
      assert.match(help.stdout, new RegExp(`^Usage: tether ${name}`), `${name} --help prints its usage`);
    }
  });

  it('rejects unknown commands, unknown options and missing options with usage and a non-zero exit', async () => {
    assert.equal((await runCli(['frobnicate'], env)).code, 1);
    const unknown = await runCli(['org', 'create', '--slug', 'a', '--name', 'A', '--colour', 'red'], env);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /colour/);
    const missing = await runCli(['org', 'create', '--slug', 'a'], env);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /Missing --name/);
  });

  it('migrates, creates an org, an admin and an API key that work against the API', async () => {
    assert.equal((await runCli(['migrate'], env)).code, 0);
    const org = await runCli(['org', 'create', '--slug', 'acme', '--name', 'Acme', '--json'], env);
    assert.equal(org.code, 0, org.stderr);
    assert.equal(JSON.parse(org.stdout).slug, 'acme');
    const dup = await runCli(['org', 'create', '--slug', 'acme', '--name', 'Acme'], env);
    assert.equal(dup.code, 1);
    assert.match(dup.stderr, /^conflict:/);
    const user = await runCli(['user', 'create', '--org', 'acme', '--email', 'boss@acme.test', '--name', 'Boss', '--role', 'admin', '--password-stdin', '--json'], env, 'a long enough password\n');
    assert.equal(user.code, 0, user.stderr);
    assert.equal(JSON.parse(user.stdout).password, undefined, 'a password from stdin is not echoed');
    const key = await runCli(['api-key', 'create', '--org', 'acme', '--name', 'CRM', '--json'], env);
    assert.equal(key.code, 0, key.stderr);
    const { key: apiKey, id: keyId } = JSON.parse(key.stdout);

    const proc = await spawnTether({ ...env, TETHER_OPERATOR_TOKEN: 'o'.repeat(40) });
    try {
      const http = new HttpClient(proc.url);
      const me = await http.get('/api/v1/me', { kind: 'apiKey', key: apiKey, user: JSON.parse(user.stdout).id });
      assert.equal(me.status, 200, me.text);
      assert.equal(me.body.user.email, 'boss@acme.test');
      assert.equal((await signIn(http, 'acme', 'boss@acme.test', 'a long enough password')).kind, 'session');
      assert.equal((await runCli(['api-key', 'revoke', '--org', 'acme', '--id', keyId], env)).code, 0);
      assert.equal((await http.get('/api/v1/me', { kind: 'apiKey', key: apiKey, user: JSON.parse(user.stdout).id })).status, 401);
      const audit = await http.get('/api/v1/audit-events?limit=200', await signIn(http, 'acme', 'boss@acme.test', 'a long enough password'));
      const actions = audit.body.items.map((e: { action: string; actorType: string }) => `${e.actorType}:${e.action}`);
      for (const a of ['operator:org.create', 'operator:user.create', 'operator:api_key.create', 'operator:api_key.revoke']) assert.ok(actions.includes(a), `audit has ${a}`);
    } finally {
      proc.child.kill('SIGTERM');
      assert.equal(await proc.exited, 0);
    }
  });
});

describe('configuration and first start', () => {
  it('reports every configuration problem and exits non-zero before starting', async () => {
    const res = await runCli(['serve'], { PORT: 'eighty', DATABASE_URL: 'mysql://nope', TETHER_LOG_LEVEL: 'chatty', TETHER_OPERATOR_TOKEN: 'short' });
    assert.equal(res.code, 2);
    for (const word of ['port (from PORT)', 'databaseUrl (from DATABASE_URL)', 'log.level (from TETHER_LOG_LEVEL)', 'operatorToken (from TETHER_OPERATOR_TOKEN)']) {
      assert.ok(res.stderr.includes(word), `report names ${word}:\n${res.stderr}`);
    }
  });

  it('reports a broken config file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tether-cfg-'));
    const file = join(dir, 'tether.yaml');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(file, 'port: 8080\nhttp:\n  bodyLimitByte: 10\n');
    const res = await runCli(['migrate'], { TETHER_CONFIG: file });
    assert.equal(res.code, 2);
    assert.match(res.stderr, /http: Unrecognized key: "bodyLimitByte"/);
    rmSync(dir, { recursive: true, force: true });
  });

  it('generates the operator token on first start (0600), prints it once, and bootstraps a default admin', async () => {
    const database = await createTestDatabase();
    const dataDir = mkdtempSync(join(tmpdir(), 'tether-first-'));
    const env = { DATABASE_URL: database.url, TETHER_DATA_DIR: dataDir };
    const children: TetherProcess[] = [];
    const bannerOf = async (proc: TetherProcess) => {
      children.push(proc);
      for (let i = 0; i < 600 && !proc.output().includes('Tether is running'); i++) await new Promise((r) => setTimeout(r, 50));
      return proc;
    };
    try {
      const first = await bannerOf(await spawnTether(env));
      const token = readFileSync(join(dataDir, 'operator-token'), 'utf8').trim();
      assert.equal(statSync(join(dataDir, 'operator-token')).mode & 0o777, 0o600);
      assert.ok(first.output().includes(`Operator token:  ${token}`), first.output());
      const password = /password (\S+) {2}\(shown once\)/.exec(first.output())?.[1];
      assert.ok(password, 'the banner shows the bootstrap password');
      assert.equal((await signIn(new HttpClient(first.url), 'default', 'admin@tether.local', password)).kind, 'session');
      first.child.kill('SIGTERM');
      assert.equal(await first.exited, 0);

      const second = await bannerOf(await spawnTether(env));
      assert.match(second.output(), /Operator token: {2}in /);
      assert.ok(!second.output().includes(token), 'the token is printed only on the start that generated it');
      assert.ok(!second.output().includes(password), 'the bootstrap password is printed only once');
      const orgs = await new HttpClient(second.url).get('/api/v1/operator/orgs', { kind: 'operator', token });
      assert.deepEqual(orgs.body.items.map((o: { slug: string }) => o.slug), ['default']);
      second.child.kill('SIGTERM');
      assert.equal(await second.exited, 0);
    } finally {
      for (const child of children) child.child.kill('SIGKILL');
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
