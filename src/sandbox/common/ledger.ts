import { appendFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The secret ledger, for leak tests: when `TETHER_SANDBOX_SECRET_LEDGER` names a directory, every
 * secret the sandbox issues or receives (authorization codes, access and refresh tokens, PKCE
 * verifiers, client secrets) is appended to `sandbox-<pid>.secrets` there, one per line, so a test
 * run can search everything Tether logged and answered for any of them (scripts/test.js does).
 * Off unless the variable is set; never use it with real credentials.
 */
export function recordSecret(value: string | null | undefined): void {
  const dir = process.env.TETHER_SANDBOX_SECRET_LEDGER;
  if (!dir || !value) return;
  appendFileSync(join(dir, `sandbox-${process.pid}.secrets`), `${value}\n`);
}
