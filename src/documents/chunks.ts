/**
 * Re-cuts a byte stream into chunks of exactly `size` bytes (the last may be shorter), holding at
 * most one chunk in memory: what resumable uploads need (Graph: multiples of 320 KiB; Drive: of
 * 256 KiB) without buffering the whole file.
 */
export async function* chunksOf(stream: AsyncIterable<Uint8Array>, size: number): AsyncGenerator<Buffer> {
  let buffer = Buffer.allocUnsafe(size);
  let filled = 0;
  for await (const piece of stream) {
    let offset = 0;
    while (offset < piece.length) {
      const take = Math.min(size - filled, piece.length - offset);
      buffer.set(piece.subarray(offset, offset + take), filled);
      filled += take;
      offset += take;
      if (filled === size) {
        yield buffer;
        buffer = Buffer.allocUnsafe(size);
        filled = 0;
      }
    }
  }
  if (filled > 0) yield buffer.subarray(0, filled);
}

/** Reads a small body whole (for single-request uploads). */
export async function readAll(stream: AsyncIterable<Uint8Array>, limit: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let total = 0;
  for await (const piece of stream) {
    total += piece.length;
    if (total > limit) throw new Error('body larger than announced');
    parts.push(Buffer.from(piece));
  }
  return Buffer.concat(parts);
}

/** A file or folder name a provider will take: no path separators, control characters or dot names. */
export function isValidName(name: string): boolean {
  return name.length > 0 && name.length <= 255 && name.trim() === name && name !== '.' && name !== '..' && !/[\/\\\u0000-\u001f\u007f]/.test(name);
}
