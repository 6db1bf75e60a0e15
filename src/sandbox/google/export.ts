// files.export for Docs Editors files.
// https://developers.google.com/workspace/drive/api/guides/ref-export-formats
import { bytes, type SbRequest, type SbResponse } from '../common/http.ts';
import { DRIVE, driveError } from './errors.ts';
import { findFile } from './files.ts';
import { CONTENT_SCOPES, hasScope, isGoogleApps, type DriveContext, type GCaller } from './model.ts';
import { gradientPng } from '../common/png.ts';
import { EXPORT_FORMATS as FORMATS, EXPORT_LIMIT_BYTES, PDF } from './formats.ts';
import { DOCX, docx, PPTX, pptx, XLSX, xlsx } from './ooxml.ts';
import type { GFile } from './store.ts';

const KIND: Record<string, string> = {
  'application/vnd.google-apps.document': 'document',
  'application/vnd.google-apps.spreadsheet': 'spreadsheet',
  'application/vnd.google-apps.presentation': 'presentation',
  'application/vnd.google-apps.drawing': 'drawing',
};

/** The file's text: its own, or the title and a line naming the kind and version. */
function textOf(file: GFile): string {
  if (file.text !== undefined) return file.text;
  if (file.mimeType === 'application/vnd.google-apps.spreadsheet') return `title\tversion\n${file.name}\t${file.version}`;
  return `${file.name}\n\nSandbox export of a ${KIND[file.mimeType] ?? file.mimeType.split('.').pop()} (version ${file.version}).`;
}

function csvCell(value: string): string {
  return /[",\r\n]/.test(value) || value === '' ? `"${value.replace(/"/g, '""')}"` : value;
}

function pdf(title: string): Buffer {
  // A minimal, well-formed one-page PDF carrying the title.
  const esc = title.replace(/[()\\]/g, (c) => `\\${c}`);
  const stream = `BT /F1 18 Tf 72 720 Td (${esc}) Tj ET`;
  const objs = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  objs.forEach((o, i) => {
    offsets.push(Buffer.byteLength(out));
    out += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = Buffer.byteLength(out);
  out += `xref\n0 ${objs.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  out += `trailer\n<< /Size ${objs.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

function render(file: GFile, mime: string): Buffer {
  const text = textOf(file);
  const lines = text.split(/\r?\n/);
  const modified = new Date(file.modifiedTime);
  switch (mime) {
    case 'text/plain':
      return Buffer.from(`${text}\n`);
    case 'text/csv':
      return Buffer.from(`${lines.map((l) => l.split('\t').map(csvCell).join(',')).join('\n')}\n`);
    case PDF:
      return pdf(file.name);
    case 'image/png':
      return gradientPng(816, 1056, file.id.charCodeAt(1));
    case DOCX:
      return docx(lines, modified);
    case XLSX:
      return xlsx(lines.map((l) => l.split('\t')), modified);
    case PPTX: {
      // Slide 1: the title, then the text (without a first line that repeats the title).
      const body = lines[0] === file.name ? lines.slice(1) : lines;
      return pptx(file.name, body.length > 0 && body[0] === '' ? body.slice(1) : body, modified);
    }
    default:
      throw new Error(`no renderer for ${mime}`);
  }
}

/** GET /drive/v3/files/{id}/export?mimeType=… */
export function exportFile(ctx: DriveContext, req: SbRequest, caller: GCaller, id: string): SbResponse {
  if (!hasScope(caller, CONTENT_SCOPES)) return DRIVE.insufficientPermissions();
  const mime = req.query.get('mimeType');
  if (!mime) return DRIVE.required('mimeType');
  // files.export has no supportsAllDrives parameter (discovery: fileId and mimeType only).
  const file = findFile(ctx, req, caller, id, { allDrives: true });
  if ('status' in file) return file;
  if (!isGoogleApps(file) || !FORMATS[file.mimeType]) return driveError(403, { reason: 'fileNotExportable', message: 'Export only supports Docs Editors files.', location: 'fileId', locationType: 'parameter' });
  if (!FORMATS[file.mimeType]![mime]) return driveError(400, { reason: 'badRequest', message: 'The requested conversion is not supported.', location: 'convertTo', locationType: 'parameter' });
  const body = render(file, mime);
  if (body.length > EXPORT_LIMIT_BYTES) return driveError(403, { reason: 'exportSizeLimitExceeded', message: 'This file is too large to be exported.' });
  return bytes(200, body, mime);
}
