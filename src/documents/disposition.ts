/**
 * `Content-Disposition: attachment` with the file name (RFC 6266): an ASCII `filename` fallback
 * (anything outside printable ASCII, quotes and backslashes become `_`) and the exact name as
 * `filename*` (RFC 8187, UTF-8, percent-encoded).
 */
export function attachment(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}
