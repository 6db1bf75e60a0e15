import { transferred } from './reclaim.ts';

/**
 * Hands a byte stream on in consecutive fragments of given lengths without ever holding a fragment
 * in memory: `take(n)` yields exactly the next `n` bytes as they arrive (views of the pieces the
 * stream produced, never copies), so a resumable upload's fragment (Graph: a multiple of 320 KiB,
 * Drive: of 256 KiB) goes to the provider as a stream. What Tether holds per upload is what is in
 * flight on the two sockets. A fragment that fails cannot be re-sent (the bytes are gone).
 */
export class FragmentReader {
  private readonly iterator: AsyncIterator<Uint8Array>;
  private leftover: Uint8Array | null = null;

  constructor(stream: AsyncIterable<Uint8Array>) {
    this.iterator = stream[Symbol.asyncIterator]();
  }

  async *take(length: number): AsyncGenerator<Uint8Array> {
    let remaining = length;
    while (remaining > 0) {
      let piece = this.leftover;
      this.leftover = null;
      if (!piece) {
        const next = await this.iterator.next();
        if (next.done) throw new Error('the body ended before its announced size');
        piece = next.value;
      }
      if (piece.length > remaining) {
        this.leftover = piece.subarray(remaining);
        piece = piece.subarray(0, remaining);
      }
      remaining -= piece.length;
      transferred(piece.length);
      if (piece.length > 0) yield piece;
    }
  }

  /** After the last fragment: the stream must be at its end (it never is longer than announced). */
  async end(): Promise<void> {
    if (this.leftover?.length) throw new Error('the body is longer than announced');
    for (let next = await this.iterator.next(); !next.done; next = await this.iterator.next()) {
      if (next.value.length > 0) throw new Error('the body is longer than announced');
    }
  }
}

/** The fragment lengths that cut `total` bytes into pieces of `size` (the last may be shorter). */
export function* fragmentRanges(total: number, size: number): Generator<{ start: number; end: number; length: number }> {
  for (let start = 0; start < total; start += size) {
    const length = Math.min(size, total - start);
    yield { start, end: start + length - 1, length };
  }
}

/** Reads a small body whole (for single-request uploads). */
export async function readAll(stream: AsyncIterable<Uint8Array>, limit: number): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  let total = 0;
  for await (const piece of stream) {
    total += piece.length;
    if (total > limit) throw new Error('body larger than announced');
    transferred(piece.length);
    parts.push(piece);
  }
  return Buffer.concat(parts);
}

/** A file or folder name a provider will take: no path separators, control characters or dot names. */
export function isValidName(name: string): boolean {
  return name.length > 0 && name.length <= 255 && name.trim() === name && name !== '.' && name !== '..' && !/[\/\\\u0000-\u001f\u007f]/.test(name);
}
