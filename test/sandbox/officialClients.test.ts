// Official provider SDKs, unmodified, against the sandbox over HTTPS. The only configuration is
// what a production deployment would change: base URLs, and trust in the sandbox CA.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client, PageIterator } from '@microsoft/microsoft-graph-client';
import { trustCaProcessWide } from '../../src/sandbox/index.ts';
import { microsoftSignIn, startTestSandbox } from './helpers.ts';

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
});
