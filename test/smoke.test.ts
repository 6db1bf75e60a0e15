import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createOrgFixture, startTestTether, type TestTether } from './support/tether.ts';

describe('foundation smoke', () => {
  let t: TestTether;
  before(async () => {
    t = await startTestTether();
  });
  after(() => t.stop());

  it('answers health and readiness', async () => {
    assert.deepEqual((await t.http.get('/healthz')).body, { status: 'ok' });
    assert.deepEqual((await t.http.get('/readyz')).body, { status: 'ready', problems: [] });
  });

  it('lets an API key act for a user named by id or external id', async () => {
    const a = await createOrgFixture(t, 'smoke');
    const byId = await t.http.get('/api/v1/me', a.asAdmin);
    assert.equal(byId.status, 200);
    assert.equal(byId.body.user.id, a.admin.id);
    assert.equal(byId.body.via, 'api_key');
    const byExternal = await t.http.get('/api/v1/me', a.asMember);
    assert.equal(byExternal.body.user.id, a.member.id);
    assert.deepEqual(byExternal.body.user.groupIds, [a.group.id]);
  });
});
