// Graph URL grammar for drives: a drive reference (/me/drive, /users/{id}/drive, /drives/{id},
// /sites/{id}/drive), then an item reference (/root, /items/{id}, optionally followed by a
// path-based address `:/a/b:`), then an action (/children, /content, /thumbnails, ...).
// https://learn.microsoft.com/graph/onedrive-addressing-driveitems
import type { MsDrive, MsItem } from '../store.ts';
import type { Caller } from './access.ts';
import type { GraphContext } from './context.ts';

export type DriveRef = { kind: 'drive'; drive: MsDrive; rest: string } | { kind: 'not-found' } | { kind: 'none' };

export function resolveDrive(ctx: GraphContext, caller: Caller, path: string): DriveRef {
  const m = /^\/(?:(me)\/drive|users\/([^/]+)\/drive|drives\/([^/]+)|sites\/([^/]+)\/drive)(?=\/|$)(.*)$/.exec(path);
  if (!m) return { kind: 'none' };
  const rest = m[5] ?? '';
  let drive: MsDrive | undefined;
  if (m[1]) drive = ctx.store.userDrive(caller.user.id);
  else if (m[2]) {
    const u = ctx.store.userByIdOrUpn(m[2]);
    drive = u ? ctx.store.userDrive(u.id) : undefined;
  } else if (m[3]) drive = ctx.store.drives.get(decodeURIComponent(m[3]));
  else if (m[4]) drive = ctx.store.siteDrives(decodeURIComponent(m[4]))[0];
  return drive ? { kind: 'drive', drive, rest } : { kind: 'not-found' };
}

export interface ItemAddress {
  /** The item the address names, when it exists. */
  item: MsItem | undefined;
  /** For path addresses: the base item and the decoded relative path. */
  base: MsItem | undefined;
  relPath: string | undefined;
  action: string;
}

/** Parses `rest` after the drive reference. Returns undefined for the drive itself (`rest` empty). */
export function resolveItem(ctx: GraphContext, drive: MsDrive, rest: string): ItemAddress | undefined | 'bad' {
  if (rest === '' || rest === '/') return undefined;
  const m = /^\/(?:root|items\/([^/:]+))(?::(\/?[^:]*):?)?(\/.*)?$/.exec(rest);
  if (!m) return 'bad';
  const base = m[1] ? ctx.store.items.get(decodeURIComponent(m[1])) : ctx.store.items.get(drive.rootId);
  const baseOk = base && base.driveId === drive.id ? base : undefined;
  const relPath = m[2] !== undefined ? m[2].split('/').filter(Boolean).map(decodeURIComponent).join('/') : undefined;
  const item = baseOk && relPath !== undefined ? ctx.store.resolvePath(baseOk.id, relPath) : baseOk;
  return { item, base: baseOk, relPath, action: decodeURIComponent(m[3] ?? '') };
}
