// `npm run sandbox`: runs the provider sandbox standalone on loopback and prints its base URLs,
// pre-registered apps and seeded accounts (`-- --json` prints the same as one JSON object).
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startSandbox, type SandboxDescription } from './index.ts';

const USAGE = `Usage: npm run sandbox -- [--json] [--data-dir DIR] [--http] [--host HOST]
                        [--port-microsoft N] [--port-google N] [--port-webex N] [--port-admin N]

Runs faithful local emulators of Microsoft identity platform + Graph, Google OAuth + Drive v3 and
Webex until interrupted. HTTPS uses a local CA kept in DATA_DIR/tls/ca.pem (trust it with
NODE_EXTRA_CA_CERTS). Default ports: admin 4430, microsoft 4431, google 4432, webex 4433.`;

function port(v: string | undefined, def: number): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    console.error(`invalid port: ${v}`);
    process.exit(2);
  }
  return n;
}

function printHuman(d: SandboxDescription): void {
  const lines: string[] = [];
  lines.push(`Tether provider sandbox (${d.https ? 'HTTPS' : 'plain HTTP'})`);
  if (d.caCertPath) lines.push(`  CA certificate: ${d.caCertPath}`, `  Trust it with: NODE_EXTRA_CA_CERTS=${d.caCertPath}`);
  lines.push(`  Admin endpoint: ${d.adminUrl}/sandbox  (requests, faults, apps)`, '');
  for (const [id, p] of Object.entries(d.providers)) {
    lines.push(`${id}`);
    lines.push(`  base URL:        ${p.baseUrl}`);
    lines.push(`  API base URL:    ${p.apiBaseUrl}`);
    lines.push(`  issuer:          ${p.issuer}`);
    lines.push(`  authorization:   ${p.authorizationEndpoint}`);
    lines.push(`  token:           ${p.tokenEndpoint}`);
    if (p.revocationEndpoint) lines.push(`  revocation:      ${p.revocationEndpoint}`);
    lines.push(`  JWKS:            ${p.jwksUri}`);
    lines.push(`  discovery:       ${p.discoveryUrl}`);
    const tenants = (p as { tenants?: { id: string; domain: string }[] }).tenants;
    if (tenants) lines.push(`  tenants ({tenant}): common, organizations, ${tenants.map((t) => `${t.domain} = ${t.id}`).join(', ')}`);
    lines.push('  apps:');
    for (const a of p.apps) lines.push(`    ${a.name}: client_id=${a.clientId} client_secret=${a.clientSecret} redirect_uris=${a.redirectUris.join(' ')}`);
    lines.push('  accounts:');
    for (const a of p.accounts) lines.push(`    ${a.email.padEnd(34)} ${a.displayName.padEnd(18)} ${a.timeZone}`);
    lines.push('');
  }
  lines.push('Press Ctrl+C to stop.');
  console.log(lines.join('\n'));
}

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    'data-dir': { type: 'string' },
    http: { type: 'boolean', default: false },
    host: { type: 'string', default: '127.0.0.1' },
    'port-microsoft': { type: 'string' },
    'port-google': { type: 'string' },
    'port-webex': { type: 'string' },
    'port-admin': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

const sb = await startSandbox({
  dataDir: values['data-dir'] ?? process.env.TETHER_SANDBOX_DIR ?? join(process.cwd(), 'data', 'sandbox'),
  https: !values.http,
  host: values.host,
  ports: {
    admin: port(values['port-admin'], 4430),
    microsoft: port(values['port-microsoft'], 4431),
    google: port(values['port-google'], 4432),
    webex: port(values['port-webex'], 4433),
  },
});
if (values.json) console.log(JSON.stringify(sb.describe()));
else printHuman(sb.describe());

const stop = async () => {
  await sb.close();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
