#!/usr/bin/env node
// `npm test`: runs the whole suite with Node's test runner against a real Postgres — the embedded
// one (started here, in .test-data/) by default, or the server in DATABASE_URL when set. Each test
// file creates and drops its own database on that server, so files run in parallel.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  const projectNode = `${root}node_modules/node/bin/node`;
  const r = spawnSync(projectNode, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const files = process.argv.slice(2);
const patterns = files.length > 0 ? files : ['test/**/*.test.ts', 'src/**/*.test.ts'];
let stopEmbedded = async () => undefined;
let adminUrl = process.env.DATABASE_URL;
if (!adminUrl) {
  const { startEmbeddedPostgres } = await import('../src/db/embedded.ts');
  const { createLogger } = await import('../src/logging.ts');
  const dataDir = `${root}.test-data/run-${process.pid}`;
  mkdirSync(dataDir, { recursive: true });
  const embedded = await startEmbeddedPostgres({ dataDir, port: await freePort(), logger: createLogger('warn'), mode: 'own' });
  adminUrl = embedded.url;
  stopEmbedded = async () => {
    await embedded.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  console.log(`test database: embedded Postgres (${dataDir})`);
} else {
  console.log(`test database: ${adminUrl.replace(/\/\/[^@]*@/, '//')}`);
}

// Every secret the sandbox issues goes to a ledger, every log line and response of the run's Tethers
// to capture files, all in one directory; the leak check afterwards searches the second for the first.
const captureDir = `${root}.test-data/capture-${process.pid}`;
rmSync(captureDir, { recursive: true, force: true });
mkdirSync(captureDir, { recursive: true });

const child = spawn(
  process.execPath,
  ['--test', '--test-reporter=spec', `--test-concurrency=${process.env.TEST_CONCURRENCY ?? 2}`, '--test-timeout=300000', ...patterns],
  {
    stdio: 'inherit',
    env: { ...process.env, TETHER_TEST_DATABASE_URL: adminUrl, TETHER_TEST_CAPTURE_DIR: captureDir, TETHER_SANDBOX_SECRET_LEDGER: captureDir },
    cwd: root,
  },
);
const stop = () => child.kill('SIGTERM');
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
let code = await new Promise((resolve) => child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0))));
await stopEmbedded();

const { leakCheck } = await import('./leakCheck.js');
const check = leakCheck(captureDir);
const mib = (check.bytes / 1048576).toFixed(1);
if (files.length === 0 && code === 0 && (check.secrets < 100 || check.bytes < 1048576)) {
  console.error(`\nleak check FAILED: it would be vacuous (${check.secrets} secrets in the ledger, ${mib} MiB captured); is the capture wiring broken?`);
  code = 1;
} else if (check.leaks.length > 0) {
  console.error(`\nleak check FAILED: ${check.leaks.length} secret(s) the sandbox issued appear in Tether's logs or responses:`);
  for (const leak of check.leaks.slice(0, 20)) console.error(`  ${leak.file}: …${leak.context}`);
  code = code || 1;
} else {
  console.log(`\nleak check: ${check.secrets} secrets the sandbox issued or received (codes, tokens, PKCE verifiers, client secrets), none in ${mib} MiB of Tether log lines and responses (${check.files} files)`);
  rmSync(captureDir, { recursive: true, force: true });
}
process.exit(code);
