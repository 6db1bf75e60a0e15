import { TetherError } from '../errors.ts';

/**
 * Paging cursors carry the provider's own page token (Graph `$skiptoken`, Drive `pageToken`) plus
 * what the next request must repeat. They never carry a URL: the next request is rebuilt from the
 * API base, so a crafted cursor cannot point Tether anywhere else.
 */
export function encodePageCursor(state: Record<string, string | number>): string {
  return Buffer.from(JSON.stringify(state), 'utf8').toString('base64url');
}

export function decodePageCursor(cursor: string): Record<string, string | number> {
  try {
    if (cursor.length > 4096 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw new Error('shape');
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('shape');
    for (const v of Object.values(value)) if (typeof v !== 'string' && typeof v !== 'number') throw new Error('shape');
    return value as Record<string, string | number>;
  } catch {
    throw new TetherError(400, 'invalid_cursor', 'The cursor is not one this API returned.');
  }
}
