import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { connect, startConnectEnv, type ConnectEnv } from '../connections/support.ts';
import { createOrgFixture, signIn, type Auth } from '../support/tether.ts';

/**
 * The documents API through Tether's public HTTP API, on connections made with the connect flow
 * against the sandbox: Microsoft (OneDrive and a SharePoint library) and Google (My Drive and a
 * shared drive).
 */
describe('documents API (HTTP)', () => {
  let env: ConnectEnv;
  const conn = {} as Record<'microsoft' | 'google', string>;
  let member: Auth;

  before(async () => {
    env = await startConnectEnv({ scopePresets: { microsoft: 'documents', google: 'documents' } });
    member = env.org.member.session;
    for (const provider of ['microsoft', 'google'] as const) {
      const { location } = await connect(env, provider);
      conn[provider] = location!.searchParams.get('connectionId')!;
    }
  });
  after(() => env.stop());

  const api = (provider: 'microsoft' | 'google', path: string) => `/api/v1/connections/${conn[provider]}${path}`;
  const get = (path: string, auth: Auth = member) => env.t.http.get(path, auth);

  for (const provider of ['microsoft', 'google'] as const) {
    it(`${provider}: drives, folders, items, search and the 10,000-item folder paged exactly once`, async () => {
      const drives = await get(api(provider, '/drives'));
      assert.equal(drives.status, 200, drives.text);
      const library = drives.body.items.find((d: { kind: string }) => d.kind === (provider === 'microsoft' ? 'sharepoint' : 'shared-drive'));
      assert.ok(library, 'a SharePoint library / shared drive');
      const inLibrary = await get(api(provider, `/items?driveId=${encodeURIComponent(library.id)}`));
      assert.equal(inLibrary.status, 200, inLibrary.text);
      assert.ok(inLibrary.body.items.length > 0, 'the library has items');

      const root = await get(api(provider, '/items?orderBy=name'));
      const large = root.body.items.find((i: { name: string }) => i.name === 'Large Folder');
      const seen = new Set<string>();
      let cursor: string | null = null;
      do {
        const page = await get(api(provider, `/items?parent=${encodeURIComponent(large.id)}&limit=1000${cursor ? `&cursor=${cursor}` : ''}`));
        assert.equal(page.status, 200, page.text);
        for (const item of page.body.items) {
          assert.ok(!seen.has(item.id), `${item.name} twice`);
          seen.add(item.id);
        }
        cursor = page.body.nextCursor;
      } while (cursor);
      assert.equal(seen.size, 10_000);

      // A folder's children (named by their parent: Graph is not asked for parentReference) carry
      // the same id, parentId and driveId as each item read on its own — in a library and in OneDrive.
      const libraryFolder = inLibrary.body.items.find((i: { kind: string }) => i.kind === 'folder');
      assert.ok(libraryFolder, 'a folder in the library');
      for (const folder of [large, libraryFolder]) {
        const children = await get(api(provider, `/items?parent=${encodeURIComponent(folder.id)}&limit=3`));
        assert.ok(children.body.items.length > 0, `${folder.name} has children`);
        for (const child of children.body.items) {
          const alone = await get(api(provider, `/items/${encodeURIComponent(child.id)}`));
          assert.equal(alone.status, 200, alone.text);
          assert.deepEqual({ id: child.id, parentId: child.parentId, driveId: child.driveId }, { id: alone.body.id, parentId: alone.body.parentId, driveId: alone.body.driveId });
          assert.equal(child.parentId, folder.id);
        }
      }

      const one = await get(api(provider, `/items/${encodeURIComponent(root.body.items.find((i: { kind: string }) => i.kind === 'folder').id)}`));
      assert.equal(one.status, 200);
      assert.ok(one.headers.get('etag'), 'an ETag for If-Match');
      assert.equal(one.body.provider, undefined);
      const withProvider = await get(api(provider, `/items/${encodeURIComponent(one.body.id)}?include=provider`));
      assert.ok(withProvider.body.provider);
      const found = await get(api(provider, `/search?q=${encodeURIComponent(one.body.name)}`));
      assert.ok(found.body.items.some((i: { id: string }) => i.id === one.body.id));
    });

    it(`${provider}: thumbnails and content stream with ETag, Cache-Control and Range; preview, links, permissions`, async () => {
      const root = await get(api(provider, '/items'));
      const photos = root.body.items.find((i: { name: string }) => i.name === (provider === 'microsoft' ? 'Pictures' : 'Photos'));
      const images = await get(api(provider, `/items?parent=${encodeURIComponent(photos.id)}`));
      const image = images.body.items.find((i: { hasThumbnail: boolean }) => i.hasThumbnail);
      const id = encodeURIComponent(image.id);
      const thumb = await fetch(`${env.t.url}${api(provider, `/items/${id}/thumbnail?size=small`)}`, { headers: { cookie: env.org.member.session.cookie } });
      assert.equal(thumb.status, 200);
      assert.match(thumb.headers.get('content-type')!, /^image\/png/);
      assert.match(thumb.headers.get('cache-control')!, /private/);
      assert.deepEqual([...Buffer.from(await thumb.arrayBuffer()).subarray(1, 4)], [0x50, 0x4e, 0x47]);
      const full = Buffer.from(await (await fetch(`${env.t.url}${api(provider, `/items/${id}/content`)}`, { headers: { cookie: env.org.member.session.cookie } })).arrayBuffer());
      assert.equal(full.length, image.size);
      const part = await fetch(`${env.t.url}${api(provider, `/items/${id}/content`)}`, { headers: { cookie: env.org.member.session.cookie, range: 'bytes=10-19' } });
      assert.equal(part.status, 206);
      assert.deepEqual(Buffer.from(await part.arrayBuffer()), full.subarray(10, 20));
      const badRange = await env.t.http.request('GET', api(provider, `/items/${id}/content`), { auth: member, headers: { range: 'bytes=0-1,5-6' } });
      assert.equal(badRange.status, 416);

      const preview = await env.t.http.post(api(provider, `/items/${id}/preview`), {}, member);
      assert.equal(preview.status, 200, preview.text);
      const link = await env.t.http.post(api(provider, `/items/${id}/links`), { type: 'view', scope: 'organization' }, member);
      assert.equal(link.status, 200, link.text);
      const again = await env.t.http.post(api(provider, `/items/${id}/links`), { type: 'view', scope: 'organization' }, member);
      assert.equal(again.body.url, link.body.url, 'idempotent');
      const perms = await get(api(provider, `/items/${id}/permissions`));
      assert.ok(perms.body.items.some((p: { role: string }) => p.role === 'owner'));
      const resolved = await env.t.http.post(api(provider, '/shared-links/resolve'), { url: link.body.url }, member);
      assert.equal(resolved.status, 200, resolved.text);
      assert.equal(resolved.body.id, image.id);
    });

    it(`${provider}: uploads, replaces, renames with If-Match (412 when stale), moves and deletes`, async () => {
      const folder = await env.t.http.post(api(provider, '/items'), { kind: 'folder', name: `API ${Date.now()}` }, member);
      assert.equal(folder.status, 201, folder.text);
      const bytes = createHash('sha512').update(provider).digest();
      const up = await env.t.http.request('POST', api(provider, `/items?parent=${encodeURIComponent(folder.body.id)}&name=notes.txt`), { auth: member, rawBody: bytes, headers: { 'content-type': 'text/plain' } });
      assert.equal(up.status, 201, up.text);
      assert.equal(up.body.size, 64);
      const dup = await env.t.http.request('POST', api(provider, `/items?parent=${encodeURIComponent(folder.body.id)}&name=notes.txt`), { auth: member, rawBody: bytes, headers: { 'content-type': 'text/plain' } });
      assert.equal(dup.status, 409);
      const replaced = await env.t.http.request('PUT', api(provider, `/items/${encodeURIComponent(up.body.id)}/content`), { auth: member, rawBody: Buffer.from('replaced'), headers: { 'content-type': 'text/plain' } });
      assert.equal(replaced.status, 200, replaced.text);
      assert.equal(replaced.body.size, 8);
      const current = await get(api(provider, `/items/${encodeURIComponent(up.body.id)}`));
      const stale = await env.t.http.request('PATCH', api(provider, `/items/${encodeURIComponent(up.body.id)}`), { auth: member, body: { name: 'x.txt' }, headers: { 'if-match': '"nope"' } });
      assert.equal(stale.status, 412);
      assert.equal(stale.body.error.code, 'precondition_failed');
      const renamed = await env.t.http.request('PATCH', api(provider, `/items/${encodeURIComponent(up.body.id)}`), { auth: member, body: { name: 'renamed.txt' }, headers: { 'if-match': current.headers.get('etag')! } });
      assert.equal(renamed.status, 200, renamed.text);
      assert.equal(renamed.body.name, 'renamed.txt');
      const sub = await env.t.http.post(api(provider, `/items?parent=${encodeURIComponent(folder.body.id)}`), { kind: 'folder', name: 'sub' }, member);
      const moved = await env.t.http.patch(api(provider, `/items/${encodeURIComponent(up.body.id)}`), { parentId: sub.body.id }, member);
      assert.equal(moved.body.parentId, sub.body.id);
      // A streamed body of unknown length (chunked): refused, since resumable uploads need the size first.
      const chunked = await fetch(`${env.t.url}${api(provider, '/items?name=x.bin')}`, {
        method: 'POST',
        headers: { cookie: env.org.member.session.cookie, 'x-csrf-token': env.org.member.session.csrf, 'content-type': 'application/octet-stream' },
        body: new ReadableStream({ start(c) { c.enqueue(new Uint8Array(10)); c.close(); } }),
        duplex: 'half',
      } as RequestInit);
      assert.equal(chunked.status, 411);
      assert.equal((await env.t.http.delete(api(provider, `/items/${encodeURIComponent(folder.body.id)}`), member)).status, 204);
      assert.equal((await get(api(provider, `/items/${encodeURIComponent(up.body.id)}`))).status, 404);
    });
  }

  it('refuses hostile pasted URLs and item ids without any request to the provider', async () => {
    const mark = env.sb.requestLog.mark();
    for (const url of ['http://127.0.0.1/', 'http://169.254.169.254/', 'http://[::ffff:127.0.0.1]/', 'http://2130706433/', 'http://0x7f.1/', 'file:///etc/passwd', 'gopher://x/', 'https://sharepoint.com.evil.net/x', 'https://evil.net@contoso.sharepoint.com.evil.net/x', `https://contoso.sharepoint.com/${'a'.repeat(100 * 1024)}`]) {
      for (const provider of ['microsoft', 'google'] as const) {
        const res = await env.t.http.post(api(provider, '/shared-links/resolve'), { url }, member);
        assert.equal(res.status, 422, `${provider} ${url.slice(0, 60)}: ${res.text.slice(0, 200)}`);
        assert.equal(res.body.error.code, 'unsupported_url');
      }
    }
    for (const bad of ['../etc', '%2e%2e', 'a@b', 'a//b', 'https:%2F%2Fevil.net', 'a%00b', 'a%0Ab']) {
      for (const provider of ['microsoft', 'google'] as const) {
        const res = await get(api(provider, `/items/${bad}`));
        assert.ok(res.status === 400 || res.status === 404, `${provider} ${bad}: ${res.status}`);
        if (res.status === 400) assert.match(res.body.error.code, /invalid_item_id|validation_failed/);
      }
    }
    assert.deepEqual(env.sb.requestLog.since(mark), [], 'no request reached the providers');
  });

  it('answers 404 to another org and to members outside the connection, with no upstream call', async () => {
    const outsider = await env.t.http.post('/api/v1/users', { email: 'outsider@connect.test', displayName: 'Outsider', password: 'outsider password 1' }, env.org.admin.session);
    assert.equal(outsider.status, 201);
    const session = await signIn(env.t.http, 'connect', 'outsider@connect.test', 'outsider password 1');
    const mark = env.sb.requestLog.mark();
    for (const provider of ['microsoft', 'google'] as const) {
      for (const path of ['/drives', '/items', '/search?q=a']) {
        const res = await get(api(provider, path), session);
        assert.equal(res.status, 404, `${provider}${path}: ${res.text}`);
      }
    }
    assert.deepEqual(env.sb.requestLog.since(mark), []);
  });
  it('API-key callers: the one-query path (key, user and connection together) decides exactly as the step-by-step one', async () => {
    const admin = env.org.admin.session;
    const key = env.org.apiKey.key;
    const asUser = (user: string | undefined): Auth => ({ kind: 'apiKey', key, ...(user !== undefined && { user }) });
    const outsider = await env.t.http.post('/api/v1/users', { email: 'keyed-outsider@connect.test', displayName: 'Keyed outsider', role: 'member' }, admin);
    assert.equal(outsider.status, 201, outsider.text);
    // An admin whose external id is the outsider's user id: a ref that is one user's id and
    // another's external id means the id, so this must not let the outsider see as an admin.
    const lookalike = await env.t.http.post('/api/v1/users', { email: 'lookalike@connect.test', displayName: 'Lookalike', role: 'admin', externalId: outsider.body.id }, admin);
    assert.equal(lookalike.status, 201, lookalike.text);
    const revoked = await env.t.http.post('/api/v1/api-keys', { name: 'revoked' }, admin);
    assert.equal((await env.t.http.delete(`/api/v1/api-keys/${revoked.body.apiKey.id}`, admin)).status, 200);
    const other = await createOrgFixture(env.t, 'keyed-other');

    for (const provider of ['microsoft', 'google'] as const) {
      const path = api(provider, '/items?limit=5');
      for (const [who, auth] of [['member by external id', asUser(env.org.member.externalId)], ['member by id', asUser(env.org.member.id)], ['org admin', asUser(env.org.admin.id)]] as const) {
        const res = await get(path, auth);
        assert.equal(res.status, 200, `${provider}, ${who}: ${res.text}`);
        assert.ok(Array.isArray(res.body.items));
      }
      const mark = env.sb.requestLog.mark();
      const refused: [string, Auth, number, string][] = [
        ['outsider (by id, also an admin’s external id)', asUser(outsider.body.id), 404, 'not_found'],
        ['another org’s key and member', other.asMember, 404, 'not_found'],
        ['revoked key', { kind: 'apiKey', key: revoked.body.key, user: env.org.member.id }, 401, 'unauthenticated'],
        ['no Tether-User', asUser(undefined), 400, 'tether_user_required'],
        ['unknown user', asUser('nobody-here'), 401, 'unknown_user'],
      ];
      for (const [who, auth, status, code] of refused) {
        const res = await get(path, auth);
        assert.equal(res.status, status, `${provider}, ${who}: ${res.text}`);
        assert.equal(res.body.error?.code, code, `${provider}, ${who}`);
      }
      assert.deepEqual(env.sb.requestLog.since(mark), [], 'no upstream call for a refused caller');
    }
  });
});
