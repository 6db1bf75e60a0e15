// Whole-suite leak check: searches everything the test run's Tethers logged and answered (captured
// by test/support/capture.ts) for every secret the provider sandbox issued or received (its secret
// ledger: codes, access and refresh tokens, PKCE verifiers, client secrets). Used by scripts/test.js.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const PREFIX = 16;
const RUN = /[A-Za-z0-9._~+/-]{16,}/g;

/** @returns {{ secrets: number, bytes: number, files: number, leaks: Array<{ file: string, context: string }> }} */
export function leakCheck(dir) {
  const names = readdirSync(dir);
  const secrets = new Set();
  for (const name of names.filter((n) => n.endsWith('.secrets'))) {
    for (const line of readFileSync(join(dir, name), 'utf8').split('\n')) if (line.length >= PREFIX) secrets.add(line);
  }
  const byPrefix = new Map();
  for (const s of secrets) {
    const key = s.slice(0, PREFIX);
    byPrefix.set(key, [...(byPrefix.get(key) ?? []), s]);
  }
  const leaks = [];
  let bytes = 0;
  const captured = names.filter((n) => n.endsWith('.txt'));
  for (const name of captured) {
    const text = readFileSync(join(dir, name), 'utf8');
    bytes += text.length;
    for (const m of text.matchAll(RUN)) {
      const run = m[0];
      for (let i = 0; i + PREFIX <= run.length; i++) {
        const candidates = byPrefix.get(run.slice(i, i + PREFIX));
        if (!candidates) continue;
        for (const secret of candidates) {
          if (run.startsWith(secret, i)) {
            const at = m.index + i;
            let context = text.slice(Math.max(0, at - 300), at).replace(/\s+/g, ' ');
            for (const other of secrets) context = context.replaceAll(other, '«secret»');
            leaks.push({ file: name, context: `${context}«secret»` });
          }
        }
      }
    }
  }
  return { secrets: secrets.size, bytes, files: captured.length, leaks };
}
