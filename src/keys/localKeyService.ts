import { randomBytes } from 'node:crypto';
import { mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, closeSync, fsyncSync } from 'node:fs';
import { dirname } from 'node:path';
import { errors } from '../errors.ts';
import { KEY_BYTES } from './aead.ts';
import { unwrapDataKey, wrapDataKey, type WrapContext } from './envelope.ts';
import type { KekVersion, KeyService } from './keyService.ts';

interface StoredVersion {
  version: number;
  /** null once retired: the key material is destroyed. */
  key: Buffer | null;
  createdAt: string;
  retiredAt: string | null;
}

interface Keyring {
  current: number;
  versions: StoredVersion[];
}

/**
 * Where a local keyring lives:
 * - a key file (JSON, mode 0600), created with one fresh version on first start; `keys rotate` and
 *   `keys retire` rewrite it atomically (temp file + rename, under a lock file);
 * - or keys given in configuration (`keys.localKeys` / TETHER_KEYS_LOCAL_KEYS as
 *   `1:<base64>,2:<base64>`; the highest version is current). Those are the operator's to change:
 *   rotating means adding a version there and restarting.
 */
export type KeyringSource = { kind: 'file'; path: string } | { kind: 'config'; value: string };

const FILE_FORMAT = 'tether-keyring';

/** The default key service: KEKs held by this process, from a key file or configuration. */
export class LocalKeyService implements KeyService {
  readonly kind = 'local' as const;
  private readonly source: KeyringSource;
  private cached: { keyring: Keyring; stamp: string } | undefined;

  constructor(source: KeyringSource) {
    this.source = source;
  }

  /** Loads the keyring, creating the key file (0600) when there is none yet. Returns true when it was created. */
  init(): boolean {
    if (this.source.kind === 'file' && !exists(this.source.path)) {
      const created = createKeyFile(this.source.path);
      this.load();
      return created;
    }
    this.load();
    return false;
  }

  async wrap(context: WrapContext, dataKey: Buffer): Promise<{ kekVersion: number; wrapped: Buffer }> {
    const keyring = this.load();
    const current = keyring.versions.find((v) => v.version === keyring.current);
    if (!current?.key) throw errors.keyServiceUnavailable('The keyring has no usable current key version.');
    return { kekVersion: current.version, wrapped: wrapDataKey(current.key, current.version, context, dataKey) };
  }

  async unwrap(context: WrapContext, kekVersion: number, wrapped: Buffer): Promise<Buffer> {
    const kek = this.load().versions.find((v) => v.version === kekVersion)?.key;
    // A version this keyring does not hold (or retired) is as final as a bad tag: the data key is unreadable.
    const key = kek ? unwrapDataKey(kek, kekVersion, context, wrapped) : undefined;
    if (!key) throw errors.decryptionFailed(new Error(kek ? `data key ${context.dataKeyId} does not unwrap under KEK version ${kekVersion}` : `KEK version ${kekVersion} is not in the keyring`));
    return key;
  }

  async versions(): Promise<KekVersion[]> {
    const keyring = this.load();
    return keyring.versions.map((v) => describe(v, keyring.current));
  }

  async currentVersion(): Promise<number> {
    return this.load().current;
  }

  async addVersion(): Promise<KekVersion> {
    return this.modify((keyring) => {
      const version = Math.max(0, ...keyring.versions.map((v) => v.version)) + 1;
      const added: StoredVersion = { version, key: randomBytes(KEY_BYTES), createdAt: new Date().toISOString(), retiredAt: null };
      keyring.versions.push(added);
      keyring.current = version;
      return describe(added, version);
    });
  }

  async retireVersion(version: number): Promise<KekVersion> {
    return this.modify((keyring) => {
      const found = keyring.versions.find((v) => v.version === version);
      if (!found) throw errors.notFound(`KEK version ${version}`);
      if (version === keyring.current) throw errors.conflict(`KEK version ${version} is the current version; rotate first.`);
      if (!found.retiredAt) {
        found.key?.fill(0);
        found.key = null;
        found.retiredAt = new Date().toISOString();
      }
      return describe(found, keyring.current);
    });
  }

  async check(): Promise<void> {
    const keyring = this.load();
    if (!keyring.versions.some((v) => v.version === keyring.current && v.key)) {
      throw errors.keyServiceUnavailable('The keyring has no usable current key version.');
    }
  }

  /**
   * The keyring as it is now. The key file is re-read when it changed (checked by inode, size and
   * mtime), so a `tether keys rotate` in another process is seen without a restart.
   */
  private load(): Keyring {
    if (this.source.kind === 'config') {
      this.cached ??= { keyring: parseConfigKeys(this.source.value), stamp: '' };
      return this.cached.keyring;
    }
    const path = this.source.path;
    let stamp: string;
    try {
      const st = statSync(path);
      if ((st.mode & 0o077) !== 0) {
        throw errors.keyServiceUnavailable(`The key file ${path} is readable by other users (mode ${(st.mode & 0o777).toString(8)}); run chmod 600 on it.`);
      }
      stamp = `${st.ino}:${st.size}:${st.mtimeMs}`;
    } catch (err) {
      if ((err as { code?: string }).code === 'key_service_unavailable') throw err;
      throw errors.keyServiceUnavailable(`The key file ${path} cannot be read.`, err);
    }
    if (this.cached?.stamp === stamp) return this.cached.keyring;
    let keyring: Keyring;
    try {
      keyring = parseKeyFile(readFileSync(path, 'utf8'));
    } catch (err) {
      throw errors.keyServiceUnavailable(`The key file ${path} is not a valid Tether keyring.`, err);
    }
    this.cached = { keyring, stamp };
    return keyring;
  }

  private modify<T>(change: (keyring: Keyring) => T): T {
    if (this.source.kind === 'config') {
      throw errors.conflict('The keys come from configuration (keys.localKeys); change them there and restart.');
    }
    const path = this.source.path;
    return withLock(`${path}.lock`, () => {
      this.cached = undefined;
      const keyring = this.load();
      const result = change(keyring);
      writeAtomically(path, serialize(keyring));
      this.cached = undefined;
      return result;
    });
  }
}

function describe(v: StoredVersion, current: number): KekVersion {
  return { version: v.version, createdAt: v.createdAt, retiredAt: v.retiredAt, current: v.version === current };
}

function serialize(keyring: Keyring): string {
  return `${JSON.stringify(
    {
      format: FILE_FORMAT,
      formatVersion: 1,
      current: keyring.current,
      versions: keyring.versions.map((v) => ({ version: v.version, key: v.key?.toString('base64') ?? null, createdAt: v.createdAt, retiredAt: v.retiredAt })),
    },
    null,
    2,
  )}\n`;
}

function parseKeyFile(text: string): Keyring {
  const raw = JSON.parse(text) as { format?: unknown; formatVersion?: unknown; current?: unknown; versions?: unknown };
  if (raw.format !== FILE_FORMAT || raw.formatVersion !== 1) throw new Error('unknown key file format');
  if (!Array.isArray(raw.versions)) throw new Error('versions missing');
  const versions = raw.versions.map((v: { version?: unknown; key?: unknown; createdAt?: unknown; retiredAt?: unknown }) => {
    if (typeof v.version !== 'number' || !Number.isInteger(v.version) || v.version < 1) throw new Error('bad version number');
    const key = typeof v.key === 'string' ? Buffer.from(v.key, 'base64') : null;
    if (key && key.length !== KEY_BYTES) throw new Error(`version ${v.version}: key is not ${KEY_BYTES} bytes`);
    return { version: v.version, key, createdAt: String(v.createdAt), retiredAt: typeof v.retiredAt === 'string' ? v.retiredAt : null };
  });
  if (typeof raw.current !== 'number' || !versions.some((v) => v.version === raw.current && v.key)) throw new Error('current version missing');
  return { current: raw.current, versions };
}

/** `1:<base64 of 32 bytes>,2:<…>` — the highest version is current. */
export function parseConfigKeys(value: string): Keyring {
  const versions: StoredVersion[] = [];
  for (const part of value.split(',').map((p) => p.trim()).filter(Boolean)) {
    const match = /^(\d+):([A-Za-z0-9+/_-]+=*)$/.exec(part);
    if (!match) throw errors.keyServiceUnavailable('keys.localKeys must be a list like "1:<base64 key>,2:<base64 key>".');
    const key = Buffer.from(match[2]!, match[2]!.includes('-') || match[2]!.includes('_') ? 'base64url' : 'base64');
    const version = Number(match[1]);
    if (key.length !== KEY_BYTES) throw errors.keyServiceUnavailable(`keys.localKeys version ${version} is not a ${KEY_BYTES}-byte key.`);
    if (version < 1 || versions.some((v) => v.version === version)) throw errors.keyServiceUnavailable(`keys.localKeys has a bad or repeated version ${version}.`);
    versions.push({ version, key, createdAt: new Date(0).toISOString(), retiredAt: null });
  }
  if (versions.length === 0) throw errors.keyServiceUnavailable('keys.localKeys holds no keys.');
  return { current: Math.max(...versions.map((v) => v.version)), versions: versions.sort((a, b) => a.version - b.version) };
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Creates the key file with one fresh version, exclusively: a concurrent first start keeps the file the other one wrote. */
function createKeyFile(path: string): boolean {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const keyring: Keyring = { current: 1, versions: [{ version: 1, key: randomBytes(KEY_BYTES), createdAt: new Date().toISOString(), retiredAt: null }] };
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    writeFileSync(fd, serialize(keyring));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return true;
}

function writeAtomically(path: string, text: string): void {
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = openSync(temp, 'wx', 0o600);
  try {
    writeFileSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, path);
}

/** A lock file held for one short, synchronous change; a lock older than 30 s is from a dead process. */
function withLock<T>(lockPath: string, fn: () => T): T {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      closeSync(openSync(lockPath, 'wx', 0o600));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      try {
        if (Date.now() - statSync(lockPath).mtimeMs > 30_000) rmSync(lockPath, { force: true });
      } catch {
        // removed meanwhile
      }
      if (Date.now() > deadline) throw errors.keyServiceUnavailable(`The key file is locked (${lockPath}).`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lockPath, { force: true });
  }
}
