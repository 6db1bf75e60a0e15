import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeItemId } from '../../src/documents/ids.ts';
import { parseSharedLink } from '../../src/documents/sharedLinks.ts';
import { completeAuthorization, createAuthorizationRequest, type OAuthClient } from '../../src/oauth/flow.ts';
import { createOutboundFetch } from '../../src/outbound/fetch.ts';
import type { DocumentsApi, ProviderContext } from '../../src/providers/adapter.ts';
import { apiUrl, createProviderContext } from '../../src/providers/apiClient.ts';
import type { ProviderId } from '../../src/providers/definition.ts';
import { googleDocuments, googleDocumentsWrite } from '../../src/providers/google/documents.ts';
import { microsoftDocuments, microsoftDocumentsWrite } from '../../src/providers/microsoft/documents.ts';
import type { DocumentsWriteApi, UploadBody } from '../../src/providers/adapter.ts';
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { TetherError } from '../../src/errors.ts';
import { EndpointProfiles } from '../../src/providers/profiles.ts';
import { providerDefinition } from '../../src/providers/registry.ts';
import { completeSignIn, startSandbox, type Sandbox } from '../../src/sandbox/index.ts';

const REDIRECT = 'http://localhost:8080/oauth/callback';

/**
 * The documents adapters against the sandbox, with a token obtained through Tether's OAuth flow and
 * requests sent by Tether's outbound client. (The HTTP API over them comes with connections.)
 */
describe('documents adapters (sandbox)', () => {
  let sandbox: Sandbox;
  let dataDir: string;
  let outbound: ReturnType<typeof createOutboundFetch>;
  const ctx = {} as Record<ProviderId, ProviderContext>;

  async function connect(provider: 'microsoft' | 'google', login: string, tenant: string | undefined, scopes: string[]): Promise<ProviderContext> {
    const sb = provider === 'microsoft' ? sandbox.microsoft : (sandbox as unknown as { google: typeof sandbox.microsoft }).google;
    const app = sandbox.registerApp(provider, { redirectUris: [REDIRECT] });
    const profiles = new EndpointProfiles();
    profiles.useSandbox({
      [provider]: {
        issuer: sb.issuer,
        authorizationEndpoint: provider === 'microsoft' ? sandbox.microsoft.authorizationEndpointFor('{tenant}') : sb.authorizationEndpoint,
        tokenEndpoint: provider === 'microsoft' ? sandbox.microsoft.tokenEndpointFor('{tenant}') : sb.tokenEndpoint,
        revocationEndpoint: sb.revocationEndpoint,
        jwksUri: sb.jwksUri,
        apiBaseUrl: sb.apiBaseUrl,
      },
    });
    const client: OAuthClient = {
      provider: providerDefinition(provider),
      endpoints: profiles.resolve(provider, 'sandbox', tenant),
      clientId: app.clientId,
      clientSecret: app.clientSecret,
      redirectUri: REDIRECT,
      scopes,
      ...(tenant && { tenantId: tenant }),
      fetch: outbound.fetch,
    };
    const { url, pending } = await createAuthorizationRequest(client);
    const back = await completeSignIn(sandbox.fetch, url.toString(), { login });
    const { tokens } = await completeAuthorization(client, back, pending);
    return createProviderContext({ apiBaseUrl: sb.apiBaseUrl, fetch: outbound.fetch, request: outbound.request, accessToken: async () => tokens.accessToken });
  }

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tether-docs-'));
    sandbox = await startSandbox({ dataDir });
    outbound = createOutboundFetch({ extraCaPem: [sandbox.caCertPem!] });
    const adele = sandbox.microsoft.accounts.find((a) => a.email.startsWith('adele@'))!;
    ctx.microsoft = await connect('microsoft', adele.email, adele.organization, ['User.Read', 'Files.ReadWrite.All', 'Sites.ReadWrite.All']);
    const google = (sandbox as unknown as { google: { accounts: { email: string }[] } }).google;
    ctx.google = await connect('google', google.accounts.find((a) => a.email.startsWith('alice@'))!.email, undefined, ['https://www.googleapis.com/auth/drive']);
  });
  after(async () => {
    await outbound.close();
    await sandbox.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const adapters: [ProviderId, DocumentsApi][] = [['microsoft', microsoftDocuments], ['google', googleDocuments]];

  for (const [provider, api] of adapters) {
    it(`${provider}: lists drives including a SharePoint library / shared drive`, async () => {
      const drives = await api.listDrives(ctx[provider]);
      assert.ok(drives.length >= 2, JSON.stringify(drives));
      assert.ok(drives.some((d) => d.kind === (provider === 'microsoft' ? 'sharepoint' : 'shared-drive')));
      assert.ok(drives.some((d) => d.kind === (provider === 'microsoft' ? 'onedrive' : 'my-drive')));
    });

    it(`${provider}: pages the 10,000-item folder, every item exactly once`, async () => {
      const root = await api.listChildren(ctx[provider], { parent: null, driveId: null, cursor: null, limit: 200, orderBy: null });
      const large = root.items.find((i) => i.name === 'Large Folder');
      assert.ok(large, `root has Large Folder: ${root.items.map((i) => i.name).join(', ')}`);
      assert.equal(large.kind, 'folder');
      const seen = new Set<string>();
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page = await api.listChildren(ctx[provider], { parent: decodeItemId(provider, large.id), driveId: null, cursor, limit: 1000, orderBy: null });
        for (const item of page.items) {
          assert.ok(!seen.has(item.id), `item ${item.name} came twice`);
          seen.add(item.id);
          assert.equal(item.parentId, large.id);
        }
        cursor = page.nextCursor;
        pages++;
      } while (cursor);
      assert.equal(seen.size, 10_000);
      assert.ok(pages >= 10, `${pages} pages`);
    });

    it(`${provider}: maps items into the one model, with provider fields only on request`, async () => {
      const root = await api.listChildren(ctx[provider], { parent: null, driveId: null, cursor: null, limit: 200, orderBy: 'name' });
      const folder = root.items.find((i) => i.kind === 'folder' && i.name !== 'Large Folder')!;
      const children = await api.listChildren(ctx[provider], { parent: decodeItemId(provider, folder.id), driveId: null, cursor: null, limit: 50, orderBy: null });
      const file = children.items.find((i) => i.kind === 'file') ?? (await api.search(ctx[provider], 'a', null, 50)).items.find((i) => i.kind === 'file')!;
      assert.ok(file, 'a file to look at');
      assert.equal(typeof file.name, 'string');
      assert.ok(file.mimeType, 'files have a MIME type');
      assert.ok(file.modifiedAt && !Number.isNaN(Date.parse(file.modifiedAt)));
      assert.equal(file.provider, undefined, 'no provider fields in listings');
      const detail = await api.getItem(ctx[provider], decodeItemId(provider, file.id));
      assert.equal(detail.id, file.id);
      assert.ok(detail.provider, 'getItem includes provider fields');
      if (file.size !== null) assert.equal(typeof file.size, 'number');
    });

    it(`${provider}: search finds items by name`, async () => {
      const root = await api.listChildren(ctx[provider], { parent: null, driveId: null, cursor: null, limit: 200, orderBy: null });
      const some = root.items.find((i) => i.kind === 'folder' && i.name !== 'Large Folder')!;
      const found = await api.search(ctx[provider], some.name, null, 50);
      assert.ok(found.items.some((i) => i.id === some.id), `${some.name} found by search`);
    });
  }

  for (const [provider, api] of adapters) {
    it(`${provider}: streams real PNG thumbnails in three sizes, and file content with Range`, async () => {
      const root = await api.listChildren(ctx[provider], { parent: null, driveId: null, cursor: null, limit: 200, orderBy: null });
      const photos = root.items.find((i) => i.name === (provider === 'microsoft' ? 'Pictures' : 'Photos'))!;
      const found = await api.listChildren(ctx[provider], { parent: decodeItemId(provider, photos.id), driveId: null, cursor: null, limit: 50, orderBy: null });
      const image = found.items.find((i) => i.kind === 'file' && i.hasThumbnail)!;
      assert.ok(image, 'an image with a thumbnail');
      const ref = decodeItemId(provider, image.id);
      const sizes: number[] = [];
      for (const size of ['small', 'medium', 'large'] as const) {
        const res = await api.thumbnail(ctx[provider], ref, size);
        assert.match(res.headers.get('content-type') ?? '', /^image\/png/);
        const bytes = Buffer.from(await res.arrayBuffer());
        assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
        sizes.push(bytes.readUInt32BE(16)); // IHDR width
      }
      assert.ok(sizes[0]! < sizes[2]!, `small is smaller than large: ${sizes}`);
      const full = Buffer.from(await (await api.content(ctx[provider], ref, null)).arrayBuffer());
      assert.equal(full.length, image.size);
      const part = await api.content(ctx[provider], ref, 'bytes=8-23');
      assert.equal(part.status, 206);
      assert.deepEqual(Buffer.from(await part.arrayBuffer()), full.subarray(8, 24));
    });
  }

  for (const [provider, api] of adapters) {
    it(`${provider}: creates sharing links idempotently, lists permissions, and gives an embeddable preview`, async () => {
      const root = await api.listChildren(ctx[provider], { parent: null, driveId: null, cursor: null, limit: 200, orderBy: null });
      const folder = root.items.find((i) => i.name === (provider === 'microsoft' ? 'Documents' : 'Projects'))!;
      const files = await api.listChildren(ctx[provider], { parent: decodeItemId(provider, folder.id), driveId: null, cursor: null, limit: 50, orderBy: null });
      const file = files.items.find((i) => i.kind === 'file') ?? (await api.listChildren(ctx[provider], { parent: decodeItemId(provider, files.items[0]!.id), driveId: null, cursor: null, limit: 50, orderBy: null })).items.find((i) => i.kind === 'file')!;
      const ref = decodeItemId(provider, file.id);
      const before = (await api.permissions(ctx[provider], ref)).length;
      const first = await api.createLink(ctx[provider], ref, { type: 'view', scope: 'organization', recipients: [], expiresAt: null });
      const again = await api.createLink(ctx[provider], ref, { type: 'view', scope: 'organization', recipients: [], expiresAt: null });
      assert.equal(again.url, first.url, 'the same link again');
      assert.deepEqual([first.type, first.scope], ['view', 'organization']);
      assert.match(first.url, provider === 'microsoft' ? /^https:\/\/contoso(-my)?\.sharepoint\.com\/:/ : /^https:\/\/(docs|drive)\.google\.com\//);
      const edit = await api.createLink(ctx[provider], ref, { type: 'edit', scope: 'anonymous', recipients: [], expiresAt: null });
      assert.equal(edit.type, 'edit');
      const after = await api.permissions(ctx[provider], ref);
      assert.equal(after.length, before + 2, 'two new grants, not three');
      assert.ok(after.some((p) => p.role === 'owner'));
      assert.ok(after.some((p) => p.role === 'write' && (p.grantee.type === 'anyone')));
      const preview = await api.preview(ctx[provider], ref);
      assert.match(preview.url, /^https:\/\//);
    });
  }

  /** A deterministic stream of `size` bytes, in uneven pieces, never held whole. */
  function bodyOf(size: number, seed: string): UploadBody & { sha256: string } {
    const hash = createHash('sha256');
    const pieces: Buffer[] = [];
    for (let made = 0, i = 0; made < size; i++) {
      const n = Math.min(size - made, 65_521 + (i % 7) * 1000);
      const piece = createHash('sha512').update(`${seed}-${i}`).digest();
      const chunk = Buffer.alloc(n, piece);
      pieces.push(chunk);
      hash.update(chunk);
      made += n;
    }
    return {
      size,
      contentType: 'application/octet-stream',
      sha256: hash.digest('hex'),
      stream: (async function* () {
        for (const p of pieces) yield p;
      })(),
    };
  }

  const writers: [ProviderId, DocumentsApi, DocumentsWriteApi][] = [['microsoft', microsoftDocuments, microsoftDocumentsWrite], ['google', googleDocuments, googleDocumentsWrite]];
  for (const [provider, api, write] of writers) {
    it(`${provider}: creates folders, uploads small and resumable files, replaces, renames with If-Match, moves and deletes`, async () => {
      const c = ctx[provider];
      const folder = await write.createFolder(c, { parent: null, driveId: null, name: `Tether ${randomBytes(4).toString('hex')}`, conflict: 'fail' });
      assert.equal(folder.kind, 'folder');
      await assert.rejects(write.createFolder(c, { parent: null, driveId: null, name: folder.name, conflict: 'fail' }), (e: unknown) => (e as { code: string }).code === 'conflict');
      const parent = decodeItemId(provider, folder.id);

      const small = bodyOf(100_000, `${provider}-small`);
      const uploaded = await write.upload(c, { parent, driveId: null, name: 'small.bin', conflict: 'fail' }, small);
      assert.equal(uploaded.size, 100_000);
      const back = createHash('sha256').update(Buffer.from(await (await api.content(c, decodeItemId(provider, uploaded.id), null)).arrayBuffer())).digest('hex');
      assert.equal(back, small.sha256);
      await assert.rejects(write.upload(c, { parent, driveId: null, name: 'small.bin', conflict: 'fail' }, bodyOf(10, 'x')), (e: unknown) => (e as { code: string }).code === 'conflict');

      const large = bodyOf(12 * 1024 * 1024 + 12_345, `${provider}-large`);
      const big = await write.upload(c, { parent, driveId: null, name: 'large.bin', conflict: 'fail' }, large);
      assert.equal(big.size, large.size);
      const bigBack = createHash('sha256').update(Buffer.from(await (await api.content(c, decodeItemId(provider, big.id), null)).arrayBuffer())).digest('hex');
      assert.equal(bigBack, large.sha256, 'the resumable upload round-trips exactly');

      const replacement = bodyOf(5000, `${provider}-replacement`);
      const replaced = await write.replaceContent(c, decodeItemId(provider, uploaded.id), replacement);
      assert.equal(replaced.id, uploaded.id);
      assert.equal(replaced.size, 5000);

      const current = await api.getItem(c, decodeItemId(provider, uploaded.id));
      const etag = String(current.provider!.etag);
      await assert.rejects(write.update(c, decodeItemId(provider, uploaded.id), { name: 'stale.bin', ifMatch: '"stale-version"' }), (e: unknown) => (e as { code: string }).code === 'precondition_failed');
      const renamed = await write.update(c, decodeItemId(provider, uploaded.id), { name: 'renamed.bin', ifMatch: etag });
      assert.equal(renamed.name, 'renamed.bin');

      const sub = await write.createFolder(c, { parent, driveId: null, name: 'sub', conflict: 'fail' });
      const moved = await write.update(c, decodeItemId(provider, uploaded.id), { parent: decodeItemId(provider, sub.id) });
      assert.equal(moved.parentId, sub.id);

      await assert.rejects(write.delete(c, decodeItemId(provider, big.id), '"stale-version"'), (e: unknown) => (e as { code: string }).code === 'precondition_failed');
      await write.delete(c, parent);
      await assert.rejects(api.getItem(c, decodeItemId(provider, big.id)), (e: unknown) => (e as { code: string }).code === 'not_found');
    });
  }

  it('microsoft: resolves a pasted SharePoint link with the connection’s own credentials', async () => {
    const root = await microsoftDocuments.listChildren(ctx.microsoft, { parent: null, driveId: null, cursor: null, limit: 200, orderBy: null });
    const folder = root.items.find((i) => i.name === 'Documents')!;
    const files = await microsoftDocuments.listChildren(ctx.microsoft, { parent: decodeItemId('microsoft', folder.id), driveId: null, cursor: null, limit: 50, orderBy: null });
    const file = files.items.find((i) => i.kind === 'file')!;
    const ref = decodeItemId('microsoft', file.id);
    const link = await ctx.microsoft.api(`/drives/${ref.driveId}/items/${ref.itemId}/createLink`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'view', scope: 'organization' }) });
    const sharing = (await link.json()) as { link: { webUrl: string } };
    const resolved = await microsoftDocuments.resolveSharedLink(ctx.microsoft, parseSharedLink('microsoft', sharing.link.webUrl));
    assert.equal(resolved.id, file.id);
  });

  it('google: resolves a pasted Docs link to its file', async () => {
    const found = await googleDocuments.search(ctx.google, 'Shared Plan', null, 10);
    const plan = found.items[0]!;
    assert.ok(plan.webUrl, 'webViewLink');
    const resolved = await googleDocuments.resolveSharedLink(ctx.google, parseSharedLink('google', plan.webUrl!));
    assert.equal(resolved.id, plan.id);
  });

  it('maps provider errors to stable codes without passing bodies through', async () => {
    await assert.rejects(microsoftDocuments.getItem(ctx.microsoft, { driveId: 'b!nosuchdrive', itemId: '01NOSUCHITEM' }), (e: unknown) => (e as { code: string }).code === 'not_found');
    await assert.rejects(googleDocuments.getItem(ctx.google, { driveId: null, itemId: 'nosuchfile123' }), (e: unknown) => (e as { code: string }).code === 'not_found');
  });

  it('follows content redirects only to content hosts, never with the token', async () => {
    const seen: { path: string; authorization: string | undefined }[] = [];
    const server = createServer((req, res) => {
      seen.push({ path: req.url!, authorization: req.headers.authorization });
      const target = { '/v1/to-self': '/v1/bytes', '/v1/to-metadata': 'http://169.254.169.254/latest/meta-data/', '/v1/to-lookalike': 'https://sharepoint.com.evil.net/x', '/v1/to-http-content': 'http://contoso.sharepoint.com/x', '/v1/loop': '/v1/loop' }[req.url!];
      if (target) {
        res.writeHead(302, { location: target }).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end('bytes');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const c = createProviderContext({ apiBaseUrl: `http://127.0.0.1:${port}/v1`, fetch: outbound.fetch, request: outbound.request, accessToken: async () => 'secret-access-token' });
      const okRes = await c.download('/v1/to-self'.replace('/v1', ''), { contentHosts: ['sharepoint.com'] });
      assert.equal(await okRes.text(), 'bytes');
      assert.deepEqual(seen.map((s) => [s.path, s.authorization]), [['/v1/to-self', 'Bearer secret-access-token'], ['/v1/bytes', undefined]], 'the token is not sent on a redirect');
      for (const path of ['/to-metadata', '/to-lookalike', '/to-http-content', '/loop']) {
        await assert.rejects(c.download(path, { contentHosts: ['sharepoint.com'] }), (e: unknown) => (e as { code: string }).code === 'upstream_unavailable', path);
      }
      assert.ok(!seen.some((s) => s.path.includes('meta-data')), 'the refused target was never requested');
    } finally {
      server.close();
    }
  });

  it('apiJson reads at most 16 MiB, refuses unreadable JSON and redirects, and sends the token only to the API base', async () => {
    const seen: string[] = [];
    const server = createServer((req, res) => {
      seen.push(`${req.url} ${req.headers.authorization ?? '-'} ${req.headers.accept ?? '-'}`);
      if (req.url === '/v1/huge') {
        res.writeHead(200, { 'content-type': 'application/json' });
        const chunk = Buffer.alloc(1024 * 1024, 0x20);
        let sent = 0;
        const more = () => {
          while (sent < 20 && !res.destroyed) {
            sent++;
            if (!res.write(chunk)) return void res.once('drain', more);
          }
          res.end();
        };
        more();
        return;
      }
      if (req.url === '/v1/moved') return void res.writeHead(302, { location: '/v1/ok' }).end();
      if (req.url === '/v1/broken') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"value": [');
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"value":["é"]}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const c = createProviderContext({ apiBaseUrl: `http://127.0.0.1:${port}/v1`, fetch: outbound.fetch, request: outbound.request, accessToken: async () => 'secret-access-token' });
      assert.deepEqual(await c.apiJson('/ok'), { value: ['é'] });
      assert.deepEqual(seen, ['/v1/ok Bearer secret-access-token application/json']);
      await assert.rejects(c.apiJson('/huge'), (e: unknown) => e instanceof TetherError && e.code === 'upstream_unavailable' && /larger than/.test(e.message));
      await assert.rejects(c.apiJson('/broken'), (e: unknown) => e instanceof TetherError && e.code === 'upstream_unavailable' && /unreadable/.test(e.message));
      seen.length = 0;
      await assert.rejects(c.apiJson('/moved'), (e: unknown) => e instanceof TetherError && e.code === 'upstream_unavailable');
      assert.deepEqual(seen, ['/v1/moved Bearer secret-access-token application/json'], 'a redirect is not followed');
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('never builds a URL that leaves the API base', () => {
    const base = new URL('https://graph.example.test/v1.0');
    for (const path of ['//evil.net/x', '/../x', '/a/../../x', '/a/%2e%2e/x', '/a%2fb', '/a@evil.net', '/a\\b', 'relative', '/a b', 'https://evil.net/']) {
      assert.throws(() => apiUrl(base, path), /refusing|left/, path);
    }
    assert.equal(apiUrl(base, '/me/drive', { $top: 5 }).toString(), 'https://graph.example.test/v1.0/me/drive?%24top=5');
  });
});
