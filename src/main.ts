import type { Config } from './config/schema.ts';
import { openDatabase, readinessProblems, type OpenDatabase } from './database.ts';
import { buildServer, type RegisteredRoute } from './http/server.ts';
import type { App, Services } from './http/types.ts';
import { queueRewrap, startQueue, type JobQueue } from './jobs/queue.ts';
import { createKeyService, KeyManagement, Vault, type KeyService } from './keys/index.ts';
import { dataKeysRepository } from './repositories/dataKeys.ts';
import { createLogger, type Logger } from './logging.ts';
import { resolveOperatorToken } from './operatorToken.ts';
import { EndpointProfiles } from './providers/profiles.ts';
import type { Sandbox } from './sandbox/index.ts';
import { attachSandbox, startEmbeddedSandbox } from './sandboxRuntime.ts';
import { AccountsService } from './services/accounts.ts';
import { ProviderAppsService } from './services/providerApps.ts';
import { ProviderAppSetup } from './services/providerAppSetup.ts';
import { ConnectService } from './services/connect.ts';
import { ConnectionsService } from './services/connections.ts';
import { DocumentsService } from './services/documents.ts';
import { configureTransferReclaim } from './documents/reclaim.ts';
import { ProxyService } from './services/proxy.ts';
import { TokenCustody } from './services/tokenCustody.ts';
import { OAuthClients } from './services/oauthClients.ts';
import { createOutboundFetch, readCaFile } from './outbound/fetch.ts';
import { WebhookDeliverer } from './services/webhookDelivery.ts';
import { WebhooksService } from './services/webhooks.ts';
import { ApiKeysService } from './services/apiKeys.ts';
import { AuthService } from './services/auth.ts';

export interface Tether {
  app: App;
  url: string;
  routes: RegisteredRoute[];
  services: Services;
  operatorToken: { token: string; generated: boolean; file?: string };
  database: OpenDatabase;
  /** The provider sandbox, when this instance runs it (TETHER_SANDBOX). */
  sandbox: Sandbox | undefined;
  /** Graceful: stop taking requests, drain in-flight requests and jobs, then close the database. */
  close(): Promise<void>;
}

/** Boot order: config → key service → database (+ migrations) → services → job queue → HTTP. */
export async function startTether(config: Config, options: { logger?: Logger } = {}): Promise<Tether> {
  const logger = options.logger ?? createLogger(config.log.level);
  const operatorToken = await resolveOperatorToken(config.operatorToken, config.dataDir);
  // Before the database: a local keyring that cannot be read or created stops the start here.
  const { keys, keyFileCreated } = createKeyService(config);
  if (keyFileCreated) logger.info({ keyFile: config.keys.keyFile ?? `${config.dataDir}/keyring.json` }, 'local keyring created (mode 0600); back it up apart from the database');
  const database = await openDatabase(config, logger, { migrate: true });
  const { db, pool } = database;
  let queue: JobQueue | undefined;
  let app: App | undefined;
  let outbound: ReturnType<typeof createOutboundFetch> | undefined;
  let sandbox: Sandbox | undefined;
  try {
    const auth = new AuthService(db, {
      operatorToken: operatorToken.token,
      sessionTtlHours: config.sessions.ttlHours,
      loginMaxFailures: config.auth.loginMaxFailures,
      loginWindowMinutes: config.auth.loginWindowMinutes,
    }, pool);
    const keyManagement = new KeyManagement(db, keys, { logger: logger.child({ component: 'keys' }) });
    const vault = new Vault(db, keys, { cacheTtlMs: config.keys.dataKeyCacheSeconds * 1000, logger: logger.child({ component: 'vault' }) });
    const webhookDeliverer = new WebhookDeliverer(db, vault, config.webhooks, logger.child({ component: 'webhooks' }));
    const profiles = new EndpointProfiles(config.profiles);
    const providerApps = new ProviderAppsService(db, vault, profiles, config.publicUrl, config.connect.redirectUris);
    sandbox = await startEmbeddedSandbox(config, db, logger.child({ component: 'sandbox' }));
    if (sandbox) await attachSandbox(sandbox, profiles, providerApps, db);
    // Calls to providers: TLS always verified, against the system roots plus outbound.extraCaFile.
    outbound = createOutboundFetch({ extraCaPem: [...readCaFile(config.outbound.extraCaFile), ...(sandbox?.caCertPem ? [sandbox.caCertPem] : [])] });
    const clients = new OAuthClients(profiles, providerApps, outbound.fetch);
    const webhooks = new WebhooksService(db, vault, config.webhooks);
    const connections = new ConnectionsService({ db, vault, clients, webhooks, logger: logger.child({ component: 'connections' }) });
    const custody = new TokenCustody({ db, vault, clients, webhooks, logger: logger.child({ component: 'tokens' }), refreshMarginSeconds: config.tokens.refreshMarginSeconds, maxCached: config.tokens.cacheSize });
    configureTransferReclaim(config.documents.reclaimEveryMiB * 1024 * 1024);
    // How every call made on a connection's behalf goes out (documents, proxy, provider-app checks).
    const providerCalls = { custody, profiles, fetch: outbound.fetch, request: outbound.request, retry: { maxWaitSeconds: config.documents.maxWaitSeconds, maxAttempts: 4 } };
    const documents = new DocumentsService({ connections, ...providerCalls });
    const proxy = new ProxyService({ connections, ...providerCalls, limits: config.proxy, publicUrl: config.publicUrl });
    const connect = new ConnectService({ db, vault, clients, connections, publicUrl: config.publicUrl, allowedReturnOrigins: config.connect.allowedReturnOrigins, logger: logger.child({ component: 'connect' }) });
    const providerAppSetup = new ProviderAppSetup({ db, vault, connect, ...providerCalls, logger: logger.child({ component: 'provider-apps' }) });
    // Workers start once every service their tasks use exists.
    queue = await startQueue({ pool, logger, auth, keys: keyManagement, webhookDeliverer, custody, concurrency: config.jobs.concurrency, enabled: config.jobs.enabled });
    const jobQueue = queue;
    await queueRewrapIfNeeded(database, keys, logger);
    const services: Services = {
      config,
      logger,
      db,
      auth,
      accounts: new AccountsService(db),
      apiKeys: new ApiKeysService(db),
      keys,
      keyManagement,
      vault,
      profiles,
      providerApps,
      connections,
      custody,
      documents,
      proxy,
      connect,
      providerAppSetup,
      webhooks,
      readiness: async () => [...(await readinessProblems(db)), ...(await keyServiceProblems(keys))],
      queueDepth: () => jobQueue.depth(),
    };
    const built = await buildServer(services);
    app = built.app;
    const address = await app.listen({ port: config.port, host: config.host });
    const url = new URL(address);
    const server = app;
    let closing: Promise<void> | undefined;
    return {
      app: server,
      url: `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${url.port}`,
      routes: built.routes,
      services,
      operatorToken,
      database,
      sandbox,
      close() {
        closing ??= (async () => {
          await Promise.all([server.close(), jobQueue.stop()]);
          await outbound?.close();
          await sandbox?.close();
          await webhookDeliverer.close();
          await database.close();
        })();
        return closing;
      },
    };
  } catch (err) {
    await app?.close().catch(() => undefined);
    await queue?.stop().catch(() => undefined);
    await database.close().catch(() => undefined);
    await outbound?.close().catch(() => undefined);
    await sandbox?.close().catch(() => undefined);
    throw err;
  }
}

async function keyServiceProblems(keys: KeyService): Promise<string[]> {
  try {
    await keys.check();
    return [];
  } catch (err) {
    return [`key service (${keys.kind}) unavailable: ${(err as Error).message}`];
  }
}

/** A rotation made while no instance ran workers (or keys changed in config) still gets its rewrap. */
async function queueRewrapIfNeeded(database: OpenDatabase, keys: KeyService, logger: Logger): Promise<void> {
  try {
    const current = await keys.currentVersion();
    const counts = await dataKeysRepository.countByKekVersion(database.db);
    if ([...counts.keys()].some((v) => v !== current)) await queueRewrap(database.pool);
  } catch (err) {
    // A remote key service that is down at start is reported by /readyz; the hourly job catches up.
    logger.warn({ err }, 'could not check whether data keys need rewrapping');
  }
}
