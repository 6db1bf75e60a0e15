import assert from 'node:assert/strict';
import type { LookupAddress } from 'node:dns';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { guardedLookup, isNonPublicAddress, webhookUrlProblem } from '../../src/outbound/webhookTargets.ts';
import { createOrgFixture, startTestTether, type OrgFixture, type TestTether } from '../support/tether.ts';
import { Receiver, waitFor } from './receiver.ts';

/** SSRF: with the default settings, a webhook can only target public addresses over https. */
describe('webhook targets (SSRF)', () => {
  let t: TestTether;
  let a: OrgFixture;
  const receiver = new Receiver();

  before(async () => {
    await receiver.start();
    t = await startTestTether({ TETHER_JOBS_ENABLED: 'true', TETHER_WEBHOOKS_MAX_ATTEMPTS: '3', TETHER_WEBHOOKS_RETRY_BASE_MS: '50' });
    a = await createOrgFixture(t, 'ssrf');
  });
  after(async () => {
    await t?.stop();
    await receiver.stop();
  });

  const refused = [
    'http://127.0.0.1:8080/hook', // loopback, and plain http
    'https://127.0.0.1/hook',
    'https://127.1.2.3/hook',
    'https://[::1]/hook',
    'https://[::ffff:127.0.0.1]/hook', // IPv4-mapped loopback
    'https://[::ffff:a9fe:a9fe]/hook', // IPv4-mapped metadata address
    'https://169.254.169.254/latest/meta-data/', // cloud metadata
    'https://[fd00:ec2::254]/', // AWS metadata over IPv6
    'https://metadata.google.internal/computeMetadata/v1/',
    'https://10.0.0.5/hook',
    'https://172.20.1.1/hook',
    'https://192.168.1.1/hook',
    'https://100.64.0.1/hook',
    'https://0.0.0.0/hook',
    'https://2130706433/hook', // 127.0.0.1 as one decimal number (the URL parser normalises it)
    'https://0x7f.1/hook',
    'https://localhost/hook',
    'https://api.localhost./hook',
    'https://intranet/hook', // single-label names are local
    'http://hooks.example.com/hook', // public, but not https
    'https://user:pass@hooks.example.com/hook',
    'https://hooks.example.com/hook#frag',
    'ftp://hooks.example.com/hook',
    'not a url',
  ];

  it('refuses private, loopback, link-local and metadata targets, plain http and credentials in the URL', async () => {
    for (const url of refused) {
      const res = await t.http.post('/api/v1/webhooks', { url, events: ['connection.created'] }, a.admin.session);
      assert.equal(res.status, 422, `${url}: ${res.status} ${res.text}`);
      assert.equal(res.body.error.code, 'invalid_webhook_url', url);
      assert.equal(typeof res.body.error.details.reason, 'string');
    }
    const list = await t.http.get('/api/v1/webhooks', a.admin.session);
    assert.deepEqual(list.body.items, [], 'nothing was created');
  });

  it('accepts a public https URL, and refuses changing it to a private one', async () => {
    const created = await t.http.post('/api/v1/webhooks', { url: 'https://hooks.example.com/tether?app=crm', events: ['connection.created'] }, a.admin.session);
    assert.equal(created.status, 201, created.text);
    const changed = await t.http.patch(`/api/v1/webhooks/${created.body.webhook.id}`, { url: 'https://169.254.169.254/' }, a.admin.session);
    assert.equal(changed.status, 422);
    assert.equal(changed.body.error.code, 'invalid_webhook_url');
    const again = await t.http.get(`/api/v1/webhooks/${created.body.webhook.id}`, a.admin.session);
    assert.equal(again.body.url, 'https://hooks.example.com/tether?app=crm');
  });

  it('re-checks the target at delivery time: a stored private URL is refused without a request', async () => {
    const created = await t.http.post('/api/v1/webhooks', { url: 'https://hooks.example.com/later', events: ['connection.deleted'] }, a.admin.session);
    const id = created.body.webhook.id;
    // As if saved while the operator allowed private targets, or written around the API.
    const client = new pg.Client({ connectionString: t.config.databaseUrl });
    await client.connect();
    try {
      await client.query('update webhook_subscriptions set url = $1 where id = $2', [`${receiver.url}/internal`, id]);
      await t.services.db.transaction().execute((tx) => t.services.webhooks.emit(tx, { orgId: a.orgId, type: 'connection.deleted', data: { connectionId: 'c' } }));
      const delivery = await waitFor('the refused delivery', async () => {
        const items = (await t.http.get(`/api/v1/webhooks/${id}/deliveries`, a.admin.session)).body.items;
        return items[0]?.status === 'failed' && items[0];
      });
      assert.equal(delivery.attempts, 1, 'a refused target is not retried');
      assert.match(delivery.lastError, /^target refused: /);
      assert.equal(receiver.received.length, 0, 'the private address was never contacted');
    } finally {
      await client.end();
    }
  });

  it('refuses at connect time a host name that resolves to a non-public address (DNS rebinding)', async () => {
    const answer = (addresses: LookupAddress[]) =>
      ((_host: string, _options: object, callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => callback(null, addresses)) as never;
    const run = (policy: { allowPrivateTargets: boolean }, addresses: LookupAddress[]) =>
      new Promise<{ err: Error | null; addresses?: LookupAddress[] }>((resolve) =>
        guardedLookup(policy, answer(addresses))('hooks.example.com', { all: true }, ((err: Error | null, result: LookupAddress[]) => resolve({ err, addresses: result })) as never),
      );
    const publicOnly = [{ address: '93.184.215.14', family: 4 }];
    assert.equal((await run({ allowPrivateTargets: false }, publicOnly)).err, null);
    assert.deepEqual((await run({ allowPrivateTargets: false }, publicOnly)).addresses, publicOnly);
    const mixed = [{ address: '93.184.215.14', family: 4 }, { address: '10.1.2.3', family: 4 }];
    assert.match(String((await run({ allowPrivateTargets: false }, mixed)).err), /non-public address/);
    assert.equal((await run({ allowPrivateTargets: true }, mixed)).err, null);
    // The real resolver, for a name the hosts file maps to loopback.
    const real = await new Promise<Error | null>((resolve) => guardedLookup({ allowPrivateTargets: false })('localhost', { all: true }, ((err: Error | null) => resolve(err)) as never));
    assert.match(String(real), /non-public address/);
  });

  it('classifies addresses and URLs without resolving them', () => {
    for (const ip of ['127.0.0.1', '10.0.0.1', '169.254.169.254', '::1', 'fe80::1', 'fd00:ec2::254', '::ffff:10.0.0.1', '64:ff9b::a00:1', '2002:a00:1::', '224.0.0.1', 'nonsense']) {
      assert.ok(isNonPublicAddress(ip), ip);
    }
    for (const ip of ['93.184.215.14', '8.8.8.8', '2606:4700:4700::1111']) assert.ok(!isNonPublicAddress(ip), ip);
    assert.equal(webhookUrlProblem('http://127.0.0.1:9000/x', { allowPrivateTargets: true }), null, 'the operator setting allows loopback over http');
    assert.match(webhookUrlProblem('https://u:p@127.0.0.1/', { allowPrivateTargets: true })!, /credentials/);
  });
});
