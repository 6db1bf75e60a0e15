// In-memory OneDrive / SharePoint model: tenants, users, sites, drives and driveItems.
import { guid } from '../common/ids.ts';

export interface MsTenant {
  id: string;
  name: string;
  domain: string;
  displayName: string;
}

export interface MsUser {
  id: string;
  tenantId: string;
  displayName: string;
  givenName: string;
  surname: string;
  mail: string;
  userPrincipalName: string;
  jobTitle: string;
  officeLocation: string;
  preferredLanguage: string;
  /** Windows time zone name, as Graph's mailboxSettings reports it. */
  timeZone: string;
  ianaTimeZone: string;
  mobilePhone: string | null;
  businessPhones: string[];
}

export interface MsSite {
  id: string;
  tenantId: string;
  name: string;
  displayName: string;
  description: string;
  webUrl: string;
  createdAt: number;
}

export interface MsDrive {
  id: string;
  driveType: 'business' | 'documentLibrary';
  name: string;
  description: string;
  tenantId: string;
  ownerUserId?: string;
  siteId?: string;
  webUrl: string;
  rootId: string;
  createdAt: number;
}

export interface MsItem {
  id: string;
  driveId: string;
  parentId: string | null;
  name: string;
  isFolder: boolean;
  mimeType?: string;
  content?: Buffer;
  /** Generated on demand (the 10,000 generated files). */
  lazyContent?: () => Buffer;
  image?: { width: number; height: number; pngSeed: number };
  description?: string;
  createdAt: number;
  modifiedAt: number;
  createdBy: string;
  modifiedBy: string;
  version: number;
}

export interface MsLink {
  permissionId: string;
  itemId: string;
  type: 'view' | 'edit' | 'embed';
  scope: 'anonymous' | 'organization' | 'users';
  webUrl: string;
  shareId: string;
  createdBy: string;
  recipients: string[];
}

export class MsStore {
  readonly tenants = new Map<string, MsTenant>();
  readonly users = new Map<string, MsUser>();
  readonly sites = new Map<string, MsSite>();
  readonly drives = new Map<string, MsDrive>();
  readonly items = new Map<string, MsItem>();
  readonly links = new Map<string, MsLink>();
  readonly #children = new Map<string, Set<string>>();
  readonly #sorted = new Map<string, MsItem[]>();
  /** Folder sizes (sum of descendants), dropped on any change to the tree or to contents. */
  readonly #folderSizes = new Map<string, number>();
  #seq = 0;

  tenantByIdOrDomain(t: string): MsTenant | undefined {
    const lower = t.toLowerCase();
    for (const tenant of this.tenants.values()) if (tenant.id === lower || tenant.domain === lower) return tenant;
    return undefined;
  }

  userByIdOrUpn(idOrUpn: string): MsUser | undefined {
    const lower = decodeURIComponent(idOrUpn).toLowerCase();
    for (const u of this.users.values()) if (u.id === lower || u.userPrincipalName.toLowerCase() === lower) return u;
    return undefined;
  }

  userDrive(userId: string): MsDrive | undefined {
    for (const d of this.drives.values()) if (d.ownerUserId === userId && d.driveType === 'business') return d;
    return undefined;
  }

  siteDrives(siteId: string): MsDrive[] {
    return [...this.drives.values()].filter((d) => d.siteId === siteId);
  }

  newItemId(seed?: string): string {
    // Business driveItem ids: "01" + 32 base32 characters.
    const g = guid(seed ?? `item-${++this.#seq}-${Date.now()}-${Math.random()}`).replace(/-/g, '').toUpperCase();
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
    let out = '01';
    for (let i = 0; i < 32; i++) out += alphabet[parseInt(g[i % 32]!, 16) * 2 + (i > 15 ? 1 : 0)]!;
    return out;
  }

  /** Call after changing an item's content in place. */
  contentChanged(): void {
    this.#folderSizes.clear();
  }

  addItem(item: MsItem): MsItem {
    this.#folderSizes.clear();
    this.items.set(item.id, item);
    if (item.parentId) {
      let set = this.#children.get(item.parentId);
      if (!set) this.#children.set(item.parentId, (set = new Set()));
      set.add(item.id);
      this.#sorted.delete(item.parentId);
    }
    return item;
  }

  /** Children in a stable order (name, then id) so paging never skips or repeats. */
  children(parentId: string): MsItem[] {
    let sorted = this.#sorted.get(parentId);
    if (!sorted) {
      sorted = [...(this.#children.get(parentId) ?? [])].map((id) => this.items.get(id)!).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.id < b.id ? -1 : 1));
      this.#sorted.set(parentId, sorted);
    }
    return sorted;
  }

  childCount(parentId: string): number {
    return this.#children.get(parentId)?.size ?? 0;
  }

  childByName(parentId: string, name: string): MsItem | undefined {
    const lower = name.toLowerCase();
    for (const id of this.#children.get(parentId) ?? []) {
      const it = this.items.get(id)!;
      if (it.name.toLowerCase() === lower) return it;
    }
    return undefined;
  }

  /** Resolves a relative path ("a/b/c.txt") below `startId`. */
  resolvePath(startId: string, path: string): MsItem | undefined {
    let cur = this.items.get(startId);
    for (const seg of path.split('/').filter(Boolean)) {
      if (!cur) return undefined;
      cur = this.childByName(cur.id, seg);
    }
    return cur;
  }

  /** "/Documents/Reports" for an item in Documents/Reports ("" for the root). */
  pathOf(item: MsItem): string {
    const parts: string[] = [];
    let cur: MsItem | undefined = item;
    while (cur && cur.parentId) {
      parts.unshift(cur.name);
      cur = this.items.get(cur.parentId);
    }
    return parts.length ? `/${parts.join('/')}` : '';
  }

  isDescendant(itemId: string, ancestorId: string): boolean {
    for (let cur = this.items.get(itemId); cur; cur = cur.parentId ? this.items.get(cur.parentId) : undefined) if (cur.id === ancestorId) return true;
    return false;
  }

  move(item: MsItem, newParentId: string): void {
    this.#folderSizes.clear();
    if (item.parentId) {
      this.#children.get(item.parentId)?.delete(item.id);
      this.#sorted.delete(item.parentId);
    }
    item.parentId = newParentId;
    let set = this.#children.get(newParentId);
    if (!set) this.#children.set(newParentId, (set = new Set()));
    set.add(item.id);
    this.#sorted.delete(newParentId);
  }

  renamed(item: MsItem): void {
    if (item.parentId) this.#sorted.delete(item.parentId);
  }

  remove(item: MsItem): void {
    this.#folderSizes.clear();
    for (const child of [...this.children(item.id)]) this.remove(child);
    if (item.parentId) {
      this.#children.get(item.parentId)?.delete(item.id);
      this.#sorted.delete(item.parentId);
    }
    this.#children.delete(item.id);
    this.items.delete(item.id);
    for (const [k, l] of this.links) if (l.itemId === item.id) this.links.delete(k);
  }

  contentOf(item: MsItem): Buffer {
    if (!item.content && item.lazyContent) {
      // Generated once, on first use, then kept (sizes and hashes are read on every listing).
      item.content = item.lazyContent();
      delete item.lazyContent;
    }
    return item.content ?? Buffer.alloc(0);
  }

  sizeOf(item: MsItem): number {
    if (!item.isFolder) return this.contentOf(item).length;
    const cached = this.#folderSizes.get(item.id);
    if (cached !== undefined) return cached;
    let total = 0;
    for (const c of this.children(item.id)) total += this.sizeOf(c);
    this.#folderSizes.set(item.id, total);
    return total;
  }
}
