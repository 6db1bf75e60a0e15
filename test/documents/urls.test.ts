import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TetherError } from '../../src/errors.ts';
import { decodeItemId, encodeItemId } from '../../src/documents/ids.ts';
import { parseSharedLink } from '../../src/documents/sharedLinks.ts';

const HOSTILE = [
  'http://127.0.0.1/',
  'http://169.254.169.254/latest/meta-data/',
  'http://[::ffff:127.0.0.1]/',
  'http://2130706433/',
  'http://0x7f.1/',
  'https://127.0.0.1/',
  'https://[::1]/x',
  'file:///etc/passwd',
  'gopher://contoso.sharepoint.com/_x',
  'ftp://contoso.sharepoint.com/x',
  'javascript:alert(1)',
  'data:text/html,hi',
  'https://sharepoint.com.evil.net/:w:/g/personal/x',
  'https://evil.net@contoso.sharepoint.com.evil.net/:w:/g/x',
  'https://contoso.sharepoint.com@evil.net/:w:/g/x',
  'https://user:pw@contoso.sharepoint.com/:w:/g/x',
  'https://contoso.sharepoint.com:8443/:w:/g/x',
  'https://contososharepoint.com/x',
  'https://contoso.sharepoint.com\\@evil.net/x',
  'https://contoso.sharepoint.com/\u0000x',
  ' https://contoso.sharepoint.com/x',
  `https://contoso.sharepoint.com/${'a'.repeat(100 * 1024)}`,
  'not a url',
  '',
];

function refused(fn: () => unknown): boolean {
  try {
    fn();
    return false;
  } catch (err) {
    return err instanceof TetherError && err.status === 422 && err.code === 'unsupported_url';
  }
}

describe('pasted sharing URLs (parsed, never fetched)', () => {
  it('refuses every hostile or foreign URL with 422 unsupported_url, for both providers', () => {
    for (const url of HOSTILE) {
      assert.ok(refused(() => parseSharedLink('microsoft', url)), `microsoft: ${url.slice(0, 80)}`);
      assert.ok(refused(() => parseSharedLink('google', url.replace('contoso.sharepoint.com', 'docs.google.com'))), `google: ${url.slice(0, 80)}`);
    }
    for (const url of ['https://docs.google.com.evil.net/document/d/1AbCdEfGhIjKlMnOp/edit', 'https://evil.net/document/d/1AbCdEfGhIjKlMnOp/edit', 'https://docs.google.com/document/d/../../etc/edit', 'https://docs.google.com/document/d/%2e%2e%2fx1234567890/edit']) {
      assert.ok(refused(() => parseSharedLink('google', url)), url);
    }
    assert.ok(refused(() => parseSharedLink('google', 'https://contoso.sharepoint.com/:w:/g/personal/x/E1')), 'a SharePoint link on a Google connection');
    assert.ok(refused(() => parseSharedLink('microsoft', 'https://docs.google.com/document/d/1AbCdEfGhIjKlMnOp/edit')), 'a Google link on a Microsoft connection');
  });

  it('encodes a SharePoint or OneDrive link as a Graph share id (u! + base64url)', () => {
    const url = 'https://contoso-my.sharepoint.com/:w:/g/personal/adele_contoso_onmicrosoft_com/EaBcD?e=XyZ';
    const parsed = parseSharedLink('microsoft', url);
    assert.equal(parsed.provider, 'microsoft');
    assert.equal(parsed.provider === 'microsoft' && parsed.shareId, `u!${Buffer.from(url).toString('base64url')}`);
    assert.doesNotMatch((parsed as { shareId: string }).shareId, /[=+/]/);
    assert.equal(parseSharedLink('microsoft', 'https://1drv.ms/w/s!AbCdEf').provider, 'microsoft');
  });

  it('reads the file id of Docs, Sheets, Slides, Drive file and folder links', () => {
    const id = '1AbCdEfGhIjKlMnOpQrStUv';
    for (const url of [
      `https://docs.google.com/document/d/${id}/edit?usp=sharing`,
      `https://docs.google.com/spreadsheets/d/${id}/edit#gid=0`,
      `https://docs.google.com/presentation/u/1/d/${id}/view`,
      `https://drive.google.com/file/d/${id}/view?usp=drive_link`,
      `https://drive.google.com/drive/folders/${id}`,
      `https://drive.google.com/open?id=${id}`,
    ]) {
      assert.deepEqual(parseSharedLink('google', url), { provider: 'google', fileId: id }, url);
    }
  });
});

describe('item ids', () => {
  it('round-trip for each provider', () => {
    const ref = { driveId: 'b!-RIj2DuyvEyV1T4NlOaMHk8XkS_I8MdF', itemId: '01BYE5RZ6QN3ZWBTUFOFD3GSPGOHDJD36K' };
    assert.deepEqual(decodeItemId('microsoft', encodeItemId('microsoft', ref)), ref);
    assert.deepEqual(decodeItemId('google', '1AbC_d-E'), { driveId: null, itemId: '1AbC_d-E' });
  });

  it('refuses traversal, encodings, userinfo, slashes, absolute URLs and control characters with 400', () => {
    for (const bad of ['../etc', '..%2f', '%2e%2e', 'a@b', 'a//b', '//evil.net/x', 'https://evil.net/x', 'a\u0000b', 'a\nb', 'a b', '', 'x'.repeat(301), 'drive~item~extra', '~item']) {
      for (const provider of ['microsoft', 'google'] as const) {
        assert.throws(() => decodeItemId(provider, bad.includes('~') || provider === 'google' ? bad : `b!drive~${bad}`), (e: unknown) => e instanceof TetherError && e.status === 400 && e.code === 'invalid_item_id', `${provider}: ${JSON.stringify(bad)}`);
      }
    }
  });
});
