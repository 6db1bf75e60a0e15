import type { Config } from './config/schema.ts';
import { openDatabase, readinessProblems, type OpenDatabase } from './database.ts';
import { buildServer, type RegisteredRoute } from './http/server.ts';
import type { App, Services } from './http/types.ts';
import { startQueue, type JobQueue } from './jobs/queue.ts';
import { createLogger, type Logger } from './logging.ts';
import { resolveOperatorToken } from './operatorToken.ts';
import { AccountsService } from './services/accounts.ts';
import { ApiKeysService } from './services/apiKeys.ts';
import { AuthService } from './services/auth.ts';

export interface Tether {
  app: App;
  url: string;
  routes: RegisteredRoute[];
  services: Services;
  operatorToken: { token: string; generated: boolean; file?: string };
  database: OpenDatabase;
  /** Graceful: stop taking requests, drain in-flight requests and jobs, then close the database. */
  close(): Promise<void>;
}

/** Boot order: config → database (+ migrations) → services → job queue → HTTP. */
export async function startTether(config: Config, options: { logger?: Logger } = {}): Promise<Tether> {
  const logger = options.logger ?? createLogger(config.log.level);
  const operatorToken = await resolveOperatorToken(config.operatorToken, config.dataDir);
  const database = await openDatabase(config, logger, { migrate: true });
  const { db, pool } = database;
  let queue: JobQueue | undefined;
  let app: App | undefined;
  try {
    const auth = new AuthService(db, {
      operatorToken: operatorToken.token,
      sessionTtlHours: config.sessions.ttlHours,
      loginMaxFailures: config.auth.loginMaxFailures,
      loginWindowMinutes: config.auth.loginWindowMinutes,
    });
    queue = await startQueue({ pool, logger, auth, concurrency: config.jobs.concurrency, enabled: config.jobs.enabled });
    const jobQueue = queue;
    const services: Services = {
      config,
      logger,
      db,
      auth,
      accounts: new AccountsService(db),
      apiKeys: new ApiKeysService(db),
      readiness: () => readinessProblems(db),
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
      close() {
        closing ??= (async () => {
          await Promise.all([server.close(), jobQueue.stop()]);
          await database.close();
        })();
        return closing;
      },
    };
  } catch (err) {
    await app?.close().catch(() => undefined);
    await queue?.stop().catch(() => undefined);
    await database.close().catch(() => undefined);
    throw err;
  }
}
