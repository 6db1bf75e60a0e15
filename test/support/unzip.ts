import assert from 'node:assert/strict';
import { crc32, inflateRawSync } from 'node:zlib';

/**
 * Reads a ZIP archive the way a consumer does — from the end of central directory record, through
 * the central directory, to each local header — and checks every entry's sizes and CRC-32. Stored
 * and deflated entries only (what OOXML packages use); no ZIP64.
 */
export function unzip(archive: Buffer): Map<string, Buffer> {
  let end = -1;
  for (let i = archive.length - 22; i >= Math.max(0, archive.length - 22 - 0xffff); i--) {
    if (archive.readUInt32LE(i) === 0x06054b50) {
      end = i;
      break;
    }
  }
  assert.ok(end >= 0, 'an end of central directory record');
  const count = archive.readUInt16LE(end + 10);
  const size = archive.readUInt32LE(end + 12);
  let at = archive.readUInt32LE(end + 16);
  assert.equal(at + size, end, 'the central directory ends where the end record starts');
  const out = new Map<string, Buffer>();
  for (let n = 0; n < count; n++) {
    assert.equal(archive.readUInt32LE(at), 0x02014b50, 'a central directory header');
    const method = archive.readUInt16LE(at + 10);
    const crc = archive.readUInt32LE(at + 16);
    const compressed = archive.readUInt32LE(at + 20);
    const length = archive.readUInt32LE(at + 24);
    const nameLength = archive.readUInt16LE(at + 28);
    const skip = archive.readUInt16LE(at + 30) + archive.readUInt16LE(at + 32);
    const local = archive.readUInt32LE(at + 42);
    const name = archive.subarray(at + 46, at + 46 + nameLength).toString('utf8');
    at += 46 + nameLength + skip;
    assert.equal(archive.readUInt32LE(local), 0x04034b50, `${name}: a local header`);
    assert.equal(archive.readUInt16LE(local + 8), method, `${name}: the same method in both headers`);
    const start = local + 30 + archive.readUInt16LE(local + 26) + archive.readUInt16LE(local + 28);
    const raw = archive.subarray(start, start + compressed);
    assert.ok(method === 0 || method === 8, `${name}: stored or deflated`);
    const data = method === 8 ? inflateRawSync(raw) : Buffer.from(raw);
    assert.equal(data.length, length, `${name}: uncompressed size`);
    assert.equal(crc32(data), crc, `${name}: CRC-32`);
    assert.ok(!out.has(name), `${name} once`);
    out.set(name, data);
  }
  return out;
}
