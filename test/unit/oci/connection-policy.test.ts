import { describe, expect, it } from 'vitest';
import {
  ConnectionPolicy,
  type DialPurpose,
  type HostResolver,
  loopbackPolicy,
} from '../../../lib/adapters/oci/connection-policy.js';
import { ecrLayerBucketHosts } from '../../../lib/adapters/oci/ecr-credentials.js';
import { RegistryHostNotAllowedError, RegistryUnavailableError } from '../../../lib/ports/artifact-source.js';

const ecrHost = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
const layerBucket = 'prod-eu-west-1-starport-layer-bucket.s3.eu-west-1.amazonaws.com';

/** A resolver that knows only the names it is given: what DNS would answer, without DNS. */
function resolverOf(names: Record<string, readonly string[]>): HostResolver {
  return async (hostname) => {
    const addresses = names[hostname];
    if (addresses === undefined)
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
}

const publicNames = resolverOf({
  [ecrHost]: ['52.95.110.1'],
  [layerBucket]: ['52.218.1.2', '2600:1f18::1'],
  'registry.example.com': ['93.184.216.34'],
  'internal.example.com': ['10.0.0.5'],
  'metadata.example.com': ['169.254.169.254'],
  'mixed.example.com': ['93.184.216.34', '127.0.0.1'],
  'mapped.example.com': ['::ffff:127.0.0.1'],
  'ula.example.com': ['fd00:ec2::254'],
});

const ecrPolicy = new ConnectionPolicy({
  registries: [ecrHost, '*.example.com'],
  blobHosts: ecrLayerBucketHosts([ecrHost]),
  resolve: publicNames,
});

async function refusal(policy: ConnectionPolicy, url: string, purpose: DialPurpose): Promise<string> {
  const error = await policy.check(new URL(url), purpose).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof RegistryHostNotAllowedError))
    throw new Error(`${url} was not refused: ${String(error)}`);
  expect(error).toMatchObject({ code: 'REGISTRY_HOST_NOT_ALLOWED', retryable: false });
  return error.message;
}

describe('the registry URL', () => {
  it.each([
    ['127.0.0.1:5000', 'http://127.0.0.1:5000/'],
    ['localhost:5000', 'http://localhost:5000/'],
    ['[::1]:5000', 'http://[::1]:5000/'],
    [ecrHost, `https://${ecrHost}/`],
    ['registry.internal:5000', 'https://registry.internal:5000/'],
    ['127.0.0.1.nip.io', 'https://127.0.0.1.nip.io/'],
    ['LocalHost:5000', 'http://localhost:5000/'],
    ['localhost.example.com', 'https://localhost.example.com/'],
  ])('uses plain http only for loopback hosts: %s', (host, expected) => {
    expect(loopbackPolicy.registryUrl(host).href).toBe(expected);
  });

  it('uses plain http for a host configured as insecure, whatever its case', () => {
    const policy = new ConnectionPolicy({ registries: [], insecureHosts: ['registry.internal:5000'] });

    expect(policy.registryUrl('Registry.Internal:5000').href).toBe('http://registry.internal:5000/');
    expect(policy.registryUrl('registry.internal:5001').href).toBe('https://registry.internal:5001/');
  });
});

describe('ConnectionPolicy', () => {
  it('dials the allowlisted ECR registry at the addresses it checked', async () => {
    const target = await ecrPolicy.check(new URL(`https://${ecrHost}/v2/`), 'registry');

    expect(target.addresses).toEqual([{ address: '52.95.110.1', family: 4 }]);
  });

  it("follows ECR's redirect to its regional layer bucket over https, every address checked", async () => {
    const target = await ecrPolicy.check(
      new URL(`https://${layerBucket}/c814/1e96?X-Amz-Signature=x`),
      'redirect',
    );

    expect(target.addresses.map(({ address }) => address)).toEqual(['52.218.1.2', '2600:1f18::1']);
  });

  it.each([
    [`http://${layerBucket}/blob`, /plain http/],
    [
      'https://prod-us-east-1-starport-layer-bucket.s3.us-east-1.amazonaws.com/blob',
      /neither on the registry allowlist/,
    ],
    ['https://evil.s3.eu-west-1.amazonaws.com/blob', /neither on the registry allowlist/],
    ['https://s3.eu-west-1.amazonaws.com/prod-eu-west-1-starport-layer-bucket/blob', /neither/],
    ['https://169.254.169.254/latest/meta-data/', /neither/],
    ['ftp://registry.example.com/x', /scheme ftp: is neither https nor http/],
  ])('refuses the redirect target %s', async (url, reason) => {
    expect(await refusal(ecrPolicy, url, 'redirect')).toMatch(reason);
  });

  it('never dials a blob host as a registry', async () => {
    expect(await refusal(ecrPolicy, `https://${layerBucket}/v2/`, 'registry')).toMatch(
      /not on the registry allowlist \(REGISTRY_ALLOWLIST\)/,
    );
  });

  it.each([
    ['internal.example.com', '10.0.0.5 (private)'],
    ['metadata.example.com', '169.254.169.254 (link-local)'],
    ['mixed.example.com', '127.0.0.1 (loopback)'],
    ['mapped.example.com', '::ffff:127.0.0.1 (loopback)'],
    ['ula.example.com', 'fd00:ec2::254 (unique-local)'],
  ])('refuses %s, matched by *.example.com, because it resolves to %s', async (host, why) => {
    const message = await refusal(ecrPolicy, `https://${host}/v2/`, 'registry');

    expect(message).toContain(`registry https://${host} is not allowed: it resolves to ${why}`);
  });

  it('dials a private address for a host listed exactly', async () => {
    const policy = new ConnectionPolicy({ registries: ['internal.example.com'], resolve: publicNames });

    const target = await policy.check(new URL('https://internal.example.com/v2/'), 'registry');

    expect(target.addresses).toEqual([{ address: '10.0.0.5', family: 4 }]);
  });

  it('matches the effective port: a host listed with :443 is the https default', async () => {
    const policy = new ConnectionPolicy({ registries: ['registry.example.com:443'], resolve: publicNames });

    await expect(
      policy.check(new URL('https://registry.example.com/v2/'), 'registry'),
    ).resolves.toBeDefined();
    expect(await refusal(policy, 'https://registry.example.com:8443/v2/', 'registry')).toMatch(
      /not on the registry allowlist/,
    );
  });

  it('matches an IP literal as the URL parser reads it, whatever its spelling', async () => {
    const policy = new ConnectionPolicy({ registries: ['127.0.0.1:5000'] });

    await expect(policy.check(new URL('http://0x7f.1:5000/'), 'registry')).resolves.toMatchObject({
      addresses: [{ address: '127.0.0.1', family: 4 }],
    });
    for (const url of [
      'http://127.0.0.2:5000/',
      'http://0x7f.0.0.2:5000/',
      'http://2130706434:5000/',
      'http://[::ffff:7f00:1]:5000/',
    ]) {
      expect(await refusal(policy, url, 'registry'), url).toMatch(/not on the registry allowlist/);
    }
  });

  it('says a name that does not resolve is unavailable, not refused', async () => {
    await expect(
      ecrPolicy.check(new URL('https://nowhere.example.com/v2/'), 'registry'),
    ).rejects.toBeInstanceOf(RegistryUnavailableError);
  });

  it('names the origin only, never the path or query of a pre-signed URL', async () => {
    const message = await refusal(
      ecrPolicy,
      'https://other.s3.amazonaws.com/key?X-Amz-Signature=secret',
      'redirect',
    );

    expect(message).toContain('redirect target https://other.s3.amazonaws.com is not allowed');
    expect(message).not.toContain('secret');
  });
});

describe('fromSettings', () => {
  it('allows the layer bucket of each ECR registry on the allowlist, and nothing more by default', async () => {
    const policy = ConnectionPolicy.fromSettings({
      REGISTRY_ALLOWLIST: `${ecrHost},registry.internal:5000`,
      REGISTRY_BLOB_HOSTS: '',
      REGISTRY_INSECURE_HOSTS: '',
    });

    expect(policy.permit(new URL(`https://${layerBucket}/x`), 'redirect')).toBe('exact');
    expect(() => policy.permit(new URL('https://blobs.internal/x'), 'redirect')).toThrow(
      RegistryHostNotAllowedError,
    );
  });

  it('adds REGISTRY_BLOB_HOSTS and REGISTRY_INSECURE_HOSTS', () => {
    const policy = ConnectionPolicy.fromSettings({
      REGISTRY_ALLOWLIST: 'registry.internal:5000',
      REGISTRY_BLOB_HOSTS: '*.blobs.internal, auth.internal',
      REGISTRY_INSECURE_HOSTS: 'registry.internal:5000',
    });

    expect(policy.permit(new URL('https://eu.blobs.internal/x'), 'redirect')).toBe('wildcard');
    expect(policy.permit(new URL('https://auth.internal/token'), 'token realm')).toBe('exact');
    expect(policy.registryUrl('registry.internal:5000').protocol).toBe('http:');
    expect(() => policy.permit(new URL('http://auth.internal/token'), 'token realm')).toThrow(/plain http/);
  });
});

describe('ecrLayerBucketHosts', () => {
  it.each([
    [[ecrHost], [layerBucket]],
    [
      ['*.dkr.ecr.us-east-1.amazonaws.com'],
      ['prod-us-east-1-starport-layer-bucket.s3.us-east-1.amazonaws.com'],
    ],
    [[`${ecrHost}:443`, ecrHost.toUpperCase()], [layerBucket]],
    [
      [
        '123456789012.dkr.ecr.ap-southeast-2.amazonaws.com',
        '210987654321.dkr.ecr.us-gov-west-1.amazonaws.com',
      ],
      [
        'prod-ap-southeast-2-starport-layer-bucket.s3.ap-southeast-2.amazonaws.com',
        'prod-us-gov-west-1-starport-layer-bucket.s3.us-gov-west-1.amazonaws.com',
      ],
    ],
    [
      [
        'localhost',
        'registry.internal:5000',
        'dkr.ecr.eu-west-1.amazonaws.com',
        'x.dkr.ecr.eu-west-1.amazonaws.com.evil',
      ],
      [],
    ],
  ])('derives the layer buckets of %j', (allowlist, expected) => {
    expect(ecrLayerBucketHosts(allowlist)).toEqual(expected);
  });
});
