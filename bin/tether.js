#!/usr/bin/env node
// The `tether` command. Tether runs on Node 24 (TypeScript is run directly by Node's type
// stripping). When started by an older Node (e.g. a system Node 20 on PATH), re-run with the
// Node 24 that `npm install` put in this project.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  const projectNode = fileURLToPath(new URL('../node_modules/node/bin/node', import.meta.url));
  if (!existsSync(projectNode)) {
    console.error(`Tether needs Node.js 24; this is ${process.version}. Run "npm install" in the project first.`);
    process.exit(1);
  }
  const result = spawnSync(projectNode, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(result.status ?? 1);
}
await import('../src/cli/main.ts');
