// Export formats of Docs Editors files and the exportLinks Drive advertises for them.
// https://developers.google.com/workspace/drive/api/guides/ref-export-formats
import type { GFile } from './store.ts';

export const PDF = 'application/pdf';
export const EXPORT_FORMATS: Record<string, Record<string, string>> = {
  'application/vnd.google-apps.document': {
    [PDF]: 'pdf',
    'text/plain': 'txt',
    'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'docx',
  },
  'application/vnd.google-apps.spreadsheet': {
    [PDF]: 'pdf',
    'text/csv': 'csv',
    'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'xlsx',
  },
  'application/vnd.google-apps.presentation': {
    [PDF]: 'pdf',
    'text/plain': 'txt',
    'application/vnd.openxmlformats-officedocument.presentationml.presentation': 'pptx',
  },
  'application/vnd.google-apps.drawing': {
    [PDF]: 'pdf',
    'image/png': 'png',
  },
};

/** Drive's limit on exported content ("limited to 10 MB", files.export in the discovery document). */
export const EXPORT_LIMIT_BYTES = 10 * 1024 * 1024;

const FEED: Record<string, string> = {
  'application/vnd.google-apps.document': 'documents',
  'application/vnd.google-apps.spreadsheet': 'spreadsheets',
  'application/vnd.google-apps.presentation': 'presentations',
};

/** The `exportLinks` map Drive returns for Docs Editors files (absent for others). */
export function exportLinks(file: GFile): Record<string, string> | undefined {
  const formats = EXPORT_FORMATS[file.mimeType];
  if (!formats) return undefined;
  const out: Record<string, string> = {};
  for (const [mime, ext] of Object.entries(formats)) {
    out[mime] = FEED[file.mimeType] ? `https://docs.google.com/feeds/download/${FEED[file.mimeType]}/export/Export?id=${file.id}&exportFormat=${ext}` : `https://docs.google.com/drawings/d/${file.id}/export/${ext}`;
  }
  return out;
}

