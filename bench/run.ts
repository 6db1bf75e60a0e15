// `npm run bench [-- auth documents storm]`: Tether's benchmarks. Each prints its figures with a
// baseline measured in the same run, on the same machine, so the numbers compare like with like.
//
// Each party is its own process: the provider sandbox (`npm run sandbox`), Tether (`tether serve`, on
// the embedded Postgres in a temporary data directory — or on DATABASE_URL when set), and this
// process as the client. Tether's CPU is read from /proc, so the client's work never counts.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../test/support/process.ts';
import { documentsBench, printDocuments } from './documents.ts';
import { startWorld, stopWorld } from './env.ts';
import { printStorm, refreshStormBench } from './refreshStorm.ts';
import { load, table } from './support.ts';

const ALL = ['auth', 'documents', 'storm'] as const;
const chosen = process.argv.slice(2).length > 0 ? process.argv.slice(2) : [...ALL];
for (const name of chosen) {
  if (!(ALL as readonly string[]).includes(name)) {
    console.error(`unknown benchmark ${name}; choose from ${ALL.join(', ')}`);
    process.exit(2);
  }
}
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const stormConnections = Number(process.env.BENCH_STORM_CONNECTIONS ?? 10_000);
const logLevel = process.env.BENCH_LOG_LEVEL ?? 'info';

const dir = mkdtempSync(join(tmpdir(), 'tether-bench-'));
// As root, the embedded Postgres runs as the `postgres` user, which must be able to pass through.
if (process.getuid?.() === 0) chmodSync(dir, 0o711);
const results: Record<string, unknown> = { at: new Date().toISOString(), machine: `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}`, node: process.version, seconds, logLevel };
const started = performance.now();
console.log(`Tether benchmarks on ${results.machine}, Node ${process.version}; Tether log level ${logLevel}, database: ${process.env.DATABASE_URL ? 'DATABASE_URL' : 'embedded Postgres'}`);
let world: Awaited<ReturnType<typeof startWorld>>;
try {
  world = await startWorld(dir, { logLevel });
} catch (err) {
  rmSync(dir, { recursive: true, force: true });
  throw err;
}
try {
  if (chosen.includes('auth')) {
    const connections = 32;
    console.log(`\nBenchmark 1: authenticated API read vs /healthz — ${connections} connections, ${seconds} s each, after a 2 s warm-up`);
    const url = world.tether.url;
    await load('warm-up', { url: `${url}/api/v1/me`, connections, seconds: 2, headers: world.member });
    const baseline = await load('GET /healthz (baseline)', { url: `${url}/healthz`, connections, seconds });
    const authed = await load('GET /api/v1/me (API key + Tether-User)', { url: `${url}/api/v1/me`, connections, seconds, headers: world.member });
    console.log(table([baseline, authed]));
    const ratio = authed.requestsPerSecond / baseline.requestsPerSecond;
    console.log(`  throughput ratio (authenticated / baseline): ${ratio.toFixed(3)}`);
    console.log(`  added median latency: ${(authed.p50Ms - baseline.p50Ms).toFixed(2)} ms, added p99: ${(authed.p99Ms - baseline.p99Ms).toFixed(2)} ms`);
    if (authed.non2xx + authed.errors + baseline.non2xx + baseline.errors > 0) throw new Error('some requests failed: the figures above are not valid');
    results.authRead = { connections, baseline, authed, ratio };
  }
  if (chosen.includes('documents')) {
    const listings = Number(process.env.BENCH_LISTINGS ?? 400);
    console.log(`\nBenchmark 2: listing a 200-item folder through Tether vs directly at the sandbox — same client (undici, JSON parsed), warm token cache; concurrency 1 (${listings} listings each, alternating blocks of 50) and 32 (${seconds} s each)`);
    const r = await documentsBench(world, { listings, seconds });
    printDocuments(r);
    results.documents = r;
  }
  if (chosen.includes('storm')) {
    console.log(`\nBenchmark 3: refresh storm — ${stormConnections} connections with expired access tokens, 100 concurrent callers, one API call (GET …/drives) each; then a cached-token call vs one that must decrypt`);
    const r = await refreshStormBench(world, dir, { connections: stormConnections, callers: 100, seconds });
    printStorm(r);
    results.storm = r;
  }
  mkdirSync(join(repoRoot, 'bench/results'), { recursive: true });
  const file = join(repoRoot, 'bench/results', `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(results, null, 2));
  console.log(`\nresults written to ${file} (${((performance.now() - started) / 1000).toFixed(0)} s in all)`);
} catch (err) {
  console.error(err);
  process.exitCode = 1;
} finally {
  await stopWorld(world);
  rmSync(dir, { recursive: true, force: true });
}
