import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { randomToken } from '../../src/security/tokens.ts';
import { freePort } from '../support/process.ts';
import { spawnKeyService, type KeyServiceProcess } from './keyServiceProcess.ts';
import { liveConnectionsSuite } from './liveConnections.ts';

const dir = mkdtempSync(join(tmpdir(), 'tether-keys-live-'));
const secret = randomToken(32);
let port: number;
let service: KeyServiceProcess | undefined;
const start = async () => {
  service = await spawnKeyService({ TETHER_DATA_DIR: join(dir, 'key-service'), TETHER_KEYS_REMOTE_TOKEN: secret, TETHER_KEYS_SERVE_PORT: String(port) });
};
const stop = async () => {
  await service?.stop();
  service = undefined;
};

before(async () => {
  port = await freePort();
  await start();
});
after(async () => {
  await stop();
  rmSync(dir, { recursive: true, force: true });
});

liveConnectionsSuite('remote key service (tether keys serve, its own process and keyring)', {
  provider: 'remote',
  env: () => ({
    TETHER_KEYS_PROVIDER: 'remote',
    TETHER_KEYS_REMOTE_URL: `http://127.0.0.1:${port}`,
    TETHER_KEYS_REMOTE_TOKEN: secret,
    // Every data key is unwrapped at the key service, so an outage shows at once.
    TETHER_KEYS_CACHE_SECONDS: '0',
  }),
  outage: { stop, start },
});
