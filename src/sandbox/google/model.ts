// Drive v3 visibility, roles and the File / Permission / Drive JSON representations.
import { createHash } from 'node:crypto';
import type { Faults } from '../common/faults.ts';
import type { OAuthStore } from '../common/oauth.ts';
import { fitWithin } from '../common/png.ts';
import { signResource } from '../common/signedUrl.ts';
import { exportLinks } from './formats.ts';
import { FOLDER_MIME, GOOGLE_DOMAIN, type GFile, type GPermission, type GSharedDrive, type GStore, type GUser } from './store.ts';

export interface DriveContext {
  store: GStore;
  oauth: OAuthStore;
  faults: Faults;
}

export interface GCaller {
  user: GUser;
  scopes: Set<string>;
  clientId: string;
}

const S = 'https://www.googleapis.com/auth/';
export const READ_SCOPES = ['drive', 'drive.readonly', 'drive.file', 'drive.metadata', 'drive.metadata.readonly'].map((s) => S + s);
export const CONTENT_SCOPES = ['drive', 'drive.readonly', 'drive.file'].map((s) => S + s);
export const WRITE_SCOPES = ['drive', 'drive.file'].map((s) => S + s);

export function hasScope(caller: GCaller, list: string[]): boolean {
  return list.some((s) => caller.scopes.has(s));
}

/** drive.file alone: the app sees only files it created (or that were opened with it). */
function fileScopeOnly(caller: GCaller): boolean {
  return caller.scopes.has(`${S}drive.file`) && !['drive', 'drive.readonly', 'drive.metadata', 'drive.metadata.readonly'].some((s) => caller.scopes.has(S + s));
}

const RANK: Record<string, number> = { reader: 1, commenter: 2, writer: 3, fileOrganizer: 4, organizer: 5, owner: 6 };

function permMatches(p: GPermission, user: GUser): boolean {
  return (p.type === 'user' && p.emailAddress === user.email) || (p.type === 'domain' && p.domain === GOOGLE_DOMAIN) || p.type === 'anyone';
}

/** The caller's effective role on a file: shared-drive membership, or permissions on it or any ancestor. */
export function roleOf(ctx: DriveContext, file: GFile, user: GUser): GPermission['role'] | undefined {
  if (file.driveId) return ctx.store.drives.get(file.driveId)?.members.get(user.id);
  let best: GPermission['role'] | undefined;
  const seen = new Set<string>();
  const stack = [file];
  while (stack.length) {
    const f = stack.pop()!;
    if (seen.has(f.id)) continue;
    seen.add(f.id);
    if (f.ownerId === user.id) return 'owner';
    for (const p of f.permissions) if (permMatches(p, user) && (!best || RANK[p.role]! > RANK[best]!)) best = p.role;
    for (const pid of f.parents) {
      const parent = ctx.store.files.get(pid);
      if (parent) stack.push(parent);
    }
  }
  return best;
}

export function canSee(ctx: DriveContext, caller: GCaller, file: GFile): boolean {
  if (fileScopeOnly(caller) && file.createdByClient !== caller.clientId && !file.isRoot) return false;
  return roleOf(ctx, file, caller.user) !== undefined;
}

/**
 * Whether files.list returns the file for this corpus. Access by link-style permissions (domain or
 * anyone) is not enough to be listed: such files appear only in the `domain` corpus, and only when
 * the permission allows file discovery. Owned files and files shared with the user (directly or
 * through a folder) are listed in `user`.
 */
export function listable(ctx: DriveContext, caller: GCaller, file: GFile, corpora: string): boolean {
  if (!canSee(ctx, caller, file)) return false;
  if (file.driveId) return true;
  const seen = new Set<string>();
  const stack = [file];
  while (stack.length) {
    const f = stack.pop()!;
    if (seen.has(f.id)) continue;
    seen.add(f.id);
    if (f.ownerId === caller.user.id) return true;
    for (const p of f.permissions) {
      if (p.type === 'user' && p.emailAddress === caller.user.email) return true;
      if (corpora === 'domain' && p.allowFileDiscovery && ((p.type === 'domain' && p.domain === GOOGLE_DOMAIN) || p.type === 'anyone')) return true;
    }
    for (const pid of f.parents) {
      const parent = ctx.store.files.get(pid);
      if (parent) stack.push(parent);
    }
  }
  return false;
}

export function canWrite(ctx: DriveContext, caller: GCaller, file: GFile): boolean {
  return RANK[roleOf(ctx, file, caller.user) ?? '']! >= RANK.writer!;
}

export function isGoogleApps(file: GFile): boolean {
  return file.mimeType.startsWith('application/vnd.google-apps.');
}

export function hasThumbnail(file: GFile): boolean {
  return !!file.image || (isGoogleApps(file) && file.mimeType !== FOLDER_MIME);
}

export function thumbnailSource(file: GFile): { width: number; height: number; seed: number } {
  return file.image ?? { width: 816, height: 1056, seed: file.id.charCodeAt(1) };
}

export function thumbnailLink(ctx: DriveContext, origin: string, file: GFile, size = 220): string {
  // Real thumbnailLinks are short-lived (hours); these expire after one hour of sandbox time.
  const token = signResource(`gthumb:${file.id}:${file.version}`, ctx.faults.now() + 3600_000);
  return `${origin}/_sandbox/drive-storage/${encodeURIComponent(file.id)}/${file.version}/${token}=s${size}`;
}

export function thumbnailDims(file: GFile, size: number): { width: number; height: number } {
  const src = thumbnailSource(file);
  return fitWithin(src.width, src.height, size);
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function webViewLink(file: GFile): string {
  switch (file.mimeType) {
    case FOLDER_MIME:
      return `https://drive.google.com/drive/folders/${file.id}`;
    case 'application/vnd.google-apps.document':
      return `https://docs.google.com/document/d/${file.id}/edit?usp=drivesdk`;
    case 'application/vnd.google-apps.spreadsheet':
      return `https://docs.google.com/spreadsheets/d/${file.id}/edit?usp=drivesdk`;
    case 'application/vnd.google-apps.presentation':
      return `https://docs.google.com/presentation/d/${file.id}/edit?usp=drivesdk`;
    case 'application/vnd.google-apps.drawing':
      return `https://docs.google.com/drawings/d/${file.id}/edit?usp=drivesdk`;
    default:
      return `https://drive.google.com/file/d/${file.id}/view?usp=drivesdk`;
  }
}

function userJson(u: GUser | undefined, me: GUser): Record<string, unknown> | undefined {
  if (!u) return undefined;
  return { kind: 'drive#user', displayName: u.displayName, photoLink: `https://lh3.googleusercontent.com/a/default-user=s64`, me: u.id === me.id, permissionId: u.permissionId, emailAddress: u.email };
}

export function permissionJson(p: GPermission, ctx: DriveContext): Record<string, unknown> {
  const user = p.emailAddress ? ctx.store.userByEmail(p.emailAddress) : undefined;
  const out: Record<string, unknown> = { kind: 'drive#permission', id: p.id, type: p.type, role: p.role };
  if (p.emailAddress) out.emailAddress = p.emailAddress;
  if (p.domain) out.domain = p.domain;
  if (user) {
    out.displayName = user.displayName;
    out.photoLink = 'https://lh3.googleusercontent.com/a/default-user=s64';
  }
  if (p.allowFileDiscovery !== undefined) out.allowFileDiscovery = p.allowFileDiscovery;
  out.deleted = false;
  out.pendingOwner = false;
  return out;
}

/** Effective permissions: shared drives report their members, My Drive files their own list. */
export function permissionsOf(ctx: DriveContext, file: GFile): GPermission[] {
  if (!file.driveId) return file.permissions;
  const drive = ctx.store.drives.get(file.driveId)!;
  return [...drive.members].map(([uid, role]) => {
    const u = ctx.store.users.get(uid)!;
    return { id: u.permissionId, type: 'user' as const, role, emailAddress: u.email };
  });
}

const checksumCache = new WeakMap<GFile, { version: number; md5: string; sha1: string; sha256: string }>();
function checksums(file: GFile, content: Buffer): { md5: string; sha1: string; sha256: string } {
  const c = checksumCache.get(file);
  if (c && c.version === file.version) return c;
  const fresh = { version: file.version, md5: createHash('md5').update(content).digest('hex'), sha1: createHash('sha1').update(content).digest('hex'), sha256: createHash('sha256').update(content).digest('hex') };
  checksumCache.set(file, fresh);
  return fresh;
}

export function fileJson(ctx: DriveContext, origin: string, caller: GCaller, file: GFile): Record<string, unknown> {
  const { store } = ctx;
  const role = roleOf(ctx, file, caller.user);
  const writable = RANK[role ?? '']! >= RANK.writer!;
  const content = isGoogleApps(file) ? undefined : store.contentOf(file);
  const owner = file.ownerId ? store.users.get(file.ownerId) : undefined;
  const perms = permissionsOf(ctx, file);
  const out: Record<string, unknown> = {
    kind: 'drive#file',
    id: file.id,
    name: file.name,
    mimeType: file.mimeType,
  };
  if (file.description !== undefined) out.description = file.description;
  out.starred = file.starred;
  out.trashed = file.trashed;
  out.explicitlyTrashed = file.trashed;
  if (file.parents.length) out.parents = [...file.parents];
  out.spaces = ['drive'];
  out.version = String(file.version);
  out.webViewLink = webViewLink(file);
  if (content) out.webContentLink = `https://drive.google.com/uc?id=${file.id}&export=download`;
  const links = exportLinks(file);
  if (links) out.exportLinks = links;
  out.iconLink = `https://drive-thirdparty.googleusercontent.com/16/type/${file.mimeType}`;
  out.hasThumbnail = hasThumbnail(file);
  if (hasThumbnail(file)) out.thumbnailLink = thumbnailLink(ctx, origin, file);
  out.thumbnailVersion = hasThumbnail(file) ? String(file.version) : '0';
  out.viewedByMe = file.ownerId === caller.user.id;
  out.createdTime = iso(file.createdTime);
  out.modifiedTime = iso(file.modifiedTime);
  out.modifiedByMe = file.lastModifyingUserId === caller.user.id;
  if (file.lastModifyingUserId === caller.user.id) out.modifiedByMeTime = iso(file.modifiedTime);
  if (owner) out.owners = [userJson(owner, caller.user)];
  if (file.driveId) out.driveId = file.driveId;
  const lastMod = store.users.get(file.lastModifyingUserId);
  if (lastMod) out.lastModifyingUser = userJson(lastMod, caller.user);
  out.shared = perms.length > 1 || perms.some((p) => p.type !== 'user');
  out.ownedByMe = file.ownerId === caller.user.id;
  out.capabilities = {
    canAddChildren: file.mimeType === FOLDER_MIME && writable,
    canComment: RANK[role ?? '']! >= RANK.commenter!,
    canCopy: file.mimeType !== FOLDER_MIME,
    canDelete: file.driveId ? RANK[role ?? '']! >= RANK.fileOrganizer! : role === 'owner',
    canDownload: true,
    canEdit: writable,
    canListChildren: file.mimeType === FOLDER_MIME,
    canRename: writable,
    canShare: writable,
    canTrash: file.driveId ? RANK[role ?? '']! >= RANK.fileOrganizer! : role === 'owner',
  };
  out.viewersCanCopyContent = true;
  out.copyRequiresWriterPermission = false;
  out.writersCanShare = true;
  if (writable) out.permissions = perms.map((p) => permissionJson(p, ctx));
  out.permissionIds = perms.map((p) => p.id);
  if (content) {
    out.originalFilename = file.name;
    const ext = file.name.includes('.') ? file.name.split('.').pop()! : '';
    out.fullFileExtension = ext;
    out.fileExtension = ext;
    const sums = checksums(file, content);
    out.md5Checksum = sums.md5;
    out.sha1Checksum = sums.sha1;
    out.sha256Checksum = sums.sha256;
    out.size = String(content.length);
    out.headRevisionId = `0B${createHash('sha1').update(`${file.id}:${file.version}`).digest('base64url').slice(0, 30)}`;
  }
  out.quotaBytesUsed = String(content?.length ?? 0);
  if (file.image) out.imageMediaMetadata = { width: file.image.width, height: file.image.height, rotation: 0 };
  out.isAppAuthorized = file.createdByClient === caller.clientId;
  return out;
}

export function sharedDriveJson(d: GSharedDrive, role: string | undefined): Record<string, unknown> {
  const organizer = role === 'organizer';
  return {
    kind: 'drive#drive',
    id: d.id,
    name: d.name,
    colorRgb: '#4986e7',
    backgroundImageLink: 'https://ssl.gstatic.com/team_drive_themes/abstract_blue_background.jpg',
    capabilities: { canAddChildren: role !== 'reader' && role !== 'commenter', canManageMembers: organizer, canRenameDrive: organizer, canDeleteDrive: organizer, canShare: organizer },
    createdTime: new Date(d.createdTime).toISOString(),
    hidden: false,
    restrictions: { adminManagedRestrictions: false, copyRequiresWriterPermission: false, domainUsersOnly: false, driveMembersOnly: false },
  };
}
