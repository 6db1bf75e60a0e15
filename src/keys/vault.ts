import { randomUUID } from 'node:crypto';
import type { Db, Queryable } from '../db/database.ts';
import type { DataKey } from '../db/schema.ts';
import { errors, TetherError } from '../errors.ts';
import type { Logger } from '../logging.ts';
import { dataKeysRepository } from '../repositories/dataKeys.ts';
import { newKey } from './aead.ts';
import { isUuid, openField, parseField, purposes, sealField, type DataKeyRef, type FieldContext, type Purpose } from './envelope.ts';
import type { KeyService } from './keyService.ts';

export type { FieldContext, Purpose };

interface CachedKey {
  ref: DataKeyRef;
  orgId: string;
  purpose: Purpose;
  expiresAt: number;
}

/**
 * Envelope encryption for stored fields. Callers name where a value lives — org, table, row id,
 * field, purpose — and get back a self-describing ciphertext bound to exactly that place (see
 * envelope.ts). The row id must be known before the row is written: generate it (randomUUID) and
 * insert with it.
 *
 *   const secret = await vault.encryptField({ orgId, table: 'provider_apps', rowId, field: 'client_secret', purpose: 'client_secrets' }, value);
 *   const value  = await vault.decryptText({ ...same context }, secret);
 *
 * Errors: `decryption_failed` (see isDecryptionFailure) when the ciphertext was altered, moved or
 * its key is gone — map it to `needs-reauth` for tokens; `key_service_unavailable` (503) when the
 * key service cannot be reached — transient, change nothing.
 *
 * Data keys are created on first use, one per (org, purpose), wrapped by the key service's current
 * KEK version, and kept unwrapped in memory for `cacheTtlMs` (bounded to `maxCached` keys) so that
 * most operations need no call to the key service.
 */
export class Vault {
  private readonly db: Db;
  private readonly keys: KeyService;
  private readonly cacheTtlMs: number;
  private readonly maxCached: number;
  private readonly logger: Logger | undefined;
  private readonly byId = new Map<string, CachedKey>();
  private readonly latest = new Map<string, string>();
  private readonly inflight = new Map<string, Promise<CachedKey>>();

  constructor(db: Db, keys: KeyService, options: { cacheTtlMs: number; maxCached?: number; logger?: Logger }) {
    this.db = db;
    this.keys = keys;
    this.cacheTtlMs = options.cacheTtlMs;
    this.maxCached = options.maxCached ?? 1000;
    this.logger = options.logger;
  }

  /**
   * `db`: inside a transaction, pass it — a data key that is not in memory is then read on the
   * transaction's connection, never on a second one from the pool (a caller holding a pool
   * connection while waiting for another can stall the whole pool under load).
   */
  async encryptField(ctx: FieldContext, plaintext: string | Buffer, db?: Queryable): Promise<Buffer> {
    assertContext(ctx);
    const key = await this.currentKey(ctx.orgId, ctx.purpose, db);
    return sealField(ctx, key.ref, typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext);
  }

  /** `db`: as for encryptField. */
  async decryptField(ctx: FieldContext, ciphertext: Buffer, db?: Queryable): Promise<Buffer> {
    assertContext(ctx);
    const parsed = parseField(ciphertext);
    if (!parsed.ok) throw this.failure(ctx, `ciphertext ${parsed.reason.replace('_', ' ')}`);
    const key = await this.keyById(parsed.dataKeyId, db);
    // A ciphertext pointing at another org's or purpose's key was moved here: refuse before trying it.
    if (!key || key.orgId !== ctx.orgId || key.purpose !== ctx.purpose) throw this.failure(ctx, 'no data key of this org and purpose');
    const plaintext = openField(ctx, key.ref, ciphertext);
    if (!plaintext) throw this.failure(ctx, 'authentication tag does not verify');
    return plaintext;
  }

  async decryptText(ctx: FieldContext, ciphertext: Buffer, db?: Queryable): Promise<string> {
    return (await this.decryptField(ctx, ciphertext, db)).toString('utf8');
  }

  /** Drops every unwrapped data key from memory (not zeroed: a call in flight may still hold one). */
  forget(): void {
    this.byId.clear();
    this.latest.clear();
  }

  private failure(ctx: FieldContext, reason: string): TetherError {
    // Where, never what: no ciphertext, no plaintext, no key.
    this.logger?.warn({ orgId: ctx.orgId, table: ctx.table, rowId: ctx.rowId, field: ctx.field, purpose: ctx.purpose, reason }, 'decryption failed');
    return errors.decryptionFailed(new Error(reason));
  }

  private async currentKey(orgId: string, purpose: Purpose, db: Queryable | undefined): Promise<CachedKey> {
    const id = this.latest.get(`${orgId}/${purpose}`);
    const cached = id ? this.fresh(id) : undefined;
    if (cached) return cached;
    return this.singleFlight(`latest:${orgId}/${purpose}`, db, async (on) => {
      // A new key is always created on the pool, committed at once: ciphertexts of other callers
      // may use it before this caller's transaction ends (or rolls back).
      const row = (await dataKeysRepository.findLatest(on, orgId, purpose)) ?? (await this.createKey(orgId, purpose));
      return this.remember(row, { latest: true }, on);
    });
  }

  private async keyById(id: string, db: Queryable | undefined): Promise<CachedKey | undefined> {
    const cached = this.fresh(id);
    if (cached) return cached;
    try {
      return await this.singleFlight(`id:${id}`, db, async (on) => {
        const row = await dataKeysRepository.findById(on, id);
        if (!row) throw new DataKeyMissing();
        return this.remember(row, { latest: false }, on);
      });
    } catch (err) {
      if (err instanceof DataKeyMissing) return undefined;
      throw err;
    }
  }

  /** Creates the org's data key for a purpose; when another process won the race, uses theirs. */
  private async createKey(orgId: string, purpose: Purpose): Promise<DataKey> {
    const id = randomUUID();
    const key = newKey();
    try {
      const { kekVersion, wrapped } = await this.keys.wrap({ orgId, purpose, dataKeyId: id }, key);
      const row = await dataKeysRepository.insertIfAbsent(this.db, { id, org_id: orgId, purpose, generation: 1, kek_version: kekVersion, wrapped_key: wrapped });
      if (row) this.logger?.info({ orgId, purpose, dataKeyId: id, kekVersion }, 'data key created');
      return row ?? (await dataKeysRepository.findLatest(this.db, orgId, purpose))!;
    } finally {
      key.fill(0);
    }
  }

  /** Unwraps a data key and caches it; `latest` when it is the one new ciphertexts of its org and purpose use. */
  private async remember(row: DataKey, options: { latest: boolean }, db: Queryable): Promise<CachedKey> {
    const context = { orgId: row.org_id, purpose: row.purpose, dataKeyId: row.id };
    let key: Buffer;
    try {
      key = await this.keys.unwrap(context, row.kek_version, row.wrapped_key);
    } catch (err) {
      // A rewrap may have moved the key to a new KEK version (and the old one been retired) after
      // we read the row: read it again once before calling it unreadable.
      if (!(err instanceof TetherError && err.code === 'decryption_failed')) throw err;
      const again = await dataKeysRepository.findById(db, row.id);
      if (!again || again.kek_version === row.kek_version) throw err;
      key = await this.keys.unwrap(context, again.kek_version, again.wrapped_key);
    }
    const entry: CachedKey = {
      ref: { id: row.id, generation: row.generation, key },
      orgId: row.org_id,
      purpose: row.purpose,
      expiresAt: Date.now() + this.cacheTtlMs,
    };
    if (this.cacheTtlMs > 0) {
      this.byId.delete(row.id);
      this.byId.set(row.id, entry);
      if (options.latest) this.latest.set(`${row.org_id}/${row.purpose}`, row.id);
      while (this.byId.size > this.maxCached) {
        const [oldestId, oldest] = this.byId.entries().next().value!;
        this.byId.delete(oldestId);
        const name = `${oldest.orgId}/${oldest.purpose}`;
        if (this.latest.get(name) === oldestId) this.latest.delete(name);
      }
    }
    return entry;
  }

  private fresh(id: string): CachedKey | undefined {
    const entry = this.byId.get(id);
    if (!entry) return undefined;
    if (entry.expiresAt > Date.now()) return entry;
    this.byId.delete(id);
    return undefined;
  }

  /**
   * Concurrent loads of one key on the pool are shared. A caller in a transaction loads on its own
   * connection and shares with no one: waiting for a load on the pool while holding a pool
   * connection is what must never happen.
   */
  private singleFlight(name: string, db: Queryable | undefined, load: (on: Queryable) => Promise<CachedKey>): Promise<CachedKey> {
    if (db !== undefined && db !== this.db) return load(db);
    let pending = this.inflight.get(name);
    if (!pending) {
      pending = load(this.db).finally(() => this.inflight.delete(name));
      this.inflight.set(name, pending);
    }
    return pending;
  }
}

class DataKeyMissing extends Error {}

/** True for the permanent failure (altered, moved or orphaned ciphertext): tokens → `needs-reauth`. */
export function isDecryptionFailure(err: unknown): boolean {
  return err instanceof TetherError && err.code === 'decryption_failed';
}

/** True for the transient one: the key service is down; retry later, change nothing. */
export function isKeyServiceUnavailable(err: unknown): boolean {
  return err instanceof TetherError && err.code === 'key_service_unavailable';
}

function assertContext(ctx: FieldContext): void {
  // Programming errors, not input errors: every part of the context must be meaningful.
  if (!isUuid(ctx.orgId)) throw new Error('encryptField/decryptField: orgId must be a lowercase UUID');
  if (!ctx.table || !ctx.rowId || !ctx.field) throw new Error('encryptField/decryptField: table, rowId and field are required');
  if (!purposes.includes(ctx.purpose)) throw new Error(`encryptField/decryptField: unknown purpose ${String(ctx.purpose)}`);
}
