import type { Db } from '../db/database.ts';
import { errors } from '../errors.ts';
import type { Logger } from '../logging.ts';
import { dataKeysRepository } from '../repositories/dataKeys.ts';
import { audit } from '../services/audit.ts';
import type { CallContext } from '../services/context.ts';
import { encryptedColumns as registeredColumns, type EncryptedColumn } from './encryptedColumns.ts';
import type { KekVersion, KeyService } from './keyService.ts';
import { isDecryptionFailure } from './vault.ts';

export interface KeyVersionUsage extends KekVersion {
  /** Data keys wrapped under this version. */
  dataKeys: number;
  /** Rows of encrypted columns whose data key is wrapped under this version. */
  rows: number;
}

export interface KeyStatus {
  provider: 'local' | 'remote';
  current: number;
  versions: KeyVersionUsage[];
  columns: Array<EncryptedColumn & { rowsByVersion: Record<string, number> }>;
  /** Data keys still to be rewrapped to the current version. */
  pendingRewrap: number;
  /** Rows whose ciphertext names no data key (they can never be decrypted). */
  orphanedRows: number;
}

/**
 * Key lifecycle: status, rotation, rewrapping and retirement. A rotation adds a KEK version at the
 * key service; the rewrap job (jobs/RewrapDataKeysTask.ts) then moves every data key to it — only
 * the 60-byte wrapped keys change, never the stored ciphertexts; a version is retired (its key
 * material destroyed) only when no data key, and so no row, depends on it.
 */
export class KeyManagement {
  private readonly db: Db;
  private readonly keys: KeyService;
  private readonly columns: readonly EncryptedColumn[];
  private readonly logger: Logger | undefined;

  constructor(db: Db, keys: KeyService, options: { columns?: readonly EncryptedColumn[]; logger?: Logger } = {}) {
    this.db = db;
    this.keys = keys;
    this.columns = options.columns ?? registeredColumns;
    this.logger = options.logger;
  }

  async status(): Promise<KeyStatus> {
    const versions = await this.keys.versions();
    const current = versions.find((v) => v.current)?.version ?? 0;
    const dataKeys = await dataKeysRepository.countByKekVersion(this.db);
    const rows = new Map<number, number>();
    const columns: KeyStatus['columns'] = [];
    for (const column of this.columns) {
      const counts = await dataKeysRepository.countColumnByKekVersion(this.db, column);
      for (const [version, n] of counts) rows.set(version, (rows.get(version) ?? 0) + n);
      columns.push({ ...column, rowsByVersion: Object.fromEntries(counts) });
    }
    const known = new Set(versions.map((v) => v.version));
    // Data keys under a version the key service does not list are shown too: they are unreadable.
    const unknown = [...dataKeys.keys()].filter((v) => !known.has(v)).map((version) => ({ version, createdAt: '', retiredAt: null, current: false }));
    return {
      provider: this.keys.kind,
      current,
      versions: [...versions, ...unknown]
        .sort((a, b) => a.version - b.version)
        .map((v) => ({ ...v, dataKeys: dataKeys.get(v.version) ?? 0, rows: rows.get(v.version) ?? 0 })),
      columns,
      pendingRewrap: [...dataKeys].filter(([v]) => v !== current).reduce((sum, [, n]) => sum + n, 0),
      orphanedRows: rows.get(0) ?? 0,
    };
  }

  /** Adds a KEK version (now current). The caller queues the rewrap job. */
  async rotate(ctx: CallContext): Promise<KekVersion> {
    const added = await this.keys.addVersion();
    await audit(this.db, ctx, { orgId: null, action: 'keys.rotate', target: { type: 'kek_version', id: String(added.version) }, details: { provider: this.keys.kind } });
    this.logger?.info({ kekVersion: added.version }, 'key-encryption key rotated');
    return added;
  }

  /**
   * Rewraps every data key that is not under the current KEK version, in batches locked with
   * SKIP LOCKED (so several workers can share the work). A data key that does not unwrap is
   * skipped and reported: it is unreadable whatever we do, and must not stall the others.
   */
  async rewrapAll(options: { batchSize?: number } = {}): Promise<{ rewrapped: number; failed: string[] }> {
    const batchSize = options.batchSize ?? 100;
    const failed: string[] = [];
    let rewrapped = 0;
    for (;;) {
      const current = await this.keys.currentVersion();
      const done = await this.db.transaction().execute(async (tx) => {
        const batch = await dataKeysRepository.lockBatchNotUnder(tx, current, batchSize, failed);
        for (const row of batch) {
          const context = { orgId: row.org_id, purpose: row.purpose, dataKeyId: row.id };
          let key: Buffer;
          try {
            key = await this.keys.unwrap(context, row.kek_version, row.wrapped_key);
          } catch (err) {
            if (!isDecryptionFailure(err)) throw err;
            failed.push(row.id);
            this.logger?.error({ dataKeyId: row.id, orgId: row.org_id, purpose: row.purpose, kekVersion: row.kek_version }, 'data key does not unwrap; not rewrapped');
            continue;
          }
          try {
            const next = await this.keys.wrap(context, key);
            if (await dataKeysRepository.rewrap(tx, row.id, row.kek_version, next)) rewrapped += 1;
          } finally {
            key.fill(0);
          }
        }
        return batch.length === 0;
      });
      if (done) break;
    }
    if (rewrapped > 0 || failed.length > 0) this.logger?.info({ rewrapped, failed: failed.length }, 'data keys rewrapped');
    return { rewrapped, failed };
  }

  /** Retires a KEK version (destroying its key material) once no data key or row uses it. */
  async retire(ctx: CallContext, version: number): Promise<KekVersion> {
    const status = await this.status();
    const usage = status.versions.find((v) => v.version === version);
    if (!usage) throw errors.notFound(`KEK version ${version}`);
    if (usage.current) throw errors.conflict(`KEK version ${version} is the current version; rotate first.`);
    if (usage.dataKeys > 0 || usage.rows > 0) {
      throw errors.conflict(`KEK version ${version} still wraps ${usage.dataKeys} data keys (${usage.rows} rows); wait for the rewrap job (tether keys status) before retiring it.`);
    }
    const retired = await this.keys.retireVersion(version);
    await audit(this.db, ctx, { orgId: null, action: 'keys.retire', target: { type: 'kek_version', id: String(version) }, details: { provider: this.keys.kind } });
    this.logger?.info({ kekVersion: version }, 'key-encryption key version retired');
    return retired;
  }
}
