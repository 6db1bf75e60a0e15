import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { TetherError } from '../errors.ts';

/**
 * Where webhooks may be sent. An org admin chooses the URL, so a webhook is a request Tether makes
 * on an org admin's say-so from inside the operator's network: without a policy it could reach the
 * database, the key service or a cloud metadata endpoint (SSRF). By default only public addresses
 * over https are allowed; `webhooks.allowPrivateTargets` (an operator setting, for development and
 * for host apps on the same private network) lifts the address check and allows plain http.
 *
 * The check runs twice: on the URL when it is saved (literal addresses and well-known private
 * names), and on every delivery at connect time, on the addresses DNS actually returned — so a name
 * that later resolves to 127.0.0.1 (DNS rebinding) is refused too, and the connection is made to the
 * address that was checked.
 */
export interface WebhookTargetPolicy {
  allowPrivateTargets: boolean;
}

// Two lists: Node's BlockList matches IPv4 addresses against IPv6 rules as IPv4-mapped, so the
// mapped range below would otherwise swallow every IPv4 address.
const nonPublicV4 = new BlockList();
const nonPublicV6 = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], // "this" network
  ['10.0.0.0', 8], // private (RFC 1918)
  ['100.64.0.0', 10], // carrier-grade NAT (RFC 6598)
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, including cloud metadata at 169.254.169.254
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) nonPublicV4.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 96], // unspecified, loopback (::1) and IPv4-compatible
  ['::ffff:0:0', 96], // IPv4-mapped: would reach any IPv4 address, private ones included
  ['64:ff9b::', 96], // NAT64, likewise
  ['100::', 64], // discard
  ['2001:db8::', 32], // documentation
  ['2002::', 16], // 6to4 embeds an IPv4 address
  ['fc00::', 7], // unique local, including AWS's metadata at fd00:ec2::254
  ['fe80::', 10], // link-local
  ['ff00::', 8], // multicast
] as const) nonPublicV6.addSubnet(net, prefix, 'ipv6');

/** True for any address that is not plainly a public unicast one (and for anything that is not an IP). */
export function isNonPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  return family === 4 ? nonPublicV4.check(address, 'ipv4') : nonPublicV6.check(address, 'ipv6');
}

/** Names that only ever mean this machine or a private network (metadata.google.internal, *.local). */
function isPrivateName(hostname: string): boolean {
  return hostname === 'localhost' || /\.(localhost|local|internal|home\.arpa)$/.test(hostname) || !hostname.includes('.');
}

/** Why a URL is not an acceptable webhook target, or null when it is. Does not resolve DNS. */
export function webhookUrlProblem(raw: string, policy: WebhookTargetPolicy): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'not an absolute URL';
  }
  if (url.username || url.password) return 'credentials in the URL are not allowed; authenticate with the signature';
  if (url.hash) return 'a fragment is not allowed';
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && policy.allowPrivateTargets)) {
    return policy.allowPrivateTargets ? 'must be https or http' : 'must be https';
  }
  if (policy.allowPrivateTargets) return null;
  const host = url.hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();
  if (isIP(host) !== 0) return isNonPublicAddress(host) ? 'a private, loopback or link-local address is not allowed' : null;
  if (isPrivateName(host)) return 'a private or local host name is not allowed';
  return null;
}

/** The URL, or a 422 `invalid_webhook_url` naming the problem. */
export function checkWebhookUrl(raw: string, policy: WebhookTargetPolicy): URL {
  const problem = webhookUrlProblem(raw, policy);
  if (problem) throw new TetherError(422, 'invalid_webhook_url', `The webhook URL is not acceptable: ${problem}.`, { details: { reason: problem } });
  return new URL(raw);
}

/** Raised (inside undici's connect) when DNS answers with a non-public address. */
export class WebhookTargetRefused extends Error {
  readonly code = 'ERR_WEBHOOK_TARGET_REFUSED';
}

/**
 * A `lookup` for the outbound agent's connect options: resolves as usual, then refuses the
 * connection when any returned address is non-public, so the address connected to is one checked.
 */
export function guardedLookup(policy: WebhookTargetPolicy, resolve: typeof dnsLookup = dnsLookup): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      const refused = policy.allowPrivateTargets ? undefined : addresses.find((a) => isNonPublicAddress(a.address));
      if (refused || addresses.length === 0) {
        return callback(new WebhookTargetRefused(`${hostname} resolves to a non-public address`), '', 0);
      }
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      return callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}
