// Process-wide trust for the sandbox CA, for clients that use Node's global fetch or https agent
// and cannot be handed a `ca` option (e.g. official SDKs run unmodified). This is the in-process
// equivalent of NODE_EXTRA_CA_CERTS: the CA is added to the defaults, verification stays on.
import tls from 'node:tls';

export function trustCaProcessWide(caCertPem: string): void {
  const current = tls.getCACertificates('default');
  if (current.includes(caCertPem)) return;
  tls.setDefaultCACertificates([...current, caCertPem]);
}
