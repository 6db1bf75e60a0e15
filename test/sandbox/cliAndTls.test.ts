import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import { createTrustingFetch, startSandbox } from '../../src/sandbox/index.ts';

describe('sandbox TLS, CLI and admin description', () => {
  it('creates a local CA once, keeps it in the data directory, and signs a loopback certificate with it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sbx-tls-'));
    try {
      const a = await startSandbox({ dataDir });
      const caPem = a.caCertPem!;
      await a.close();
      const b = await startSandbox({ dataDir });
      assert.equal(b.caCertPem, caPem, 'the CA survives restarts');
      const ca = new X509Certificate(caPem);
      assert.equal(ca.ca, true);
      const leaf = new X509Certificate(readFileSync(join(dataDir, 'tls', 'localhost.pem')));
      assert.ok(leaf.verify(ca.publicKey));
      assert.match(leaf.subjectAltName!, /DNS:localhost/);
      assert.match(leaf.subjectAltName!, /IP Address:127\.0\.0\.1/);
      assert.match(leaf.subjectAltName!, /IP Address:0:0:0:0:0:0:0:1|IP Address:::1/);
      // Untrusted by default: verification is never turned off.
      await assert.rejects(fetch(b.microsoft.discoveryUrlFor('common')), (e: Error & { cause?: { code?: string } }) => e.cause?.code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
      assert.equal((await createTrustingFetch(caPem)(b.microsoft.discoveryUrlFor('common'))).status, 200);
      const local = await createTrustingFetch(caPem)(b.microsoft.discoveryUrlFor('common').replace('127.0.0.1', 'localhost'));
      assert.equal(local.status, 200);
      assert.deepEqual(Object.keys(b.endpoints().microsoft).sort(), ['apiBaseUrl', 'authorizationEndpoint', 'issuer', 'jwksUri', 'revocationEndpoint', 'tokenEndpoint']);
      assert.equal(b.endpoints().google.revocationEndpoint, `${b.google.baseUrl}/revoke`);
      await b.close();
      const plain = await startSandbox({ dataDir, https: false });
      assert.match(plain.google.baseUrl, /^http:\/\//);
      assert.equal((await fetch(plain.google.discoveryUrl)).status, 200);
      // Over plain HTTP a reset is a real TCP RST.
      plain.faults.resetNext(1, { provider: 'google' });
      await assert.rejects(fetch(plain.google.discoveryUrl), (e: Error & { cause?: { code?: string } }) => e.message === 'fetch failed' && ['ECONNRESET', 'UND_ERR_SOCKET'].includes(e.cause?.code ?? ''));
      assert.equal(plain.requestLog.entries().at(-1)!.fault, 'reset');
      await plain.close();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('creates one CA even when several processes start on a fresh data directory at once', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sbx-race-'));
    try {
      const script = `const { loadOrCreateTls } = await import(${JSON.stringify(new URL('../../src/sandbox/common/ca.ts', import.meta.url).href)}); const t = await loadOrCreateTls(process.argv[1]); process.stdout.write(t.caCertPem);`;
      const runs = await Promise.all(
        Array.from({ length: 4 }, () =>
          new Promise<string>((resolve, reject) => {
            const child = spawn(process.execPath, ['--input-type=module', '-e', script, dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
            let out = '';
            child.stdout.on('data', (c: Buffer) => (out += c.toString()));
            child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}`))));
          }),
        ),
      );
      assert.equal(new Set(runs).size, 1, 'every process got the same CA');
      assert.equal(new X509Certificate(readFileSync(join(dataDir, 'tls', 'ca.pem'))).fingerprint256, new X509Certificate(runs[0]!).fingerprint256);
      const leaf = new X509Certificate(readFileSync(join(dataDir, 'tls', 'localhost.pem')));
      assert.ok(leaf.verify(new X509Certificate(runs[0]!).publicKey));
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('`npm run sandbox -- --json` prints one JSON object with per-provider endpoints, apps and accounts', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sbx-cli-'));
    const child = spawn(process.execPath, ['src/sandbox/cli.ts', '--json', '--data-dir', dataDir, '--port-admin', '0', '--port-microsoft', '0', '--port-google', '0', '--port-webex', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let buf = '';
        child.stdout.on('data', (c: Buffer) => {
          buf += c.toString('utf8');
          const nl = buf.indexOf('\n');
          if (nl >= 0) resolve(buf.slice(0, nl));
        });
        child.on('exit', (code) => reject(new Error(`cli exited with ${code}`)));
      });
      const d = JSON.parse(line);
      assert.deepEqual(Object.keys(d.providers).sort(), ['google', 'microsoft', 'webex']);
      for (const p of Object.values(d.providers) as Record<string, any>[]) {
        for (const k of ['issuer', 'authorizationEndpoint', 'tokenEndpoint', 'revocationEndpoint', 'jwksUri', 'apiBaseUrl']) assert.ok(k in p, k);
        assert.ok(p.apps[0].clientId && p.apps[0].clientSecret);
        assert.deepEqual(p.apps[0].redirectUris, ['http://localhost:8080/oauth/callback']);
        assert.ok(p.accounts.length >= 3);
        assert.ok(new Set(p.accounts.map((a: any) => a.timeZone)).size >= 3, 'accounts are in different time zones');
      }
      assert.equal(d.providers.google.revocationEndpoint, `${d.providers.google.baseUrl}/revoke`);
      // Templates like the real Microsoft endpoints, so Tether can fill in the tenant as in production.
      assert.equal(d.providers.microsoft.tokenEndpoint, `${d.providers.microsoft.baseUrl}/{tenant}/oauth2/v2.0/token`);
      assert.equal(d.providers.microsoft.issuer, `${d.providers.microsoft.baseUrl}/{tenantid}/v2.0`);
      const f = createTrustingFetch(readFileSync(d.caCertPath, 'utf8'));
      const jwks = (await (await f(d.providers.webex.jwksUri)).json()) as { keys: unknown[] };
      assert.equal(jwks.keys.length, 1);
      const reg = await f(`${d.adminUrl}/sandbox/apps`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ provider: 'google', clientId: 'my-app.apps.googleusercontent.com', clientSecret: 'shh', redirectUris: ['http://localhost:3000/cb'] }) });
      assert.equal(reg.status, 201);
      const again = (await (await f(`${d.adminUrl}/sandbox`)).json()) as any;
      assert.ok(again.providers.google.apps.some((a: any) => a.clientId === 'my-app.apps.googleusercontent.com' && a.redirectUris[0] === 'http://localhost:3000/cb'));
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
