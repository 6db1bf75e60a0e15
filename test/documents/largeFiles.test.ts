import assert from 'node:assert/strict';
import { createCipheriv, createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import { FragmentReader, fragmentRanges } from '../../src/documents/chunks.ts';
import { connect, startConnectEnv, type ConnectEnv } from '../connections/support.ts';
import { spawnTether, type TetherProcess } from '../support/process.ts';
import type { Auth } from '../support/tether.ts';

/**
 * A 50 MiB file through Tether and back — Graph upload session and Drive resumable upload, then a
 * full download and two Range requests — with Tether's resident memory measured from outside.
 * Tether runs as its own child process (the sandbox stays in this test process), so the figures
 * are Tether's alone: VmRSS before, VmHWM (peak RSS) after, the peak reset through
 * /proc/<pid>/clear_refs before each phase.
 */
const SIZE = 50 * 1024 * 1024;
const PIECE = 256 * 1024;
const LIMIT = 30 * 1024 * 1024;

/** Deterministic, non-repeating bytes (AES-CTR keystream), so an offset slip cannot go unnoticed. */
function* fileBytes(seed: string, size = SIZE): Generator<Buffer> {
  const key = createHash('sha256').update(seed).digest().subarray(0, 16);
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  const zeros = Buffer.alloc(PIECE);
  for (let sent = 0; sent < size; sent += PIECE) yield cipher.update(zeros.subarray(0, Math.min(PIECE, size - sent)));
}

function slice(seed: string, start: number, end: number): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  for (const piece of fileBytes(seed, end + 1)) {
    if (offset + piece.length > start) parts.push(piece.subarray(Math.max(0, start - offset)));
    offset += piece.length;
  }
  return Buffer.concat(parts);
}

/** User + system CPU time of the process, in ms (/proc/<pid>/stat fields 14 and 15, in clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function memory(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)![1]) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/** Resets the process's peak RSS to its current RSS (Linux ≥ 4.0, "5" in clear_refs). */
function resetPeak(pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
}

const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;

describe('upload fragments', () => {
  async function* pieces(sizes: number[]): AsyncGenerator<Uint8Array> {
    let n = 0;
    for (const size of sizes) yield Uint8Array.from({ length: size }, () => n++ % 251);
  }
  const collect = async (it: AsyncIterable<Uint8Array>) => {
    const parts: Uint8Array[] = [];
    for await (const p of it) parts.push(p);
    return Buffer.concat(parts);
  };

  it('cuts a stream into fragments of exact lengths across piece boundaries', async () => {
    const total = 1000;
    const all = Buffer.from(Uint8Array.from({ length: total }, (_, i) => i % 251));
    const reader = new FragmentReader(pieces([7, 300, 1, 0, 450, 242]));
    const ranges = [...fragmentRanges(total, 256)];
    assert.deepEqual(ranges.map((r) => [r.start, r.end, r.length]), [[0, 255, 256], [256, 511, 256], [512, 767, 256], [768, 999, 232]]);
    for (const r of ranges) assert.ok((await collect(reader.take(r.length))).equals(all.subarray(r.start, r.end + 1)));
    await reader.end();
  });

  it('fails on a body shorter or longer than announced', async () => {
    const short = new FragmentReader(pieces([100]));
    await assert.rejects(collect(short.take(101)), /ended before its announced size/);
    const long = new FragmentReader(pieces([100, 1]));
    await collect(long.take(100));
    await assert.rejects(long.end(), /longer than announced/);
  });
});

describe('50 MiB round trip with bounded memory', () => {
  let env: ConnectEnv;
  let auth: Auth & { kind: 'apiKey' };
  const conn = {} as Record<'microsoft' | 'google', string>;

  before(async () => {
    env = await startConnectEnv({ scopePresets: { microsoft: 'documents', google: 'documents' } });
    for (const provider of ['microsoft', 'google'] as const) {
      const { location } = await connect(env, provider);
      conn[provider] = location!.searchParams.get('connectionId')!;
    }
    auth = env.org.asMember as Auth & { kind: 'apiKey' };
  });
  after(async () => {
    await env?.stop();
  });

  /** A Tether of its own, as a child process on the same database and keyring, for one measurement. */
  async function childTether(): Promise<TetherProcess> {
    return spawnTether({ ...env.processEnv, TETHER_LOG_LEVEL: 'warn' });
  }


  const headers = () => ({ authorization: `Bearer ${auth.key}`, 'tether-user': auth.user! });
  let tether: TetherProcess;
  const api = (provider: 'microsoft' | 'google', path: string) => `${tether.url}/api/v1/connections/${conn[provider]}${path}`;

  /** Streams `size` bytes of `seed` as the request body (node:http, Content-Length announced). */
  async function upload(url: string, seed: string, size: number): Promise<{ status: number; body: any }> {
    const target = new URL(url);
    return new Promise((resolve, reject) => {
      const req = httpRequest(target, { method: 'POST', headers: { ...headers(), 'content-type': 'application/octet-stream', 'content-length': String(size) } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode!, body: text ? JSON.parse(text) : null }));
        res.on('error', reject);
      });
      req.on('error', reject);
      pipeline(Readable.from(fileBytes(seed, size)), req).catch(reject);
    });
  }

  /** Downloads and hashes without holding the bytes (unless `keep`). */
  async function download(url: string, range?: string, keep = false) {
    const res = await fetch(url, { headers: { ...headers(), ...(range && { range }) } });
    const hash = createHash('sha256');
    const parts: Buffer[] = [];
    let length = 0;
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      hash.update(chunk);
      length += chunk.length;
      if (keep) parts.push(Buffer.from(chunk));
    }
    return { status: res.status, headers: res.headers, sha256: hash.digest('hex'), length, bytes: Buffer.concat(parts) };
  }

  for (const provider of ['microsoft', 'google'] as const) {
    it(`${provider}: 50 MiB up and down (and two Ranges), byte-exact, with Tether's RSS growth under 30 MiB`, async (t) => {
      tether = await childTether();
      t.after(async () => {
        tether.child.kill('SIGTERM');
        await tether.exited;
      });
      const pid = tether.child.pid!;
      const folder = await fetch(api(provider, '/items'), { method: 'POST', headers: { ...headers(), 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'folder', name: `Large ${provider} ${Date.now()}` }) });
      assert.equal(folder.status, 201, await folder.clone().text());
      const parent = encodeURIComponent(((await folder.json()) as { id: string }).id);

      // Warm-up: the same code paths with a small resumable upload and its download, so loading
      // and compiling code is not counted as growth.
      const warm = await upload(api(provider, `/items?parent=${parent}&name=warmup.bin`), 'warm', 6 * 1024 * 1024);
      assert.equal(warm.status, 201, JSON.stringify(warm.body));
      assert.equal((await download(api(provider, `/items/${encodeURIComponent(warm.body.id)}/content`))).length, 6 * 1024 * 1024);

      const seed = `${provider}-large`;
      const expected = createHash('sha256');
      for (const piece of fileBytes(seed)) expected.update(piece);
      const expectedSha = expected.digest('hex');

      const baseline = memory(pid).rss;
      const cpuBefore = cpuMs(pid);
      const mark = env.sb.requestLog.mark();
      resetPeak(pid);
      const up = await upload(api(provider, `/items?parent=${parent}&name=large.bin`), seed, SIZE);
      const uploadPeak = memory(pid).hwm;
      assert.equal(up.status, 201, JSON.stringify(up.body));
      assert.equal(up.body.size, SIZE);
      if (provider === 'google') assert.equal(up.body.hashes.sha256, expectedSha, 'Drive computed the same SHA-256');
      const fragments = env.sb.requestLog.since(mark).filter((e) => e.method === 'PUT' && e.provider === provider);
      assert.equal(fragments.length, 10, 'ten 5 MiB fragments through the resumable upload');

      resetPeak(pid);
      const content = api(provider, `/items/${encodeURIComponent(up.body.id)}/content`);
      const full = await download(content);
      assert.equal(full.status, 200);
      assert.equal(full.length, SIZE);
      assert.equal(full.sha256, expectedSha, 'the bytes round-trip exactly');

      const middle = await download(content, 'bytes=10485760-20971519', true);
      assert.equal(middle.status, 206);
      assert.equal(middle.headers.get('content-range'), `bytes 10485760-20971519/${SIZE}`);
      assert.equal(middle.length, 10 * 1024 * 1024);
      assert.ok(middle.bytes.equals(slice(seed, 10485760, 20971519)), 'the ranged bytes are exactly those');
      const suffix = await download(content, 'bytes=-1000000', true);
      assert.equal(suffix.status, 206);
      assert.equal(suffix.headers.get('content-range'), `bytes ${SIZE - 1000000}-${SIZE - 1}/${SIZE}`);
      assert.ok(suffix.bytes.equals(slice(seed, SIZE - 1000000, SIZE - 1)));
      const downloadPeak = memory(pid).hwm;
      const cpu = cpuMs(pid) - cpuBefore;

      const growth = Math.max(uploadPeak, downloadPeak) - baseline;
      t.diagnostic(`${provider}: Tether RSS before ${mib(baseline)}, peak during upload ${mib(uploadPeak)}, during download ${mib(downloadPeak)}, growth ${mib(growth)}; Tether CPU ${cpu} ms`);
      assert.ok(growth < LIMIT, `Tether's RSS grew by ${mib(growth)} (limit ${mib(LIMIT)})`);
    });
  }
});
