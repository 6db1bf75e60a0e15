import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { bootstrapIfEmpty } from '../bootstrap.ts';
import { provisionSandboxApps } from '../sandboxRuntime.ts';
import type { Config } from '../config/schema.ts';
import { openDatabase, type OpenDatabase } from '../database.ts';
import { email, name, password, role, slug, externalId } from '../http/schemas.ts';
import { createLogger } from '../logging.ts';
import { startTether } from '../main.ts';
import { randomToken } from '../security/tokens.ts';
import { AccountsService } from '../services/accounts.ts';
import { ApiKeysService } from '../services/apiKeys.ts';
import type { CallContext } from '../services/context.ts';
import { errors } from '../errors.ts';
import { queueRewrap } from '../jobs/queue.ts';
import { createKeyService, KeyManagement, localKeyring, type KeyStatus } from '../keys/index.ts';
import { createKeyServer } from '../keys/keyServer.ts';

interface Option {
  type: 'string' | 'boolean';
  description: string;
  required?: boolean;
}

export interface Command {
  name: string;
  summary: string;
  usage?: string;
  options: Record<string, Option>;
  run(values: Record<string, string | boolean | undefined>, config: Config): Promise<number>;
}

const json: Option = { type: 'boolean', description: 'Print the result as JSON' };
const org: Option = { type: 'string', description: 'The org, by slug', required: true };
/** The CLI acts as the operator; its audit events say so. */
const cli: CallContext = { principal: { kind: 'operator' }, requestId: null, ip: null };

/** Opens the database for one command; attaches to a running Tether's embedded Postgres if there is one. */
async function withDatabase<T>(config: Config, fn: (database: OpenDatabase) => Promise<T>): Promise<T> {
  const logger = createLogger(config.log.level === 'info' ? 'warn' : config.log.level);
  const database = await openDatabase(config, logger, { migrate: true, mode: 'attach-or-own', poolSize: 2 });
  try {
    return await fn(database);
  } finally {
    await database.close();
  }
}

function check<T>(schema: z.ZodType<T>, value: unknown, flag: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw errors.validation([{ in: 'option', path: flag, message: parsed.error.issues[0]?.message ?? 'invalid' }]);
  return parsed.data;
}

async function orgBySlug(accounts: AccountsService, value: unknown) {
  const found = await accounts.findOrgBySlug(check(slug, value, '--org'));
  if (!found) throw errors.notFound(`The org "${String(value)}"`);
  return found;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

function print(values: Record<string, unknown>, asJson: unknown, text: string): void {
  console.log(asJson ? JSON.stringify(values, null, 2) : text);
}

/** Key status and lifecycle against the configured key service (local keyring or remote). */
async function withKeys<T>(config: Config, fn: (keys: KeyManagement, database: OpenDatabase) => Promise<T>): Promise<T> {
  const { keys } = createKeyService(config);
  return withDatabase(config, (database) => fn(new KeyManagement(database.db, keys), database));
}

function statusText(status: KeyStatus): string {
  const lines = [`Key service: ${status.provider}; current KEK version ${status.current}`, '', 'version  state     created                   data keys  rows'];
  for (const v of status.versions) {
    const state = v.current ? 'current' : v.retiredAt ? 'retired' : v.createdAt ? 'active' : 'unknown';
    lines.push(`${String(v.version).padEnd(8)} ${state.padEnd(9)} ${(v.createdAt || '-').padEnd(25)} ${String(v.dataKeys).padEnd(10)} ${v.rows}`);
  }
  if (status.columns.length > 0) {
    lines.push('', 'Encrypted columns (rows per KEK version):');
    for (const c of status.columns) {
      const counts = Object.entries(c.rowsByVersion).map(([v, n]) => (v === '0' ? `no data key: ${n}` : `v${v}: ${n}`));
      lines.push(`  ${`${c.table}.${c.column}`.padEnd(34)} ${c.purpose.padEnd(15)} ${counts.join(', ') || 'no rows'}`);
    }
  }
  lines.push('', status.pendingRewrap === 0 ? 'All data keys are wrapped under the current version.' : `${status.pendingRewrap} data keys wait for the rewrap job.`);
  if (status.orphanedRows > 0) lines.push(`${status.orphanedRows} rows name no data key and cannot be decrypted.`);
  return lines.join('\n');
}

export const commands: Command[] = [
  {
    name: 'serve',
    summary: 'Run Tether: HTTP API, job workers and (without DATABASE_URL) the embedded Postgres',
    options: {},
    async run(_values, config) {
      const tether = await startTether(config);
      const admin = await bootstrapIfEmpty(tether.services.db, tether.services.accounts);
      if (admin && tether.sandbox) await provisionSandboxApps(tether.sandbox, tether.services.providerApps, admin.orgId);
      const lines = [
        '',
        `Tether is running at ${config.publicUrl}  (listening on ${tether.url})`,
        `  API docs:        ${config.publicUrl}/docs`,
        `  Database:        ${tether.database.embedded ? `embedded Postgres in ${config.dataDir}/postgres` : 'DATABASE_URL'}`,
      ];
      if (tether.operatorToken.generated) {
        lines.push(`  Operator token:  ${tether.operatorToken.token}`, `                   (shown once; kept in ${tether.operatorToken.file})`);
      } else {
        lines.push(`  Operator token:  ${tether.operatorToken.file ? `in ${tether.operatorToken.file}` : 'from TETHER_OPERATOR_TOKEN'}`);
      }
      if (admin) {
        lines.push(
          `  Sign in:         org "default", email ${admin.email}, password ${admin.password}  (shown once)`,
          `                   curl -c cookies.txt -H 'content-type: application/json' \\`,
          `                     -d '{"org":"default","email":"${admin.email}","password":"<password>"}' ${config.publicUrl}/api/v1/auth/login`,
        );
      } else {
        lines.push('  Sign in:         POST /api/v1/auth/login {org, email, password}; create users with "npx tether user create --help"');
      }
      if (tether.sandbox) {
        const sb = tether.sandbox;
        lines.push(
          `  Provider sandbox (TETHER_SANDBOX=${config.sandbox.mode}; local emulators of Microsoft, Google and Webex, HTTPS with a local CA):`,
          `                   Microsoft ${sb.microsoft.baseUrl}  Google ${sb.google.baseUrl}  Webex ${sb.webex.baseUrl}  admin ${sb.adminUrl}`,
          `                   sign in there as ${sb.microsoft.accounts[0]!.email}, ${sb.google.accounts[0]!.email} or ${sb.webex.accounts[0]!.email} (no password: pick the account)`,
          ...(admin ? ['                   the default org has one sandbox provider app per provider, ready to connect'] : []),
        );
      }
      console.log(`${lines.join('\n')}\n`);
      await new Promise<void>((resolve) => {
        let stopping = false;
        const stop = (signal: string) => {
          if (stopping) {
            tether.services.logger.warn({ signal }, 'second signal: exiting without waiting');
            process.exit(1);
          }
          stopping = true;
          tether.services.logger.info({ signal }, 'shutting down: draining requests and jobs');
          const timer = setTimeout(() => {
            tether.services.logger.error('shutdown timed out; exiting');
            process.exit(1);
          }, config.http.shutdownTimeoutMs);
          timer.unref();
          tether.close().then(resolve, (err: unknown) => {
            tether.services.logger.error({ err }, 'shutdown failed');
            process.exit(1);
          });
        };
        process.on('SIGINT', () => stop('SIGINT'));
        process.on('SIGTERM', () => stop('SIGTERM'));
      });
      return 0;
    },
  },
  {
    name: 'migrate',
    summary: 'Apply pending database migrations and exit',
    options: {},
    async run(_values, config) {
      await withDatabase(config, async () => undefined);
      console.log('Database migrations are current.');
      return 0;
    },
  },
  {
    name: 'keys serve',
    summary: 'Run the remote key service: its own keyring, served over signed HTTP to Tether instances',
    options: {},
    async run(_values, config) {
      if (!config.keys.remoteToken) {
        console.error('keys serve needs the shared secret in TETHER_KEYS_REMOTE_TOKEN (keys.remoteToken), at least 32 characters.');
        return 2;
      }
      const logger = createLogger(config.log.level).child({ component: 'key-service' });
      const keyring = localKeyring(config);
      if (keyring.init()) logger.info('keyring created (mode 0600)');
      const { serveTlsCertFile, serveTlsKeyFile } = config.keys;
      const tls = serveTlsCertFile && serveTlsKeyFile ? { cert: readFileSync(serveTlsCertFile, 'utf8'), key: readFileSync(serveTlsKeyFile, 'utf8') } : undefined;
      const server = createKeyServer(keyring, { secret: config.keys.remoteToken, logger, ...(tls && { tls }) });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.keys.servePort, config.keys.serveHost, () => resolve());
      });
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : config.keys.servePort;
      console.log(`Tether key service listening on ${tls ? 'https' : 'http'}://${config.keys.serveHost}:${port}`);
      await new Promise<void>((resolve) => {
        const stop = () => {
          server.close(() => resolve());
          // Tether keeps connections alive; let in-flight answers finish, then close the rest.
          server.closeIdleConnections();
          setTimeout(() => server.closeAllConnections(), 1000).unref();
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      return 0;
    },
  },
  {
    name: 'keys status',
    summary: 'Show the key-encryption key versions and how many data keys and rows use each',
    options: { json },
    run: (v, config) =>
      withKeys(config, async (keys) => {
        const status = await keys.status();
        print({ ...status }, v.json, statusText(status));
        return 0;
      }),
  },
  {
    name: 'keys rotate',
    summary: 'Add a key-encryption key version, make it current, and queue the rewrap of every data key',
    options: {
      wait: { type: 'boolean', description: 'Rewrap the data keys now, in this command, instead of leaving it to the job' },
      json,
    },
    run: (v, config) =>
      withKeys(config, async (keys, database) => {
        const added = await keys.rotate(cli);
        let rewrapped: number | undefined;
        if (v.wait) {
          const result = await keys.rewrapAll();
          if (result.failed.length > 0) throw errors.decryptionFailed(new Error(`data keys that do not unwrap: ${result.failed.join(', ')}`));
          rewrapped = result.rewrapped;
        } else {
          await queueRewrap(database.pool);
        }
        const text = `KEK version ${added.version} is now current. ${rewrapped === undefined ? 'The rewrap job is queued; follow it with "tether keys status".' : `Rewrapped ${rewrapped} data keys.`}`;
        print({ version: added, ...(rewrapped !== undefined && { rewrapped }) }, v.json, text);
        return 0;
      }),
  },
  {
    name: 'keys retire',
    summary: 'Retire a key-encryption key version (destroys it) once no data key or row uses it',
    options: { version: { type: 'string', description: 'The KEK version to retire', required: true }, json },
    run: (v, config) =>
      withKeys(config, async (keys) => {
        const version = check(z.coerce.number().int().min(1), v.version, '--version');
        const retired = await keys.retire(cli, version);
        print({ version: retired }, v.json, `KEK version ${retired.version} is retired; its key material is destroyed.`);
        return 0;
      }),
  },
  {
    name: 'org create',
    summary: 'Create an org',
    options: { slug: { type: 'string', description: 'Short id: lowercase letters, digits, dashes', required: true }, name: { type: 'string', description: 'Display name', required: true }, json },
    run: (v, config) =>
      withDatabase(config, async ({ db }) => {
        const created = await new AccountsService(db).createOrg(cli, { slug: check(slug, v.slug, '--slug'), name: check(name, v.name, '--name') });
        print({ id: created.id, slug: created.slug, name: created.name }, v.json, `Created org ${created.slug} (${created.id})`);
        return 0;
      }),
  },
  {
    name: 'org list',
    summary: 'List orgs',
    options: { json },
    run: (v, config) =>
      withDatabase(config, async ({ db }) => {
        const orgs = await new AccountsService(db).listOrgs();
        const items = orgs.map((o) => ({ id: o.id, slug: o.slug, name: o.name }));
        print({ items }, v.json, items.map((o) => `${o.slug}\t${o.id}\t${o.name}`).join('\n') || '(no orgs)');
        return 0;
      }),
  },
  {
    name: 'user create',
    summary: 'Create a user (an org admin with --role admin)',
    options: {
      org,
      email: { type: 'string', description: 'Email address', required: true },
      name: { type: 'string', description: 'Display name', required: true },
      role: { type: 'string', description: 'admin or member (default member)' },
      'external-id': { type: 'string', description: "The host app's id for this user" },
      'password-stdin': { type: 'boolean', description: 'Read the password from standard input (default: generate one and print it once)' },
      json,
    },
    run: (v, config) =>
      withDatabase(config, async ({ db }) => {
        const accounts = new AccountsService(db);
        const target = await orgBySlug(accounts, v.org);
        const generated = v['password-stdin'] ? undefined : randomToken(15);
        const secret = check(password, generated ?? (await readStdin()), '--password-stdin');
        const user = await accounts.createUser(cli, target.id, {
          email: check(email, v.email, '--email'),
          displayName: check(name, v.name, '--name'),
          role: check(role, v.role ?? 'member', '--role'),
          externalId: v['external-id'] === undefined ? undefined : check(externalId, v['external-id'], '--external-id'),
          password: secret,
        });
        const text = `Created ${user.role} ${user.email} (${user.id}) in org ${target.slug}${generated ? `\nPassword (shown once): ${generated}` : ''}`;
        print({ id: user.id, email: user.email, role: user.role, ...(generated && { password: generated }) }, v.json, text);
        return 0;
      }),
  },
  {
    name: 'api-key create',
    summary: 'Create an org API key (the key is printed once)',
    options: { org, name: { type: 'string', description: 'What the key is for, e.g. "CRM plugin"', required: true }, json },
    run: (v, config) =>
      withDatabase(config, async ({ db }) => {
        const target = await orgBySlug(new AccountsService(db), v.org);
        const { apiKey, key } = await new ApiKeysService(db).create(cli, target.id, check(name, v.name, '--name'));
        print({ id: apiKey.id, name: apiKey.name, prefix: apiKey.prefix, key }, v.json, `Created API key ${apiKey.name} (${apiKey.id})\nKey (shown once): ${key}`);
        return 0;
      }),
  },
  {
    name: 'api-key list',
    summary: "List an org's API keys",
    options: { org, json },
    run: (v, config) =>
      withDatabase(config, async ({ db }) => {
        const target = await orgBySlug(new AccountsService(db), v.org);
        const service = new ApiKeysService(db);
        const keys = [];
        for (let page = await service.list(target.id, { limit: 500 }); page.length > 0; page = await service.list(target.id, { limit: 500, after: page.at(-1)!.id })) {
          keys.push(...page);
        }
        const items = keys.map((k) => ({ id: k.id, name: k.name, prefix: k.prefix, lastUsedAt: k.last_used_at, revokedAt: k.revoked_at }));
        print({ items }, v.json, items.map((k) => `${k.id}\t${k.prefix}\t${k.name}${k.revokedAt ? '\t(revoked)' : ''}`).join('\n') || '(no keys)');
        return 0;
      }),
  },
  {
    name: 'api-key revoke',
    summary: 'Revoke an org API key',
    options: { org, id: { type: 'string', description: 'The key id', required: true }, json },
    run: (v, config) =>
      withDatabase(config, async ({ db }) => {
        const target = await orgBySlug(new AccountsService(db), v.org);
        const key = await new ApiKeysService(db).revoke(cli, target.id, check(z.uuid(), v.id, '--id'));
        print({ id: key.id, revokedAt: key.revoked_at }, v.json, `Revoked API key ${key.name} (${key.id})`);
        return 0;
      }),
  },
];
