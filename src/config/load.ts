import { readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { configSchema, envMapping, type Config } from './schema.ts';

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/**
 * Reads the config file named by TETHER_CONFIG (if any), overlays environment variables, and
 * validates the result. Every problem is collected, so an operator fixes them all in one go.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  let raw: Record<string, unknown> = {};
  const file = env.TETHER_CONFIG;
  if (file) {
    try {
      raw = parseConfigFile(file);
    } catch (err) {
      problems.push(`TETHER_CONFIG (${file}): ${(err as Error).message}`);
    }
  }
  const sources = new Map<string, string>();
  for (const [name, path, kind] of envMapping) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    setPath(raw, path, kind === 'list' ? value.split(',').map((v) => v.trim()).filter(Boolean) : value);
    sources.set(path.join('.'), name);
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const key = issue.path.join('.') || '(root)';
      const from = sources.get(key);
      problems.push(`${key}${from ? ` (from ${from})` : ''}: ${issue.message}`);
    }
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  const config = parsed.data;
  return {
    ...config,
    dataDir: resolve(config.dataDir),
    publicUrl: (config.publicUrl ?? `http://localhost:${config.port}`).replace(/\/+$/, ''),
  };
}

function parseConfigFile(file: string): Record<string, unknown> {
  const text = readFileSync(file, 'utf8');
  const value: unknown = extname(file) === '.json' ? JSON.parse(text) : parseYaml(text);
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new Error('must hold a mapping of settings');
  return value as Record<string, unknown>;
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path.at(-1)!] = value;
}
