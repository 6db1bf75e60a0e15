// Fidelity: Drive v3 responses validate against the Drive v3 discovery document, OAuth userinfo
// against the oauth2 v2 discovery document.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadDiscovery, requireFields } from './spec/discovery.ts';
import { objectShape, validate, type Shape } from './spec/shapes.ts';
import { getJson, googleSignIn, startTestSandbox } from './helpers.ts';

type Sb = Awaited<ReturnType<typeof startTestSandbox>>;

const driveSpec = loadDiscovery('/work/shared/specs/google-drive-v3-discovery.json');
const FILE = requireFields(driveSpec.shape('File'), ['kind', 'id', 'name', 'mimeType']);
const FILE_FULL = requireFields(driveSpec.shape('File'), ['kind', 'id', 'name', 'mimeType', 'parents', 'createdTime', 'modifiedTime', 'webViewLink', 'iconLink', 'capabilities', 'version', 'trashed']);
const withFiles = (file: Shape, required: string[] = ['kind', 'files']) => {
  const base = driveSpec.shape('FileList');
  if (base.kind !== 'object') throw new Error();
  const properties = new Map(base.properties);
  properties.set('files', { shape: () => ({ kind: 'array', items: () => file }), nullable: false });
  return { ...base, properties, required: new Set(required) } as Shape;
};

function assertValid(body: unknown, shape: Shape, partial = false) {
  assert.deepEqual(validate(body, shape, { partial }), [], JSON.stringify(body).slice(0, 300));
}

describe('Google responses validate against the discovery documents', () => {
  let sb: Sb;
  let token: string;
  let api: string;
  before(async () => {
    sb = await startTestSandbox();
    token = (await googleSignIn(sb, 'alice@globex.test')).access_token;
    api = sb.google.driveApiBaseUrl;
  });
  after(() => sb.close());
  const call = async (path: string, init: RequestInit = {}, expected = 200) => {
    const r = await getJson(sb, path.startsWith('https://') ? path : api + path, token, init);
    assert.equal(r.status, expected, JSON.stringify(r.body));
    return r.body;
  };

  it('files.list and files.get with default fields and fields=*', async () => {
    assertValid(await call('/files?pageSize=5'), withFiles(FILE));
    const full = await call('/files?pageSize=50&fields=*');
    assertValid(full, withFiles(FILE_FULL, ['kind', 'files', 'nextPageToken', 'incompleteSearch']));
    for (const f of full.files) assertValid(await call(`/files/${f.id}?fields=*`), FILE_FULL);
    const shared = await call('/files?corpora=allDrives&includeItemsFromAllDrives=true&supportsAllDrives=true&fields=*&q=' + encodeURIComponent("name = 'Architecture.png'"));
    assert.equal(shared.files.length, 1);
    assertValid(shared.files[0], FILE_FULL);
    assertValid(await call(`/files/${full.files[0].id}`), FILE);
    assertValid(await call('/files?fields=files(id,name,size,owners(emailAddress))'), withFiles(driveSpec.shape('File'), ['files']), true);
  });

  it('files.create, update, permissions, drives and about', async () => {
    const created = await call('/files', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Fidelity', mimeType: 'application/vnd.google-apps.folder' }) });
    assertValid(created, FILE);
    assertValid(await call(`/files/${created.id}?fields=*`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ description: 'd' }) }), FILE_FULL);
    const perm = await call(`/files/${created.id}/permissions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'domain', role: 'reader', domain: 'globex.test' }) });
    assertValid(perm, requireFields(driveSpec.shape('Permission'), ['kind', 'id', 'type', 'role']));
    assertValid(await call(`/files/${created.id}/permissions?fields=*`), requireFields(driveSpec.shape('PermissionList'), ['kind', 'permissions']));
    assertValid(await call('/drives?fields=*'), requireFields(driveSpec.shape('DriveList'), ['kind', 'drives']));
    assertValid(await call('/about?fields=*'), requireFields(driveSpec.shape('About'), ['kind', 'user', 'storageQuota']));
  });

  it('upload answers (multipart create, resumable update) validate as File', async () => {
    const up = sb.google.uploadBaseUrl;
    const boundary = 'fid';
    const body = `--${boundary}\r\nContent-Type: application/json\r\n\r\n{"name":"up.txt"}\r\n--${boundary}\r\nContent-Type: text/plain\r\n\r\nabc\r\n--${boundary}--`;
    const created = await call(`${up}/files?uploadType=multipart&fields=*`, { method: 'POST', headers: { 'content-type': `multipart/related; boundary=${boundary}` }, body });
    assertValid(created, FILE_FULL);
    const start = await sb.fetch(`${up}/files/${created.id}?uploadType=resumable`, { method: 'PATCH', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-upload-content-type': 'text/plain' }, body: JSON.stringify({ name: 'up2.txt' }) });
    assert.equal(start.status, 200);
    const done = await sb.fetch(start.headers.get('location')!, { method: 'PUT', body: 'new body' });
    assert.equal(done.status, 200);
    const file = (await done.json()) as Record<string, unknown>;
    assertValid(file, FILE);
    assert.equal(file.name, 'up2.txt');
    const after = await call(`/files/${created.id}?fields=size,version,name`);
    assert.deepEqual(after, { name: 'up2.txt', size: '8', version: '3' });
  });

  it('userinfo validates against the oauth2 v2 Userinfo schema (names and types)', async () => {
    const oauthSpec = loadDiscovery('/work/shared/specs/google-oauth2-v2-discovery.json');
    const info = await call(sb.google.userinfoEndpoint!);
    // The OIDC userinfo endpoint names the subject `sub` (oauth2 v2 named it `id`); the rest matches.
    const { sub, email_verified, ...rest } = info;
    assert.match(sub, /^\d+$/);
    assert.equal(email_verified, true);
    assertValid(rest, oauthSpec.shape('Userinfo'), true);
  });

  it('fails when a field is renamed or retyped', async () => {
    const f = await call('/files?pageSize=1&fields=files(*)');
    const file = f.files[0];
    const { modifiedTime, ...rest } = file;
    assert.ok(validate({ ...rest, modifiedDate: modifiedTime }, FILE_FULL).some((e) => e.includes('modifiedDate: not a property of File')));
    assert.ok(validate({ ...rest }, FILE_FULL).some((e) => e.includes('missing required File.modifiedTime')));
    assert.ok(validate({ ...file, version: Number(file.version) }, FILE_FULL).some((e) => e.includes('$.version: expected string')));
    const error = await call('/files/nope', {}, 404);
    assertValid(error, objectShape('error envelope', { error: objectShape('error', { code: { kind: 'number', integer: true }, message: { kind: 'string' }, errors: { kind: 'array', items: () => objectShape('detail', { message: { kind: 'string' }, domain: { kind: 'string' }, reason: { kind: 'string' }, location: { kind: 'string' }, locationType: { kind: 'string' } }, ['message', 'domain', 'reason']) } }, ['code', 'message', 'errors']) }, ['error']));
  });
});
