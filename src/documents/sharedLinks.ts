import { TetherError } from '../errors.ts';
import type { ProviderId } from '../providers/definition.ts';

/**
 * A sharing URL a user pasted: parsed, never fetched. Only https URLs on the provider's known
 * sharing hosts are accepted (matched on whole DNS labels, so `sharepoint.com.evil.net` is not
 * SharePoint), without credentials, ports or IP literals. The item is then looked up through the
 * provider's API with the connection's own credentials:
 * - Microsoft: `GET /shares/u!<base64url(url)>/driveItem` (Graph "Accessing shared DriveItems").
 * - Google: the file id read from the URL's path or `id` parameter, then `files.get`.
 */
export const MAX_SHARED_URL_LENGTH = 4096;

export type ParsedSharedLink = { provider: 'microsoft'; shareId: string } | { provider: 'google'; fileId: string };

const MICROSOFT_HOSTS = ['sharepoint.com', 'sharepoint.us', '1drv.ms', 'onedrive.live.com'];
const GOOGLE_HOSTS = ['docs.google.com', 'drive.google.com'];
const GOOGLE_FILE_ID = /^[A-Za-z0-9_-]{10,200}$/;

export function unsupportedUrl(reason: string): TetherError {
  return new TetherError(422, 'unsupported_url', `This is not a sharing link Tether can resolve: ${reason}.`);
}

function onHost(hostname: string, suffixes: readonly string[]): boolean {
  return suffixes.some((s) => hostname === s || hostname.endsWith(`.${s}`));
}

export function parseSharedLink(provider: ProviderId, input: string): ParsedSharedLink {
  if (input.length > MAX_SHARED_URL_LENGTH) throw unsupportedUrl('it is too long');
  // Control characters and whitespace never occur in a real sharing URL; WHATWG parsing would strip some.
  if (/[\u0000-\u0020\u007f-\u009f\\]/.test(input)) throw unsupportedUrl('it contains characters a sharing URL never has');
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw unsupportedUrl('it is not a URL');
  }
  if (url.protocol !== 'https:') throw unsupportedUrl('only https sharing links are accepted');
  if (url.username || url.password) throw unsupportedUrl('it carries credentials');
  if (url.port !== '') throw unsupportedUrl('sharing links have no port');
  const host = url.hostname.toLowerCase();
  if (/^[\d.]+$/.test(host) || host.startsWith('[')) throw unsupportedUrl('the host is an IP address');

  if (provider === 'microsoft') {
    if (!onHost(host, MICROSOFT_HOSTS)) throw unsupportedUrl(`${host} is not a OneDrive or SharePoint host`);
    // Graph: "u!" + unpadded base64url of the URL, "/" → "_", "+" → "-".
    return { provider, shareId: `u!${Buffer.from(url.href, 'utf8').toString('base64url')}` };
  }
  if (provider === 'google') {
    if (!onHost(host, GOOGLE_HOSTS) || (host !== 'docs.google.com' && host !== 'drive.google.com')) throw unsupportedUrl(`${host} is not a Google Drive or Docs host`);
    const fromPath = /^\/(?:document|spreadsheets|presentation|drawings|forms|file)\/(?:u\/\d+\/)?d\/([^/]+)/.exec(url.pathname)?.[1] ?? /^\/drive\/(?:u\/\d+\/)?folders\/([^/]+)/.exec(url.pathname)?.[1];
    const fileId = fromPath ?? (url.pathname === '/open' || url.pathname === '/uc' ? url.searchParams.get('id') : null);
    if (!fileId || !GOOGLE_FILE_ID.test(fileId)) throw unsupportedUrl('it names no Google Drive file');
    return { provider, fileId };
  }
  throw unsupportedUrl(`${provider} has no documents`);
}
