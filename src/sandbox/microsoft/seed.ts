// Seeded Microsoft world: two tenants (Contoso, Fabrikam), users in different time zones, their
// OneDrive for Business drives with nested folders, real PNG images and documents, a SharePoint
// site with a document library, and a deterministic 10,000-item folder.
import { guid } from '../common/ids.ts';
import { gradientPng } from '../common/png.ts';
import type { OAuthApp } from '../common/oauth.ts';
import { MsStore, type MsDrive, type MsItem, type MsUser } from './store.ts';

export const LARGE_FOLDER_NAME = 'Large Folder';
export const LARGE_FOLDER_SIZE = 10_000;

const SEED_TIME = Date.UTC(2026, 0, 5, 9, 30, 0);

export const MICROSOFT_APP: OAuthApp = {
  clientId: guid('microsoft-app-tether'),
  clientSecret: 'sbx~Tether.Microsoft.Secret-0001',
  redirectUris: ['http://localhost:8080/oauth/callback'],
  name: 'Tether (sandbox)',
};

const TENANTS = [
  { name: 'contoso', displayName: 'Contoso' },
  { name: 'fabrikam', displayName: 'Fabrikam' },
];

const USERS: { tenant: string; given: string; surname: string; alias: string; job: string; office: string; lang: string; tz: string; iana: string }[] = [
  { tenant: 'contoso', given: 'Adele', surname: 'Vance', alias: 'adele', job: 'Product Marketing Manager', office: '18/2111', lang: 'en-US', tz: 'Pacific Standard Time', iana: 'America/Los_Angeles' },
  { tenant: 'contoso', given: 'Megan', surname: 'Bowen', alias: 'megan', job: 'Marketing Manager', office: '12/1110', lang: 'de-DE', tz: 'W. Europe Standard Time', iana: 'Europe/Berlin' },
  { tenant: 'contoso', given: 'Kenji', surname: 'Sato', alias: 'kenji', job: 'Engineer', office: 'Tokyo 3F', lang: 'ja-JP', tz: 'Tokyo Standard Time', iana: 'Asia/Tokyo' },
  { tenant: 'fabrikam', given: 'Priya', surname: 'Natarajan', alias: 'priya', job: 'Finance Lead', office: 'Bengaluru 7', lang: 'en-IN', tz: 'India Standard Time', iana: 'Asia/Kolkata' },
  { tenant: 'fabrikam', given: 'Lucas', surname: 'Oliveira', alias: 'lucas', job: 'Sales Director', office: 'São Paulo 2', lang: 'pt-BR', tz: 'E. South America Standard Time', iana: 'America/Sao_Paulo' },
];

function docx(title: string): Buffer {
  // Not a real Office document: a deterministic payload with the right name and MIME type is all
  // drive APIs care about (they never parse file contents).
  return Buffer.from(`Sandbox document: ${title}\n`.repeat(20));
}

export function seedMicrosoft(store: MsStore): void {
  for (const t of TENANTS) store.tenants.set(guid(`tenant-${t.name}`), { id: guid(`tenant-${t.name}`), name: t.name, domain: `${t.name}.onmicrosoft.com`, displayName: t.displayName });
  for (const u of USERS) {
    const tenant = [...store.tenants.values()].find((t) => t.name === u.tenant)!;
    const upn = `${u.alias}@${tenant.domain}`;
    const user: MsUser = {
      id: guid(`user-${upn}`),
      tenantId: tenant.id,
      displayName: `${u.given} ${u.surname}`,
      givenName: u.given,
      surname: u.surname,
      mail: upn,
      userPrincipalName: upn,
      jobTitle: u.job,
      officeLocation: u.office,
      preferredLanguage: u.lang,
      timeZone: u.tz,
      ianaTimeZone: u.iana,
      mobilePhone: null,
      businessPhones: ['+1 425 555 0109'],
    };
    store.users.set(user.id, user);
    const personal = `${u.alias}_${tenant.domain.replace(/\./g, '_')}`;
    const drive = addDrive(store, {
      seed: `drive-${upn}`,
      driveType: 'business',
      name: 'OneDrive',
      tenantId: tenant.id,
      ownerUserId: user.id,
      webUrl: `https://${tenant.name}-my.sharepoint.com/personal/${personal}/Documents`,
    });
    seedPersonalDrive(store, drive, user, u.alias === 'adele');
  }

  const contoso = [...store.tenants.values()].find((t) => t.name === 'contoso')!;
  const adele = [...store.users.values()].find((u) => u.mail.startsWith('adele@'))!;
  const siteGuid = guid('site-marketing');
  const webGuid = guid('web-marketing');
  const site = {
    id: `${contoso.name}.sharepoint.com,${siteGuid},${webGuid}`,
    tenantId: contoso.id,
    name: 'Marketing',
    displayName: 'Marketing',
    description: 'Marketing team site',
    webUrl: `https://${contoso.name}.sharepoint.com/sites/Marketing`,
    createdAt: SEED_TIME,
  };
  store.sites.set(site.id, site);
  const library = addDrive(store, { seed: 'drive-marketing-documents', driveType: 'documentLibrary', name: 'Documents', tenantId: contoso.id, siteId: site.id, webUrl: `${site.webUrl}/Shared%20Documents` });
  const campaigns = folder(store, library, library.rootId, 'Campaigns', adele);
  file(store, library, campaigns.id, 'Launch Plan.docx', docx('Launch Plan'), 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', adele);
  image(store, library, campaigns.id, 'Banner.png', 1200, 400, 41, adele);
  addDrive(store, { seed: 'drive-marketing-brand', driveType: 'documentLibrary', name: 'Brand Assets', tenantId: contoso.id, siteId: site.id, webUrl: `${site.webUrl}/Brand%20Assets` });
}

function addDrive(store: MsStore, d: { seed: string; driveType: MsDrive['driveType']; name: string; tenantId: string; ownerUserId?: string; siteId?: string; webUrl: string }): MsDrive {
  const id = `b!${Buffer.from(guid(d.seed) + guid(`${d.seed}/2`)).toString('base64url').slice(0, 64)}`;
  const root: MsItem = { id: store.newItemId(`${d.seed}/root`), driveId: id, parentId: null, name: 'root', isFolder: true, createdAt: SEED_TIME, modifiedAt: SEED_TIME, createdBy: d.ownerUserId ?? '', modifiedBy: d.ownerUserId ?? '', version: 1 };
  store.addItem(root);
  const drive: MsDrive = { id, driveType: d.driveType, name: d.name, description: '', tenantId: d.tenantId, webUrl: d.webUrl, rootId: root.id, createdAt: SEED_TIME, ...(d.ownerUserId ? { ownerUserId: d.ownerUserId } : {}), ...(d.siteId ? { siteId: d.siteId } : {}) };
  store.drives.set(id, drive);
  return drive;
}

function folder(store: MsStore, drive: MsDrive, parentId: string, name: string, by: MsUser, t = SEED_TIME): MsItem {
  return store.addItem({ id: store.newItemId(`${drive.id}/${parentId}/${name}`), driveId: drive.id, parentId, name, isFolder: true, createdAt: t, modifiedAt: t, createdBy: by.id, modifiedBy: by.id, version: 1 });
}

function file(store: MsStore, drive: MsDrive, parentId: string, name: string, content: Buffer, mimeType: string, by: MsUser, t = SEED_TIME): MsItem {
  return store.addItem({ id: store.newItemId(`${drive.id}/${parentId}/${name}`), driveId: drive.id, parentId, name, isFolder: false, mimeType, content, createdAt: t, modifiedAt: t, createdBy: by.id, modifiedBy: by.id, version: 1 });
}

function image(store: MsStore, drive: MsDrive, parentId: string, name: string, width: number, height: number, pngSeed: number, by: MsUser): MsItem {
  const item = file(store, drive, parentId, name, gradientPng(width, height, pngSeed), 'image/png', by);
  item.image = { width, height, pngSeed };
  return item;
}

function seedPersonalDrive(store: MsStore, drive: MsDrive, user: MsUser, withLargeFolder: boolean): void {
  const docs = folder(store, drive, drive.rootId, 'Documents', user);
  file(store, drive, docs.id, 'Project Plan.docx', docx(`${user.displayName} project plan`), 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', user);
  file(store, drive, docs.id, 'Budget.xlsx', docx('Budget'), 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', user);
  file(store, drive, docs.id, 'Notes.txt', Buffer.from(`Notes of ${user.displayName}\nTime zone: ${user.ianaTimeZone}\n`), 'text/plain', user);
  const reports = folder(store, drive, docs.id, 'Reports', user);
  const y2026 = folder(store, drive, reports.id, '2026', user);
  file(store, drive, y2026.id, 'Q1 Report.docx', docx('Q1 Report'), 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', user);
  file(store, drive, y2026.id, 'Q1 Figures.pdf', Buffer.from('%PDF-1.4\n% sandbox\n'), 'application/pdf', user);
  const pictures = folder(store, drive, drive.rootId, 'Pictures', user);
  const base = user.id.charCodeAt(0);
  image(store, drive, pictures.id, 'Sunset.png', 1024, 768, base, user);
  image(store, drive, pictures.id, 'Mountains.png', 640, 960, base + 7, user);
  image(store, drive, pictures.id, 'Logo.png', 256, 256, base + 13, user);
  if (withLargeFolder) {
    const large = folder(store, drive, drive.rootId, LARGE_FOLDER_NAME, user);
    for (let i = 1; i <= LARGE_FOLDER_SIZE; i++) {
      const name = `item-${String(i).padStart(5, '0')}.txt`;
      const t = SEED_TIME + i * 1000;
      store.addItem({
        id: store.newItemId(`${drive.id}/large/${i}`),
        driveId: drive.id,
        parentId: large.id,
        name,
        isFolder: false,
        mimeType: 'text/plain',
        lazyContent: () => Buffer.from(`Generated item ${i} of ${LARGE_FOLDER_SIZE}\n`),
        createdAt: t,
        modifiedAt: t,
        createdBy: user.id,
        modifiedBy: user.id,
        version: 1,
      });
    }
  }
}
