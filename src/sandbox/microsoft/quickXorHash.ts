// OneDrive for Business's content hash (QuickXorHash): a 160-bit XOR of the bytes shifted by 11
// bits each, with the length XORed into the last 64 bits, base64-encoded.
// https://learn.microsoft.com/onedrive/developer/code-snippets/quickxorhash
export function quickXorHash(data: Buffer): string {
  const cells = [0n, 0n, 0n];
  const mask64 = (1n << 64n) - 1n;
  let index = 0;
  let offset = 0;
  for (let i = 0; i < data.length; i++) {
    const b = BigInt(data[i]!);
    const isLast = index === 2;
    const bitsInCell = isLast ? 32 : 64;
    if (offset <= bitsInCell - 8) {
      cells[index] = (cells[index]! ^ (b << BigInt(offset))) & mask64;
    } else {
      const next = isLast ? 0 : index + 1;
      cells[index] = (cells[index]! ^ (b << BigInt(offset))) & mask64;
      cells[next] = (cells[next]! ^ (b >> BigInt(bitsInCell - offset))) & mask64;
    }
    offset += 11;
    while (offset >= (index === 2 ? 32 : 64)) {
      offset -= index === 2 ? 32 : 64;
      index = index === 2 ? 0 : index + 1;
    }
  }
  const out = Buffer.alloc(20);
  out.writeBigUInt64LE(cells[0]!, 0);
  out.writeBigUInt64LE(cells[1]!, 8);
  out.writeUInt32LE(Number(cells[2]! & 0xffffffffn), 16);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(data.length));
  for (let i = 0; i < 8; i++) out[12 + i]! ^= len[i]!;
  return out.toString('base64');
}
