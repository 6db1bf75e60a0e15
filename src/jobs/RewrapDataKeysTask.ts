import type { Task } from 'graphile-worker';
import type { KeyManagement } from '../keys/keyManagement.ts';

export const REWRAP_DATA_KEYS = 'rewrap_data_keys';

/**
 * After a KEK rotation: rewraps every data key to the current KEK version. Queued by
 * `tether keys rotate`, at start when keys are left to rewrap, and hourly as a catch-up. A key
 * service outage fails the job, and graphile-worker retries it with backoff.
 */
export function rewrapDataKeysTask(keys: KeyManagement): Task {
  return async (_payload, helpers) => {
    const { rewrapped, failed } = await keys.rewrapAll();
    if (rewrapped > 0) helpers.logger.info(`rewrapped ${rewrapped} data keys to the current key version`);
    if (failed.length > 0) throw new Error(`${failed.length} data keys do not unwrap and were not rewrapped: ${failed.join(', ')}`);
  };
}
