import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { capture } from './capture.ts';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/**
 * A free TCP port for a server that binds it later. Chosen below the kernel's ephemeral range, so
 * that no listener on port 0 and no outgoing connection of a parallel test can take it between this
 * check and its use (with ports from port 0, an embedded Postgres once lost its port that way).
 */
export async function freePort(): Promise<number> {
  const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32768;
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = 10000 + Math.floor(Math.random() * (low - 10000));
    if (await canListen(port)) return port;
  }
  throw new Error('no free port below the ephemeral range');
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

export interface TetherProcess {
  child: ChildProcess;
  url: string;
  output(): string;
  /** Resolves with the exit code (or 128+signal). */
  exited: Promise<number>;
}

/** Runs `tether serve` as a real child process, the way `npm start` does. */
export async function spawnTether(env: Record<string, string>, options: { waitForHealth?: boolean } = {}): Promise<TetherProcess> {
  const port = env.PORT ?? String(await freePort());
  const child = spawn(process.execPath, [`${repoRoot}bin/tether.js`, 'serve'], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', PORT: port, TETHER_LOG_LEVEL: 'info', TETHER_SANDBOX: 'off', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal === 'SIGKILL' ? 137 : 143))));
  child.on('close', () => capture('log', out));
  const proc: TetherProcess = { child, url: `http://127.0.0.1:${port}`, output: () => out, exited };
  if (options.waitForHealth !== false) await waitForHealth(proc);
  return proc;
}

export async function waitForHealth(proc: TetherProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitCode: number | undefined;
  void proc.exited.then((c) => (exitCode = c));
  while (Date.now() < deadline) {
    if (exitCode !== undefined) throw new Error(`tether exited with ${exitCode} before becoming healthy:\n${proc.output()}`);
    try {
      const res = await fetch(`${proc.url}/healthz`);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`tether did not answer /healthz within ${timeoutMs} ms:\n${proc.output()}`);
}

/** Runs the `tether` CLI to completion. */
export async function runCli(args: string[], env: Record<string, string>, stdin?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [`${repoRoot}bin/tether.js`, ...args], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdin.end(stdin ?? '');
  const code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
  return { code, stdout, stderr };
}
