import { liveConnectionsSuite } from './liveConnections.ts';

liveConnectionsSuite('local keyring (the key file in the shared data dir)', { provider: 'local', env: () => ({}) });
