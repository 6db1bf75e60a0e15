// Fidelity: every Graph response the sandbox produces validates against the Graph v1.0 CSDL
// (/work/shared/specs/msgraph-metadata_clean_v10_cleanMetadata.xml).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadGraphCsdl } from './spec/csdl.ts';
import { objectShape, validate, type Shape } from './spec/shapes.ts';
import { getJson, microsoftSignIn, startTestSandbox } from './helpers.ts';

type Sb = Awaited<ReturnType<typeof startTestSandbox>>;

const csdl = loadGraphCsdl();
const ANNOTATIONS = new Set(['@odata.context', '@odata.nextLink', '@microsoft.graph.downloadUrl']);
const collectionOf = (type: string): Shape => objectShape(`Collection(${type})`, { value: { kind: 'array', items: () => csdl.shape(type) } }, ['value']);

function assertValid(body: unknown, shape: Shape, partial = false) {
  const errors = validate(body, shape, { allowedAnnotations: ANNOTATIONS, partial });
  assert.deepEqual(errors, [], JSON.stringify(body).slice(0, 400));
}

describe('Graph responses validate against the v1.0 CSDL', () => {
  let sb: Sb;
  let token: string;
  let api: string;
  before(async () => {
    sb = await startTestSandbox();
    token = (await microsoftSignIn(sb, 'adele@contoso.onmicrosoft.com', 'openid profile offline_access User.Read MailboxSettings.Read Files.ReadWrite.All Sites.ReadWrite.All')).access_token;
    api = sb.microsoft.apiBaseUrl;
  });
  after(() => sb.close());
  const call = async (path: string, init: RequestInit = {}, expected = 200) => {
    const r = await getJson(sb, path.startsWith('https://') ? path : api + path, token, init);
    assert.equal(r.status, expected, JSON.stringify(r.body));
    return r.body;
  };
  const post = (path: string, body: unknown, expected = 200) => call(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }, expected);

  it('user, mailboxSettings, drive, drives, site', async () => {
    // Graph answers /me with a default projection of user (the CSDL marks e.g. assignedLicenses
    // non-nullable, yet the service omits it unless $select-ed), so check the projection explicitly.
    const me = await call('/me');
    assertValid(me, csdl.shape('user'), true);
    assert.deepEqual(Object.keys(me).filter((k) => !k.startsWith('@')).sort(), ['businessPhones', 'displayName', 'givenName', 'id', 'jobTitle', 'mail', 'mobilePhone', 'officeLocation', 'preferredLanguage', 'surname', 'userPrincipalName']);
    assertValid(await call('/me/mailboxSettings'), csdl.shape('mailboxSettings'));
    assertValid(await call('/me/drive'), csdl.shape('drive'));
    assertValid(await call('/me/drives'), collectionOf('drive'));
    const site = [...sb.microsoft.emulator.store.sites.keys()][0]!;
    assertValid(await call(`/sites/${site}`), csdl.shape('site'));
    assertValid(await call(`/sites/${site}/drives`), collectionOf('drive'));
    const searched = await call('/sites?search=market');
    assertValid(searched, collectionOf('site'));
    assert.deepEqual(searched.value.map((x: { id: string }) => x.id), [site]);
    assert.equal((await call('/sites?search=*')).value.length, 1);
    assert.deepEqual((await call('/sites?search=nothing-like-this')).value, []);
    assertValid(await call(`/sites/${site}/drive`), csdl.shape('drive'));
    const drive = await call('/me/drive');
    assertValid(await call(`/drives/${drive.id}`), csdl.shape('drive'));
    const megan = sb.microsoft.accounts.find((a) => a.email.startsWith('megan@'))!;
    assertValid(await call(`/users/${megan.id}/drive`), csdl.shape('drive'));
  });

  it('driveItems: root, folders, files, images, children pages, $expand=thumbnails, search', async () => {
    assertValid(await call('/me/drive/root'), csdl.shape('driveItem'));
    assertValid(await call('/me/drive/root:/Documents/Reports/2026/Q1 Report.docx'), csdl.shape('driveItem'));
    assertValid(await call('/me/drive/root:/Pictures/Sunset.png'), csdl.shape('driveItem'));
    assertValid(await call('/me/drive/root/children'), collectionOf('driveItem'));
    const page = await call('/me/drive/root:/Large Folder:/children?$top=50');
    assert.ok(page['@odata.nextLink']);
    assertValid(page, collectionOf('driveItem'));
    assertValid(await call('/me/drive/root:/Pictures:/children?$expand=thumbnails'), collectionOf('driveItem'));
    assertValid(await call('/me/drive/root:/Pictures:/children?$select=id,name&$expand=thumbnails'), collectionOf('driveItem'), true);
    assertValid(await call("/me/drive/root/search(q='report')"), collectionOf('driveItem'));
    const site = [...sb.microsoft.emulator.store.sites.keys()][0]!;
    assertValid(await call(`/sites/${site}/drive/root:/Campaigns:/children`), collectionOf('driveItem'));
  });

  it('thumbnails, preview, permissions, createLink, shares', async () => {
    const img = await call('/me/drive/root:/Pictures/Logo.png');
    assertValid(await call(`/me/drive/items/${img.id}/thumbnails`), collectionOf('thumbnailSet'));
    assertValid(await call(`/me/drive/items/${img.id}/thumbnails/0`), csdl.shape('thumbnailSet'));
    assertValid(await call(`/me/drive/items/${img.id}/thumbnails/0/large`), csdl.shape('thumbnail'));
    assertValid(await post(`/me/drive/items/${img.id}/preview`, {}), csdl.shape('itemPreviewInfo'));
    const link = await post(`/me/drive/items/${img.id}/createLink`, { type: 'edit', scope: 'organization' }, 201);
    assertValid(link, csdl.shape('permission'));
    assertValid(await post(`/me/drive/items/${img.id}/microsoft.graph.createLink`, { type: 'edit', scope: 'organization' }), csdl.shape('permission'));
    assertValid(await call(`/me/drive/items/${img.id}/permissions`), collectionOf('permission'));
    const encoded = `u!${Buffer.from(link.link.webUrl).toString('base64url')}`;
    // The documented /shares/{id} answer is {id, name, owner} although sharedDriveItem inherits
    // baseItem's non-nullable timestamps; validate names and types, and those three fields.
    const shared = await call(`/shares/${encoded}`);
    assertValid(shared, csdl.shape('sharedDriveItem'), true);
    assert.deepEqual(Object.keys(shared).sort(), ['id', 'name', 'owner']);
    assertValid(await call(`/shares/${encoded}/driveItem`), csdl.shape('driveItem'));
  });

  it('uploads, upload sessions, PATCH and errors', async () => {
    assertValid(await call('/me/drive/root:/Documents/fid.txt:/content', { method: 'PUT', body: 'abc' }, 201), csdl.shape('driveItem'));
    const folder = await post('/me/drive/root/children', { name: 'Fidelity', folder: {} }, 201);
    assertValid(folder, csdl.shape('driveItem'));
    const session = await post(`/me/drive/items/${folder.id}:/upload.bin:/createUploadSession`, { item: { '@microsoft.graph.conflictBehavior': 'rename' } });
    assertValid(session, csdl.shape('uploadSession'));
    const part = await sb.fetch(session.uploadUrl, { method: 'PUT', headers: { 'content-range': 'bytes 0-327679/327690' }, body: Buffer.alloc(327_680) });
    assert.equal(part.status, 202);
    assertValid(await part.json(), csdl.shape('uploadSession'), true);
    const done = await sb.fetch(session.uploadUrl, { method: 'PUT', headers: { 'content-range': 'bytes 327680-327689/327690' }, body: Buffer.alloc(10) });
    assert.equal(done.status, 201);
    assertValid(await done.json(), csdl.shape('driveItem'));
    assertValid(await call(`/me/drive/items/${folder.id}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Fidelity 2' }) }), csdl.shape('driveItem'));
    const error = await call('/me/drive/root:/missing', {}, 404);
    assert.deepEqual(Object.keys(error), ['error']);
    assert.deepEqual(Object.keys(error.error).sort(), ['code', 'innerError', 'message']);
    assert.deepEqual(Object.keys(error.error.innerError).sort(), ['client-request-id', 'date', 'request-id']);
  });

  it('fails when a field is renamed or retyped', async () => {
    const item = await call('/me/drive/root:/Pictures/Sunset.png');
    const { lastModifiedDateTime, ...rest } = item;
    const renamed = { ...rest, lastModifiedTime: lastModifiedDateTime };
    const errors = validate(renamed, csdl.shape('driveItem'), { allowedAnnotations: ANNOTATIONS });
    assert.ok(errors.some((e) => e.includes('lastModifiedTime: not a property of driveItem')));
    assert.ok(errors.some((e) => e.includes('missing required driveItem.lastModifiedDateTime')));
    const nested = structuredClone(item);
    nested.file.hashes.quickXor = nested.file.hashes.quickXorHash;
    delete nested.file.hashes.quickXorHash;
    assert.ok(validate(nested, csdl.shape('driveItem'), { allowedAnnotations: ANNOTATIONS }).some((e) => e.includes('quickXor: not a property of hashes')));
    assert.ok(validate({ ...item, size: String(item.size) }, csdl.shape('driveItem'), { allowedAnnotations: ANNOTATIONS }).some((e) => e.includes('$.size: expected integer')));
  });
});
