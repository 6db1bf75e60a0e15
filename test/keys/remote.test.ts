import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { TetherError } from '../../src/errors.ts';
import { RemoteKeyService } from '../../src/keys/remoteKeyService.ts';
import { signRequest } from '../../src/keys/signing.ts';
import { randomToken } from '../../src/security/tokens.ts';
import { loadOrCreateTls } from '../../src/sandbox/common/ca.ts';
import { freePort } from '../support/process.ts';
import { createOrgFixture } from '../support/tether.ts';
import { spawnKeyService, type KeyServiceProcess } from './keyServiceProcess.ts';
import { keyServiceSuite, operator } from './suite.ts';
import { startTestTether } from '../support/tether.ts';

const dir = mkdtempSync(join(tmpdir(), 'tether-keys-remote-'));
const secret = randomToken(32);
const serviceDir = join(dir, 'key-service');
const serviceKeyFile = join(serviceDir, 'keyring.json');
let port: number;
let service: KeyServiceProcess;
let serviceLogs = '';
const startService = async () => {
  service = await spawnKeyService({ TETHER_DATA_DIR: serviceDir, TETHER_KEYS_REMOTE_TOKEN: secret, TETHER_KEYS_SERVE_PORT: String(port) });
};
const stopService = async () => {
  serviceLogs += service.output();
  await service.stop();
};

before(async () => {
  port = await freePort();
  await startService();
});
after(async () => {
  await stopService().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

const seen = new Set<string>();
keyServiceSuite(
  'remote key service (tether keys serve, its own process and keyring)',
  {
    env: () => ({
      TETHER_KEYS_PROVIDER: 'remote',
      TETHER_KEYS_REMOTE_URL: `http://127.0.0.1:${port}`,
      TETHER_KEYS_REMOTE_TOKEN: secret,
      // Every data key is unwrapped at the key service, so an outage shows at once.
      TETHER_KEYS_CACHE_SECONDS: '0',
    }),
    keyMaterial() {
      for (const v of JSON.parse(readFileSync(serviceKeyFile, 'utf8')).versions as Array<{ key: string | null }>) {
        if (v.key) seen.add(v.key).add(Buffer.from(v.key, 'base64').toString('hex'));
      }
      seen.add(secret);
      return [...seen];
    },
    otherLogs: () => serviceLogs + service.output(),
  },
  (get) => {
    it('uses the remote keyring only: Tether has no key file; the service made its own, 0600', () => {
      const { t } = get();
      assert.equal(t.services.keys.kind, 'remote');
      assert.equal(existsSync(join(t.config.dataDir, 'keyring.json')), false);
      assert.equal(statSync(serviceKeyFile).mode & 0o777, 0o600);
      assert.match(service.output(), /"path":"\/v1\/unwrap","status":200/, 'Tether really called the key service');
    });

    it('answers 503 key_service_unavailable when the key service stops — never plaintext, never a local key — and recovers when it is back', async () => {
      const { t, rows } = get();
      const db = new pg.Client({ connectionString: t.config.databaseUrl });
      await db.connect();
      try {
        const row = rows[0]!;
        const ctx = { orgId: row.orgId, table: 'vault_test_rows', rowId: row.id, field: 'access_token', purpose: 'tokens' as const };
        const stored = (await db.query<{ access_token: Buffer }>('select access_token from vault_test_rows where id = $1', [row.id])).rows[0]!.access_token;
        assert.equal(await t.services.vault.decryptText(ctx, stored), row.access);
        const fixture = await createOrgFixture(t, 'vault-http');
        const keysBefore = (await db.query('select id, kek_version, wrapped_key from data_keys order by id')).rows;

        await stopService();
        const unavailable = (err: TetherError) => err.code === 'key_service_unavailable' && err.status === 503;
        await assert.rejects(t.services.vault.decryptText(ctx, stored), unavailable, 'decrypt');
        await assert.rejects(t.services.vault.encryptField(ctx, 'new value'), unavailable, 'encrypt with an existing data key');
        const newOrg = await t.services.accounts.createOrg(operator, { slug: 'vault-outage', name: 'Outage' });
        await assert.rejects(t.services.vault.encryptField({ ...ctx, orgId: newOrg.id }, 'v'), unavailable, 'encrypt needing a new data key');
        await assert.rejects(t.services.keyManagement.rotate(operator), unavailable, 'rotate');
        // Over HTTP: an org admin provisioning a provider app (its client secret must be encrypted) gets a 503.
        const secretValue = `outage-secret-${randomBytes(9).toString('base64url')}`;
        const appsBefore = (await db.query('select count(*)::int as n from provider_apps')).rows[0].n;
        const res = await t.http.post(
          '/api/v1/provider-apps',
          { provider: 'microsoft', displayName: 'Outage', clientId: '11111111-2222-4333-8444-555555555555', clientSecret: secretValue, tenant: 'contoso.onmicrosoft.com', scopePreset: 'documents' },
          fixture.admin.session,
        );
        assert.equal(res.status, 503, res.text);
        assert.equal(res.body.error.code, 'key_service_unavailable');
        assert.ok(!res.text.includes(secretValue));
        assert.equal((await db.query('select count(*)::int as n from provider_apps')).rows[0].n, appsBefore, 'no provider app was stored');
        const ready = await t.http.get('/readyz');
        assert.equal(ready.status, 503);
        assert.match(ready.body.problems.join(' '), /key service \(remote\) unavailable/);
        assert.deepEqual((await db.query('select id, kek_version, wrapped_key from data_keys order by id')).rows, keysBefore, 'nothing was written');
        assert.equal(existsSync(join(t.config.dataDir, 'keyring.json')), false, 'no local keyring appeared as a fallback');

        await startService();
        assert.equal(await t.services.vault.decryptText(ctx, stored), row.access);
        assert.equal((await t.http.get('/readyz')).status, 200);
      } finally {
        if (service.child.exitCode !== null || service.child.signalCode !== null) await startService();
        await db.end();
      }
    });
  },
);

describe('remote key service client', () => {
  const context = { orgId: randomUUID(), purpose: 'tokens' as const, dataKeyId: randomUUID() };
  let fake: Server;
  let fakeUrl: string;
  let answer: (res: import('node:http').ServerResponse) => void = () => undefined;
  before(async () => {
    fake = createServer((_req, res) => answer(res));
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    const address = fake.address() as { port: number };
    fakeUrl = `http://127.0.0.1:${address.port}`;
  });
  after(() => {
    fake.closeAllConnections();
    return new Promise<void>((resolve) => fake.close(() => resolve()));
  });

  it('refuses requests without the shared secret (401) and answers 503 to a client with the wrong one', async () => {
    const unsigned = await fetch(`${service.url}/v1/versions`);
    assert.equal(unsigned.status, 401);
    const forged = await fetch(`${service.url}/v1/versions`, { headers: { 'tether-key-signature': signRequest(`${secret}x`, 'GET', '/v1/versions', '') } });
    assert.equal(forged.status, 401);
    const signature = signRequest(secret, 'POST', '/v1/versions', '{}');
    const once = await fetch(`${service.url}/v1/versions`, { method: 'POST', headers: { 'tether-key-signature': signature }, body: '{}' });
    assert.equal(once.status, 200);
    const replayed = await fetch(`${service.url}/v1/versions`, { method: 'POST', headers: { 'tether-key-signature': signature }, body: '{}' });
    assert.equal(replayed.status, 401, 'a recorded rotation cannot be replayed');
    const wrong = new RemoteKeyService({ url: service.url, secret: `${secret}-wrong`, timeoutMs: 2000 });
    await assert.rejects(wrong.unwrap(context, 1, randomBytes(61)), (err: TetherError) => err.code === 'key_service_unavailable' && /keys.remoteToken/.test(err.message));
  });

  it('tells a wrapped key that does not unwrap (decryption_failed) from an outage', async () => {
    const client = new RemoteKeyService({ url: service.url, secret, timeoutMs: 2000 });
    const { kekVersion, wrapped } = await client.wrap(context, randomBytes(32));
    wrapped[30]! ^= 1;
    await assert.rejects(client.unwrap(context, kekVersion, wrapped), (err: TetherError) => err.code === 'decryption_failed');
  });

  it('never uses an answer the key service did not sign', async () => {
    answer = (res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ dataKey: randomBytes(32).toString('base64') }));
    const client = new RemoteKeyService({ url: fakeUrl, secret, timeoutMs: 2000 });
    await assert.rejects(client.unwrap(context, 1, randomBytes(61)), (err: TetherError) => err.code === 'key_service_unavailable' && /not signed/.test(err.message));
  });

  it('gives up after the timeout with 503 when the key service hangs', async () => {
    answer = () => undefined;
    const client = new RemoteKeyService({ url: fakeUrl, secret, timeoutMs: 300 });
    const started = Date.now();
    await assert.rejects(client.unwrap(context, 1, randomBytes(61)), (err: TetherError) => err.code === 'key_service_unavailable');
    assert.ok(Date.now() - started < 3000);
  });

  it('answers 503 when nothing listens', async () => {
    const client = new RemoteKeyService({ url: `http://127.0.0.1:${await freePort()}`, secret, timeoutMs: 2000 });
    await assert.rejects(client.check(), (err: TetherError) => err.code === 'key_service_unavailable');
  });
});

describe('remote key service over HTTPS', () => {
  const tlsDir = join(dir, 'tls-service');
  let tlsService: KeyServiceProcess;
  let caPem: string;
  before(async () => {
    const tls = await loadOrCreateTls(tlsDir);
    caPem = tls.caCertPem;
    tlsService = await spawnKeyService({
      TETHER_DATA_DIR: tlsDir,
      TETHER_KEYS_REMOTE_TOKEN: secret,
      TETHER_KEYS_SERVE_PORT: '0',
      TETHER_KEYS_SERVE_TLS_CERT_FILE: join(tlsDir, 'tls', 'localhost.pem'),
      TETHER_KEYS_SERVE_TLS_KEY_FILE: join(tlsDir, 'tls', 'localhost-key.pem'),
    });
  });
  after(() => tlsService.stop());

  it('serves over TLS to a Tether that trusts its CA (keys.remoteCaFile), and only to it', async () => {
    assert.match(tlsService.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const t = await startTestTether({
      TETHER_KEYS_PROVIDER: 'remote',
      TETHER_KEYS_REMOTE_URL: tlsService.url,
      TETHER_KEYS_REMOTE_TOKEN: secret,
      TETHER_KEYS_REMOTE_CA_FILE: join(tlsDir, 'tls', 'ca.pem'),
    });
    try {
      const org = await t.services.accounts.createOrg(operator, { slug: 'vault-tls', name: 'TLS' });
      const ctx = { orgId: org.id, table: 'connections', rowId: randomUUID(), field: 'access_token', purpose: 'tokens' as const };
      const sealed = await t.services.vault.encryptField(ctx, 'over tls');
      t.services.vault.forget();
      assert.equal(await t.services.vault.decryptText(ctx, sealed), 'over tls');
      assert.equal((await t.http.get('/readyz')).status, 200);
    } finally {
      await t.stop();
    }
    const untrusting = new RemoteKeyService({ url: tlsService.url, secret, timeoutMs: 2000 });
    await assert.rejects(untrusting.check(), (err: TetherError) => err.code === 'key_service_unavailable', 'a certificate from an unknown CA is refused');
    const trusting = new RemoteKeyService({ url: tlsService.url, secret, timeoutMs: 2000, ca: caPem });
    await trusting.check();
    const plain = new RemoteKeyService({ url: tlsService.url.replace('https:', 'http:'), secret, timeoutMs: 2000 });
    await assert.rejects(plain.check(), (err: TetherError) => err.code === 'key_service_unavailable', 'no plain HTTP on the TLS port');
  });
});
