// Unit tests for the sandbox's own algorithms: QuickXorHash, the Drive q parser, fields= parsing,
// multipart parsing and PKCE.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { pkceMatches } from '../../src/sandbox/common/oauth.ts';
import { applyFields, parseFields } from '../../src/sandbox/google/fields.ts';
import { parseQuery, QueryError, type QueryContext } from '../../src/sandbox/google/query.ts';
import type { GFile } from '../../src/sandbox/google/store.ts';
import { parseMultipart } from '../../src/sandbox/google/upload.ts';
import { quickXorHash } from '../../src/sandbox/microsoft/quickXorHash.ts';

/** The published definition, bit by bit: bit b of byte i lands at (11·i + b) mod 160. */
function quickXorReference(data: Buffer): string {
  const out = Buffer.alloc(20);
  for (let i = 0; i < data.length; i++) {
    for (let b = 0; b < 8; b++) {
      if ((data[i]! >> b) & 1) {
        const at = (11 * i + b) % 160;
        out[at >> 3]! ^= 1 << (at & 7);
      }
    }
  }
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(data.length));
  for (let i = 0; i < 8; i++) out[12 + i]! ^= len[i]!;
  return out.toString('base64');
}

describe('QuickXorHash', () => {
  it('matches the rclone test vectors', () => {
    const vectors: [string, string][] = [
      ['', 'AAAAAAAAAAAAAAAAAAAAAAAAAAA='],
      ['Sg==', 'SgAAAAAAAAAAAAAAAQAAAAAAAAA='],
      ['tbQ=', 'taAFAAAAAAAAAAAAAgAAAAAAAAA='],
      ['0pZP', '0rDEEwAAAAAAAAAAAwAAAAAAAAA='],
      ['/aNzzCFPS/A=', '/RjFHJgRgicsAR4ACAAAAAAAAAA='],
      ['2fuxhBJXtpWFe8dOfdGeHw==', 'O9tHLAghgSvYohKFyMMxnNCHaHg='],
      ['XJZSOiNO2bmfKnTKD7fztcQX', '/6ZArHQwAidkIxefQgEdlPGAW8w='],
    ];
    for (const [input, expected] of vectors) assert.equal(quickXorHash(Buffer.from(input, 'base64')), expected, input);
  });

  it('matches the bit-by-bit definition across the 160-bit wrap', () => {
    for (const len of [0, 1, 19, 20, 21, 159, 160, 161, 1000, 4099]) {
      const data = Buffer.from(Array.from({ length: len }, (_, i) => (i * 2654435761) >>> 24));
      assert.equal(quickXorHash(data), quickXorReference(data), `length ${len}`);
    }
  });
});

describe('Drive q parser', () => {
  const file = (over: Partial<GFile>): GFile => ({ id: 'f', name: 'Quarterly Report.pdf', mimeType: 'application/pdf', parents: ['p1'], starred: false, trashed: false, createdTime: Date.UTC(2026, 0, 1), modifiedTime: Date.UTC(2026, 0, 2), lastModifyingUserId: 'u', version: 1, permissions: [], ...over });
  const ctx: QueryContext = { alias: (id) => (id === 'root' ? 'p1' : id), ownerEmail: () => 'a@x.test', roleOf: () => 'reader', sharedWithMe: () => false, text: (f) => f.name };
  const q = (s: string, f = file({})) => parseQuery(s)(f, ctx);

  it('evaluates the forms clients send', () => {
    assert.equal(q("'p1' in parents and trashed = false"), true);
    assert.equal(q("'root' in parents"), true);
    assert.equal(q("name contains 'quart'"), true);
    assert.equal(q("name contains 'report'"), true, 'prefix of a later word');
    assert.equal(q("name contains 'port'"), false, 'contains is prefix matching on names');
    assert.equal(q("mimeType = 'application/pdf' and not starred = true"), true);
    assert.equal(q("(mimeType = 'image/png' or name = 'Quarterly Report.pdf') and trashed = false"), true);
    assert.equal(q("modifiedTime > '2026-01-01T12:00:00'"), true);
    assert.equal(q("modifiedTime > '2026-01-03T00:00:00Z'"), false);
    assert.equal(q("name = 'It\\'s'", file({ name: "It's" })), true);
    assert.equal(q("'a@x.test' in owners"), true);
  });

  it('rejects what Drive rejects', () => {
    for (const bad of ["name contans 'x'", "trashed = 'false'", "'p1' in parent", "name = 'unterminated", 'modifiedTime contains 1', "name = 'a' and"]) {
      assert.throws(() => parseQuery(bad), QueryError, bad);
    }
  });
});

describe('fields= partial responses', () => {
  it('selects nested fields and rejects unknown ones', () => {
    const tree = parseFields('nextPageToken, files(id,owners(emailAddress)),kind');
    const out = applyFields({ kind: 'k', nextPageToken: 't', extra: 1, files: [{ id: '1', name: 'n', owners: [{ emailAddress: 'e', displayName: 'd' }] }] }, tree);
    assert.deepEqual(out, { nextPageToken: 't', files: [{ id: '1', owners: [{ emailAddress: 'e' }] }], kind: 'k' });
    assert.deepEqual(applyFields({ a: { b: 1, c: 2 } }, parseFields('a/b')), { a: { b: 1 } });
    assert.throws(() => applyFields({ a: 1 }, parseFields('zzz'), new Set(['a'])));
    assert.throws(() => parseFields('files(id'));
  });
});

describe('multipart/related and PKCE', () => {
  it('splits a multipart/related body', () => {
    const body = Buffer.from('--b\r\nContent-Type: application/json\r\n\r\n{"name":"x"}\r\n--b\r\nContent-Type: text/plain\r\n\r\nline1\r\nline2\r\n--b--\r\n');
    const parts = parseMultipart(body, 'multipart/related; boundary=b')!;
    assert.equal(parts.length, 2);
    assert.equal(parts[0]!.body.toString(), '{"name":"x"}');
    assert.equal(parts[1]!.headers['content-type'], 'text/plain');
    assert.equal(parts[1]!.body.toString(), 'line1\r\nline2');
  });

  it('checks S256 and plain verifiers (RFC 7636 §4.6)', () => {
    const v = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
    assert.equal(createHash('sha256').update(v).digest('base64url'), 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
    assert.equal(pkceMatches('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', 'S256', v), true);
    assert.equal(pkceMatches('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', 'S256', `${v}x`), false);
    assert.equal(pkceMatches(v, 'plain', v), true);
    assert.equal(pkceMatches(v, 'S256', undefined), false);
  });
});
