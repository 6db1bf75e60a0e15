// `npm run bench`: Tether's benchmarks. Each prints its figures and a ratio against a baseline
// measured in the same run, on the same machine, so the numbers compare like with like.
//
// Tether runs as its own process (as in production), on the embedded Postgres in a temporary data
// directory — or on DATABASE_URL when set. The load generator runs in this process.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, repoRoot, spawnTether } from '../test/support/process.ts';
import { HttpClient } from '../test/support/tether.ts';
import { load, table, type LoadResult } from './support.ts';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = 32;

const dataDir = mkdtempSync(join(tmpdir(), 'tether-bench-'));
const operatorToken = `bench_${'o'.repeat(40)}`;
const env: Record<string, string> = {
  TETHER_DATA_DIR: dataDir,
  TETHER_OPERATOR_TOKEN: operatorToken,
  TETHER_EMBEDDED_PG_PORT: String(await freePort()),
  // Per-request info logging is on in production; keep it on so the figure is honest.
  TETHER_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
  ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}),
};
const tether = await spawnTether(env);
// Keep the server's log output from growing in this process's memory.
tether.child.stdout!.removeAllListeners('data');
tether.child.stdout!.resume();

try {
  const http = new HttpClient(tether.url);
  const operator = { kind: 'operator', token: operatorToken } as const;
  const slug = `bench-${Date.now()}`;
  const org = await http.post('/api/v1/operator/orgs', { slug, name: 'Bench' }, operator);
  const admin = await http.post(`/api/v1/operator/orgs/${org.body.id}/admins`, { email: `admin@${slug}.test`, displayName: 'Bench admin', externalId: 'bench-admin' }, operator);
  const key = await http.post(`/api/v1/operator/orgs/${org.body.id}/api-keys`, { name: 'bench' }, operator);
  if (key.status !== 201 || admin.status !== 201) throw new Error(`setup failed: ${admin.text} ${key.text}`);
  const authHeaders = { authorization: `Bearer ${key.body.key}`, 'tether-user': 'bench-admin' };
  const check = await http.get('/api/v1/me', { kind: 'apiKey', key: key.body.key, user: 'bench-admin' });
  if (check.status !== 200) throw new Error(`authenticated read failed: ${check.text}`);

  console.log(`Benchmark 1: authenticated API read vs /healthz — ${connections} connections, ${seconds} s each, after a 2 s warm-up`);
  console.log(`  Tether: ${tether.url}, database: ${env.DATABASE_URL ? 'DATABASE_URL' : 'embedded Postgres'}, log level ${env.TETHER_LOG_LEVEL}`);
  await load('warm-up', { url: `${tether.url}/api/v1/me`, connections, seconds: 2, headers: authHeaders });
  const baseline = await load('GET /healthz (baseline)', { url: `${tether.url}/healthz`, connections, seconds });
  const authed = await load('GET /api/v1/me (API key + Tether-User)', { url: `${tether.url}/api/v1/me`, connections, seconds, headers: authHeaders });
  const rows: LoadResult[] = [baseline, authed];
  console.log(table(rows));
  const ratio = authed.requestsPerSecond / baseline.requestsPerSecond;
  console.log(`  throughput ratio (authenticated / baseline): ${ratio.toFixed(3)}`);
  console.log(`  added median latency: ${(authed.p50Ms - baseline.p50Ms).toFixed(2)} ms, added p99: ${(authed.p99Ms - baseline.p99Ms).toFixed(2)} ms`);
  if (authed.non2xx + authed.errors + baseline.non2xx + baseline.errors > 0) {
    console.error('  some requests failed: the figures above are not valid');
    process.exitCode = 1;
  }
  mkdirSync(join(repoRoot, 'bench/results'), { recursive: true });
  const file = join(repoRoot, 'bench/results', `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ at: new Date().toISOString(), connections, seconds, authRead: { baseline, authed, ratio } }, null, 2));
  console.log(`  results written to ${file}`);
} finally {
  tether.child.kill('SIGTERM');
  await tether.exited;
  rmSync(dataDir, { recursive: true, force: true });
}
