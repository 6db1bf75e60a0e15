import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/schema.ts';
import { LocalKeyService } from './localKeyService.ts';
import type { KeyService } from './keyService.ts';
import { RemoteKeyService } from './remoteKeyService.ts';

export type { KeyService, KekVersion } from './keyService.ts';
export type { FieldContext, Purpose } from './envelope.ts';
export { Vault, isDecryptionFailure, isKeyServiceUnavailable } from './vault.ts';
export { KeyManagement, type KeyStatus } from './keyManagement.ts';
export { encryptedColumns, type EncryptedColumn } from './encryptedColumns.ts';

/** The local keyring this configuration names: `keys.localKeys`, or the key file (default `$dataDir/keyring.json`). */
export function localKeyring(config: Config): LocalKeyService {
  return new LocalKeyService(
    config.keys.localKeys ? { kind: 'config', value: config.keys.localKeys } : { kind: 'file', path: config.keys.keyFile ?? join(config.dataDir, 'keyring.json') },
  );
}

/**
 * The key service Tether uses. Local: the keyring is loaded (and its file created, 0600, on first
 * start) now, so a broken keyring stops the start. Remote: nothing is called yet; an unreachable
 * service shows in /readyz and as 503s, and is never replaced by a local key.
 */
export function createKeyService(config: Config): { keys: KeyService; keyFileCreated: boolean } {
  if (config.keys.provider === 'remote') {
    return {
      keys: new RemoteKeyService({
        url: config.keys.remoteUrl!,
        secret: config.keys.remoteToken!,
        timeoutMs: config.keys.remoteTimeoutMs,
        ...(config.keys.remoteCaFile && { ca: readFileSync(config.keys.remoteCaFile, 'utf8') }),
      }),
      keyFileCreated: false,
    };
  }
  const keys = localKeyring(config);
  return { keys, keyFileCreated: keys.init() };
}
