// Benchmark 2 (issue 5): listing a 200-item folder through Tether against calling the sandbox
// directly, with the same HTTP client (undici, parsing the JSON in both cases), warm token cache.
import { request } from 'undici';
import { call, directAccessToken, type BenchWorld } from './env.ts';
import { childrenCpuMs, closedLoop, cpuMs, cpuSplitMs, grid, median, percentile, verdict, type LoopResult } from './support.ts';

const FOLDER_SIZE = 200;
const TARGET_ADDED_MEDIAN_MS = 2;
const TARGET_CPU_PER_LISTING_MS = 2;

export interface DocumentsResult {
  folderSize: number;
  /** The listing's size as JSON: the provider's answer and Tether's. */
  bytes: { upstream: number; tether: number };
  concurrency1: { requests: number; direct: Stats; tether: Stats; addedMedianMs: number; tetherCpuMsPerListing: number; tetherSystemCpuMsPerListing: number; sandboxCpuMsPerListing: { direct: number; tether: number }; databaseCpuMsPerListing: number | null };
  concurrency32: { seconds: number; direct: Stats; tether: Stats; throughputRatio: number; tetherCpuMsPerListing: number };
  targets: { addedMedianMs: number; cpuMsPerListing: number; addedMedian: string; cpu: string };
}

interface Stats {
  requests: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

function stats(r: LoopResult): Stats {
  return { requests: r.latencies.length, requestsPerSecond: (r.latencies.length / r.elapsedMs) * 1000, p50Ms: median(r.latencies), p99Ms: percentile(r.latencies, 99), errors: r.errors };
}

export async function documentsBench(world: BenchWorld, options: { listings: number; seconds: number }): Promise<DocumentsResult> {
  const { agent, tether, sb } = world;
  const base = `${tether.url}/api/v1/connections/${world.connectionId}`;
  const auth = world.member;

  // A folder of 200 small files, made through Tether's own API (folder create + uploads).
  const folderName = `Bench ${FOLDER_SIZE} ${Date.now()}`;
  const folder = await call(agent, 'POST', `${base}/items`, { headers: auth, body: { kind: 'folder', name: folderName } });
  if (folder.status !== 201) throw new Error(`create folder: ${folder.status} ${JSON.stringify(folder.body)}`);
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < FOLDER_SIZE) {
        const i = next++;
        const name = `report-${String(i).padStart(3, '0')}.txt`;
        const res = await call(agent, 'POST', `${base}/items?parent=${encodeURIComponent(folder.body.id)}&name=${name}`, { headers: { ...auth, 'content-type': 'text/plain' }, raw: `Quarterly figures, part ${i}\n`.repeat(1 + (i % 7)) });
        if (res.status !== 201) throw new Error(`upload ${name}: ${res.status} ${JSON.stringify(res.body)}`);
      }
    }),
  );

  const tetherUrl = `${base}/items?parent=${encodeURIComponent(folder.body.id)}&limit=${FOLDER_SIZE}`;
  // The direct call is exactly the request Tether sends upstream for this listing (read back from
  // the sandbox's request log), with the client's own token for the same account.
  const mark = (await sb.admin('/sandbox/requests?provider=microsoft')).requests.at(-1)?.seq ?? 0;
  const viaTether = await call(agent, 'GET', tetherUrl, { headers: auth });
  if (viaTether.status !== 200 || viaTether.body.items.length !== FOLDER_SIZE) throw new Error(`listing through Tether: ${viaTether.status}, ${viaTether.body.items?.length} items`);
  const upstream = (await sb.admin(`/sandbox/requests?provider=microsoft&since=${mark}`)).requests.filter((e: { path: string }) => e.path.includes('/children'));
  if (upstream.length !== 1) throw new Error(`expected one upstream listing, saw ${upstream.length}`);
  const directUrl = `${sb.description.providers.microsoft.baseUrl}${upstream[0].path}`;
  const directHeaders = { authorization: `Bearer ${await directAccessToken(world)}` };
  const direct = await call(agent, 'GET', directUrl, { headers: directHeaders });
  if (direct.status !== 200 || direct.body.value.length !== FOLDER_SIZE) throw new Error(`direct listing: ${direct.status}`);
  const bytes = { upstream: Buffer.byteLength(JSON.stringify(direct.body)), tether: Buffer.byteLength(JSON.stringify(viaTether.body)) };
  const names = (items: { name: string }[]) => items.map((i) => i.name).sort().join('/');
  if (names(direct.body.value) !== names(viaTether.body.items)) throw new Error('direct and Tether listings differ');

  const listDirect = async () => {
    const res = await request(directUrl, { headers: directHeaders, dispatcher: agent });
    const body = (await res.body.json()) as { value: unknown[] };
    if (res.statusCode !== 200 || body.value.length !== FOLDER_SIZE) throw new Error(`direct: ${res.statusCode}`);
  };
  const listTether = async () => {
    const res = await request(tetherUrl, { headers: auth, dispatcher: agent });
    const body = (await res.body.json()) as { items: unknown[] };
    if (res.statusCode !== 200 || body.items.length !== FOLDER_SIZE) throw new Error(`tether: ${res.statusCode}`);
  };

  // Warm-up: JIT, connection pools, the token cache, the data-key cache.
  await closedLoop({ concurrency: 1, requests: 100, call: listDirect });
  await closedLoop({ concurrency: 1, requests: 100, call: listTether });
  await closedLoop({ concurrency: 8, seconds: 1, call: listTether });

  // Concurrency 1, alternating blocks so that load from elsewhere on the machine hits both alike.
  const block = 50;
  const c1 = { direct: [] as number[], tether: [] as number[], directErrors: 0, tetherErrors: 0, directMs: 0, tetherMs: 0, tetherCpu: 0, tetherSystem: 0, sbCpuDirect: 0, sbCpuTether: 0, dbCpu: 0 };
  // The embedded Postgres's CPU (postmaster and backends), when Tether runs it.
  const postmaster = world.postmasterPid();
  const dbCpu = () => (postmaster === undefined ? 0 : childrenCpuMs(postmaster));
  for (let done = 0; done < options.listings; done += block) {
    const n = Math.min(block, options.listings - done);
    let sb0 = cpuMs(sb.child.pid!);
    const d = await closedLoop({ concurrency: 1, requests: n, call: listDirect });
    c1.sbCpuDirect += cpuMs(sb.child.pid!) - sb0;
    c1.direct.push(...d.latencies);
    c1.directErrors += d.errors;
    const cpu0 = cpuSplitMs(tether.child.pid!);
    const db0 = dbCpu();
    sb0 = cpuMs(sb.child.pid!);
    const t = await closedLoop({ concurrency: 1, requests: n, call: listTether });
    const cpu1 = cpuSplitMs(tether.child.pid!);
    c1.tetherCpu += cpu1.user + cpu1.system - cpu0.user - cpu0.system;
    c1.tetherSystem += cpu1.system - cpu0.system;
    c1.dbCpu += dbCpu() - db0;
    c1.sbCpuTether += cpuMs(sb.child.pid!) - sb0;
    c1.tether.push(...t.latencies);
    c1.tetherErrors += t.errors;
  }
  const s1 = {
    direct: { ...stats({ latencies: c1.direct, elapsedMs: c1.direct.reduce((a, b) => a + b, 0), errors: c1.directErrors }) },
    tether: { ...stats({ latencies: c1.tether, elapsedMs: c1.tether.reduce((a, b) => a + b, 0), errors: c1.tetherErrors }) },
  };

  // Concurrency 32, for a fixed time each.
  const d32 = await closedLoop({ concurrency: 32, seconds: options.seconds, call: listDirect });
  const cpu0 = cpuMs(tether.child.pid!);
  const t32 = await closedLoop({ concurrency: 32, seconds: options.seconds, call: listTether });
  const cpu32 = cpuMs(tether.child.pid!) - cpu0;
  const s32 = { direct: stats(d32), tether: stats(t32) };

  const result: DocumentsResult = {
    folderSize: FOLDER_SIZE,
    bytes,
    concurrency1: {
      requests: c1.tether.length,
      ...s1,
      addedMedianMs: s1.tether.p50Ms - s1.direct.p50Ms,
      tetherCpuMsPerListing: c1.tetherCpu / c1.tether.length,
      tetherSystemCpuMsPerListing: c1.tetherSystem / c1.tether.length,
      sandboxCpuMsPerListing: { direct: c1.sbCpuDirect / c1.direct.length, tether: c1.sbCpuTether / c1.tether.length },
      databaseCpuMsPerListing: postmaster === undefined ? null : c1.dbCpu / c1.tether.length,
    },
    concurrency32: {
      seconds: options.seconds,
      ...s32,
      throughputRatio: s32.tether.requestsPerSecond / s32.direct.requestsPerSecond,
      tetherCpuMsPerListing: cpu32 / t32.latencies.length,
    },
    targets: { addedMedianMs: TARGET_ADDED_MEDIAN_MS, cpuMsPerListing: TARGET_CPU_PER_LISTING_MS, addedMedian: '', cpu: '' },
  };
  result.targets.addedMedian = verdict(result.concurrency1.addedMedianMs, TARGET_ADDED_MEDIAN_MS);
  result.targets.cpu = verdict(result.concurrency1.tetherCpuMsPerListing, TARGET_CPU_PER_LISTING_MS);
  if (d32.errors + t32.errors + c1.directErrors + c1.tetherErrors > 0) {
    throw new Error(`listing requests failed: ${d32.firstError ?? t32.firstError ?? ''} (${d32.errors + t32.errors + c1.directErrors + c1.tetherErrors} errors): the figures are not valid`);
  }
  return result;
}

export function printDocuments(r: DocumentsResult): void {
  const f = (n: number, d = 2) => n.toFixed(d);
  const c1 = r.concurrency1;
  const c32 = r.concurrency32;
  console.log(
    grid(
      ['', 'req/s', 'p50 ms', 'p99 ms', 'requests', 'Tether CPU ms/listing'],
      [
        [`concurrency 1, direct to the sandbox`, f(c1.direct.requestsPerSecond, 0), f(c1.direct.p50Ms), f(c1.direct.p99Ms), String(c1.direct.requests), '—'],
        [`concurrency 1, through Tether`, f(c1.tether.requestsPerSecond, 0), f(c1.tether.p50Ms), f(c1.tether.p99Ms), String(c1.tether.requests), f(c1.tetherCpuMsPerListing)],
        [`concurrency 32, direct to the sandbox`, f(c32.direct.requestsPerSecond, 0), f(c32.direct.p50Ms), f(c32.direct.p99Ms), String(c32.direct.requests), '—'],
        [`concurrency 32, through Tether`, f(c32.tether.requestsPerSecond, 0), f(c32.tether.p50Ms), f(c32.tether.p99Ms), String(c32.tether.requests), f(c32.tetherCpuMsPerListing)],
      ],
    ),
  );
  console.log(`  added median latency at concurrency 1: ${f(c1.addedMedianMs)} ms (target ≤ ${r.targets.addedMedianMs} ms): ${r.targets.addedMedian}`);
  console.log(`  Tether CPU per listing at concurrency 1: ${f(c1.tetherCpuMsPerListing)} ms (target ≤ ${r.targets.cpuMsPerListing} ms): ${r.targets.cpu}; of it in the kernel (socket reads and writes): ${f(c1.tetherSystemCpuMsPerListing)} ms`);
  console.log(`  throughput ratio at concurrency 32 (Tether / direct): ${f(c32.throughputRatio, 3)}`);
  console.log(`  Tether's CPU per listing / the sandbox's (which serves the same listing): ${f(c1.tetherCpuMsPerListing / c1.sandboxCpuMsPerListing.direct)} — steadier than the absolute figure on a shared machine`);
  console.log(`  one listing is ${(r.bytes.upstream / 1024).toFixed(0)} KiB of JSON from the provider, ${(r.bytes.tether / 1024).toFixed(0)} KiB from Tether`);
  console.log(`  for scale, at concurrency 1: sandbox CPU per listing ${f(c1.sandboxCpuMsPerListing.direct)} ms direct, ${f(c1.sandboxCpuMsPerListing.tether)} ms via Tether${c1.databaseCpuMsPerListing === null ? '' : `; Postgres CPU per listing via Tether ${f(c1.databaseCpuMsPerListing)} ms`}`);
}
