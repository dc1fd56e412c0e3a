import { describe, expect, it } from 'vitest';
import { parseChallenge } from '../../../lib/adapters/oci/distribution-client.js';

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
