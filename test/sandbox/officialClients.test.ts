// Official provider SDKs, unmodified, against the sandbox over HTTPS. The only configuration is
// what a production deployment would change: base URLs, and trust in the sandbox CA.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client, PageIterator } from '@microsoft/microsoft-graph-client';
import { auth, drive } from '@googleapis/drive';
import { trustCaProcessWide } from '../../src/sandbox/index.ts';
import { googleSignIn, microsoftSignIn, startTestSandbox } from './helpers.ts';

type Sb = Awaited<ReturnType<typeof startTestSandbox>>;

describe('official clients against the sandbox', () => {
  let sb: Sb;
  before(async () => {
    sb = await startTestSandbox();
    trustCaProcessWide(sb.caCertPem!);
  });
  after(() => sb.close());

  it('@microsoft/microsoft-graph-client lists the 10,000-item folder with PageIterator', async () => {
    const { access_token } = await microsoftSignIn(sb, 'adele@contoso.onmicrosoft.com');
    const client = Client.init({
      authProvider: (done) => done(null, access_token),
      baseUrl: sb.microsoft.baseUrl,
      customHosts: new Set([new URL(sb.microsoft.baseUrl).hostname]),
      defaultVersion: 'v1.0',
    });
    const mark = sb.requestLog.mark();
    const first = await client.api('/me/drive/root:/Large Folder:/children').top(500).select('id,name').get();
    const ids = new Set<string>();
    let count = 0;
    const iterator = new PageIterator(client, first, (item: { id: string }) => {
      ids.add(item.id);
      count++;
      return true;
    });
    await iterator.iterate();
    assert.equal(count, 10_000);
    assert.equal(ids.size, 10_000);
    // 20 pages, every one of them authorized (the SDK only attaches tokens to https custom hosts).
    const calls = sb.requestLog.since(mark).filter((r) => r.path.includes('children'));
    assert.equal(calls.length, 20);
    assert.ok(calls.every((r) => r.status === 200));
  });

  it('@googleapis/drive pages the 10,000-item folder with files.list and uploads with files.create', async () => {
    const tokens = await googleSignIn(sb, 'alice@globex.test');
    const app = sb.google.apps[0]!;
    const client = new auth.OAuth2(app.clientId, app.clientSecret);
    client.setCredentials({ access_token: tokens.access_token });
    const gdrive = drive({ version: 'v3', rootUrl: sb.google.apiBaseUrl, auth: client });
    const folder = await gdrive.files.list({ q: "'root' in parents and name = 'Large Folder' and trashed = false", fields: 'files(id)' });
    const folderId = folder.data.files![0]!.id!;
    const ids = new Set<string>();
    let count = 0;
    let pageToken: string | undefined;
    do {
      const res = await gdrive.files.list({ q: `'${folderId}' in parents and trashed = false`, pageSize: 1000, fields: 'nextPageToken, files(id, name)', ...(pageToken ? { pageToken } : {}) });
      for (const f of res.data.files ?? []) {
        ids.add(f.id!);
        count++;
      }
      pageToken = res.data.nextPageToken ?? undefined;
    } while (pageToken);
    assert.equal(count, 10_000);
    assert.equal(ids.size, 10_000);
    // googleapis-common applies a global rootUrl to `url` but not to the upload `mediaUrl`, which
    // the generated method builds from the per-call options; so uploads pass rootUrl per call.
    const created = await gdrive.files.create({ requestBody: { name: 'from-sdk.txt', parents: [folderId] }, media: { mimeType: 'text/plain', body: 'written by @googleapis/drive' }, fields: 'id,name,size,parents' }, { rootUrl: sb.google.apiBaseUrl });
    assert.equal(created.data.name, 'from-sdk.txt');
    assert.equal(created.data.size, String('written by @googleapis/drive'.length));
    const media = await gdrive.files.get({ fileId: created.data.id!, alt: 'media' }, { responseType: 'text' });
    assert.equal(media.data, 'written by @googleapis/drive');
  });
});
