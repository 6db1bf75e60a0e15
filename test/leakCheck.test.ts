import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
// @ts-expect-error plain JS module without types
import { leakCheck } from '../scripts/leakCheck.js';

describe('whole-suite leak check (scripts/leakCheck.js)', () => {
  const secret = 'ya29.a0AfB_byC3x9QqWv7-EXAMPLEtokenValue0123456789';
  const refresh = 'M.C123_BAY.0.U.-Cr1pFz9hQpL~RefreshTokenExample';

  function run(captured: Record<string, string>) {
    const dir = mkdtempSync(join(tmpdir(), 'leak-'));
    try {
      writeFileSync(join(dir, 'sandbox-1.secrets'), `${secret}\n${refresh}\nshort\n`);
      for (const [name, text] of Object.entries(captured)) writeFileSync(join(dir, name), text);
      return leakCheck(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('finds a secret anywhere in a log line or response: alone, inside a URL, a header or a JSON string', () => {
    const result = run({
      'log-1.txt': `{"msg":"request","url":"/cb?code=1&access_token=${secret}&x=1"}\n`,
      'response-2.txt': `GET /x -> 200\nlocation: https://host/?t=${refresh}\n\n{"a":"${secret}"}`,
    });
    assert.equal(result.secrets, 2, 'lines shorter than 16 characters are not searched for');
    assert.equal(result.leaks.length, 3);
    assert.deepEqual(result.leaks.map((l: { file: string }) => l.file).sort(), ['log-1.txt', 'response-2.txt', 'response-2.txt']);
    assert.ok(result.leaks.every((l: { context: string }) => !l.context.includes(secret) && !l.context.includes(refresh)), 'the report does not print the secret');
  });

  it('finds nothing in clean captures, and tells a prefix from the whole secret', () => {
    const result = run({ 'log-1.txt': `{"msg":"token ${secret.slice(0, 30)}… redacted"}\n`, 'response-1.txt': 'GET / -> 200\n\n{}' });
    assert.equal(result.leaks.length, 0);
    assert.ok(result.bytes > 0);
    assert.equal(result.files, 2);
  });
});
