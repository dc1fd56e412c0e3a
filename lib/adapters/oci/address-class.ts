/**
 * What kind of network an IP address reaches. Only `public` addresses are dialled for hosts the lists
 * match by wildcard; every other class is reachable only through a host listed exactly
 * (docs/adr/0009-registry-connection-policy.md).
 */
export type AddressClass =
  | 'public'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'unique-local'
  | 'unspecified'
  | 'multicast'
  | 'reserved';

interface Range {
  /** Network bytes (4 for IPv4, 16 for IPv6). */
  readonly prefix: readonly number[];
  readonly bits: number;
  readonly kind: AddressClass | 'embedded-ipv4';
}

/** IPv4 special-purpose blocks (RFC 6890 and its updates); everything else is public. */
const ipv4Ranges: readonly Range[] = [
  // 0.0.0.0/8 is "this network": Linux connects 0.0.0.0 to the local host.
  range4('0.0.0.0', 8, 'unspecified'),
  range4('10.0.0.0', 8, 'private'),
  // Carrier-grade NAT space: another customer's network, never a registry of ours.
  range4('100.64.0.0', 10, 'private'),
  range4('127.0.0.0', 8, 'loopback'),
  // Instance metadata (169.254.169.254) and the ECS credentials endpoint live here.
  range4('169.254.0.0', 16, 'link-local'),
  range4('172.16.0.0', 12, 'private'),
  range4('192.0.0.0', 24, 'reserved'),
  range4('192.0.2.0', 24, 'reserved'),
  range4('192.88.99.0', 24, 'reserved'),
  range4('192.168.0.0', 16, 'private'),
  range4('198.18.0.0', 15, 'reserved'),
  range4('198.51.100.0', 24, 'reserved'),
  range4('203.0.113.0', 24, 'reserved'),
  range4('224.0.0.0', 4, 'multicast'),
  // 240.0.0.0/4, the limited broadcast address included.
  range4('240.0.0.0', 4, 'reserved'),
];

/** IPv6 special-purpose blocks; the first match wins, so the more specific ones come first. */
const ipv6Ranges: readonly Range[] = [
  range6('::', 128, 'unspecified'),
  range6('::1', 128, 'loopback'),
  // IPv4-mapped (::ffff:a.b.c.d): the socket reaches the IPv4 address itself.
  range6('::ffff:0:0', 96, 'embedded-ipv4'),
  // NAT64's well-known prefix translates to the embedded IPv4 address.
  range6('64:ff9b::', 96, 'embedded-ipv4'),
  range6('64:ff9b:1::', 48, 'private'),
  range6('100::', 64, 'reserved'),
  range6('2001::', 23, 'reserved'),
  range6('2001:db8::', 32, 'reserved'),
  range6('3fff::', 20, 'reserved'),
  range6('fc00::', 7, 'unique-local'),
  range6('fe80::', 10, 'link-local'),
  // Site-local addresses are deprecated but still private wherever they are configured.
  range6('fec0::', 10, 'private'),
  range6('ff00::', 8, 'multicast'),
];

/**
 * The class of an IPv4 or IPv6 address as `dns.lookup` or a URL writes it (an IPv6 zone such as
 * `%eth0` is ignored); undefined when `address` is not an IP address.
 */
export function classifyAddress(address: string): AddressClass | undefined {
  const bytes = parseIpv4(address) ?? parseIpv6(address.replace(/%.*$/s, ''));
  return bytes === undefined ? undefined : classifyBytes(bytes);
}

function classifyBytes(bytes: readonly number[]): AddressClass {
  if (bytes.length === 4) {
    const kind = lookup(bytes, ipv4Ranges);
    return kind === undefined || kind === 'embedded-ipv4' ? 'public' : kind;
  }
  const kind = lookup(bytes, ipv6Ranges);
  if (kind === 'embedded-ipv4') return classifyBytes(bytes.slice(12));
  if (kind !== undefined) return kind;
  // 6to4 (2002::/16) carries an IPv4 address in bits 16-47 and reaches it through a relay.
  if (bytes[0] === 0x20 && bytes[1] === 0x02) {
    const embedded = classifyBytes(bytes.slice(2, 6));
    if (embedded !== 'public') return embedded;
  }
  // Only 2000::/3 is allocated for global unicast; the rest of the space is unassigned.
  return ((bytes[0] ?? 0) & 0xe0) === 0x20 ? 'public' : 'reserved';
}

function lookup(bytes: readonly number[], ranges: readonly Range[]): Range['kind'] | undefined {
  return ranges.find((range) => inRange(bytes, range))?.kind;
}

function inRange(bytes: readonly number[], range: Range): boolean {
  if (bytes.length !== range.prefix.length) return false;
  for (let bit = 0; bit < range.bits; bit += 8) {
    const remaining = range.bits - bit;
    const mask = remaining >= 8 ? 0xff : (0xff << (8 - remaining)) & 0xff;
    const index = bit / 8;
    if (((bytes[index] ?? 0) & mask) !== ((range.prefix[index] ?? 0) & mask)) return false;
  }
  return true;
}

/** Dotted-decimal IPv4 (`127.0.0.1`), the only form resolvers and WHATWG URLs produce. */
function parseIpv4(text: string): number[] | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const bytes: number[] = [];
  for (const part of parts) {
    if (!/^(?:0|[1-9]\d{0,2})$/.test(part)) return undefined;
    const value = Number(part);
    if (value > 255) return undefined;
    bytes.push(value);
  }
  return bytes;
}

/** RFC 4291 text forms: eight groups, `::` compression, a trailing dotted IPv4 address, any case. */
function parseIpv6(text: string): number[] | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = groupsOf(halves[0] ?? '');
  const tail = halves.length === 2 ? groupsOf(halves[1] ?? '') : [];
  if (head === undefined || tail === undefined) return undefined;
  const missing = 16 - head.length - tail.length;
  if (halves.length === 2 ? missing < 2 : missing !== 0) return undefined;
  return [...head, ...new Array<number>(missing).fill(0), ...tail];
}

/** The bytes of colon-separated groups; only the last one may be a dotted IPv4 address. */
function groupsOf(text: string): number[] | undefined {
  if (text === '') return [];
  const groups = text.split(':');
  const bytes: number[] = [];
  for (const [index, group] of groups.entries()) {
    if (index === groups.length - 1 && group.includes('.')) {
      const ipv4 = parseIpv4(group);
      if (ipv4 === undefined) return undefined;
      bytes.push(...ipv4);
      continue;
    }
    if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return undefined;
    const value = Number.parseInt(group, 16);
    bytes.push(value >> 8, value & 0xff);
  }
  return bytes;
}

function range4(address: string, bits: number, kind: Range['kind']): Range {
  const prefix = parseIpv4(address);
  if (prefix === undefined) throw new Error(`bad IPv4 range ${address}`);
  return { prefix, bits, kind };
}

function range6(address: string, bits: number, kind: Range['kind']): Range {
  const prefix = parseIpv6(address);
  if (prefix === undefined) throw new Error(`bad IPv6 range ${address}`);
  return { prefix, bits, kind };
}
