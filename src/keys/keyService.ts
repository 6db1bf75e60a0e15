import type { WrapContext } from './envelope.ts';

/** One key-encryption key (KEK) version as a key service reports it; never the key itself. */
export interface KekVersion {
  version: number;
  createdAt: string;
  /** Set once the version is retired: its key material is gone and nothing can be unwrapped with it. */
  retiredAt: string | null;
  current: boolean;
}

/**
 * Holds the key-encryption keys and does the only two things anyone may do with them: wrap a data
 * key under the current version, and unwrap one under the version it names. The KEKs never leave
 * the key service — not to the database, not to the logs, not to the caller.
 *
 * Failures: `key_service_unavailable` (503) when the service cannot be reached or answers wrongly —
 * transient, never a reason to give up on the data; `decryption_failed` (500) when the wrapped key
 * is not one this service wrapped for that context and version — permanent.
 */
export interface KeyService {
  readonly kind: 'local' | 'remote';
  /** Wraps a data key under the current KEK version. */
  wrap(context: WrapContext, dataKey: Buffer): Promise<{ kekVersion: number; wrapped: Buffer }>;
  unwrap(context: WrapContext, kekVersion: number, wrapped: Buffer): Promise<Buffer>;
  versions(): Promise<KekVersion[]>;
  currentVersion(): Promise<number>;
  /** Adds a new KEK version and makes it current. */
  addVersion(): Promise<KekVersion>;
  /** Destroys a version's key material. Refused for the current version. Callers check usage first. */
  retireVersion(version: number): Promise<KekVersion>;
  /** Throws `key_service_unavailable` unless the service can wrap and unwrap now. */
  check(): Promise<void>;
}
