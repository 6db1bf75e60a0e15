import { readFileSync } from 'node:fs';
import { createSecureContext, rootCertificates } from 'node:tls';
import { Agent, fetch as undiciFetch } from 'undici';

export type OutboundFetch = (input: string | URL, init?: RequestInit) => Promise<Response>;

/**
 * Tether's client for calls to providers. TLS is always verified: against Node's bundled roots,
 * plus the CAs an operator adds (`TETHER_EXTRA_CA_FILE`, e.g. the provider sandbox's local CA or a
 * corporate proxy's). There is no switch to turn verification off.
 */
export function createOutboundFetch(options: { extraCaPem?: string[]; timeoutMs?: number } = {}): { fetch: OutboundFetch; close(): Promise<void> } {
  // One secure context for every connection: building it parses the ~150 root certificates, which
  // costs milliseconds of CPU per new TLS connection when done per connection (as `ca` would).
  const secureContext = createSecureContext({ ca: [...rootCertificates, ...(options.extraCaPem ?? [])] });
  const agent = new Agent({
    connect: { secureContext, timeout: 10_000 },
    headersTimeout: options.timeoutMs ?? 30_000,
    bodyTimeout: options.timeoutMs ?? 30_000,
    keepAliveTimeout: 30_000,
  });
  return {
    fetch: (input, init = {}) => undiciFetch(input, { ...(init as object), dispatcher: agent }) as unknown as Promise<Response>,
    close: () => agent.close(),
  };
}

export function readCaFile(file: string | undefined): string[] {
  return file ? [readFileSync(file, 'utf8')] : [];
}
