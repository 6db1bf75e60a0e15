import assert from 'node:assert/strict';
import { createDecipheriv } from 'node:crypto';
import { describe, it } from 'node:test';
import { encodeContext, open, seal } from '../../src/keys/aead.ts';
import { openField, parseField, sealField, unwrapDataKey, wrapDataKey, type FieldContext } from '../../src/keys/envelope.ts';
import { ReplayGuard, signRequest, signResponse, verifyRequest, verifyResponse } from '../../src/keys/signing.ts';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/**
 * AES-256-GCM known answers from "The Galois/Counter Mode of Operation (GCM)" (McGrew & Viega,
 * the test vectors NIST SP 800-38D refers to), test cases 13, 14 and 16.
 */
const gcmVectors = [
  { name: 'case 13', key: '00'.repeat(32), iv: '00'.repeat(12), aad: '', pt: '', ct: '', tag: '530f8afbc74536b9a963b4f1c4cb738b' },
  { name: 'case 14', key: '00'.repeat(32), iv: '00'.repeat(12), aad: '', pt: '00'.repeat(16), ct: 'cea7403d4d606b6e074ec5d3baf39d18', tag: 'd0d1c8a799996bf0265b98b5d48ab919' },
  {
    name: 'case 16',
    key: 'feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308',
    iv: 'cafebabefacedbaddecaf888',
    aad: 'feedfacedeadbeeffeedfacedeadbeefabaddad2',
    pt: 'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39',
    ct: '522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662',
    tag: '76fc6ece0f4e1768cddf8853bb2d551b',
  },
];

// The envelope's own known answers: pinned bytes, so any change to the format is a visible, deliberate one.
const dataKey = { id: '00000000-0000-4000-8000-000000000001', generation: 1, key: Buffer.from(Array.from({ length: 32 }, (_, i) => i)) };
const nonce = Buffer.from(Array.from({ length: 12 }, (_, i) => 0xa0 + i));
const ctx: FieldContext = {
  orgId: '11111111-1111-4111-8111-111111111111',
  table: 'connections',
  rowId: '22222222-2222-4222-8222-222222222222',
  field: 'access_token',
  purpose: 'tokens',
};
const plaintext = Buffer.from('ya29.a0-sandbox-access-token');
const FIELD_VECTOR =
  '01 00000000000040008000000000000001 a0a1a2a3a4a5a6a7a8a9aaab 9f794e146baa32921104e9b76515b8f311cf3a75e1c46f18f36543e8 d43441171f070a187473de4559459ee6';
const WRAP_VECTOR = '01 a0a1a2a3a4a5a6a7a8a9aaab aa3468152332c971b2328d604685fb707c8ad132ec8561e32da1ac427bb5c545 94d9a215bc6b88ded0982fa514f0771b';

describe('AES-256-GCM (known answers)', () => {
  for (const v of gcmVectors) {
    it(`seals and opens ${v.name}`, () => {
      const sealed = seal(hex(v.key), hex(v.iv), hex(v.aad), hex(v.pt));
      assert.equal(sealed.ciphertext.toString('hex'), v.ct);
      assert.equal(sealed.tag.toString('hex'), v.tag);
      assert.deepEqual(open(hex(v.key), hex(v.iv), hex(v.aad), hex(v.ct), hex(v.tag)), hex(v.pt));
    });
  }

  it('refuses a flipped bit in ciphertext, tag or associated data', () => {
    const v = gcmVectors[2]!;
    const ct = hex(v.ct);
    ct[0]! ^= 1;
    assert.equal(open(hex(v.key), hex(v.iv), hex(v.aad), ct, hex(v.tag)), undefined);
    const tag = hex(v.tag);
    tag[15]! ^= 0x80;
    assert.equal(open(hex(v.key), hex(v.iv), hex(v.aad), hex(v.ct), tag), undefined);
    const aad = hex(v.aad);
    aad[3]! ^= 4;
    assert.equal(open(hex(v.key), hex(v.iv), aad, hex(v.ct), hex(v.tag)), undefined);
    assert.equal(open(hex(v.key), hex(v.iv), hex(v.aad), hex(v.ct), hex(v.tag).subarray(0, 12)), undefined, 'a truncated tag is refused');
  });
});

describe('field ciphertext format 1', () => {
  it('matches its known answer', () => {
    assert.equal(sealField(ctx, dataKey, plaintext, nonce).toString('hex'), hex(FIELD_VECTOR).toString('hex'));
  });

  it('is what the documented layout says, checked with an independent decoder', () => {
    const value = hex(FIELD_VECTOR);
    assert.equal(value[0], 1, 'format version byte');
    assert.equal(value.subarray(1, 17).toString('hex'), dataKey.id.replaceAll('-', ''), 'data key id');
    assert.deepEqual(value.subarray(17, 29), nonce, 'nonce');
    // Associated data rebuilt by hand: u16 length + UTF-8 of each field.
    const fields = ['tether/field/v1', ctx.orgId, ctx.table, ctx.rowId, ctx.field, ctx.purpose, dataKey.id, '1'];
    const aad = Buffer.concat(fields.flatMap((f) => [Buffer.from([0, Buffer.byteLength(f)]), Buffer.from(f)]));
    assert.deepEqual(encodeContext(fields), aad);
    const decipher = createDecipheriv('aes-256-gcm', dataKey.key, nonce);
    decipher.setAAD(aad);
    decipher.setAuthTag(value.subarray(value.length - 16));
    const opened = Buffer.concat([decipher.update(value.subarray(29, value.length - 16)), decipher.final()]);
    assert.deepEqual(opened, plaintext);
  });

  it('round-trips with random nonces, and never repeats a ciphertext', () => {
    const a = sealField(ctx, dataKey, plaintext);
    const b = sealField(ctx, dataKey, plaintext);
    assert.notDeepEqual(a, b);
    assert.deepEqual(openField(ctx, dataKey, a), plaintext);
    assert.deepEqual(openField(ctx, dataKey, b), plaintext);
    assert.deepEqual(openField(ctx, dataKey, sealField(ctx, dataKey, Buffer.alloc(0))), Buffer.alloc(0));
  });

  it('is bound to org, table, row, field, purpose and data key', () => {
    const value = sealField(ctx, dataKey, plaintext);
    const others: FieldContext[] = [
      { ...ctx, orgId: '33333333-3333-4333-8333-333333333333' },
      { ...ctx, table: 'provider_apps' },
      { ...ctx, rowId: '44444444-4444-4444-8444-444444444444' },
      { ...ctx, field: 'refresh_token' },
      { ...ctx, purpose: 'client_secrets' },
    ];
    for (const other of others) assert.equal(openField(other, dataKey, value), undefined, JSON.stringify(other));
    assert.equal(openField(ctx, { ...dataKey, generation: 2 }, value), undefined, 'another generation of the key');
    assert.equal(openField(ctx, { ...dataKey, id: '00000000-0000-4000-8000-000000000002' }, value), undefined, 'another data key id');
    // Field boundaries are unambiguous: moving characters between table and field does not verify.
    const shifted = sealField({ ...ctx, table: 'ab', field: 'c' }, dataKey, plaintext);
    assert.equal(openField({ ...ctx, table: 'a', field: 'bc' }, dataKey, shifted), undefined);
  });

  it('refuses unknown format versions and short values without trying to decrypt', () => {
    const value = hex(FIELD_VECTOR);
    for (const version of [0x00, 0x02, 0xff]) {
      const other = Buffer.from(value);
      other[0] = version;
      assert.deepEqual(parseField(other), { ok: false, reason: 'unknown_format' });
      assert.equal(openField(ctx, dataKey, other), undefined);
    }
    assert.deepEqual(parseField(Buffer.alloc(0)), { ok: false, reason: 'too_short' });
    assert.deepEqual(parseField(value.subarray(0, 40)), { ok: false, reason: 'too_short' });
    assert.deepEqual(parseField(value), { ok: true, dataKeyId: dataKey.id });
  });

  it('refuses every single flipped bit', () => {
    const value = hex(FIELD_VECTOR);
    for (let i = 0; i < value.length * 8; i++) {
      const flipped = Buffer.from(value);
      flipped[i >> 3]! ^= 1 << (i & 7);
      assert.equal(openField(ctx, dataKey, flipped), undefined, `bit ${i}`);
    }
  });
});

describe('wrapped data key format 1', () => {
  const kek = Buffer.alloc(32, 0x42);
  const key = Buffer.alloc(32, 0x07);
  const wrapCtx = { orgId: ctx.orgId, purpose: 'tokens' as const, dataKeyId: dataKey.id };

  it('matches its known answer and unwraps', () => {
    const wrapped = wrapDataKey(kek, 3, wrapCtx, key, nonce);
    assert.equal(wrapped.toString('hex'), hex(WRAP_VECTOR).toString('hex'));
    assert.deepEqual(unwrapDataKey(kek, 3, wrapCtx, wrapped), key);
  });

  it('is bound to the KEK version, org, purpose and data key id', () => {
    const wrapped = hex(WRAP_VECTOR);
    assert.equal(unwrapDataKey(kek, 2, wrapCtx, wrapped), undefined, 'another KEK version');
    assert.equal(unwrapDataKey(Buffer.alloc(32, 0x43), 3, wrapCtx, wrapped), undefined, 'another KEK');
    assert.equal(unwrapDataKey(kek, 3, { ...wrapCtx, orgId: '33333333-3333-4333-8333-333333333333' }, wrapped), undefined);
    assert.equal(unwrapDataKey(kek, 3, { ...wrapCtx, purpose: 'space_metadata' }, wrapped), undefined);
    assert.equal(unwrapDataKey(kek, 3, { ...wrapCtx, dataKeyId: '00000000-0000-4000-8000-000000000009' }, wrapped), undefined);
    const unknown = Buffer.from(wrapped);
    unknown[0] = 2;
    assert.equal(unwrapDataKey(kek, 3, wrapCtx, unknown), undefined, 'unknown wrap format');
  });
});

describe('key service request signing', () => {
  const secret = 's'.repeat(40);
  it('accepts only the exact request it signed, within five minutes', () => {
    const now = Date.UTC(2026, 0, 1);
    const sig = signRequest(secret, 'POST', '/v1/unwrap', '{"a":1}', now);
    assert.match(verifyRequest(secret, sig, 'POST', '/v1/unwrap', '{"a":1}', now + 1000) ?? '', /^[0-9a-f]{32}$/);
    assert.notEqual(sig, signRequest(secret, 'POST', '/v1/unwrap', '{"a":1}', now), 'each signature has its own nonce');
    assert.ok(!verifyRequest(secret, sig, 'POST', '/v1/unwrap', '{"a":2}', now), 'another body');
    assert.ok(!verifyRequest(secret, sig, 'POST', '/v1/wrap', '{"a":1}', now), 'another path');
    assert.ok(!verifyRequest(secret, sig, 'GET', '/v1/unwrap', '{"a":1}', now), 'another method');
    assert.ok(!verifyRequest(`${secret}x`, sig, 'POST', '/v1/unwrap', '{"a":1}', now), 'another secret');
    assert.ok(!verifyRequest(secret, sig, 'POST', '/v1/unwrap', '{"a":1}', now + 301_000), 'too old');
    assert.ok(!verifyRequest(secret, undefined, 'POST', '/v1/unwrap', '{"a":1}', now));
    assert.ok(!verifyRequest(secret, 'garbage', 'POST', '/v1/unwrap', '{"a":1}', now));
  });
  it('accepts a nonce once within the window', () => {
    const guard = new ReplayGuard();
    const now = Date.UTC(2026, 0, 1);
    assert.equal(guard.firstUse('a'.repeat(32), now), true);
    assert.equal(guard.firstUse('b'.repeat(32), now), true);
    assert.equal(guard.firstUse('a'.repeat(32), now + 60_000), false, 'replayed');
    assert.equal(guard.firstUse('a'.repeat(32), now + 601_000), true, 'forgotten once its timestamp can no longer pass');
  });
  it('binds an answer to the request it answers', () => {
    const a = signRequest(secret, 'POST', '/v1/unwrap', '{}');
    const b = signRequest(secret, 'POST', '/v1/unwrap', '{"x":1}');
    const answer = signResponse(secret, a, 200, '{"dataKey":"AAAA"}');
    assert.ok(verifyResponse(secret, answer, a, 200, '{"dataKey":"AAAA"}'));
    assert.ok(!verifyResponse(secret, answer, b, 200, '{"dataKey":"AAAA"}'), 'replayed to another request');
    assert.ok(!verifyResponse(secret, answer, a, 200, '{"dataKey":"BBBB"}'), 'another body');
    assert.ok(!verifyResponse(secret, answer, a, 422, '{"dataKey":"AAAA"}'), 'another status');
    assert.ok(!verifyResponse(secret, null, a, 200, '{"dataKey":"AAAA"}'), 'unsigned');
  });
});
