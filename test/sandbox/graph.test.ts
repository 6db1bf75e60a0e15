import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { getJson, microsoftSignIn, startTestSandbox } from './helpers.ts';

type Sb = Awaited<ReturnType<typeof startTestSandbox>>;

function pngSize(buf: Buffer): { width: number; height: number } {
  assert.deepEqual([...buf.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  assert.equal(buf.subarray(12, 16).toString('ascii'), 'IHDR');
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}

describe('Microsoft Graph drive emulator', () => {
  let sb: Sb;
  let token: string;
  let api: string;
  before(async () => {
    sb = await startTestSandbox();
    token = (await microsoftSignIn(sb, 'adele@contoso.onmicrosoft.com')).access_token;
    api = sb.microsoft.apiBaseUrl;
  });
  after(() => sb.close());
  const get = (path: string, init: RequestInit = {}) => getJson(sb, path.startsWith('https://') ? path : api + path, token, init);

  it('pages the 10,000-item folder with @odata.nextLink, returning every item exactly once', async () => {
    for (const top of [undefined, 999, 137]) {
      const seen = new Map<string, number>();
      let url: string | undefined = `/me/drive/root:/Large Folder:/children${top ? `?$top=${top}` : ''}`;
      let pages = 0;
      while (url) {
        const { status, body } = await get(url);
        assert.equal(status, 200);
        for (const item of body.value) seen.set(item.id, (seen.get(item.id) ?? 0) + 1);
        if (body['@odata.nextLink']) assert.match(body['@odata.nextLink'], /^https:\/\/127\.0\.0\.1:\d+\/v1\.0\/me\/drive\/root:\/Large%20Folder:\/children\?.*\$skiptoken=/);
        url = body['@odata.nextLink'];
        pages++;
      }
      assert.equal(seen.size, 10_000);
      assert.ok([...seen.values()].every((n) => n === 1));
      assert.equal(pages, Math.ceil(10_000 / (top ?? 200)));
    }
  });

  it('keeps paging consistent while the folder changes between pages', async () => {
    const first = await get('/me/drive/root:/Pictures:/children?$top=1');
    assert.equal(first.body.value[0].name, 'Logo.png');
    // Between pages: add an item that sorts before the cursor and delete the one just returned.
    await get('/me/drive/root:/Pictures/A-first.png:/content', { method: 'PUT', body: 'x' });
    const del = await sb.fetch(`${api}/me/drive/items/${first.body.value[0].id}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
    assert.equal(del.status, 204);
    const names: string[] = [];
    let url: string | undefined = first.body['@odata.nextLink'];
    while (url) {
      const page = await get(url);
      names.push(...page.body.value.map((i: any) => i.name));
      url = page.body['@odata.nextLink'];
    }
    assert.deepEqual(names, ['Mountains.png', 'Sunset.png']);
  });

  it('addresses items by id and by path, with $select and $expand=thumbnails', async () => {
    const byPath = await get('/me/drive/root:/Documents/Reports/2026/Q1 Report.docx');
    assert.equal(byPath.status, 200);
    assert.equal(byPath.body.name, 'Q1 Report.docx');
    assert.equal(byPath.body.parentReference.path, `/drives/${byPath.body.parentReference.driveId}/root:/Documents/Reports/2026`);
    assert.match(byPath.body.file.hashes.quickXorHash, /^[A-Za-z0-9+/]{27}=$/);
    const drive = (await get('/me/drive')).body;
    const byId = await get(`/drives/${drive.id}/items/${byPath.body.id}`);
    assert.equal(byId.body.eTag, byPath.body.eTag);
    const selected = await get(`/me/drive/items/${byPath.body.id}?$select=id,name,size`);
    assert.deepEqual(Object.keys(selected.body).filter((k) => !k.startsWith('@')).sort(), ['id', 'name', 'size']);
    const withUrl = await get(`/me/drive/items/${byPath.body.id}?$select=name,@microsoft.graph.downloadUrl`);
    assert.deepEqual(Object.keys(withUrl.body).filter((k) => k !== '@odata.context').sort(), ['@microsoft.graph.downloadUrl', 'name']);
    const pics = await get('/me/drive/root:/Pictures:/children?$expand=thumbnails&$select=id,name,image');
    const sunset = pics.body.value.find((i: any) => i.name === 'Sunset.png');
    assert.deepEqual(sunset.image, { height: 768, width: 1024 });
    assert.equal(sunset.thumbnails[0].medium.width, 176);
    assert.equal(sunset.thumbnails[0].medium.height, 132);
  });

  it('serves thumbnails as real PNGs and …/content as a 302 to the bytes', async () => {
    const item = (await get('/me/drive/root:/Pictures/Mountains.png')).body;
    for (const [size, box] of [['small', 96], ['medium', 176], ['large', 800]] as const) {
      const t = (await get(`/me/drive/items/${item.id}/thumbnails/0/${size}`)).body;
      assert.equal(t.height, box);
      const redirect = await sb.fetch(`${api}/me/drive/items/${item.id}/thumbnails/0/${size}/content`, { headers: { authorization: `Bearer ${token}` }, redirect: 'manual' });
      assert.equal(redirect.status, 302);
      const png = Buffer.from(await (await sb.fetch(redirect.headers.get('location')!)).arrayBuffer());
      assert.deepEqual(pngSize(png), { width: t.width, height: t.height });
    }
    const doc = (await get('/me/drive/root:/Documents/Project Plan.docx:/thumbnails')).body.value[0];
    assert.deepEqual([doc.small.width, doc.small.height], [74, 96], 'documents get portrait page thumbnails');
    assert.deepEqual(pngSize(Buffer.from(await (await sb.fetch(doc.small.url)).arrayBuffer())), { width: 74, height: 96 });
    assert.deepEqual((await get('/me/drive/root:/Documents:/thumbnails')).body.value, [], 'folders have none');
    const content = await sb.fetch(`${api}/me/drive/items/${item.id}/content`, { headers: { authorization: `Bearer ${token}` }, redirect: 'manual' });
    assert.equal(content.status, 302);
    const full = Buffer.from(await (await sb.fetch(content.headers.get('location')!)).arrayBuffer());
    assert.deepEqual(pngSize(full), { width: 640, height: 960 });
    assert.equal(full.length, item.size);
    const ranged = await sb.fetch(content.headers.get('location')!, { headers: { range: 'bytes=0-7' } });
    assert.equal(ranged.status, 206);
    assert.equal(ranged.headers.get('content-range'), `bytes 0-7/${item.size}`);
    assert.equal(Buffer.from(await ranged.arrayBuffer()).length, 8);
  });

  it('uploads small files with PUT and large ones through an upload session in 320 KiB multiples', async () => {
    const small = await get('/me/drive/root:/Documents/hello.txt:/content', { method: 'PUT', body: 'hello world', headers: { 'content-type': 'text/plain' } });
    assert.equal(small.status, 201);
    assert.equal(small.body.size, 11);
    const replaced = await get(`/me/drive/items/${small.body.id}/content`, { method: 'PUT', body: 'hello again!' });
    assert.equal(replaced.status, 200);
    assert.equal(replaced.body.size, 12);

    const session = await get('/me/drive/root:/Documents/big.bin:/createUploadSession', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ item: { '@microsoft.graph.conflictBehavior': 'fail' } }) });
    assert.equal(session.status, 200);
    assert.deepEqual(session.body.nextExpectedRanges, ['0-']);
    const data = Buffer.alloc(327_680 * 2 + 1000, 7);
    const put = (start: number, end: number, headers: Record<string, string> = {}) =>
      sb.fetch(session.body.uploadUrl, { method: 'PUT', headers: { 'content-range': `bytes ${start}-${end}/${data.length}`, ...headers }, body: data.subarray(start, end + 1) });
    const odd = await put(0, 99_999);
    assert.equal(odd.status, 400);
    const withAuth = await put(0, 327_679, { authorization: `Bearer ${token}` });
    assert.equal(withAuth.status, 401);
    const first = await put(0, 327_679);
    assert.equal(first.status, 202);
    assert.deepEqual(((await first.json()) as any).nextExpectedRanges, [`327680-${data.length - 1}`]);
    const gap = await put(655_360, data.length - 1);
    assert.equal(gap.status, 416);
    assert.equal((await put(327_680, 655_359)).status, 202);
    const done = await put(655_360, data.length - 1);
    assert.equal(done.status, 201);
    const item = (await done.json()) as any;
    assert.equal(item.size, data.length);
    assert.equal(item.name, 'big.bin');
  });

  it('renames and moves with PATCH honouring If-Match (412 on mismatch) and deletes with 204', async () => {
    const created = await get('/me/drive/root:/Documents/rename-me.txt:/content', { method: 'PUT', body: 'x' });
    const stale = created.body.eTag;
    const renamed = await get(`/me/drive/items/${created.body.id}`, { method: 'PATCH', headers: { 'content-type': 'application/json', 'if-match': stale }, body: JSON.stringify({ name: 'renamed.txt' }) });
    assert.equal(renamed.status, 200);
    assert.equal(renamed.body.name, 'renamed.txt');
    assert.notEqual(renamed.body.eTag, stale);
    const conflict = await get(`/me/drive/items/${created.body.id}`, { method: 'PATCH', headers: { 'content-type': 'application/json', 'if-match': stale }, body: JSON.stringify({ name: 'again.txt' }) });
    assert.equal(conflict.status, 412);
    assert.equal(conflict.body.error.code, 'preconditionFailed');
    const pictures = (await get('/me/drive/root:/Pictures')).body;
    const moved = await get(`/me/drive/items/${created.body.id}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ parentReference: { id: pictures.id } }) });
    assert.equal(moved.body.parentReference.id, pictures.id);
    const del = await sb.fetch(`${api}/me/drive/items/${created.body.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
    assert.equal(del.status, 204);
    assert.equal((await get(`/me/drive/items/${created.body.id}`)).status, 404);
  });

  it('creates sharing links (201 new, 200 existing) that resolve through /shares/{u!…}/driveItem', async () => {
    const item = (await get('/me/drive/root:/Documents/Project Plan.docx')).body;
    for (const action of ['createLink', 'microsoft.graph.createLink']) {
      const res = await get(`/me/drive/items/${item.id}/${action}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'view', scope: 'organization' }) });
      assert.equal(res.status, action === 'createLink' ? 201 : 200);
      assert.match(res.body.link.webUrl, /^https:\/\/contoso-my\.sharepoint\.com\/:w:\/g\/personal\/adele_contoso_onmicrosoft_com\/E[A-Za-z0-9]+\?e=[A-Za-z0-9]{6}$/);
      assert.deepEqual(res.body.roles, ['read']);
    }
    const link = (await get(`/me/drive/items/${item.id}/createLink`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'view', scope: 'organization' }) })).body;
    const encoded = `u!${Buffer.from(link.link.webUrl).toString('base64url')}`;
    const megan = (await microsoftSignIn(sb, 'megan@contoso.onmicrosoft.com', 'openid offline_access Files.Read')).access_token;
    const shared = await getJson(sb, `${api}/shares/${encoded}/driveItem`, megan);
    assert.equal(shared.status, 200);
    assert.equal(shared.body.id, item.id);
    const outsider = (await microsoftSignIn(sb, 'lucas@fabrikam.onmicrosoft.com', 'openid offline_access Files.Read')).access_token;
    assert.equal((await getJson(sb, `${api}/shares/${encoded}/driveItem`, outsider)).status, 403);
    const perms = (await get(`/me/drive/items/${item.id}/permissions`)).body.value;
    assert.ok(perms.some((p: any) => p.roles.includes('owner')));
    assert.ok(perms.some((p: any) => p.link?.webUrl === link.link.webUrl));
    const preview = await get(`/me/drive/items/${item.id}/preview`, { method: 'POST' });
    assert.equal(preview.status, 200);
    assert.equal((await sb.fetch(preview.body.getUrl)).status, 200);
  });

  it('reaches SharePoint site libraries and other drives, and searches by name', async () => {
    const site = [...sb.microsoft.emulator.store.sites.values()][0]!;
    const drives = (await get(`/sites/${site.id}/drives`)).body.value;
    assert.deepEqual(drives.map((d: any) => d.name).sort(), ['Brand Assets', 'Documents']);
    assert.ok(drives.every((d: any) => d.driveType === 'documentLibrary'));
    const lib = (await get(`/sites/${site.id}/drive/root:/Campaigns:/children`)).body.value;
    assert.deepEqual(lib.map((i: any) => i.name), ['Banner.png', 'Launch Plan.docx']);
    const megan = sb.microsoft.accounts.find((a) => a.email.startsWith('megan@'))!;
    assert.equal((await get(`/users/${megan.id}/drive`)).status, 200);
    const found = (await get("/me/drive/root/search(q='q1')")).body.value.map((i: any) => i.name).sort();
    assert.deepEqual(found, ['Q1 Figures.pdf', 'Q1 Report.docx']);
    const me = (await get('/me')).body;
    assert.equal(me.userPrincipalName, 'adele@contoso.onmicrosoft.com');
  });

  it('revokeSignInSessions retires refresh tokens but leaves issued access tokens valid', async () => {
    const app = sb.microsoft.apps[0]!;
    const t = await microsoftSignIn(sb, 'megan@contoso.onmicrosoft.com', 'openid offline_access User.Read User.RevokeSessions.All Files.Read');
    const res = await getJson(sb, `${api}/me/revokeSignInSessions`, t.access_token, { method: 'POST' });
    assert.equal(res.status, 200);
    assert.equal(res.body.value, true);
    assert.equal((await getJson(sb, `${api}/me`, t.access_token)).status, 200);
    const refresh = await sb.fetch(sb.microsoft.tokenEndpointFor('common'), { method: 'POST', body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: t.refresh_token!, client_id: app.clientId, client_secret: app.clientSecret }) });
    assert.equal(refresh.status, 400);
    assert.deepEqual(((await refresh.json()) as { error_codes: number[] }).error_codes, [50173]);
    const denied = await getJson(sb, `${api}/me/revokeSignInSessions`, token, { method: 'POST' });
    assert.equal(denied.status, 403);
  });

  it('enforces tokens and scopes in Graph error format', async () => {
    const none = await sb.fetch(`${api}/me/drive`);
    assert.equal(none.status, 401);
    assert.equal(((await none.json()) as any).error.code, 'InvalidAuthenticationToken');
    const bogus = await getJson(sb, `${api}/me/drive`, 'not-a-token');
    assert.equal(bogus.status, 401);
    const readOnly = (await microsoftSignIn(sb, 'kenji@contoso.onmicrosoft.com', 'openid offline_access Files.Read')).access_token;
    const denied = await getJson(sb, `${api}/me/drive/root:/x.txt:/content`, readOnly, { method: 'PUT', body: 'x' });
    assert.equal(denied.status, 403);
    assert.equal(denied.body.error.code, 'accessDenied');
    assert.match(denied.body.error.innerError['request-id'], /^[0-9a-f-]{36}$/);
    const lucas = sb.microsoft.accounts.find((a) => a.email.startsWith('lucas@'))!;
    assert.equal((await get(`/users/${lucas.id}/drive`)).status, 404);
    const missing = await get('/me/drive/root:/Nope/none.txt');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.code, 'itemNotFound');
    sb.microsoft.emulator.oauth.expireAccessTokens();
    const expired = await get('/me/drive');
    assert.equal(expired.status, 401);
    assert.equal(expired.body.error.message, 'Lifetime validation failed, the token is expired.');
    token = (await microsoftSignIn(sb, 'adele@contoso.onmicrosoft.com')).access_token;
  });
});
