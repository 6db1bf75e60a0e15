import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The Postgres server the suite runs on (set by scripts/test.js: embedded, or DATABASE_URL). */
export function testServerUrl(): string {
  const url = process.env.TETHER_TEST_DATABASE_URL ?? process.env.DATABASE_URL;
  if (!url) throw new Error('Run the tests with "npm test" (it provides a Postgres), or set DATABASE_URL.');
  return url;
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: testServerUrl() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A new, empty database on the test server; each test file gets its own. */
export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `tether_test_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`create database ${name}`));
  const url = new URL(testServerUrl());
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => admin((c) => c.query(`drop database if exists ${name} with (force)`)).then(() => undefined),
  };
}

/** pg_dump's output, or undefined when no pg_dump on PATH can dump a server of this major version. */
export function pgDumpOf(url: string, serverMajor: number): string | undefined {
  const version = spawnSync('pg_dump', ['--version'], { encoding: 'utf8' });
  const major = Number(/(\d+)\./.exec(version.stdout ?? '')?.[1]);
  if (version.status !== 0 || !(major >= Math.floor(serverMajor))) return undefined;
  const dump = spawnSync('pg_dump', ['--no-owner', url], { encoding: 'latin1', maxBuffer: 64 * 1024 * 1024 });
  assert.equal(dump.status, 0, dump.stderr);
  return dump.stdout;
}
