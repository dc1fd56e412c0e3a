import { BlockList, isIP } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classifyAddress } from '../../../lib/adapters/oci/address-class.js';

/** Node's own subnet matcher, filled from the RFC 6890 table: an independent oracle for IPv4. */
const nonPublicIpv4 = new BlockList();
for (const [network, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  nonPublicIpv4.addSubnet(network, bits, 'ipv4');
}

const byte = fc.integer({ min: 0, max: 255 });
const bytes16 = fc.array(byte, { minLength: 16, maxLength: 16 });

/** The full eight-group form of 16 bytes, e.g. `fe80:0:0:0:0:0:0:1`. */
function fullForm(value: readonly number[]): string {
  const groups: string[] = [];
  for (let index = 0; index < 16; index += 2) {
    groups.push((((value[index] ?? 0) << 8) | (value[index + 1] ?? 0)).toString(16));
  }
  return groups.join(':');
}

/** The compressed form WHATWG URLs (and so redirect targets) use, e.g. `fe80::1`. */
function urlForm(address: string): string {
  return new URL(`http://[${address}]/`).hostname.slice(1, -1);
}

/** 16 random bytes whose first `bits` bits are those of `prefix`. */
function within(prefix: readonly number[], bits: number): fc.Arbitrary<number[]> {
  return bytes16.map((random) =>
    random.map((value, index) => {
      const covered = Math.min(8, Math.max(0, bits - index * 8));
      const mask = (0xff << (8 - covered)) & 0xff;
      return ((prefix[index] ?? 0) & mask) | (value & ~mask & 0xff);
    }),
  );
}

describe('classifyAddress, IPv4', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.1', 'public'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['0.0.0.0', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['198.51.100.7', 'reserved'],
    ['52.95.128.1', 'public'],
    ['8.8.8.8', 'public'],
  ])('%s is %s', (address, expected) => {
    expect(classifyAddress(address)).toBe(expected);
  });

  it('calls an address public exactly when no special-purpose block holds it (property)', () => {
    fc.assert(
      fc.property(fc.ipV4(), (address) => {
        expect(classifyAddress(address) === 'public').toBe(!nonPublicIpv4.check(address, 'ipv4'));
      }),
      { numRuns: 5000 },
    );
  });

  it('refuses every non-canonical spelling resolvers never produce', () => {
    for (const text of ['127.1', '0x7f.0.0.1', '0177.0.0.1', '2130706433', '127.0.0.01', '1.2.3.256', '']) {
      expect(classifyAddress(text), text).toBeUndefined();
    }
  });
});

describe('classifyAddress, IPv6', () => {
  it.each([
    ['::1', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['fd00:ec2::254', 'unique-local'],
    ['fc00::1', 'unique-local'],
    ['fec0::1', 'private'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'reserved'],
    ['::127.0.0.1', 'reserved'],
    ['2002:7f00:1::', 'loopback'],
    ['2002:808:808::', 'public'],
    ['64:ff9b::a9fe:a9fe', 'link-local'],
    ['64:ff9b::808:808', 'public'],
    ['2600:1f18::1', 'public'],
    ['2a05:d018::1', 'public'],
    ['4000::1', 'reserved'],
  ])('%s is %s', (address, expected) => {
    expect(classifyAddress(address)).toBe(expected);
  });

  it.each([
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::FFFF:7F00:0001', 'loopback'],
    ['0:0:0:0:0:ffff:a9fe:a9fe', 'link-local'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:8.8.8.8', 'public'],
  ])('the IPv4-mapped %s is %s, as its IPv4 address is', (address, expected) => {
    expect(classifyAddress(address)).toBe(expected);
  });

  it('classifies an IPv4-mapped address as its IPv4 address, in every spelling (property)', () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.boolean(), (ipv4, upper) => {
        const [a = 0, b = 0, c = 0, d = 0] = ipv4.split('.').map(Number);
        const hex = `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
        const spellings = [
          `::ffff:${ipv4}`,
          `::ffff:${hex}`,
          `0:0:0:0:0:ffff:${hex}`,
          urlForm(`::ffff:${ipv4}`),
        ];
        const expected = classifyAddress(ipv4);
        for (const spelling of spellings) {
          expect(classifyAddress(upper ? spelling.toUpperCase() : spelling), spelling).toBe(expected);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('agrees with itself across the full and compressed spellings of any address (property)', () => {
    fc.assert(
      fc.property(fc.ipV6(), (address) => {
        expect(isIP(address)).toBe(6);
        const kind = classifyAddress(address);
        expect(kind).toBeDefined();
        expect(classifyAddress(urlForm(address))).toBe(kind);
      }),
      { numRuns: 5000 },
    );
  });

  it.each([
    [[0xfc], 7, 'unique-local'],
    [[0xfe, 0x80], 10, 'link-local'],
    [[0xff], 8, 'multicast'],
    [[0x20, 0x01, 0x0d, 0xb8], 32, 'reserved'],
  ] as const)('every address under %j/%i is %s (property)', (prefix, bits, expected) => {
    fc.assert(
      fc.property(within(prefix, bits), (value) => {
        const full = fullForm(value);
        expect(classifyAddress(full)).toBe(expected);
        expect(classifyAddress(urlForm(full))).toBe(expected);
      }),
      { numRuns: 1000 },
    );
  });

  it('is not fooled by text that is not an address', () => {
    for (const text of ['1::2::3', '::ffff:127.1', '12345::', 'fe80::g', ':::', 'localhost', '[::1]']) {
      expect(classifyAddress(text), text).toBeUndefined();
    }
  });
});
