import { GetAuthorizationTokenCommand, type GetAuthorizationTokenCommandOutput } from '@aws-sdk/client-ecr';
import { RegistryAuthError, RegistryUnavailableError } from '../../ports/artifact-source.js';
import type { CredentialProvider, RegistryCredentials } from './distribution-client.js';

/** The one ECR call this provider makes; an `ECRClient` satisfies it, and so does a hand-written fake. */
export interface EcrTokenClient {
  send(command: GetAuthorizationTokenCommand): Promise<GetAuthorizationTokenCommandOutput>;
}

/** Construction options for {@link EcrCredentialProvider}. */
export interface EcrCredentialProviderOptions {
  /** A client for the registry's region, or a factory per region (tokens are regional). */
  readonly client: EcrTokenClient | ((region: string) => EcrTokenClient);
  /** Tokens are dropped this long before `expiresAt`, so a long read never starts on a dying token. @default 5 minutes */
  readonly safetyMarginMs?: number;
  /** Clock, injectable for expiry tests. @default Date.now */
  readonly now?: () => number;
}

const ecrHostPattern = /^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/;

// ECR's commercial-partition endpoint, by account or by a `*.` pattern of the allowlist, port optional.
const ecrRegistryPattern = /^(?:\d{12}|\*)\.dkr\.ecr\.([a-z]{2}(?:-[a-z]+)+-\d+)\.amazonaws\.com(?::443)?$/;

interface CachedCredentials {
  readonly credentials: RegistryCredentials;
  readonly expiresAt: number;
}

/** Parses `<account>.dkr.ecr.<region>.amazonaws.com` into its account and region; undefined for other hosts. */
export function parseEcrHost(
  host: string,
): { readonly accountId: string; readonly region: string } | undefined {
  const match = ecrHostPattern.exec(host);
  const [, accountId, region] = match ?? [];
  return accountId === undefined || region === undefined ? undefined : { accountId, region };
}

/**
 * The hosts ECR sends layer downloads to, for each ECR registry (or `*.dkr.ecr.<region>.amazonaws.com`
 * pattern) of an allowlist: ECR answers a blob GET with a redirect to a pre-signed URL on its regional
 * layer bucket, `https://prod-<region>-starport-layer-bucket.s3.<region>.amazonaws.com/...` (the bucket
 * AWS's ECR VPC-endpoint guide names). FIPS and China endpoints are not derived: list their layer hosts
 * in `REGISTRY_BLOB_HOSTS`.
 */
export function ecrLayerBucketHosts(allowlist: readonly string[]): string[] {
  const regions = allowlist.flatMap((pattern) => ecrRegistryPattern.exec(pattern.toLowerCase())?.[1] ?? []);
  return [...new Set(regions)].map(
    (region) => `prod-${region}-starport-layer-bucket.s3.${region}.amazonaws.com`,
  );
}

/** Credentials for ECR registries from `GetAuthorizationToken`, cached per host until shortly before expiry. */
export class EcrCredentialProvider implements CredentialProvider {
  private readonly clientFor: (region: string) => EcrTokenClient;
  private readonly safetyMarginMs: number;
  private readonly now: () => number;
  private readonly cache = new Map<string, Promise<CachedCredentials>>();

  constructor(options: EcrCredentialProviderOptions) {
    const { client } = options;
    this.clientFor = typeof client === 'function' ? client : () => client;
    this.safetyMarginMs = options.safetyMarginMs ?? 5 * 60 * 1000;
    this.now = options.now ?? Date.now;
  }

  /** ECR credentials for an ECR host; undefined for any other registry. */
  async credentialsFor(host: string): Promise<RegistryCredentials | undefined> {
    const ecr = parseEcrHost(host);
    if (ecr === undefined) return undefined;

    const pending = this.cache.get(host);
    if (pending !== undefined) {
      const cached = await pending.catch(() => undefined);
      if (cached !== undefined && cached.expiresAt > this.now()) return cached.credentials;
      // Another caller may already have replaced an expired or failed entry; reuse theirs.
      if (this.cache.get(host) !== pending) return this.credentialsFor(host);
    }
    // Concurrent callers share one in-flight request instead of each calling ECR.
    const fetching = this.fetch(ecr.accountId, ecr.region);
    this.cache.set(host, fetching);
    try {
      return (await fetching).credentials;
    } catch (error) {
      if (this.cache.get(host) === fetching) this.cache.delete(host);
      throw error;
    }
  }

  private async fetch(accountId: string, region: string): Promise<CachedCredentials> {
    let output: GetAuthorizationTokenCommandOutput;
    try {
      output = await this.clientFor(region).send(
        new GetAuthorizationTokenCommand({ registryIds: [accountId] }),
      );
    } catch (error) {
      // The SDK marks service-side failures (throttling, 5xx) with $fault 'server'; those are worth a retry.
      if (faultOf(error) === 'client') {
        throw new RegistryAuthError(`ECR refused GetAuthorizationToken for ${accountId} in ${region}`, {
          cause: error,
        });
      }
      throw new RegistryUnavailableError(`ECR GetAuthorizationToken failed for ${accountId} in ${region}`, {
        cause: error,
      });
    }
    const data = output.authorizationData?.[0];
    const token = data?.authorizationToken;
    const expiresAt = data?.expiresAt;
    if (token === undefined || expiresAt === undefined) {
      throw new RegistryAuthError(`ECR returned no authorization token for ${accountId} in ${region}`);
    }
    const decoded = Buffer.from(token, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0 || colon === decoded.length - 1) {
      throw new RegistryAuthError(`ECR returned an authorization token that is not <user>:<password>`);
    }
    return {
      credentials: { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) },
      expiresAt: expiresAt.getTime() - this.safetyMarginMs,
    };
  }
}

function faultOf(error: unknown): unknown {
  return typeof error === 'object' && error !== null && '$fault' in error ? error.$fault : undefined;
}
