import type { GetAuthorizationTokenCommand, GetAuthorizationTokenCommandOutput } from '@aws-sdk/client-ecr';
import { describe, expect, it } from 'vitest';
import {
  EcrCredentialProvider,
  type EcrTokenClient,
  parseEcrHost,
} from '../../../lib/adapters/oci/ecr-credentials.js';
import { RegistryAuthError, RegistryUnavailableError } from '../../../lib/ports/artifact-source.js';

const host = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
const hour = 60 * 60 * 1000;

/** A hand-written stand-in for ECRClient: answers GetAuthorizationToken from a script and records the calls. */
class FakeEcr implements EcrTokenClient {
  readonly calls: GetAuthorizationTokenCommand[] = [];
  private issued = 0;

  constructor(private readonly answer: (call: number) => GetAuthorizationTokenCommandOutput | Error) {}

  async send(command: GetAuthorizationTokenCommand): Promise<GetAuthorizationTokenCommandOutput> {
    this.calls.push(command);
    this.issued += 1;
    const result = this.answer(this.issued);
    if (result instanceof Error) throw result;
    return result;
  }
}

function tokenOutput(password: string, expiresAt: Date): GetAuthorizationTokenCommandOutput {
  return {
    $metadata: {},
    authorizationData: [
      {
        authorizationToken: Buffer.from(`AWS:${password}`).toString('base64'),
        expiresAt,
        proxyEndpoint: `https://${host}`,
      },
    ],
  };
}

function serviceError(name: string, fault: 'client' | 'server'): Error {
  return Object.assign(new Error(name), { name, $fault: fault, $metadata: {} });
}

describe('parseEcrHost', () => {
  it.each([
    [host, { accountId: '123456789012', region: 'eu-west-1' }],
    ['123456789012.dkr.ecr-fips.us-east-1.amazonaws.com', { accountId: '123456789012', region: 'us-east-1' }],
    ['123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn', { accountId: '123456789012', region: 'cn-north-1' }],
  ])('recognises %s', (input, expected) => {
    expect(parseEcrHost(input)).toEqual(expected);
  });

  it.each([
    'ghcr.io',
    '127.0.0.1:5000',
    '12345.dkr.ecr.eu-west-1.amazonaws.com',
    '123456789012.dkr.ecr.eu-west-1.amazonaws.com.evil.example',
    'evil.example/123456789012.dkr.ecr.eu-west-1.amazonaws.com',
  ])('ignores %s', (input) => {
    expect(parseEcrHost(input)).toBeUndefined();
  });
});

describe('EcrCredentialProvider', () => {
  it('decodes the AWS:password token into Basic credentials', async () => {
    const ecr = new FakeEcr(() => tokenOutput('p@ss:with:colons', new Date(Date.now() + 12 * hour)));
    const provider = new EcrCredentialProvider({ client: ecr });

    expect(await provider.credentialsFor(host)).toEqual({ username: 'AWS', password: 'p@ss:with:colons' });
  });

  it('asks for the token of the account in the host name', async () => {
    const ecr = new FakeEcr(() => tokenOutput('x', new Date(Date.now() + 12 * hour)));
    await new EcrCredentialProvider({ client: ecr }).credentialsFor(host);

    expect(ecr.calls.map((call) => call.input.registryIds)).toEqual([['123456789012']]);
  });

  it('returns undefined for non-ECR hosts without calling ECR', async () => {
    const ecr = new FakeEcr(() => new Error('must not be called'));

    expect(await new EcrCredentialProvider({ client: ecr }).credentialsFor('ghcr.io')).toBeUndefined();
    expect(ecr.calls).toHaveLength(0);
  });

  it('reuses the token until expiresAt minus the safety margin, then fetches a new one', async () => {
    let now = Date.parse('2024-05-01T00:00:00Z');
    const ecr = new FakeEcr((call) => tokenOutput(`token-${call}`, new Date(now + 12 * hour)));
    const provider = new EcrCredentialProvider({
      client: ecr,
      now: () => now,
      safetyMarginMs: 5 * 60 * 1000,
    });

    const first = await provider.credentialsFor(host);
    now += 12 * hour - 6 * 60 * 1000;
    const beforeMargin = await provider.credentialsFor(host);
    now += 2 * 60 * 1000;
    const insideMargin = await provider.credentialsFor(host);

    expect(first?.password).toBe('token-1');
    expect(beforeMargin?.password).toBe('token-1');
    expect(insideMargin?.password).toBe('token-2');
    expect(ecr.calls).toHaveLength(2);
  });

  it('shares one ECR call between concurrent callers', async () => {
    const ecr = new FakeEcr(() => tokenOutput('shared', new Date(Date.now() + 12 * hour)));
    const provider = new EcrCredentialProvider({ client: ecr });

    const results = await Promise.all([1, 2, 3].map(() => provider.credentialsFor(host)));

    expect(results.map((r) => r?.password)).toEqual(['shared', 'shared', 'shared']);
    expect(ecr.calls).toHaveLength(1);
  });

  it('uses a client for the region named in the host', async () => {
    const regions: string[] = [];
    const provider = new EcrCredentialProvider({
      client: (region) => {
        regions.push(region);
        return new FakeEcr(() => tokenOutput('x', new Date(Date.now() + hour)));
      },
    });

    await provider.credentialsFor('123456789012.dkr.ecr.ap-southeast-2.amazonaws.com');

    expect(regions).toEqual(['ap-southeast-2']);
  });

  it('throws RegistryAuthError when ECR denies access, and retries on the next call', async () => {
    const ecr = new FakeEcr((call) =>
      call === 1
        ? serviceError('AccessDeniedException', 'client')
        : tokenOutput('later', new Date(Date.now() + hour)),
    );
    const provider = new EcrCredentialProvider({ client: ecr });

    await expect(provider.credentialsFor(host)).rejects.toBeInstanceOf(RegistryAuthError);
    expect((await provider.credentialsFor(host))?.password).toBe('later');
  });

  it('throws a retryable RegistryUnavailableError when ECR fails on its side', async () => {
    const provider = new EcrCredentialProvider({
      client: new FakeEcr(() => serviceError('ServerException', 'server')),
    });

    await expect(provider.credentialsFor(host)).rejects.toBeInstanceOf(RegistryUnavailableError);
  });

  it.each([
    ['no authorization data', { $metadata: {}, authorizationData: [] }],
    [
      'a token without a colon',
      { $metadata: {}, authorizationData: [{ authorizationToken: 'bm9jb2xvbg==', expiresAt: new Date() }] },
    ],
    ['a token without an expiry', { $metadata: {}, authorizationData: [{ authorizationToken: 'QVdTOng=' }] }],
  ])('throws RegistryAuthError for %s', async (_, output: GetAuthorizationTokenCommandOutput) => {
    const provider = new EcrCredentialProvider({ client: new FakeEcr(() => output) });

    await expect(provider.credentialsFor(host)).rejects.toMatchObject({ code: 'DK_REGISTRY_AUTH' });
  });
});
