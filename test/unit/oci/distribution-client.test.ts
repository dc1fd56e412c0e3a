import { describe, expect, it } from 'vitest';
import {
  isLoopbackHost,
  parseChallenge,
  registryBaseUrl,
} from '../../../lib/adapters/oci/distribution-client.js';

describe('registryBaseUrl', () => {
  it.each([
    ['127.0.0.1:5000', 'http://127.0.0.1:5000'],
    ['localhost:5000', 'http://localhost:5000'],
    ['[::1]:5000', 'http://[::1]:5000'],
    ['123456789012.dkr.ecr.eu-west-1.amazonaws.com', 'https://123456789012.dkr.ecr.eu-west-1.amazonaws.com'],
    ['registry.internal:5000', 'https://registry.internal:5000'],
    ['127.0.0.1.nip.io', 'https://127.0.0.1.nip.io'],
    // Host names are case-insensitive, as the allowlist treats them.
    ['LocalHost:5000', 'http://LocalHost:5000'],
  ])('uses plain http only for loopback hosts: %s', (host, expected) => {
    expect(registryBaseUrl(host)).toBe(expected);
  });

  it('uses plain http for a host explicitly configured as insecure', () => {
    expect(registryBaseUrl('registry.internal:5000', ['registry.internal:5000'])).toBe(
      'http://registry.internal:5000',
    );
  });

  it('matches insecure hosts case-insensitively', () => {
    expect(registryBaseUrl('Registry.Internal:5000', ['registry.internal:5000'])).toBe(
      'http://Registry.Internal:5000',
    );
  });

  it('does not treat a lookalike of localhost as loopback', () => {
    expect(isLoopbackHost('localhost.example.com')).toBe(false);
  });
});

describe('parseChallenge', () => {
  it('reads realm, service and scope from a Bearer challenge', () => {
    const challenge = parseChallenge(
      'Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull,push"',
    );

    expect(challenge?.scheme).toBe('bearer');
    expect(Object.fromEntries(challenge?.params ?? [])).toEqual({
      realm: 'https://auth.example.com/token',
      service: 'registry.example.com',
      scope: 'repository:a/b:pull,push',
    });
  });

  it('reads a Basic challenge with unquoted parameters and escapes', () => {
    const challenge = parseChallenge('basic realm=ecr, note="say \\"hi\\""');

    expect(challenge?.scheme).toBe('basic');
    expect(challenge?.params.get('realm')).toBe('ecr');
    expect(challenge?.params.get('note')).toBe('say "hi"');
  });

  it('returns undefined for an empty header', () => {
    expect(parseChallenge('')).toBeUndefined();
  });
});
