import { TetherError } from '../errors.ts';
import type { ProviderId } from '../providers/definition.ts';

/**
 * Tether's item ids are opaque to callers but must be safe to put into a provider URL path. They are
 * checked against a strict alphabet *before* anything is built from them, so `../`, `%2e%2e`, `@`,
 * `//`, absolute URLs and control characters never reach an upstream request.
 *
 * - Microsoft: `<driveId>~<itemId>` (Graph addresses an item by drive and id; drive ids look like
 *   `b!AbC…`, item ids like `01BYE5RZ…` or `A1B2C3!123`).
 * - Google: the Drive file id (globally addressable).
 */
const GRAPH_ID = /^[A-Za-z0-9!_-]{1,300}$/;
const GOOGLE_ID = /^[A-Za-z0-9_-]{1,300}$/;
const SEPARATOR = '~';

export interface ItemRef {
  /** Microsoft: the drive; Google: null (files are addressed by id alone). */
  driveId: string | null;
  itemId: string;
}

export function invalidItemId(): TetherError {
  return new TetherError(400, 'invalid_item_id', 'The item id is not one this API returned.');
}

export function encodeItemId(provider: ProviderId, ref: ItemRef): string {
  if (provider === 'microsoft') return `${ref.driveId}${SEPARATOR}${ref.itemId}`;
  return ref.itemId;
}

export function decodeItemId(provider: ProviderId, id: string): ItemRef {
  if (provider === 'microsoft') {
    const parts = id.split(SEPARATOR);
    if (parts.length !== 2 || !GRAPH_ID.test(parts[0]!) || !GRAPH_ID.test(parts[1]!)) throw invalidItemId();
    return { driveId: parts[0]!, itemId: parts[1]! };
  }
  if (provider === 'google') {
    if (!GOOGLE_ID.test(id)) throw invalidItemId();
    return { driveId: null, itemId: id };
  }
  throw invalidItemId();
}

/** Drive ids travel on their own too (`?driveId=`), under the same rules. */
export function checkDriveId(provider: ProviderId, id: string): string {
  if (!(provider === 'microsoft' ? GRAPH_ID : GOOGLE_ID).test(id)) {
    throw new TetherError(400, 'invalid_drive_id', 'The drive id is not one this API returned.');
  }
  return id;
}
