import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * The one AEAD Tether uses: AES-256-GCM from node:crypto (OpenSSL), 96-bit random nonces and
 * 128-bit tags (NIST SP 800-38D §5.2.1.1, §8.2.2). Every key here is used for far fewer than 2^32
 * messages, the bound for random nonces (§8.3), because each org and purpose has its own data key.
 */
export const KEY_BYTES = 32;
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;

export function seal(key: Buffer, nonce: Buffer, aad: Buffer, plaintext: Buffer): { ciphertext: Buffer; tag: Buffer } {
  assertSizes(key, nonce);
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { ciphertext, tag: cipher.getAuthTag() };
}

/** Returns the plaintext, or undefined when the tag does not verify (wrong key, AAD, nonce or any flipped bit). */
export function open(key: Buffer, nonce: Buffer, aad: Buffer, ciphertext: Buffer, tag: Buffer): Buffer | undefined {
  assertSizes(key, nonce);
  if (tag.length !== TAG_BYTES) return undefined;
  const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch {
    return undefined;
  }
}

export function newNonce(): Buffer {
  return randomBytes(NONCE_BYTES);
}

export function newKey(): Buffer {
  return randomBytes(KEY_BYTES);
}

function assertSizes(key: Buffer, nonce: Buffer): void {
  if (key.length !== KEY_BYTES) throw new Error(`AES-256-GCM needs a ${KEY_BYTES}-byte key`);
  if (nonce.length !== NONCE_BYTES) throw new Error(`AES-256-GCM here uses ${NONCE_BYTES}-byte nonces`);
}

/**
 * Associated data as length-prefixed fields (u16 big-endian length + UTF-8), so that no two
 * different contexts encode to the same bytes ("ab" + "c" ≠ "a" + "bc").
 */
export function encodeContext(fields: readonly string[]): Buffer {
  const parts: Buffer[] = [];
  for (const field of fields) {
    const bytes = Buffer.from(field, 'utf8');
    if (bytes.length > 0xffff) throw new Error('associated data field too long');
    const length = Buffer.alloc(2);
    length.writeUInt16BE(bytes.length);
    parts.push(length, bytes);
  }
  return Buffer.concat(parts);
}
