import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loopbackPolicy } from '../../../lib/adapters/oci/connection-policy.js';
import { parseReference } from '../../../lib/domain/registry/reference.js';
import {
  isRegistryAllowed,
  loopbackRegistries,
  parseRegistryAllowlist,
} from '../../../lib/domain/registry/registry-allowlist.js';

describe('the registry allowlist', () => {
  it.each([
    ['127.0.0.1:5000', true],
    ['localhost:41234', true],
    ['[::1]:5000', true],
    ['127.0.0.2:5000', false],
    ['registry.example.com', false],
    ['localhost.example.com', false],
  ])('loopback default: %s → %s', (host, allowed) => {
    expect(isRegistryAllowed(host, loopbackRegistries)).toBe(allowed);
  });

  it('matches an exact port only when the pattern names one', () => {
    const allowlist = parseRegistryAllowlist('registry.internal:5000, ghcr.io');

    expect(isRegistryAllowed('registry.internal:5000', allowlist)).toBe(true);
    expect(isRegistryAllowed('registry.internal:5001', allowlist)).toBe(false);
    expect(isRegistryAllowed('GHCR.IO', allowlist)).toBe(true);
  });

  it('matches subdomains with *.suffix, never the bare suffix or a look-alike', () => {
    const allowlist = parseRegistryAllowlist('*.dkr.ecr.eu-west-1.amazonaws.com');

    expect(isRegistryAllowed('123456789012.dkr.ecr.eu-west-1.amazonaws.com', allowlist)).toBe(true);
    expect(isRegistryAllowed('dkr.ecr.eu-west-1.amazonaws.com', allowlist)).toBe(false);
    expect(isRegistryAllowed('evil-dkr.ecr.eu-west-1.amazonaws.com.example', allowlist)).toBe(false);
  });

  /** What POST /v1/registrations and the webhook do with a reference: parse it, then ask the allowlist. */
  const admitted = (reference: string, allowlist = loopbackRegistries): string | undefined => {
    let registry: string;
    try {
      registry = parseReference(reference).registry;
    } catch {
      return undefined;
    }
    return isRegistryAllowed(registry, allowlist) ? registry : undefined;
  };

  it.each([
    'evil.example.com@127.0.0.1:5000/sales/orders:1.0.0',
    '127.0.0.1:5000@evil.example.com/sales/orders:1.0.0',
    'localhost:5000#@evil.example.com/sales/orders:1.0.0',
    'localhost:5000?@evil.example.com/sales/orders:1.0.0',
    'localhost%2f@evil.example.com/sales/orders:1.0.0',
    'localhost./sales/orders:1.0.0',
    '127.0.0.1.evil.example.com/sales/orders:1.0.0',
    'localhost.evil.example.com:5000/sales/orders:1.0.0',
    '[::1]@evil.example.com/sales/orders:1.0.0',
    '[::ffff:7f00:1]:5000/sales/orders:1.0.0',
    '2130706433:5000/sales/orders:1.0.0',
    '0x7f.0.0.1:5000/sales/orders:1.0.0',
    '127.1:5000/sales/orders:1.0.0',
    'localhost:5000\\@evil.example.com/sales/orders:1.0.0',
  ])('refuses %s with the loopback default', (reference) => {
    expect(admitted(reference)).toBeUndefined();
  });

  it('admits loopback registries whatever their case', () => {
    expect(admitted('LocalHost:5000/sales/orders:1.0.0')).toBe('LocalHost:5000');
  });

  it('dials only a loopback host when it admitted a reference with the loopback default (property)', () => {
    const noisy = fc.string({ unit: fc.constantFrom(...'aZ0179.:@[]%#?/\\-_x'.split('')), maxLength: 30 });
    const host = fc.oneof(
      noisy,
      fc
        .constantFrom('localhost', '127.0.0.1', '[::1]', 'LOCALHOST')
        .chain((base) => fc.tuple(noisy, noisy).map(([before, after]) => `${before}${base}${after}`)),
    );
    fc.assert(
      fc.property(host, (candidate) => {
        const registry = admitted(`${candidate}/sales/orders:1.0.0`);
        if (registry === undefined) return;
        const dialled = loopbackPolicy.registryUrl(registry);
        expect(['localhost', '127.0.0.1', '[::1]']).toContain(dialled.hostname);
      }),
      { numRuns: 3000 },
    );
  });
});
