// files.export for Docs Editors files.
// https://developers.google.com/workspace/drive/api/guides/ref-export-formats
import { bytes, type SbRequest, type SbResponse } from '../common/http.ts';
import { DRIVE, driveError } from './errors.ts';
import { findFile } from './files.ts';
import { CONTENT_SCOPES, hasScope, isGoogleApps, type DriveContext, type GCaller } from './model.ts';
import { EXPORT_FORMATS as FORMATS, PDF } from './formats.ts';
import type { GFile } from './store.ts';

function render(file: GFile, mime: string): Buffer {
  const text = `${file.name}\n\nSandbox export of a ${file.mimeType.split('.').pop()} (version ${file.version}).\n`;
  if (mime === 'text/plain') return Buffer.from(text);
  if (mime === 'text/csv') return Buffer.from(`title,version\n"${file.name.replace(/"/g, '""')}",${file.version}\n`);
  if (mime === PDF) {
    // A minimal, well-formed one-page PDF carrying the title.
    const esc = file.name.replace(/[()\\]/g, (c) => `\\${c}`);
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
  // Office Open XML formats: the sandbox does not build real OOXML packages; it returns a
  // placeholder body with the right type so download paths can be exercised end to end.
  return Buffer.from(`Sandbox ${mime} export of ${file.name}\n`);
}

/** GET /drive/v3/files/{id}/export?mimeType=… */
export function exportFile(ctx: DriveContext, req: SbRequest, caller: GCaller, id: string): SbResponse {
  if (!hasScope(caller, CONTENT_SCOPES)) return DRIVE.insufficientPermissions();
  const mime = req.query.get('mimeType');
  if (!mime) return DRIVE.required('mimeType');
  const file = findFile(ctx, req, caller, id);
  if ('status' in file) return file;
  if (!isGoogleApps(file) || !FORMATS[file.mimeType]) return driveError(403, { reason: 'fileNotExportable', message: 'Export only supports Docs Editors files.', location: 'fileId', locationType: 'parameter' });
  if (!FORMATS[file.mimeType]![mime]) return driveError(400, { reason: 'badRequest', message: 'The requested conversion is not supported.', location: 'convertTo', locationType: 'parameter' });
  return bytes(200, render(file, mime), mime);
}
