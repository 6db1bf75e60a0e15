import { readdirSync, readFileSync } from 'node:fs';
import autocannon from 'autocannon';

export interface LoadResult {
  label: string;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
  total: number;
}

/** Closed-loop load from this process against a server in another process. */
export async function load(label: string, options: { url: string; connections: number; seconds: number; headers?: Record<string, string> }): Promise<LoadResult> {
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.seconds,
    headers: options.headers ?? {},
  });
  return {
    label,
    requestsPerSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    total: result.requests.total,
  };
}

export function table(rows: LoadResult[]): string {
  const header = ['', 'req/s', 'p50 ms', 'p99 ms', 'requests', 'non-2xx', 'errors'];
  const lines = rows.map((r) => [r.label, r.requestsPerSecond.toFixed(0), r.p50Ms.toFixed(2), r.p99Ms.toFixed(2), String(r.total), String(r.non2xx), String(r.errors)]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  return [header, ...lines].map((cols) => cols.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')).join('\n');
}

// CPU time of another process, from /proc/<pid>/stat (utime + stime of all its threads, in clock
// ticks: 10 ms on Linux), so the client's own work never counts.
const TICKS_PER_SECOND = 100;

export function cpuMs(pid: number): number {
  const { user, system } = cpuSplitMs(pid);
  return user + system;
}

/** A process's CPU so far, in user space and in the kernel (system calls: socket writes and reads). */
export function cpuSplitMs(pid: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: (Number(fields[11]) * 1000) / TICKS_PER_SECOND, system: (Number(fields[12]) * 1000) / TICKS_PER_SECOND };
}

/** CPU of a process and its direct children (e.g. a postmaster and its backends). */
export function childrenCpuMs(parentPid: number): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(entry) === parentPid || Number(fields[1]) === parentPid) total += ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
    } catch {
      // the process went away
    }
  }
  return total;
}

export interface LoopResult {
  /** Milliseconds per request, in completion order. */
  latencies: number[];
  elapsedMs: number;
  errors: number;
  firstError?: string;
}

/**
 * A closed loop: `concurrency` callers, each sending its next request when the previous one is
 * answered, until `requests` are done or `seconds` have passed.
 */
export async function closedLoop(options: { concurrency: number; requests?: number; seconds?: number; call: () => Promise<void> }): Promise<LoopResult> {
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let started = 0;
  const t0 = performance.now();
  const deadline = options.seconds === undefined ? Infinity : t0 + options.seconds * 1000;
  const limit = options.requests ?? Infinity;
  const worker = async () => {
    while (started < limit && performance.now() < deadline) {
      started++;
      const s = performance.now();
      try {
        await options.call();
        latencies.push(performance.now() - s);
      } catch (err) {
        errors++;
        firstError ??= (err as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  return { latencies, elapsedMs: performance.now() - t0, errors, ...(firstError !== undefined && { firstError }) };
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function median(values: number[]): number {
  return percentile(values, 50);
}

/** A plain text table: first column left-aligned, the others right-aligned. */
export function grid(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [header, ...rows].map((cols) => '  ' + cols.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')).join('\n');
}

export function verdict(value: number, limit: number): string {
  return value <= limit ? 'PASS' : 'MISS';
}
