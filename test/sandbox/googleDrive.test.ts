import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { XMLValidator } from 'fast-xml-parser';
import { unzip } from '../support/unzip.ts';
import { getJson, googleSignIn, startTestSandbox } from './helpers.ts';

type Sb = Awaited<ReturnType<typeof startTestSandbox>>;

describe('Google Drive v3 emulator', () => {
  let sb: Sb;
  let token: string;
  let api: string;
  before(async () => {
    sb = await startTestSandbox();
    token = (await googleSignIn(sb, 'alice@globex.test')).access_token;
    api = sb.google.driveApiBaseUrl;
  });
  after(() => sb.close());
  const get = (path: string, init: RequestInit = {}) => getJson(sb, path.startsWith('https://') ? path : api + path, token, init);
  const q = (params: Record<string, string>) => new URLSearchParams(params).toString();
  const folderId = async (name: string, parent = 'root') => (await get(`/files?${q({ q: `'${parent}' in parents and name = '${name}' and trashed = false`, fields: 'files(id)' })}`)).body.files[0].id as string;

  it('pages the 10,000-item folder with pageToken, returning every item exactly once', async () => {
    const large = await folderId('Large Folder');
    const seen = new Map<string, number>();
    let pageToken: string | undefined;
    let pages = 0;
    do {
      const res = await get(`/files?${q({ q: `'${large}' in parents and trashed = false`, pageSize: '1000', fields: 'nextPageToken,files(id,name,size)', ...(pageToken ? { pageToken } : {}) })}`);
      assert.equal(res.status, 200);
      for (const f of res.body.files) {
        seen.set(f.id, (seen.get(f.id) ?? 0) + 1);
        assert.equal(typeof f.size, 'string');
      }
      pageToken = res.body.nextPageToken;
      pages++;
    } while (pageToken);
    assert.equal(pages, 10);
    assert.equal(seen.size, 10_000);
    assert.ok([...seen.values()].every((n) => n === 1));
  });

  it('supports the q forms clients use, orderBy and fields', async () => {
    const projects = await folderId('Projects');
    const docs = await get(`/files?${q({ q: `'${projects}' in parents and mimeType = 'application/vnd.google-apps.document' and trashed = false`, fields: 'files(id,name,webViewLink)' })}`);
    assert.deepEqual(docs.body.files.map((f: any) => f.name), ['Shared Plan']);
    assert.match(docs.body.files[0].webViewLink, /^https:\/\/docs\.google\.com\/document\/d\/[\w-]{33}\/edit/);
    const named = await get(`/files?${q({ q: "name contains 'meeting' and not trashed = true", fields: 'files(name)' })}`);
    assert.deepEqual(named.body.files.map((f: any) => f.name), ['meeting-notes.txt']);
    const ordered = await get(`/files?${q({ q: `'${projects}' in parents`, orderBy: 'folder,name desc', fields: 'files(name,mimeType)' })}`);
    assert.deepEqual(ordered.body.files.map((f: any) => f.name), ['2026', 'Shared Plan', 'meeting-notes.txt', 'Kickoff Deck', 'contract.pdf']);
    const defaults = await get(`/files?${q({ q: `'${projects}' in parents`, pageSize: '2' })}`);
    assert.deepEqual(Object.keys(defaults.body).sort(), ['files', 'incompleteSearch', 'kind', 'nextPageToken']);
    assert.deepEqual(Object.keys(defaults.body.files[0]).sort(), ['id', 'kind', 'mimeType', 'name']);
    const bad = await get(`/files?${q({ q: "name contans 'x'" })}`);
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.error.errors[0], { message: 'Invalid Value', domain: 'global', reason: 'invalid', location: 'q', locationType: 'parameter' });
  });

  it('keeps shared-drive items out unless supportsAllDrives/includeItemsFromAllDrives are set', async () => {
    const drives = (await get('/drives')).body;
    assert.equal(drives.kind, 'drive#driveList');
    const eng = drives.drives.find((d: any) => d.name === 'Engineering');
    const without = await get(`/files?${q({ q: "name = 'Design Doc'" })}`);
    assert.deepEqual(without.body.files, []);
    const withAll = await get(`/files?${q({ q: "name = 'Design Doc'", corpora: 'drive', driveId: eng.id, includeItemsFromAllDrives: 'true', supportsAllDrives: 'true', fields: 'files(id,name,driveId)' })}`);
    assert.equal(withAll.body.files.length, 1);
    assert.equal(withAll.body.files[0].driveId, eng.id);
    const id = withAll.body.files[0].id;
    assert.equal((await get(`/files/${id}`)).status, 404);
    assert.equal((await get(`/files/${id}?supportsAllDrives=true`)).status, 200);
    const missing = await get(`/files?${q({ corpora: 'drive', includeItemsFromAllDrives: 'true', supportsAllDrives: 'true' })}`);
    assert.equal(missing.status, 400);
  });

  it('downloads content with alt=media and Range, refuses Google Docs, and serves fetchable short-lived thumbnails', async () => {
    const photos = await folderId('Photos');
    const beach = (await get(`/files?${q({ q: `'${photos}' in parents and name = 'beach.png'`, fields: 'files(id,size,thumbnailLink,hasThumbnail,imageMediaMetadata,iconLink,webContentLink)' })}`)).body.files[0];
    assert.equal(beach.hasThumbnail, true);
    assert.deepEqual(beach.imageMediaMetadata, { width: 1280, height: 720, rotation: 0 });
    const media = await sb.fetch(`${api}/files/${beach.id}?alt=media`, { headers: { authorization: `Bearer ${token}`, range: 'bytes=0-15' } });
    assert.equal(media.status, 206);
    assert.equal(media.headers.get('content-range'), `bytes 0-15/${beach.size}`);
    const thumb = await sb.fetch(beach.thumbnailLink);
    assert.equal(thumb.status, 200);
    const png = Buffer.from(await thumb.arrayBuffer());
    assert.equal(png.readUInt32BE(16), 220);
    assert.equal(png.readUInt32BE(20), 124);
    const bigger = Buffer.from(await (await sb.fetch(beach.thumbnailLink.replace(/=s220$/, '=s800'))).arrayBuffer());
    assert.equal(bigger.readUInt32BE(16), 800);
    sb.faults.setClockOffset(2 * 3600);
    assert.equal((await sb.fetch(beach.thumbnailLink)).status, 404, 'thumbnail links expire');
    sb.faults.setClockOffset(0);
    const doc = (await get(`/files?${q({ q: "name = 'Roadmap'" })}`)).body.files[0];
    const refused = await get(`/files/${doc.id}?alt=media`);
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error.errors[0].reason, 'fileNotDownloadable');
  });

  it('exports Docs Editors files (files.export) and advertises exportLinks', async () => {
    const doc = (await get(`/files?${q({ q: "name = 'Roadmap'", fields: 'files(id,exportLinks)' })}`)).body.files[0];
    assert.match(doc.exportLinks['application/pdf'], /^https:\/\/docs\.google\.com\/feeds\/download\/documents\/export\/Export\?id=[\w-]+&exportFormat=pdf$/);
    const pdf = await sb.fetch(`${api}/files/${doc.id}/export?mimeType=application/pdf`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(pdf.status, 200);
    assert.equal(pdf.headers.get('content-type'), 'application/pdf');
    const body = Buffer.from(await pdf.arrayBuffer()).toString('latin1');
    assert.ok(body.startsWith('%PDF-1.4') && body.trimEnd().endsWith('%%EOF'));
    assert.match(body, /\(Roadmap\) Tj/);
    const xref = Number(/startxref\n(\d+)/.exec(body)![1]);
    assert.equal(body.slice(xref, xref + 4), 'xref', 'the xref offset points at the xref table');
    const txt = await sb.fetch(`${api}/files/${doc.id}/export?mimeType=text/plain`, { headers: { authorization: `Bearer ${token}` } });
    assert.match(await txt.text(), /^Roadmap\n/);
    const unsupported = await get(`/files/${doc.id}/export?mimeType=image/png`);
    assert.equal(unsupported.status, 400);
    assert.equal(unsupported.body.error.message, 'The requested conversion is not supported.');
    const pdfFile = (await get(`/files?${q({ q: "name = 'contract.pdf'" })}`)).body.files[0];
    const notExportable = await get(`/files/${pdfFile.id}/export?mimeType=application/pdf`);
    assert.equal(notExportable.status, 403);
    assert.equal(notExportable.body.error.errors[0].reason, 'fileNotExportable');
  });

  it('exports Docs, Sheets and Slides as real OOXML packages, Drawings as PDF and PNG, and refuses exports over 10 MB', async () => {
    const exported = async (name: string, mimeType: string) => {
      const file = (await get(`/files?${q({ q: `name = '${name}'` })}`)).body.files[0];
      const res = await sb.fetch(`${api}/files/${file.id}/export?mimeType=${encodeURIComponent(mimeType)}`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(res.status, 200, name);
      assert.equal(res.headers.get('content-type'), mimeType);
      return Buffer.from(await res.arrayBuffer());
    };
    const xml = (part: Buffer | undefined) => {
      assert.ok(part, 'the part exists');
      assert.equal(XMLValidator.validate(part.toString('utf8')), true, 'well-formed XML');
      return part.toString('utf8');
    };
    const docx = unzip(await exported('Roadmap', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'));
    assert.match(xml(docx.get('[Content_Types].xml')), /PartName="\/word\/document\.xml" ContentType="application\/vnd\.openxmlformats-officedocument\.wordprocessingml\.document\.main\+xml"/);
    assert.match(xml(docx.get('_rels/.rels')), /relationships\/officeDocument" Target="word\/document\.xml"/);
    assert.match(xml(docx.get('word/document.xml')), /<w:t xml:space="preserve">Roadmap<\/w:t>.*Sandbox export of a document \(version 1\)\./);
    const xlsx = unzip(await exported('Budget 2026', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'));
    assert.deepEqual([...xlsx.keys()].sort(), ['[Content_Types].xml', '_rels/.rels', 'xl/_rels/workbook.xml.rels', 'xl/sharedStrings.xml', 'xl/workbook.xml', 'xl/worksheets/sheet1.xml']);
    assert.match(xml(xlsx.get('xl/sharedStrings.xml')), /<t xml:space="preserve">Budget 2026<\/t>/);
    assert.match(xml(xlsx.get('xl/worksheets/sheet1.xml')), /<c r="A2" t="s"><v>2<\/v><\/c><c r="B2"><v>1<\/v><\/c>/);
    xml(xlsx.get('xl/workbook.xml'));
    const pptx = unzip(await exported('Kickoff Deck', 'application/vnd.openxmlformats-officedocument.presentationml.presentation'));
    for (const part of ['ppt/presentation.xml', 'ppt/slideMasters/slideMaster1.xml', 'ppt/slideLayouts/slideLayout1.xml', 'ppt/theme/theme1.xml', 'ppt/_rels/presentation.xml.rels']) xml(pptx.get(part));
    assert.match(xml(pptx.get('ppt/slides/slide1.xml')), /<a:t>Kickoff Deck<\/a:t>.*<a:t>Sandbox export of a presentation \(version 1\)\.<\/a:t>/);
    const drawingPdf = (await exported('Org Chart', 'application/pdf')).toString('latin1');
    assert.match(drawingPdf, /\(Org Chart\) Tj/);
    assert.deepEqual([...(await exported('Org Chart', 'image/png')).subarray(1, 4)], [0x50, 0x4e, 0x47]);
    // A document whose export is over Drive's 10 MB: incompressible text, so the .docx is that big too.
    const roadmap = [...sb.google.emulator.store.files.values()].find((f) => f.name === 'Roadmap')!;
    const big = sb.google.emulator.store.add({ ...roadmap, id: sb.google.emulator.store.newFileId(), name: 'Huge Doc', text: randomBytes(12 * 1024 * 1024).toString('base64') });
    const refused = await get(`/files/${big.id}/export?mimeType=${encodeURIComponent('application/vnd.openxmlformats-officedocument.wordprocessingml.document')}`);
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error.errors[0].reason, 'exportSizeLimitExceeded');
    assert.equal(refused.body.error.message, 'This file is too large to be exported.');
    sb.google.emulator.store.remove(big);
  });

  it('creates files by media, multipart and resumable upload; updates, moves and deletes them', async () => {
    const up = sb.google.uploadBaseUrl;
    const m1 = await get(`${up}/files?uploadType=media`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'media body' });
    assert.equal(m1.status, 200);
    assert.deepEqual(Object.keys(m1.body).sort(), ['id', 'kind', 'mimeType', 'name']);
    assert.equal(m1.body.name, 'Untitled');
    const boundary = 'sbx-boundary';
    const multipart = `--${boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n${JSON.stringify({ name: 'multi.txt', parents: [await folderId('Projects')] })}\r\n--${boundary}\r\nContent-Type: text/plain\r\n\r\nmultipart body\r\n--${boundary}--`;
    const m2 = await get(`${up}/files?uploadType=multipart&fields=id,name,size,parents`, { method: 'POST', headers: { 'content-type': `multipart/related; boundary=${boundary}` }, body: multipart });
    assert.equal(m2.status, 200);
    assert.equal(m2.body.size, '14');
    const start = await sb.fetch(`${up}/files?uploadType=resumable`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-upload-content-type': 'application/octet-stream', 'x-upload-content-length': String(300_000) }, body: JSON.stringify({ name: 'resumable.bin' }) });
    assert.equal(start.status, 200);
    const session = start.headers.get('location')!;
    const data = Buffer.alloc(300_000, 3);
    const bad = await sb.fetch(session, { method: 'PUT', headers: { 'content-range': 'bytes 0-99999/300000' }, body: data.subarray(0, 100_000) });
    assert.equal(bad.status, 400);
    const c1 = await sb.fetch(session, { method: 'PUT', headers: { 'content-range': 'bytes 0-262143/300000' }, body: data.subarray(0, 262_144) });
    assert.equal(c1.status, 308);
    assert.equal(c1.headers.get('range'), 'bytes=0-262143');
    const statusQuery = await sb.fetch(session, { method: 'PUT', headers: { 'content-range': 'bytes */300000' } });
    assert.equal(statusQuery.status, 308);
    const c2 = await sb.fetch(session, { method: 'PUT', headers: { 'content-range': 'bytes 262144-299999/300000' }, body: data.subarray(262_144) });
    assert.equal(c2.status, 200);
    const created = (await c2.json()) as any;
    assert.equal(created.name, 'resumable.bin');
    const photos = await folderId('Photos');
    const moved = await get(`/files/${m2.body.id}?addParents=${photos}&removeParents=${m2.body.parents[0]}&fields=id,name,parents`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'renamed.txt' }) });
    assert.equal(moved.status, 200);
    assert.deepEqual(moved.body.parents, [photos]);
    assert.equal(moved.body.name, 'renamed.txt');
    const notWritable = await get(`/files/${m2.body.id}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ parents: [photos] }) });
    assert.equal(notWritable.status, 403);
    assert.equal(notWritable.body.error.errors[0].reason, 'fieldNotWritable');
    const content = await get(`${up}/files/${m2.body.id}?uploadType=media&fields=size,version`, { method: 'PATCH', headers: { 'content-type': 'text/plain' }, body: 'new content!' });
    assert.equal(content.body.size, '12');
    const del = await sb.fetch(`${api}/files/${m2.body.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
    assert.equal(del.status, 204);
    assert.equal((await get(`/files/${m2.body.id}`)).status, 404);
  });

  it('creates and lists permissions, and answers about with the fields parameter required', async () => {
    const file = (await get(`/files?${q({ q: "name = 'contract.pdf'" })}`)).body.files[0];
    const created = await get(`/files/${file.id}/permissions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'user', role: 'reader', emailAddress: 'chloe@globex.test' }) });
    assert.equal(created.status, 200);
    assert.deepEqual(Object.keys(created.body).sort(), ['id', 'kind', 'role', 'type']);
    const list = (await get(`/files/${file.id}/permissions`)).body;
    assert.equal(list.kind, 'drive#permissionList');
    assert.deepEqual(list.permissions.map((p: any) => p.role).sort(), ['owner', 'reader']);
    const chloe = (await googleSignIn(sb, 'chloe@globex.test', 'openid https://www.googleapis.com/auth/drive.readonly')).access_token;
    const shared = await getJson(sb, `${api}/files?${q({ q: 'sharedWithMe', fields: 'files(name)' })}`, chloe);
    assert.deepEqual(shared.body.files.map((f: any) => f.name), ['contract.pdf']);
    // "Shared Plan" is shared with the whole domain (discoverable): readable by id for Chloé, listed
    // only in the domain corpus, never in her default (user) corpus.
    const plan = (await get(`/files?${q({ q: "name = 'Shared Plan'" })}`)).body.files[0];
    assert.equal((await getJson(sb, `${api}/files/${plan.id}`, chloe)).status, 200);
    assert.deepEqual((await getJson(sb, `${api}/files?${q({ q: "name = 'Shared Plan'" })}`, chloe)).body.files, []);
    assert.equal((await getJson(sb, `${api}/files?${q({ q: "name = 'Shared Plan'", corpora: 'domain' })}`, chloe)).body.files.length, 1);
    const aboutMissing = await get('/about');
    assert.equal(aboutMissing.status, 400);
    assert.equal(aboutMissing.body.error.errors[0].location, 'fields');
    const about = await get('/about?fields=user,storageQuota');
    assert.equal(about.body.user.emailAddress, 'alice@globex.test');
    assert.match(about.body.storageQuota.usage, /^\d+$/);
  });

  it('answers 401 and 403 in Drive error format', async () => {
    const none = await sb.fetch(`${api}/files`);
    assert.equal(none.status, 401);
    const body = (await none.json()) as any;
    assert.equal(body.error.status, 'UNAUTHENTICATED');
    assert.equal(body.error.errors[0].reason, 'required');
    const readOnly = (await googleSignIn(sb, 'bruno@globex.test', 'openid https://www.googleapis.com/auth/drive.readonly')).access_token;
    const denied = await getJson(sb, `${api}/files`, readOnly, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'x' }) });
    assert.equal(denied.status, 403);
    assert.equal(denied.body.error.errors[0].reason, 'insufficientPermissions');
    sb.faults.failNext(1, { status: 403, reason: 'userRateLimitExceeded' }, { provider: 'google' });
    const limited = await get('/files');
    assert.equal(limited.status, 403);
    assert.deepEqual(limited.body, { error: { code: 403, message: 'User Rate Limit Exceeded', errors: [{ message: 'User Rate Limit Exceeded', domain: 'usageLimits', reason: 'userRateLimitExceeded' }] } });
    sb.faults.failNext(1, { status: 429, retryAfter: 2 }, { provider: 'google' });
    const throttled = await get('/files');
    assert.equal(throttled.status, 429);
    assert.equal(throttled.headers.get('retry-after'), '2');
    assert.equal(throttled.body.error.errors[0].reason, 'rateLimitExceeded');
  });
});
