import { BlockList, isIP } from 'node:net';

/** Decides whether an HTTP source may connect to an IP address. True = allowed. */
export type AddressPolicy = (address: string, family: 4 | 6) => boolean;

/**
 * Ranges an HTTP source must never reach: everything that is not plain public
 * unicast. A source URL is attacker-influenced; these are where the metadata
 * service, the VPC and localhost live (the SSRF classes Next.js's optimizer had).
 */
const BLOCKED_V4: ReadonlyArray<[string, number]> = [
  ['0.0.0.0', 8], // "this network", incl. the unspecified 0.0.0.0
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, incl. the 169.254.169.254 metadata service
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.88.99.0', 24], // 6to4 relay anycast
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, incl. broadcast 255.255.255.255
];

/** IPv6: only global unicast (2000::/3) is allowed, minus these. */
const BLOCKED_V6_IN_GLOBAL: ReadonlyArray<[string, number]> = [
  ['2001::', 32], // Teredo: tunnels to arbitrary IPv4
  ['2001:db8::', 32], // documentation
  ['2002::', 16], // 6to4: embeds an arbitrary (possibly private) IPv4
  ['3fff::', 20], // documentation
];

function buildBlockList(): BlockList {
  const list = new BlockList();
  for (const [net, prefix] of BLOCKED_V4) list.addSubnet(net, prefix, 'ipv4');
  for (const [net, prefix] of BLOCKED_V6_IN_GLOBAL) list.addSubnet(net, prefix, 'ipv6');
  return list;
}

const blocked = buildBlockList();
const globalUnicast = new BlockList();
globalUnicast.addSubnet('2000::', 3, 'ipv6');

/**
 * The default policy: public unicast only. Every IPv6 address outside
 * 2000::/3 is refused, which covers ::, ::1, fe80::/10, fc00::/7, ff00::/8,
 * IPv4-mapped ::ffff:0:0/96 and NAT64 64:ff9b::/96 in one rule.
 */
export const publicAddressesOnly: AddressPolicy = (address, family) => {
  if (family === 4) return isIP(address) === 4 && !blocked.check(address, 'ipv4');
  if (isIP(address) !== 6) return false;
  return globalUnicast.check(address, 'ipv6') && !blocked.check(address, 'ipv6');
};

/** The IP literal in a URL hostname (`[::1]` → `::1`), or undefined for a DNS name. */
export function ipLiteral(hostname: string): { address: string; family: 4 | 6 } | undefined {
  const bare = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  const family = isIP(bare);
  return family === 4 || family === 6 ? { address: bare, family } : undefined;
}

/** The port a URL with an empty `port` uses; HTTP sources are http(s) only. */
const DEFAULT_PORTS: Readonly<Record<string, string>> = { 'http:': '80', 'https:': '443' };

/** `host` or `host:port`; an IPv6 literal is bracketed (`[2001:db8::1]:8443`), as in a URL. */
const ALLOWLIST_ENTRY = /^(\[[0-9a-f:.]+\]|[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?)(?::(\d{1,5}))?$/;

/**
 * One host allowlist entry in the form `hostAllowed` compares: the host as WHATWG URL
 * spells it (lower-case, IPv6 compressed, IPv4 dotted), then `:port` when one was named.
 * Undefined when the text is not an entry. Normalising here is what lets
 * `[2001:DB8:0::1]` or `2130706433` match the URL a caller sends.
 */
export function allowlistEntry(text: string): string | undefined {
  const match = ALLOWLIST_ENTRY.exec(text.trim().toLowerCase());
  if (match === null) return undefined;
  const [, host = '', port] = match;
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65_535)) return undefined;
  let hostname: string;
  try {
    hostname = new URL(`http://${host}/`).hostname;
  } catch {
    return undefined;
  }
  return port === undefined ? hostname : `${hostname}:${Number(port)}`;
}

/**
 * True when the allowlist names the URL's host AND port. A bare entry allows only the
 * scheme's default port (80/443): an allowed host is not an invitation to its SSH or
 * admin port. `host:port` allows that port under either scheme. WHATWG URL leaves
 * `port` empty exactly when it is the scheme's default (`https://x:443/` → ''), so an
 * explicit default port is the default, and `http://x:443/` is port 443, not the default.
 */
export function hostAllowed(url: URL, allowed: ReadonlySet<string>): boolean {
  if (url.port === '' && allowed.has(url.hostname)) return true;
  const port = url.port === '' ? DEFAULT_PORTS[url.protocol] : url.port;
  return port !== undefined && allowed.has(`${url.hostname}:${port}`);
}
