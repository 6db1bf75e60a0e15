import { appendFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Whole-suite leak check, test side: when `npm test` sets TETHER_TEST_CAPTURE_DIR, every log line a
 * test's Tether writes and every response Tether gives a test client is appended to files there.
 * After the run, scripts/test.js searches them for every secret the sandbox issued or received
 * (its secret ledger, TETHER_SANDBOX_SECRET_LEDGER) and fails the run on any hit.
 */
export function capture(kind: 'log' | 'response', text: string): void {
  const dir = process.env.TETHER_TEST_CAPTURE_DIR;
  if (!dir) return;
  appendFileSync(join(dir, `${kind}-${process.pid}.txt`), text.endsWith('\n') ? text : `${text}\n`);
}

/** A response as the leak check sees it: status line, headers and body. */
export function captureResponse(method: string, url: string, res: { status: number; headers: Headers }, body: string): void {
  if (!process.env.TETHER_TEST_CAPTURE_DIR) return;
  const path = url.replace(/\?.*$/, '');
  capture('response', `${method} ${path} -> ${res.status}\n${[...res.headers].map(([k, v]) => `${k}: ${v}`).join('\n')}\n\n${body}\n`);
}
