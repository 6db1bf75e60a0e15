import { encodeContext, newNonce, open, seal, KEY_BYTES, NONCE_BYTES, TAG_BYTES } from './aead.ts';

/**
 * Tether's two ciphertext formats. Both are self-describing: the first byte is the format version,
 * and a version this code does not know is refused rather than guessed at.
 *
 * Field ciphertext (a value stored in an encrypted column), format 1:
 *
 *   | 0x01 | data key id (16, UUID bytes) | nonce (12) | AES-256-GCM ciphertext | tag (16) |
 *
 *   associated data = ["tether/field/v1", org id, table, row id, field, purpose, data key id, data key generation]
 *
 * Wrapped data key (a data key encrypted under a key-encryption key), format 1:
 *
 *   | 0x01 | nonce (12) | ciphertext (32) | tag (16) |
 *
 *   associated data = ["tether/data-key/v1", org id, purpose, data key id, KEK version]
 *
 * The associated data is what makes a ciphertext useless anywhere but where it was written: copied
 * into another row, another field, another org's row or paired with another data key, the tag no
 * longer verifies. Length-prefixed encoding (see encodeContext) keeps the fields unambiguous.
 */
export const FIELD_FORMAT_V1 = 0x01;
export const WRAP_FORMAT_V1 = 0x01;

const FIELD_HEADER_BYTES = 1 + 16 + NONCE_BYTES;
const WRAPPED_KEY_BYTES = 1 + NONCE_BYTES + KEY_BYTES + TAG_BYTES;

export const purposes = ['tokens', 'client_secrets', 'space_metadata'] as const;
export type Purpose = (typeof purposes)[number];

/** Where a field value lives; every part is bound into the ciphertext. */
export interface FieldContext {
  orgId: string;
  table: string;
  rowId: string;
  field: string;
  purpose: Purpose;
}

/** The data key a field is sealed with: its id and generation are the field's "key version". */
export interface DataKeyRef {
  id: string;
  generation: number;
  key: Buffer;
}

/** Which data key a KEK wraps: bound into the wrapping. */
export interface WrapContext {
  orgId: string;
  purpose: Purpose;
  dataKeyId: string;
}

export type ParseFailure = 'too_short' | 'unknown_format';

export function fieldAad(ctx: FieldContext, dataKeyId: string, generation: number): Buffer {
  return encodeContext(['tether/field/v1', ctx.orgId, ctx.table, ctx.rowId, ctx.field, ctx.purpose, dataKeyId, String(generation)]);
}

export function sealField(ctx: FieldContext, dataKey: DataKeyRef, plaintext: Buffer, nonce: Buffer = newNonce()): Buffer {
  const { ciphertext, tag } = seal(dataKey.key, nonce, fieldAad(ctx, dataKey.id, dataKey.generation), plaintext);
  return Buffer.concat([Buffer.from([FIELD_FORMAT_V1]), uuidToBytes(dataKey.id), nonce, ciphertext, tag]);
}

/** Reads a field ciphertext's header: which data key it needs. Nothing is decrypted. */
export function parseField(value: Buffer): { ok: true; dataKeyId: string } | { ok: false; reason: ParseFailure } {
  if (value.length < 1) return { ok: false, reason: 'too_short' };
  if (value[0] !== FIELD_FORMAT_V1) return { ok: false, reason: 'unknown_format' };
  if (value.length < FIELD_HEADER_BYTES + TAG_BYTES) return { ok: false, reason: 'too_short' };
  return { ok: true, dataKeyId: bytesToUuid(value.subarray(1, 17)) };
}

/** The plaintext, or undefined when the ciphertext was not written for this context with this data key. */
export function openField(ctx: FieldContext, dataKey: DataKeyRef, value: Buffer): Buffer | undefined {
  const parsed = parseField(value);
  if (!parsed.ok || parsed.dataKeyId !== dataKey.id) return undefined;
  const nonce = value.subarray(17, FIELD_HEADER_BYTES);
  const ciphertext = value.subarray(FIELD_HEADER_BYTES, value.length - TAG_BYTES);
  const tag = value.subarray(value.length - TAG_BYTES);
  return open(dataKey.key, nonce, fieldAad(ctx, dataKey.id, dataKey.generation), ciphertext, tag);
}

export function wrapAad(ctx: WrapContext, kekVersion: number): Buffer {
  return encodeContext(['tether/data-key/v1', ctx.orgId, ctx.purpose, ctx.dataKeyId, String(kekVersion)]);
}

export function wrapDataKey(kek: Buffer, kekVersion: number, ctx: WrapContext, dataKey: Buffer, nonce: Buffer = newNonce()): Buffer {
  if (dataKey.length !== KEY_BYTES) throw new Error(`data keys are ${KEY_BYTES} bytes`);
  const { ciphertext, tag } = seal(kek, nonce, wrapAad(ctx, kekVersion), dataKey);
  return Buffer.concat([Buffer.from([WRAP_FORMAT_V1]), nonce, ciphertext, tag]);
}

/** The data key, or undefined when the wrapping is not for this context and KEK version (or was altered). */
export function unwrapDataKey(kek: Buffer, kekVersion: number, ctx: WrapContext, wrapped: Buffer): Buffer | undefined {
  if (wrapped.length !== WRAPPED_KEY_BYTES || wrapped[0] !== WRAP_FORMAT_V1) return undefined;
  const nonce = wrapped.subarray(1, 1 + NONCE_BYTES);
  const ciphertext = wrapped.subarray(1 + NONCE_BYTES, 1 + NONCE_BYTES + KEY_BYTES);
  const tag = wrapped.subarray(1 + NONCE_BYTES + KEY_BYTES);
  return open(kek, nonce, wrapAad(ctx, kekVersion), ciphertext, tag);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

function uuidToBytes(id: string): Buffer {
  if (!UUID.test(id)) throw new Error('data key ids are lowercase UUIDs');
  return Buffer.from(id.replaceAll('-', ''), 'hex');
}

function bytesToUuid(bytes: Buffer): string {
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
