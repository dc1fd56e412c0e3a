/**
 * Which registries `POST /v1/registrations` (and the registry webhook) may read from, so the endpoint
 * cannot be used to make the control plane fetch from arbitrary hosts. A pattern is `host` (any port),
 * `host:port`, or `*.suffix` (any subdomain, any port); IPv6 hosts are bracketed (`[::1]`).
 */
export type RegistryAllowlist = readonly string[];

/** Loopback registries on any port: the embedded mode's default. */
export const loopbackRegistries: RegistryAllowlist = ['localhost', '127.0.0.1', '[::1]'];

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
  return allowlist.some((pattern) => {
    const expected = splitHost(pattern);
    if (expected.port !== undefined && expected.port !== port) return false;
    if (expected.host.startsWith('*.')) return host.endsWith(expected.host.slice(1));
    return expected.host === host;
  });
}

function splitHost(value: string): { host: string; port: string | undefined } {
  const bracket = value.startsWith('[') ? value.indexOf(']') : -1;
  const colon = value.indexOf(':', bracket + 1);
  if (colon < 0) return { host: value, port: undefined };
  return { host: value.slice(0, colon), port: value.slice(colon + 1) };
}
