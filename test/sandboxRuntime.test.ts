import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { completeSignIn, createTrustingFetch } from '../src/sandbox/index.ts';
import { createTestDatabase } from './support/database.ts';
import { spawnTether, type TetherProcess } from './support/process.ts';
import { HttpClient, signIn } from './support/tether.ts';

/**
 * `npm start` with no real provider credentials runs the provider sandbox: the first start
 * provisions one sandbox app per provider in the default org, and a user can connect and browse
 * documents end to end — also after a restart (the apps are registered at the sandbox again).
 */
describe('npm start with the provider sandbox', () => {
  it('connects a Microsoft account and lists its files, before and after a restart', async () => {
    const database = await createTestDatabase();
    const dataDir = mkdtempSync(join(tmpdir(), 'tether-sbrt-'));
    const children: TetherProcess[] = [];
    const start = async () => {
      const proc = await spawnTether({ DATABASE_URL: database.url, TETHER_DATA_DIR: dataDir, TETHER_SANDBOX: 'auto' });
      children.push(proc);
      for (let i = 0; i < 600 && !proc.output().includes('Tether is running'); i++) await new Promise((r) => setTimeout(r, 50));
      return proc;
    };
    try {
      const first = await start();
      assert.match(first.output(), /Provider sandbox \(TETHER_SANDBOX=auto/);
      const password = /password (\S+) {2}\(shown once\)/.exec(first.output())![1]!;
      const connectAndList = async (proc: TetherProcess) => {
        // Tether's public URL is http://localhost:<port>; talk to it as a browser would.
        const http = new HttpClient(proc.url);
        const admin = await signIn(http, 'default', 'admin@tether.local', password);
        const apps = await http.get('/api/v1/provider-apps', admin);
        assert.deepEqual(apps.body.items.map((a: { provider: string; profile: string }) => `${a.provider}:${a.profile}`).sort(), ['google:sandbox', 'microsoft:sandbox', 'webex:sandbox']);
        const microsoft = apps.body.items.find((a: { provider: string }) => a.provider === 'microsoft');
        const session = await http.post('/api/v1/connect-sessions', { providerAppId: microsoft.id, returnTo: `${proc.url.replace('127.0.0.1', 'localhost')}/done` }, admin);
        assert.equal(session.status, 201, session.text);
        const connectPath = new URL(session.body.url).pathname;
        const opened = await fetch(`${proc.url}${connectPath}`, { redirect: 'manual' });
        assert.equal(opened.status, 303);
        const binding = opened.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
        const sandboxFetch = createTrustingFetch(readFileSync(join(dataDir, 'sandbox', 'tls', 'ca.pem'), 'utf8'));
        const callback = await completeSignIn(sandboxFetch, opened.headers.get('location')!, { login: 'adele@contoso.onmicrosoft.com' });
        const done = await fetch(`${proc.url}${callback.pathname}${callback.search}`, { redirect: 'manual', headers: { cookie: binding } });
        assert.equal(done.status, 303, await done.text());
        const back = new URL(done.headers.get('location')!);
        assert.equal(back.searchParams.get('status') !== null, true);
        const connectionId = back.searchParams.get('connectionId')!;
        const files = await http.get(`/api/v1/connections/${connectionId}/items`, admin);
        assert.equal(files.status, 200, files.text);
        assert.ok(files.body.items.some((i: { name: string }) => i.name === 'Documents'));
      };
      await connectAndList(first);
      first.child.kill('SIGTERM');
      assert.equal(await first.exited, 0);
      const second = await start();
      assert.doesNotMatch(second.output(), /shown once/);
      await connectAndList(second);
    } finally {
      for (const c of children) c.child.kill('SIGKILL');
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
