// Benchmark 3 (issue 4): a refresh storm — N connections whose access tokens have expired, each
// with a refresh token the sandbox accepts, called once each by 100 concurrent callers through
// Tether's HTTP API: the sandbox must count exactly N refreshes. Then an API call on a cached token
// against one that must decrypt the stored token (Tether with its token cache switched off).
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { request } from 'undici';
import { loadConfig } from '../src/config/load.ts';
import { createDb } from '../src/db/database.ts';
import { createKeyService, Vault } from '../src/keys/index.ts';
import { connectionsRepository } from '../src/repositories/connections.ts';
import { tokenContext } from '../src/services/connections.ts';
import type { TetherProcess } from '../test/support/process.ts';
import { logErrors, startTether, type BenchWorld } from './env.ts';
import { closedLoop, cpuMs, grid, median, percentile } from './support.ts';

export interface StormResult {
  connections: number;
  callers: number;
  seedSeconds: number;
  seconds: number;
  refreshesPerSecond: number;
  refreshesAtSandbox: number;
  failedTokenRequests: number;
  p50Ms: number;
  p99Ms: number;
  tetherCpuMsPerRefresh: number;
  exact: boolean;
  cachedVsDecrypt: {
    seconds: number;
    concurrency: number;
    rows: CallStats[];
    throughputRatio: number;
    cpuRatio: number;
  };
}

interface CallStats {
  label: string;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  cpuMsPerCall: number;
  requests: number;
}

/** Grants at the sandbox (admin API), then connection rows written with Tether's own repository and Vault: N sign-ins would take hours. */
async function seed(world: BenchWorld, n: number): Promise<string[]> {
  const config = loadConfig({ TETHER_DATA_DIR: world.dataDir, DATABASE_URL: world.databaseUrl, TETHER_OPERATOR_TOKEN: 'x'.repeat(32) });
  const { keys } = createKeyService(config);
  const { db } = createDb(world.databaseUrl, { max: 8, applicationName: 'tether-bench-seed' });
  try {
    const vault = new Vault(db, keys, { cacheTtlMs: 600_000 });
    const template = await connectionsRepository.findById(db, world.orgId, world.connectionId);
    if (!template) throw new Error('the connected connection is missing');
    const scopes = [...new Set(['openid', 'profile', 'offline_access', ...template.scopes])];
    const ids: string[] = [];
    const expired = new Date(Date.now() - 60_000);
    for (let offset = 0; offset < n; offset += 2000) {
      const count = Math.min(2000, n - offset);
      const { grants } = (await world.sb.admin('/sandbox/grants', { provider: 'microsoft', clientId: world.microsoftApp.clientId, user: world.account, scopes, count, accessTokenSeconds: 0 })) as {
        grants: { accessToken: string; refreshToken: string }[];
      };
      let next = 0;
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (next < grants.length) {
            const i = next++;
            const grant = grants[i]!;
            const id = randomUUID();
            const row = await connectionsRepository.insertIfAbsent(db, {
              id,
              org_id: world.orgId,
              provider_app_id: template.provider_app_id,
              owner_user_id: template.owner_user_id,
              name: `Storm ${offset + i}`,
              shared: false,
              group_ids: [],
              handle: null,
              account_issuer: template.account_issuer,
              account_tenant: template.account_tenant,
              // One account, many grants: the subject only has to be unique per connection.
              account_subject: `${template.account_subject}#storm-${offset + i}`,
              account_email: template.account_email,
              account_display_name: template.account_display_name,
              scopes: template.scopes,
              access_token: await vault.encryptField(tokenContext(world.orgId, id, 'access_token'), grant.accessToken),
              refresh_token: await vault.encryptField(tokenContext(world.orgId, id, 'refresh_token'), grant.refreshToken),
              access_token_expires_at: expired,
              refresh_token_expires_at: null,
              status: 'active',
              status_reason: null,
            });
            if (!row) throw new Error('seeding: a connection was not inserted');
            ids.push(id);
          }
        }),
      );
    }
    return ids;
  } finally {
    await db.destroy();
  }
}

export async function refreshStormBench(world: BenchWorld, dir: string, options: { connections: number; callers: number; seconds: number }): Promise<StormResult> {
  const { agent, tether, sb } = world;
  const t0 = performance.now();
  const ids = await seed(world, options.connections);
  const seedSeconds = (performance.now() - t0) / 1000;
  console.log(`  seeded ${ids.length} connections (grants at the sandbox, rows through Tether's repository and Vault) in ${seedSeconds.toFixed(1)} s`);

  // The storm: each caller takes the next connection; every call must refresh first.
  await call(world, 'DELETE', `${sb.description.adminUrl}/sandbox/requests`);
  const cpu0 = cpuMs(tether.child.pid!);
  let next = 0;
  const storm = await closedLoop({
    concurrency: options.callers,
    requests: ids.length,
    call: async () => {
      const id = ids[next++]!;
      const res = await request(`${tether.url}/api/v1/connections/${id}/drives`, { headers: world.member, dispatcher: agent });
      const body = (await res.body.json()) as { items?: unknown[] };
      if (res.statusCode !== 200 || !Array.isArray(body.items)) throw new Error(`drives on ${id}: ${res.statusCode} ${JSON.stringify(body).slice(0, 300)}`);
    },
  });
  const stormCpu = cpuMs(tether.child.pid!) - cpu0;
  if (storm.errors > 0) throw new Error(`${storm.errors} of ${ids.length} storm calls failed; first: ${storm.firstError}\n${logErrors(world.logFile).join('\n')}`);
  const log = (await sb.admin('/sandbox/requests?provider=microsoft')).requests as { method: string; path: string; status: number }[];
  const tokenRequests = log.filter((e) => e.method === 'POST' && /\/oauth2\/v2\.0\/token$/.test(e.path));
  const refreshes = tokenRequests.filter((e) => e.status === 200).length;

  // Cached token vs a token decrypted from its row on every call: two fresh Tether processes on the
  // same database and keyring, alike but for the token cache (and, third, with no data-key cache
  // either, so every call also unwraps the data key through the key service).
  const variants: Array<{ label: string; env: Record<string, string> }> = [
    { label: 'cached access token', env: {} },
    { label: 'decrypted from the row each call', env: { TETHER_TOKEN_CACHE_SIZE: '0' } },
    { label: 'decrypted, data key unwrapped each call', env: { TETHER_TOKEN_CACHE_SIZE: '0', TETHER_KEYS_CACHE_SECONDS: '0' } },
  ];
  const target = ids[0]!;
  const processes: TetherProcess[] = [];
  const rows: CallStats[] = [];
  try {
    for (const [i, v] of variants.entries()) {
      processes.push(
        await startTether(
          {
          ...world.env,
          DATABASE_URL: world.databaseUrl,
          TETHER_DATA_DIR: join(dir, `tether-${i}`),
          TETHER_KEYS_KEY_FILE: join(world.dataDir, 'keyring.json'),
          TETHER_JOBS_ENABLED: 'false',
          ...v.env,
          },
          join(dir, `tether-${i}.log`),
        ),
      );
    }
    const perVariant = variants.map(() => ({ latencies: [] as number[], elapsedMs: 0, cpu: 0 }));
    const listDrives = (p: TetherProcess) => async () => {
      const res = await request(`${p.url}/api/v1/connections/${target}/drives`, { headers: world.member, dispatcher: agent });
      await res.body.json();
      if (res.statusCode !== 200) throw new Error(`drives: ${res.statusCode}`);
    };
    for (const p of processes) await closedLoop({ concurrency: 8, seconds: 1, call: listDrives(p) });
    // Two alternating rounds of half the time each, so that load from elsewhere hits all alike.
    for (let round = 0; round < 2; round++) {
      for (const [i, p] of processes.entries()) {
        const c0 = cpuMs(p.child.pid!);
        const r = await closedLoop({ concurrency: 32, seconds: options.seconds / 2, call: listDrives(p) });
        if (r.errors > 0) throw new Error(`${variants[i]!.label}: ${r.errors} calls failed; first: ${r.firstError}`);
        perVariant[i]!.cpu += cpuMs(p.child.pid!) - c0;
        perVariant[i]!.latencies.push(...r.latencies);
        perVariant[i]!.elapsedMs += r.elapsedMs;
      }
    }
    for (const [i, v] of variants.entries()) {
      const m = perVariant[i]!;
      rows.push({ label: v.label, requests: m.latencies.length, requestsPerSecond: (m.latencies.length / m.elapsedMs) * 1000, p50Ms: median(m.latencies), p99Ms: percentile(m.latencies, 99), cpuMsPerCall: m.cpu / m.latencies.length });
    }
  } finally {
    for (const p of processes) {
      p.child.kill('SIGTERM');
      await p.exited;
    }
  }
  return {
    connections: ids.length,
    callers: options.callers,
    seedSeconds,
    seconds: storm.elapsedMs / 1000,
    refreshesPerSecond: (refreshes / storm.elapsedMs) * 1000,
    refreshesAtSandbox: refreshes,
    failedTokenRequests: tokenRequests.length - refreshes,
    p50Ms: median(storm.latencies),
    p99Ms: percentile(storm.latencies, 99),
    tetherCpuMsPerRefresh: stormCpu / ids.length,
    exact: refreshes === ids.length && tokenRequests.length === ids.length,
    cachedVsDecrypt: {
      seconds: options.seconds,
      concurrency: 32,
      rows,
      throughputRatio: rows[0]!.requestsPerSecond / rows[1]!.requestsPerSecond,
      cpuRatio: rows[1]!.cpuMsPerCall / rows[0]!.cpuMsPerCall,
    },
  };
}

async function call(world: BenchWorld, method: string, url: string): Promise<void> {
  const res = await world.sb.fetch(url, { method });
  await res.arrayBuffer();
  if (res.status >= 300) throw new Error(`${method} ${url}: ${res.status}`);
}

export function printStorm(r: StormResult): void {
  const f = (n: number, d = 2) => n.toFixed(d);
  console.log(`  storm: ${r.connections} calls by ${r.callers} callers in ${f(r.seconds, 1)} s → ${f(r.refreshesPerSecond, 0)} refreshes/s; call latency p50 ${f(r.p50Ms, 1)} ms, p99 ${f(r.p99Ms, 1)} ms; Tether CPU ${f(r.tetherCpuMsPerRefresh)} ms per refreshed call`);
  console.log(`  refresh_token grants counted at the sandbox: ${r.refreshesAtSandbox} (failed token requests: ${r.failedTokenRequests}) — ${r.exact ? `exactly ${r.connections}: PASS` : `expected exactly ${r.connections}: MISS`}`);
  const c = r.cachedVsDecrypt;
  console.log(`  cached token vs decrypt, GET …/drives on one connection, concurrency ${c.concurrency}, ${c.seconds} s each (two alternating rounds):`);
  console.log(
    grid(
      ['', 'req/s', 'p50 ms', 'p99 ms', 'requests', 'Tether CPU ms/call'],
      c.rows.map((row) => [row.label, f(row.requestsPerSecond, 0), f(row.p50Ms), f(row.p99Ms), String(row.requests), f(row.cpuMsPerCall, 3)]),
    ),
  );
  console.log(`  throughput ratio (cached / decrypting): ${f(c.throughputRatio, 3)}; CPU ratio (decrypting / cached): ${f(c.cpuRatio, 3)}`);
}
