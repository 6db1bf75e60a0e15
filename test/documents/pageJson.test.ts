import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DocumentItem, ItemPage } from '../../src/documents/model.ts';
import { itemPageJson } from '../../src/documents/pageJson.ts';

function item(i: number, name = `report-${i}.txt`): DocumentItem {
  return {
    id: `b!drive~item${i}`,
    name,
    kind: 'file',
    mimeType: 'text/plain',
    size: i,
    parentId: 'b!drive~parent',
    driveId: 'b!drive',
    webUrl: `https://contoso.sharepoint.com/${name}`,
    createdAt: '2026-12-07T10:00:00Z',
    modifiedAt: null,
    createdBy: { displayName: 'Adele "AV" Vance', email: 'adele@contoso.test' },
    modifiedBy: null,
    hashes: { quickXorHash: 'abc=' },
    childCount: null,
    hasThumbnail: true,
    shared: false,
  };
}

/** Writes the page, checks the bytes are exactly JSON.stringify's, and lets the buffer go. */
function same(page: ItemPage): void {
  const json = itemPageJson(page);
  try {
    assert.equal(json.bytes.toString('utf8'), JSON.stringify(page));
    assert.deepEqual(JSON.parse(json.bytes.toString('utf8')), page);
  } finally {
    json.release();
  }
}

describe('item page JSON', () => {
  it('writes exactly what JSON.stringify writes: empty, ASCII, non-ASCII names, a cursor needing escapes', () => {
    same({ items: [], nextCursor: null });
    same({ items: [item(1)], nextCursor: 'c"u\\r/sor' });
    same({ items: [item(1, 'Überweisung – März.pdf'), item(2, '報告書 📄.docx'), item(3, 'lone \ud800 surrogate'), item(4, 'tab\tand\nnewline\u0001')], nextCursor: null });
  });

  it('grows past its pooled buffer for large pages, and a reused buffer carries nothing of the last answer', () => {
    const big = { items: Array.from({ length: 1000 }, (_, i) => item(i, `${'é'.repeat(200)}-${i}`)), nextCursor: 'next' };
    same(big);
    for (let round = 0; round < 40; round++) same({ items: Array.from({ length: round % 5 }, (_, i) => item(i)), nextCursor: round % 2 ? null : `r${round}` });
    // Two answers in flight at once never share memory.
    const a = itemPageJson({ items: [item(1, 'first')], nextCursor: null });
    const b = itemPageJson({ items: [item(2, 'second')], nextCursor: null });
    assert.equal(JSON.parse(a.bytes.toString()).items[0].name, 'first');
    assert.equal(JSON.parse(b.bytes.toString()).items[0].name, 'second');
    a.release();
    a.release();
    b.release();
  });
});
