import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Keeps the memory that file transfers pass through from piling up.
 *
 * Streaming a file allocates a fresh buffer for every network read on both sides (the caller's
 * socket, the provider's), and they die at once. V8 frees dead buffers only at a collection, and it
 * schedules collections by JavaScript heap growth — which streaming hardly causes — and by an
 * external-memory soft limit of 64 MiB above what was live at the last full collection. Minor
 * collections do not free them reliably either: chunks that passed through web streams (undici's
 * fetch bodies) stay referenced from promoted stream state until a full collection. Measured on a
 * 50 MiB upload and download, Tether's resident memory grew by 40–60 MiB that way, though nothing
 * held more than one network read per direction.
 *
 * So the streaming code reports the bytes it moves, and every `everyBytes` (process-wide, whatever
 * the number of concurrent transfers) a full collection is requested — incremental and
 * asynchronous, so no request waits on it. 0 switches it off and leaves it all to V8.
 */
type Collect = (options: { type: 'major' | 'minor'; execution: 'sync' | 'async' }) => void;

let everyBytes = 0;
let moved = 0;
let collect: Collect | null = null;
let scheduled = false;

export function configureTransferReclaim(bytes: number): void {
  everyBytes = bytes;
  moved = 0;
  if (bytes > 0 && !collect) {
    // The documented way to reach V8's gc() without starting Node with --expose-gc: the flag only
    // decides whether new contexts get a `gc` function; it is turned off again at once.
    setFlagsFromString('--expose-gc');
    try {
      collect = runInNewContext('gc') as Collect;
    } finally {
      setFlagsFromString('--no-expose-gc');
    }
  }
}

/** Called by streaming code with the size of each chunk it passed on. */
export function transferred(bytes: number): void {
  if (everyBytes <= 0 || !collect) return;
  moved += bytes;
  if (moved < everyBytes || scheduled) return;
  moved = 0;
  scheduled = true;
  // Not inside the stream's own callback: after the current I/O phase.
  setImmediate(() => {
    scheduled = false;
    collect!({ type: 'major', execution: 'async' });
  });
}
