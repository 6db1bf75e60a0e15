import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { connect, startConnectEnv, type ConnectEnv } from '../connections/support.ts';
import type { Auth } from '../support/tether.ts';
import { unzip } from '../support/unzip.ts';

const DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const PPTX = 'application/vnd.openxmlformats-officedocument.presentationml.presentation';

/**
 * Google Docs Editors files through `GET /items/{id}/content`: exported with Drive's files.export
 * to the matching Office format (a Drawing to PDF), named with that extension, opened here as the
 * ZIP packages they are; their DocumentItem shows the export's type; a Range is ignored for them
 * (200, whole file, Accept-Ranges: none); Drive's 10 MB export limit is 413 too_large; other
 * Google-native items are 422 not_downloadable.
 */
describe('Google Docs exported to Office formats (HTTP)', () => {
  let env: ConnectEnv;
  let connectionId: string;
  let member: Auth;

  before(async () => {
    env = await startConnectEnv({ scopePresets: { google: 'documents' } });
    member = env.org.member.session;
    const { location } = await connect(env, 'google');
    connectionId = location!.searchParams.get('connectionId')!;
  });
  after(() => env.stop());

  const api = (path: string) => `/api/v1/connections/${connectionId}${path}`;
  const get = (path: string) => env.t.http.get(api(path), member);
  const content = (id: string, headers: Record<string, string> = {}) => fetch(`${env.t.url}${api(`/items/${encodeURIComponent(id)}/content`)}`, { headers: { cookie: env.org.member.session.cookie, ...headers } });
  const byName = async (name: string) => {
    const found = await get(`/search?q=${encodeURIComponent(name)}`);
    assert.equal(found.status, 200, found.text);
    const item = found.body.items.find((i: { name: string }) => i.name === name);
    assert.ok(item, name);
    return item;
  };
  const store = () => env.sb.google.emulator.store;
  /** A Docs Editors file added to the connected account's My Drive, as the sandbox's seed does. */
  const addNative = (name: string, mimeType: string, text?: string) => {
    const roadmap = [...store().files.values()].find((f) => f.name === 'Roadmap' && f.ownerId === store().userByEmail(env.logins.google)!.id)!;
    const user = store().userByEmail(env.logins.google)!;
    return store().add({ ...roadmap, id: store().newFileId(), name, mimeType, parents: [user.rootId], permissions: [...roadmap.permissions], ...(text !== undefined && { text }) });
  };

  it('a Doc, a Sheet, a Slides deck and a Drawing: .docx, .xlsx, .pptx and .pdf with the text inside; the item shows the export type', async () => {
    const cases = [
      { name: 'Roadmap', type: DOCX, file: 'Roadmap.docx', part: 'word/document.xml', text: /<w:t xml:space="preserve">Roadmap<\/w:t>/ },
      { name: 'Budget 2026', type: XLSX, file: 'Budget 2026.xlsx', part: 'xl/sharedStrings.xml', text: /<t xml:space="preserve">Budget 2026<\/t>/ },
      { name: 'Kickoff Deck', type: PPTX, file: 'Kickoff Deck.pptx', part: 'ppt/slides/slide1.xml', text: /<a:t>Kickoff Deck<\/a:t>/ },
    ];
    for (const c of cases) {
      const item = await byName(c.name);
      assert.equal(item.mimeType, c.type, `${c.name}: the DocumentItem names what /content gives`);
      assert.equal(item.size, null, `${c.name}: the export's size is not known before it is made`);
      const withProvider = await get(`/items/${encodeURIComponent(item.id)}?include=provider`);
      assert.match(withProvider.body.provider.mimeType, /^application\/vnd\.google-apps\./);
      const mark = env.sb.requestLog.mark();
      const res = await content(item.id);
      assert.equal(res.status, 200, c.name);
      assert.equal(res.headers.get('content-type'), c.type);
      assert.equal(res.headers.get('content-disposition'), `attachment; filename="${c.file}"; filename*=UTF-8''${encodeURIComponent(c.file)}`);
      const parts = unzip(Buffer.from(await res.arrayBuffer()));
      assert.ok(parts.has('[Content_Types].xml') && parts.has('_rels/.rels'));
      assert.match(parts.get(c.part)!.toString('utf8'), c.text);
      const calls = env.sb.requestLog.since(mark).map((e) => `${e.method} ${e.path}`);
      assert.ok(calls.some((p) => p === `GET /drive/v3/files/${item.id}/export?mimeType=${encodeURIComponent(c.type)}`), calls.join('\n'));
      assert.ok(!calls.some((p) => p.includes('alt=media')));
    }
    const drawing = await byName('Org Chart');
    assert.equal(drawing.mimeType, 'application/pdf');
    const pdf = await content(drawing.id);
    assert.equal(pdf.status, 200);
    assert.equal(pdf.headers.get('content-type'), 'application/pdf');
    assert.match(pdf.headers.get('content-disposition')!, /filename="Org Chart\.pdf"/);
    assert.match(Buffer.from(await pdf.arrayBuffer()).toString('latin1'), /^%PDF-1\.4[\s\S]*\(Org Chart\) Tj/);
  });

  it('exports a Doc in a shared drive too, and a name that already has the extension keeps it', async () => {
    const drives = await get('/drives');
    const shared = drives.body.items.find((d: { kind: string }) => d.kind === 'shared-drive');
    const specs = (await get(`/items?driveId=${encodeURIComponent(shared.id)}`)).body.items.find((i: { name: string }) => i.name === 'Specs');
    const design = (await get(`/items?parent=${encodeURIComponent(specs.id)}`)).body.items.find((i: { name: string }) => i.name === 'Design Doc');
    assert.equal(design.mimeType, DOCX);
    const res = await content(design.id);
    assert.equal(res.status, 200);
    assert.match(unzip(Buffer.from(await res.arrayBuffer())).get('word/document.xml')!.toString('utf8'), /Design Doc/);

    const named = addNative('Minutes ü "Q1".docx', 'application/vnd.google-apps.document', 'Minutes\nAll present.');
    const minutes = await content(named.id);
    assert.equal(minutes.headers.get('content-disposition'), `attachment; filename="Minutes _ _Q1_.docx"; filename*=UTF-8''Minutes%20%C3%BC%20%22Q1%22.docx`);
    assert.match(unzip(Buffer.from(await minutes.arrayBuffer())).get('word/document.xml')!.toString('utf8'), /<w:t xml:space="preserve">All present\.<\/w:t>/);
  });

  it('a Range on an export is ignored: 200 with the whole file and Accept-Ranges: none (binary files still get 206)', async () => {
    const item = await byName('Roadmap');
    const whole = Buffer.from(await (await content(item.id)).arrayBuffer());
    const ranged = await content(item.id, { range: 'bytes=0-9' });
    assert.equal(ranged.status, 200);
    assert.equal(ranged.headers.get('accept-ranges'), 'none');
    assert.equal(ranged.headers.get('content-range'), null);
    assert.deepEqual(Buffer.from(await ranged.arrayBuffer()), whole, 'the same bytes on every export');
    const notes = await byName('meeting-notes.txt');
    const part = await content(notes.id, { range: 'bytes=0-6' });
    assert.equal(part.status, 206);
    assert.equal(await part.text(), 'Meeting');
  });

  it("Drive's 10 MB export limit answers 413 too_large; Forms and folders answer 422 not_downloadable without an export call", async () => {
    // Incompressible text, so that the .docx itself is over 10 MB.
    const huge = addNative('Huge Doc', 'application/vnd.google-apps.document', randomBytes(12 * 1024 * 1024).toString('base64'));
    const big = await env.t.http.get(api(`/items/${huge.id}/content`), member);
    assert.equal(big.status, 413, big.text.slice(0, 300));
    assert.equal(big.body.error.code, 'too_large');
    assert.match(big.body.error.message, /10 MB/);
    store().remove(huge);

    const form = addNative('Survey', 'application/vnd.google-apps.form');
    const formItem = await get(`/items/${form.id}`);
    assert.equal(formItem.body.mimeType, 'application/vnd.google-apps.form', 'a type with no download keeps its own MIME type');
    const projects = await byName('Projects');
    for (const id of [form.id, projects.id]) {
      const mark = env.sb.requestLog.mark();
      const res = await env.t.http.get(api(`/items/${id}/content`), member);
      assert.equal(res.status, 422, res.text);
      assert.equal(res.body.error.code, 'not_downloadable');
      assert.ok(!env.sb.requestLog.since(mark).some((e) => e.path.includes('/export') || e.path.includes('alt=media')));
    }
  });
});
