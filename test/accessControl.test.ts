/**
 * Cross-org access control, table-driven over every registered route (`t.routes`), so a new route is
 * covered the day it lands. Two orgs, A and B: every way A can call Tether (admin and member, by
 * session and by API key) aims at B's objects. A must get exactly what it gets for an id that does not
 * exist (no existence oracle), and nothing of B may change.
 *
 * When this file fails with "add it to PARAM_VALUES" or "add it to BODIES", a new route needs one
 * line here: how to fill its path parameter from an org's objects, or a minimal valid body.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { RegisteredRoute } from '../src/http/server.ts';
import { createOrgFixture, type Auth, type OrgFixture, type Response, type TestTether, startTestTether } from './support/tether.ts';
import { storeConnection } from './connections/fixtures.ts';

/** Each org's webhook (made in `before`; the shared fixture stays as it is). */
const webhookOf = new Map<string, string>();
/** Each org's connection, stored through the connections service in `before` (the OAuth flow itself is tested in test/connections). */
const connectionOf = new Map<string, string>();
/** Each org's shared connection's handle (shared with the org's group). */
const handleOf = new Map<string, string>();
/** How to fill a path parameter, by name, from an org's objects. Every value is tried. */
const PARAM_VALUES: Record<string, (org: OrgFixture) => string[]> = {
  orgId: (o) => [o.orgId],
  userId: (o) => [o.member.id, o.admin.id],
  groupId: (o) => [o.group.id],
  keyId: (o) => [o.apiKey.id],
  appId: (o) => [o.providerApp.id],
  connectionId: (o) => [connectionOf.get(o.orgId)!],
  handle: (o) => [handleOf.get(o.orgId)!],
  webhookId: (o) => [webhookOf.get(o.orgId)!],
  // Items live at the provider, not in Tether: the connection they are reached through decides.
  itemId: () => ['1AbCdEf0123456789'],
};

/** What a route's trailing wildcard (`/proxy/*`) is filled with: a provider-side path. */
const WILDCARD_VALUE = 'people/me';

/** Parameters that name provider-side objects: never "B's" on their own, never randomised. */
const PROVIDER_SIDE_PARAMS = new Set(['itemId']);

/** Required query strings, keyed like BODIES. */
const QUERIES: Record<string, string> = {
  'GET /api/v1/connections/:connectionId/search': '?q=probe',
};

/**
 * A minimal valid body for every route that takes one, keyed by `METHOD url`; `null` says "no body"
 * for a route the OpenAPI document does not describe. Validity is self-checking: an admin must get a
 * 404 for a missing object, which needs the body to pass validation first.
 */
const BODIES: Record<string, unknown> = {
  'POST /api/v1/auth/login': { org: 'no-such-org', email: 'nobody@example.test', password: 'not-a-password' },
  'POST /api/v1/operator/orgs': { slug: 'probe-org', name: 'Probe' },
  'POST /api/v1/operator/orgs/:orgId/admins': { email: 'probe@example.test', displayName: 'Probe', password: 'probe-password-123' },
  'POST /api/v1/operator/orgs/:orgId/api-keys': { name: 'probe' },
  'POST /api/v1/users': { email: 'probe@example.test', displayName: 'Probe' },
  'PATCH /api/v1/users/:userId': { displayName: 'Probe' },
  'POST /api/v1/groups': { name: 'Probe' },
  'PATCH /api/v1/groups/:groupId': { name: 'Probe' },
  'POST /api/v1/api-keys': { name: 'probe' },
  'POST /api/v1/provider-apps': { provider: 'google', displayName: 'Probe', clientId: 'probe', clientSecret: 'probe' },
  'PATCH /api/v1/provider-apps/:appId': { displayName: 'Probe' },
  'POST /api/v1/provider-apps/:appId/verify': { returnTo: 'http://tether.test/done' },
  'POST /api/v1/provider-apps/:appId/reconfigure': { clientSecret: 'probe' },
  'POST /api/v1/connect-sessions': { providerAppId: '00000000-0000-4000-8000-000000000000', returnTo: 'http://tether.test/done' },
  'PATCH /api/v1/connections/:connectionId': { name: 'Probe' },
  'POST /api/v1/connections/:connectionId/items/:itemId/links': { type: 'view', scope: 'organization' },
  'POST /api/v1/connections/:connectionId/shared-links/resolve': { url: 'https://contoso.sharepoint.com/:w:/g/x' },
  'PATCH /api/v1/connections/:connectionId/items/:itemId': { name: 'Probe.docx' },
  'POST /api/v1/connections/:connectionId/items': null,
  'PUT /api/v1/connections/:connectionId/items/:itemId/content': null,
  // The proxy forwards any body as bytes; the connection is checked first (404 for B's).
  'POST /api/v1/connections/:connectionId/proxy/*': { probe: true },
  'PUT /api/v1/connections/:connectionId/proxy/*': { probe: true },
  'PATCH /api/v1/connections/:connectionId/proxy/*': { probe: true },
  'DELETE /api/v1/connections/:connectionId/proxy/*': null,
  'POST /api/v1/webhooks': { url: 'https://hooks.example.com/probe', events: ['connection.created'] },
  'PATCH /api/v1/webhooks/:webhookId': { description: 'Probe' },
};

/**
 * Public routes may have path parameters only when they serve no org data: the docs' static files,
 * and the connect link, whose 256-bit token is the capability — an unknown, used or expired token gets
 * one and the same page, and a valid one only a redirect to the provider (test/connections).
 */
// /oauth/callback/:appId: the app id is only compared with the app of the session the state names.
const PUBLIC_ROUTES_WITH_PARAMS = new Set(['GET /docs/static/*', 'GET /connect/:token', 'GET /oauth/callback/:appId']);

/** The list routes an org admin reads; none may ever show another org's objects. */
const LIST_ROUTES = ['/api/v1/users', '/api/v1/groups', '/api/v1/api-keys', '/api/v1/audit-events', '/api/v1/webhooks'];

interface Caller {
  name: string;
  auth: Auth;
  role: 'admin' | 'member';
}

function callersOf(org: OrgFixture): Caller[] {
  return [
    { name: 'admin session', auth: org.admin.session, role: 'admin' },
    { name: 'member session', auth: org.member.session, role: 'member' },
    { name: 'API key as admin', auth: org.asAdmin, role: 'admin' },
    { name: 'API key as member', auth: org.asMember, role: 'member' },
  ];
}

const routeKey = (r: { method: string; url: string }) => `${r.method} ${r.url}`;
const paramNames = (url: string) => [...url.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]!);
const fill = (url: string, values: Record<string, string>) => url.replace(/:([A-Za-z0-9_]+)/g, (_, name: string) => values[name]!).replace(/\/\*$/, `/${WILDCARD_VALUE}`);
const outcome = (res: Response) => ({ status: res.status, body: res.body });

describe('access control across orgs (every route)', () => {
  let t: TestTether;
  let db: pg.Client;
  let a: OrgFixture;
  let b: OrgFixture;
  let openapi: { paths: Record<string, Record<string, { requestBody?: unknown }>> };

  before(async () => {
    t = await startTestTether();
    db = new pg.Client({ connectionString: t.config.databaseUrl });
    await db.connect();
    a = await createOrgFixture(t, 'org-a');
    b = await createOrgFixture(t, 'org-b');
    for (const org of [a, b]) {
      connectionOf.set(org.orgId, await storeConnection(t, db, org));
      const shared = await storeConnection(t, db, org, { ownerId: org.admin.id, shared: [org.group.id] });
      handleOf.set(org.orgId, (await db.query('select handle from connections where id = $1', [shared])).rows[0].handle);
    }
    for (const org of [a, b]) {
      const webhook = await t.http.post('/api/v1/webhooks', { url: `https://hooks.example.com/${org.slug}`, events: ['connection.created'] }, org.admin.session);
      assert.equal(webhook.status, 201, webhook.text);
      webhookOf.set(org.orgId, webhook.body.webhook.id);
    }
    openapi = (await t.http.get('/api/v1/openapi.json')).body;
  });
  after(async () => {
    await db?.end();
    await t?.stop();
  });

  /** The routes a test calls with credentials: everything but `public`. */
  const guardedRoutes = () => t.routes.filter((r) => r.access !== 'public');

  /** Fails the test, naming the routes, when a route has a path parameter PARAM_VALUES does not know. */
  function assertParamsKnown(routes: RegisteredRoute[]): void {
    const unknown = routes.flatMap((r) => paramNames(r.url).filter((p) => !(p in PARAM_VALUES)).map((p) => `${routeKey(r)} (:${p})`));
    assert.deepEqual(unknown, [], `add these path parameters to PARAM_VALUES in test/accessControl.test.ts: ${unknown.join(', ')}`);
  }

  /** The body to send, or undefined for none. Fails when a route takes a body BODIES has no entry for. */
  function bodyFor(route: RegisteredRoute): unknown {
    const key = routeKey(route);
    if (key in BODIES) return BODIES[key] ?? undefined;
    const openapiPath = route.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    const operation = openapi.paths[openapiPath]?.[route.method.toLowerCase()];
    if (operation === undefined && route.method !== 'GET') {
      assert.fail(`${key} is not in the OpenAPI document, so its body is unknown: add it to BODIES in test/accessControl.test.ts (null for none)`);
    }
    if (operation?.requestBody !== undefined) {
      assert.fail(`${key} takes a request body: add a minimal valid one to BODIES in test/accessControl.test.ts`);
    }
    return undefined;
  }

  function call(route: RegisteredRoute, path: string, auth: Auth): Promise<Response> {
    const body = bodyFor(route);
    return t.http.request(route.method, `${path}${QUERIES[routeKey(route)] ?? ''}`, { auth, ...(body !== undefined && { body }) });
  }

  /**
   * Every way to point a route's parameters at org B: all parameters from B, and (for routes with
   * several) one parameter from B with the others from A — e.g. B's user in A's group.
   */
  function probesOf(route: RegisteredRoute): Array<{ label: string; path: string; randomPath: string }> {
    const names = paramNames(route.url);
    const ownValues = Object.fromEntries(names.map((n) => [n, PARAM_VALUES[n]!(a)[0]!]));
    const probes: Array<{ label: string; path: string; randomPath: string }> = [];
    const combos = (fixed: string[]): Array<Record<string, string>> => {
      let out: Array<Record<string, string>> = [{}];
      for (const n of names) {
        const choices = fixed.includes(n) ? PARAM_VALUES[n]!(b) : [ownValues[n]!];
        out = out.flatMap((partial) => choices.map((v) => ({ ...partial, [n]: v })));
      }
      return out;
    };
    const orgSide = names.filter((n) => !PROVIDER_SIDE_PARAMS.has(n));
    const variants = orgSide.length > 1 ? [names, ...orgSide.map((n) => [n])] : [names];
    for (const fromB of variants) {
      for (const values of combos(fromB)) {
        const random = { ...values, ...Object.fromEntries(fromB.filter((n) => !PROVIDER_SIDE_PARAMS.has(n)).map((n) => [n, randomUUID()])) };
        probes.push({ label: `${fromB.map((n) => `B's ${n}`).join(', ')}`, path: fill(route.url, values), randomPath: fill(route.url, random) });
      }
    }
    return probes;
  }

  /** All rows of every table that has an org_id (plus the org itself), for one org. */
  async function snapshotOrg(orgId: string, options: { withAudit: boolean }): Promise<Record<string, unknown[]>> {
    const tables = await db.query<{ table_name: string }>(
      `select table_name from information_schema.columns
       where table_schema = 'public' and column_name = 'org_id' order by table_name`,
    );
    assert.ok(tables.rows.length >= 6, 'expected the org-scoped tables (users, groups, group_members, api_keys, sessions, audit_events)');
    const snapshot: Record<string, unknown[]> = {
      orgs: (await db.query('select * from orgs where id = $1', [orgId])).rows,
    };
    for (const { table_name } of tables.rows) {
      if (table_name === 'audit_events' && !options.withAudit) continue;
      // last_used_at moves when a key is used at all; it is not a change to the org's data.
      const rows = await db.query(
        `select to_jsonb(x) - 'last_used_at' as row from ${table_name} x where org_id = $1 order by to_jsonb(x)::text`,
        [orgId],
      );
      snapshot[table_name] = rows.rows.map((r) => r.row);
    }
    return snapshot;
  }

  it('knows every path parameter and body of every route', () => {
    assert.ok(t.routes.length >= 20, `expected the full route table, got ${t.routes.length} routes`);
    assertParamsKnown(guardedRoutes());
    for (const route of guardedRoutes()) bodyFor(route);
    const publicWithParams = t.routes.filter((r) => r.access === 'public' && paramNames(r.url).length + (r.url.includes('*') ? 1 : 0) > 0);
    const unexpected = publicWithParams.map(routeKey).filter((k) => !PUBLIC_ROUTES_WITH_PARAMS.has(k));
    assert.deepEqual(unexpected, [], 'a public route with path parameters must not reach org data; review it and list it in PUBLIC_ROUTES_WITH_PARAMS');
    const stale = Object.keys(BODIES).filter((k) => !t.routes.some((r) => routeKey(r) === k));
    assert.deepEqual(stale, [], 'BODIES names routes that no longer exist');
  });

  it("never lists org B's objects to org A", async () => {
    const bIds = [b.orgId, b.admin.id, b.member.id, b.group.id, b.apiKey.id, webhookOf.get(b.orgId)!];
    const aIds: Record<string, string> = {
      '/api/v1/users': a.member.id,
      '/api/v1/groups': a.group.id,
      '/api/v1/api-keys': a.apiKey.id,
      '/api/v1/audit-events': a.group.id,
      '/api/v1/webhooks': webhookOf.get(a.orgId)!,
    };
    for (const caller of [a.admin.session, a.asAdmin]) {
      for (const list of LIST_ROUTES) {
        let text = '';
        let cursor: string | null = null;
        do {
          const res: Response = await t.http.get(`${list}?limit=2${cursor ? `&cursor=${cursor}` : ''}`, caller);
          assert.equal(res.status, 200, `${list}: ${res.text}`);
          text += res.text;
          cursor = res.body.nextCursor ?? null;
        } while (cursor);
        assert.ok(text.includes(aIds[list]!), `${list} should show org A's own objects (otherwise this check proves nothing)`);
        for (const id of bIds) assert.ok(!text.includes(id), `${list} shows org B's object ${id} to org A`);
      }
    }
    // Every other parameterless read a user can make (e.g. /api/v1/me), for every kind of caller.
    const reads = guardedRoutes().filter((r) => r.method === 'GET' && r.access !== 'operator' && paramNames(r.url).length === 0);
    for (const route of reads) {
      for (const caller of callersOf(a)) {
        const res = await t.http.get(route.url, caller.auth);
        for (const id of bIds) assert.ok(!res.text.includes(id), `${route.url} as A's ${caller.name} shows org B's object ${id}`);
      }
    }
  });

  it("answers org A's callers for org B's objects exactly as for objects that do not exist, and changes nothing", async () => {
    const routes = guardedRoutes().filter((r) => paramNames(r.url).length > 0);
    assertParamsKnown(routes);
    assert.ok(routes.length >= 10, 'expected routes with path parameters');
    const bBefore = await snapshotOrg(b.orgId, { withAudit: true });
    const aBefore = await snapshotOrg(a.orgId, { withAudit: false });

    const problems: string[] = [];
    let probes = 0;
    for (const route of routes) {
      for (const probe of probesOf(route)) {
        for (const caller of callersOf(a)) {
          probes++;
          const where = `${routeKey(route)} with ${probe.label} as A's ${caller.name}`;
          const forB = await call(route, probe.path, caller.auth);
          const forNothing = await call(route, probe.randomPath, caller.auth);
          if (JSON.stringify(outcome(forB)) !== JSON.stringify(outcome(forNothing))) {
            problems.push(`${where}: B's object gives ${forB.status} ${forB.text}, a missing one ${forNothing.status} ${forNothing.text}`);
          }
          const code = forB.body?.error?.code;
          const expected =
            route.access === 'operator'
              ? [[401, 'unauthenticated']]
              : route.access === 'admin' && caller.role === 'member'
                ? [[403, 'forbidden'], [404, 'not_found']]
                : [[404, 'not_found']];
          if (!expected.some(([status, c]) => forB.status === status && code === c)) {
            problems.push(`${where}: expected ${expected.map((e) => e.join(' ')).join(' or ')}, got ${forB.status} ${forB.text}`);
          }
        }
      }
    }
    assert.deepEqual(problems, [], `${problems.length} of ${probes} cross-org probes went wrong`);
    assert.deepEqual(await snapshotOrg(b.orgId, { withAudit: true }), bBefore, "org B's rows changed");
    assert.deepEqual(await snapshotOrg(a.orgId, { withAudit: false }), aBefore, "org A's rows changed, though every probe was refused");
  });

  it("treats org B's ids inside request bodies like ids that do not exist", async () => {
    const bBefore = await snapshotOrg(b.orgId, { withAudit: true });
    const cases: Array<{ method: string; path: string; body: (groupId: string) => unknown }> = [
      { method: 'POST', path: '/api/v1/users', body: (g) => ({ email: 'cross@org-a.test', displayName: 'Cross', groupIds: [g] }) },
      { method: 'PATCH', path: `/api/v1/users/${a.member.id}`, body: (g) => ({ groupIds: [g] }) },
    ];
    for (const c of cases) {
      for (const auth of [a.admin.session, a.asAdmin]) {
        const forB = await t.http.request(c.method, c.path, { auth, body: c.body(b.group.id) });
        const forNothing = await t.http.request(c.method, c.path, { auth, body: c.body(randomUUID()) });
        assert.equal(forB.status, 422, `${c.method} ${c.path}: ${forB.text}`);
        assert.equal(forB.body.error.code, 'unknown_group');
        assert.deepEqual({ ...forB.body.error, details: undefined }, { ...forNothing.body.error, details: undefined });
      }
    }
    assert.deepEqual(await snapshotOrg(b.orgId, { withAudit: true }), bBefore, "org B's rows changed");
    const me = await t.http.get('/api/v1/me', a.asMember);
    assert.deepEqual(me.body.user.groupIds, [a.group.id], "A's member kept A's group");
  });

  it('refuses every non-public route without credentials (401)', async () => {
    const problems: string[] = [];
    for (const route of guardedRoutes()) {
      const path = fill(route.url, Object.fromEntries(paramNames(route.url).map((n) => [n, randomUUID()])));
      for (const auth of [{ kind: 'none' }, { kind: 'apiKey', key: 'tk_not-a-real-key', user: a.admin.id }] as Auth[]) {
        const res = await call(route, path, auth);
        if (res.status !== 401 || res.body?.error?.code !== 'unauthenticated') {
          problems.push(`${routeKey(route)} with ${auth.kind}: ${res.status} ${res.text}`);
        }
      }
      // Fastify answers HEAD for every GET route; the same access applies.
      if (route.method === 'GET') {
        const head = await t.http.request('HEAD', path);
        if (head.status !== 401) problems.push(`HEAD ${route.url} without credentials: ${head.status}`);
      }
    }
    assert.deepEqual(problems, []);
  });

  it("refuses every admin route to a member (403), by session and by API key", async () => {
    const adminRoutes = t.routes.filter((r) => r.access === 'admin');
    assert.ok(adminRoutes.length >= 10);
    assertParamsKnown(adminRoutes);
    const before = await snapshotOrg(a.orgId, { withAudit: false });
    const problems: string[] = [];
    for (const route of adminRoutes) {
      // The member's own org's objects: the role, not the object, must be what refuses.
      const path = fill(route.url, Object.fromEntries(paramNames(route.url).map((n) => [n, PARAM_VALUES[n]!(a).at(-1)!])));
      for (const caller of callersOf(a).filter((c) => c.role === 'member')) {
        const res = await call(route, path, caller.auth);
        if (res.status !== 403 || res.body?.error?.code !== 'forbidden') problems.push(`${routeKey(route)} as ${caller.name}: ${res.status} ${res.text}`);
      }
    }
    assert.deepEqual(problems, []);
    assert.deepEqual(await snapshotOrg(a.orgId, { withAudit: false }), before);
  });
});
