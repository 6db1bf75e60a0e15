// Every request any emulator received, so tests can prove what Tether did — or that an input
// caused no outbound request at all.
import type { ProviderId } from './http.ts';

export interface LoggedRequest {
  seq: number;
  time: string;
  provider: ProviderId;
  method: string;
  /** Path and query as received. */
  path: string;
  /** 0 when the connection was reset without an answer. */
  status: number;
  durationMs: number;
  fault?: string;
}

export class RequestLog {
  #entries: LoggedRequest[] = [];
  #seq = 0;
  readonly #limit: number;

  constructor(limit = 50_000) {
    this.#limit = limit;
  }

  record(entry: Omit<LoggedRequest, 'seq'>): void {
    this.#entries.push({ seq: ++this.#seq, ...entry });
    if (this.#entries.length > this.#limit) this.#entries.splice(0, this.#entries.length - this.#limit);
  }

  /** A position to pass to `since()`. */
  mark(): number {
    return this.#seq;
  }

  entries(filter: { provider?: ProviderId; since?: number } = {}): LoggedRequest[] {
    return this.#entries.filter((e) => (!filter.provider || e.provider === filter.provider) && (filter.since === undefined || e.seq > filter.since));
  }

  since(mark: number): LoggedRequest[] {
    return this.entries({ since: mark });
  }

  clear(): void {
    this.#entries = [];
  }
}
