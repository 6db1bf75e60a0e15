// In-memory Google Workspace + Drive model and its seed: one Workspace domain with users in
// different time zones, their My Drives (nested folders, Google Docs, real PNGs, a 10,000-item
// folder) and a shared drive.
import { alnum } from '../common/ids.ts';
import type { OAuthApp } from '../common/oauth.ts';
import { gradientPng } from '../common/png.ts';

export const GOOGLE_DOMAIN = 'globex.test';
export const LARGE_FOLDER_NAME = 'Large Folder';
export const LARGE_FOLDER_SIZE = 10_000;
export const FOLDER_MIME = 'application/vnd.google-apps.folder';

export const GOOGLE_APP: OAuthApp = {
  clientId: '123456789012-tethersandbox0000000000000000000.apps.googleusercontent.com',
  clientSecret: 'GOCSPX-TetherSandboxSecret00000001',
  redirectUris: ['http://localhost:8080/oauth/callback'],
  name: 'Tether (sandbox)',
};

export interface GUser {
  id: string;
  email: string;
  displayName: string;
  givenName: string;
  familyName: string;
  timeZone: string;
  permissionId: string;
  rootId: string;
  /**
   * Google has been seen adding RFC 9207 `iss` to authorization responses for some accounts while
   * its discovery document does not advertise `authorization_response_iss_parameter_supported`
   * (openiddict/openiddict-core#2428). One seeded account reproduces that, so clients meet both.
   */
  issInAuthResponse: boolean;
}

export interface GPermission {
  id: string;
  type: 'user' | 'group' | 'domain' | 'anyone';
  role: 'owner' | 'organizer' | 'fileOrganizer' | 'writer' | 'commenter' | 'reader';
  emailAddress?: string;
  domain?: string;
  allowFileDiscovery?: boolean;
}

export interface GFile {
  id: string;
  name: string;
  mimeType: string;
  parents: string[];
  /** Shared drive the file lives in (absent for My Drive files). */
  driveId?: string;
  /** Owner (My Drive files only). */
  ownerId?: string;
  content?: Buffer;
  lazyContent?: () => Buffer;
  /**
   * The body of a Docs Editors file, as plain text (the sandbox's stand-in for the document;
   * spreadsheets: one row per line, cells separated by tabs). Exports render it; without it they
   * render the title and a line naming the kind and version.
   */
  text?: string;
  image?: { width: number; height: number; seed: number };
  description?: string;
  starred: boolean;
  trashed: boolean;
  createdTime: number;
  modifiedTime: number;
  lastModifyingUserId: string;
  version: number;
  permissions: GPermission[];
  /** The OAuth client that created it (drive.file scope visibility). */
  createdByClient?: string;
  isRoot?: boolean;
}

export interface GSharedDrive {
  id: string;
  name: string;
  createdTime: number;
  members: Map<string, GPermission['role']>;
}

const SEED_TIME = Date.UTC(2026, 0, 6, 14, 0, 0);

export class GStore {
  readonly users = new Map<string, GUser>();
  readonly files = new Map<string, GFile>();
  readonly drives = new Map<string, GSharedDrive>();
  readonly #children = new Map<string, Set<string>>();
  #seq = 0;

  newFileId(seed?: string): string {
    return `1${alnum(seed ?? `file-${++this.#seq}-${Date.now()}-${Math.random()}`, 32, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_')}`;
  }

  userByEmail(email: string): GUser | undefined {
    const lower = email.toLowerCase();
    for (const u of this.users.values()) if (u.email === lower || u.id === email) return u;
    return undefined;
  }

  add(file: GFile): GFile {
    this.files.set(file.id, file);
    for (const p of file.parents) this.#link(p, file.id);
    return file;
  }

  #link(parent: string, id: string): void {
    let s = this.#children.get(parent);
    if (!s) this.#children.set(parent, (s = new Set()));
    s.add(id);
  }

  setParents(file: GFile, parents: string[]): void {
    for (const p of file.parents) this.#children.get(p)?.delete(file.id);
    file.parents = parents;
    for (const p of parents) this.#link(p, file.id);
  }

  childrenOf(parentId: string): GFile[] {
    return [...(this.#children.get(parentId) ?? [])].map((id) => this.files.get(id)!).filter(Boolean);
  }

  remove(file: GFile): void {
    for (const c of this.childrenOf(file.id)) this.remove(c);
    for (const p of file.parents) this.#children.get(p)?.delete(file.id);
    this.#children.delete(file.id);
    this.files.delete(file.id);
  }

  contentOf(file: GFile): Buffer | undefined {
    if (!file.content && file.lazyContent) {
      file.content = file.lazyContent();
      delete file.lazyContent;
    }
    return file.content;
  }

  isAncestor(ancestorId: string, fileId: string): boolean {
    const seen = new Set<string>();
    const stack = [fileId];
    while (stack.length) {
      const id = stack.pop()!;
      if (id === ancestorId) return true;
      if (seen.has(id)) continue;
      seen.add(id);
      stack.push(...(this.files.get(id)?.parents ?? []));
    }
    return false;
  }
}

const USERS = [
  { given: 'Alice', family: 'Chen', alias: 'alice', tz: 'America/New_York' },
  { given: 'Bruno', family: 'Díaz', alias: 'bruno', tz: 'Europe/Madrid' },
  { given: 'Chloé', family: 'Martin', alias: 'chloe', tz: 'Australia/Sydney' },
];

function numericId(seed: string): string {
  return `1${alnum(seed, 20, '0123456789')}`;
}

export function seedGoogle(store: GStore): void {
  for (const u of USERS) {
    const email = `${u.alias}@${GOOGLE_DOMAIN}`;
    const id = numericId(`guser-${email}`);
    const rootId = `0A${alnum(`groot-${email}`, 17)}Uk9PVA`;
    const user: GUser = { id, email, displayName: `${u.given} ${u.family}`, givenName: u.given, familyName: u.family, timeZone: u.tz, permissionId: numericId(`gperm-${email}`).slice(0, 20), rootId, issInAuthResponse: u.alias === 'chloe' };
    store.users.set(id, user);
    store.add({ id: rootId, name: 'My Drive', mimeType: FOLDER_MIME, parents: [], ownerId: id, starred: false, trashed: false, createdTime: SEED_TIME, modifiedTime: SEED_TIME, lastModifyingUserId: id, version: 1, permissions: [ownerPerm(user)], isRoot: true });
  }
  for (const user of [...store.users.values()]) seedMyDrive(store, user, user.email.startsWith('alice@'));
  const [alice, bruno] = [...store.users.values()];
  const shared: GSharedDrive = { id: `0A${alnum('gdrive-engineering', 17)}Uk9PVA`, name: 'Engineering', createdTime: SEED_TIME, members: new Map([[alice!.id, 'organizer'], [bruno!.id, 'writer']]) };
  store.drives.set(shared.id, shared);
  const t = SEED_TIME + 60_000;
  const specs = store.add({ id: store.newFileId('gshared-specs'), name: 'Specs', mimeType: FOLDER_MIME, parents: [shared.id], driveId: shared.id, starred: false, trashed: false, createdTime: t, modifiedTime: t, lastModifyingUserId: alice!.id, version: 1, permissions: [] });
  store.add({ id: store.newFileId('gshared-design'), name: 'Design Doc', mimeType: 'application/vnd.google-apps.document', parents: [specs.id], driveId: shared.id, starred: false, trashed: false, createdTime: t, modifiedTime: t, lastModifyingUserId: bruno!.id, version: 3, permissions: [] });
  store.add({ id: store.newFileId('gshared-arch'), name: 'Architecture.png', mimeType: 'image/png', parents: [specs.id], driveId: shared.id, content: gradientPng(800, 600, 99), image: { width: 800, height: 600, seed: 99 }, starred: false, trashed: false, createdTime: t, modifiedTime: t, lastModifyingUserId: alice!.id, version: 1, permissions: [] });
}

export function ownerPerm(user: GUser): GPermission {
  return { id: user.permissionId, type: 'user', role: 'owner', emailAddress: user.email };
}

function seedMyDrive(store: GStore, user: GUser, large: boolean): void {
  const base = { ownerId: user.id, starred: false, trashed: false, createdTime: SEED_TIME, modifiedTime: SEED_TIME, lastModifyingUserId: user.id, version: 1 };
  const folder = (name: string, parent: string) => store.add({ ...base, id: store.newFileId(`${user.email}/${parent}/${name}`), name, mimeType: FOLDER_MIME, parents: [parent], permissions: [ownerPerm(user)] });
  const file = (name: string, parent: string, mimeType: string, content?: Buffer, extra: Partial<GFile> = {}) =>
    store.add({ ...base, id: store.newFileId(`${user.email}/${parent}/${name}`), name, mimeType, parents: [parent], permissions: [ownerPerm(user)], ...(content ? { content } : {}), ...extra });
  const projects = folder('Projects', user.rootId);
  const y2026 = folder('2026', projects.id);
  file('Roadmap', y2026.id, 'application/vnd.google-apps.document');
  file('Budget 2026', y2026.id, 'application/vnd.google-apps.spreadsheet');
  file('Kickoff Deck', projects.id, 'application/vnd.google-apps.presentation');
  file('Org Chart', y2026.id, 'application/vnd.google-apps.drawing');
  file('meeting-notes.txt', projects.id, 'text/plain', Buffer.from(`Meeting notes of ${user.displayName}\n`));
  file('contract.pdf', projects.id, 'application/pdf', Buffer.from('%PDF-1.4\n% sandbox contract\n'));
  const photos = folder('Photos', user.rootId);
  const seed = user.email.charCodeAt(0);
  for (const [name, w, h, s] of [['beach.png', 1280, 720, seed], ['portrait.png', 600, 900, seed + 3]] as const) {
    file(name, photos.id, 'image/png', gradientPng(w, h, s), { image: { width: w, height: h, seed: s } });
  }
  if (user.email.startsWith('alice@')) {
    const shared = file('Shared Plan', projects.id, 'application/vnd.google-apps.document');
    const bruno = store.userByEmail(`bruno@${GOOGLE_DOMAIN}`);
    if (bruno) shared.permissions.push({ id: bruno.permissionId, type: 'user', role: 'writer', emailAddress: bruno.email });
    shared.permissions.push({ id: `${alnum('domainperm', 20, '0123456789')}k`, type: 'domain', role: 'reader', domain: GOOGLE_DOMAIN, allowFileDiscovery: true });
  }
  if (large) {
    const big = folder(LARGE_FOLDER_NAME, user.rootId);
    for (let i = 1; i <= LARGE_FOLDER_SIZE; i++) {
      const t = SEED_TIME + i * 1000;
      store.add({ ...base, createdTime: t, modifiedTime: t, id: store.newFileId(`${user.email}/large/${i}`), name: `item-${String(i).padStart(5, '0')}.txt`, mimeType: 'text/plain', parents: [big.id], permissions: [ownerPerm(user)], lazyContent: () => Buffer.from(`Generated item ${i} of ${LARGE_FOLDER_SIZE}\n`) });
    }
  }
}
