import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { repoRoot } from '../support/process.ts';

export interface KeyServiceProcess {
  child: ChildProcess;
  url: string;
  output(): string;
  stop(): Promise<void>;
}

/** `tether keys serve` as a real process with its own data dir (and so its own keyring). */
export async function spawnKeyService(env: Record<string, string>): Promise<KeyServiceProcess> {
  const child = spawn(process.execPath, [`${repoRoot}bin/tether.js`, 'keys', 'serve'], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', TETHER_LOG_LEVEL: 'debug', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? 143)));
  const deadline = Date.now() + 30_000;
  let exitCode: number | undefined;
  void exited.then((c) => (exitCode = c));
  while (!/listening on (https?:\/\/\S+)/.test(out)) {
    if (exitCode !== undefined || Date.now() > deadline) throw new Error(`keys serve did not start (${exitCode}):\n${out}`);
    await sleep(50);
  }
  return {
    child,
    url: /listening on (https?:\/\/\S+)/.exec(out)![1]!,
    output: () => out,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
