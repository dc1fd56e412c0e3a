/**
 * Which registries `POST /v1/registrations` (and the registry webhook) may read from, so the endpoint
 * cannot be used to make the control plane fetch from arbitrary hosts. A pattern is `host` (any port),
 * `host:port`, or `*.suffix` (any subdomain, any port); IPv6 hosts are bracketed (`[::1]`). The same
 * pattern syntax lists the blob and token hosts a registry may send the client to
 * (`REGISTRY_BLOB_HOSTS`, see lib/adapters/oci/connection-policy.ts).
 */
export type RegistryAllowlist = readonly string[];

/** Loopback registries on any port: the embedded mode's default. */
export const loopbackRegistries: RegistryAllowlist = ['localhost', '127.0.0.1', '[::1]'];

/** How a host matched a list: by an `exact` host pattern, or only by a `*.suffix` one. */
export type HostMatch = 'exact' | 'wildcard';

/** Parses `REGISTRY_ALLOWLIST` (comma-separated patterns; blanks ignored, case-insensitive). */
export function parseRegistryAllowlist(value: string): RegistryAllowlist {
  return value
    .split(',')
    .map((pattern) => pattern.trim().toLowerCase())
    .filter((pattern) => pattern !== '');
}

/** True when `registry` (a reference's host[:port]) matches one of the patterns. */
export function isRegistryAllowed(registry: string, allowlist: RegistryAllowlist): boolean {
  const { host, port } = splitHost(registry.toLowerCase());
  return matchHost(host, port, allowlist) !== undefined;
}

/**
 * How `host` (lower-case; IPv6 bracketed) on `port` matches the patterns: `exact` when a pattern names
 * the host itself, `wildcard` when only a `*.suffix` pattern covers it, undefined when none does.
 * A port of undefined matches only patterns without a port.
 */
export function matchHost(
  host: string,
  port: string | undefined,
  patterns: RegistryAllowlist,
): HostMatch | undefined {
  let match: HostMatch | undefined;
  for (const pattern of patterns) {
    const expected = splitHost(pattern.toLowerCase());
    if (expected.port !== undefined && expected.port !== port) continue;
    if (expected.host.startsWith('*.')) {
      if (host.endsWith(expected.host.slice(1))) match ??= 'wildcard';
    } else if (expected.host === host) {
      return 'exact';
    }
  }
  return match;
}

function splitHost(value: string): { host: string; port: string | undefined } {
  const bracket = value.startsWith('[') ? value.indexOf(']') : -1;
  const colon = value.indexOf(':', bracket + 1);
  if (colon < 0) return { host: value, port: undefined };
  return { host: value.slice(0, colon), port: value.slice(colon + 1) };
}
