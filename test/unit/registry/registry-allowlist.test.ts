import { describe, expect, it } from 'vitest';
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
});
