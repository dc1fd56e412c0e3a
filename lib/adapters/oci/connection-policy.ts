import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import {
  type HostMatch,
  loopbackRegistries,
  matchHost,
  parseRegistryAllowlist,
  type RegistryAllowlist,
} from '../../domain/registry/registry-allowlist.js';
import { RegistryHostNotAllowedError, RegistryUnavailableError } from '../../ports/artifact-source.js';
import { classifyAddress } from './address-class.js';
import { ecrLayerBucketHosts } from './ecr-credentials.js';

/** One address a host name resolves to. */
export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/** Resolves a host name to every address it has; injectable so tests can name hosts without /etc/hosts. */
export type HostResolver = (hostname: string) => Promise<readonly ResolvedAddress[]>;

/** `dns.lookup` with every address, in the resolver's order: what a plain connect would have used. */
export const systemResolver: HostResolver = async (hostname) => {
  const addresses = await lookup(hostname, { all: true, verbatim: true });
  return addresses.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));
};

/**
 * Why a URL is dialled: the reference's own `registry`, a `redirect` target or upload location the
 * registry answered with, or the `token realm` of its Bearer challenge.
 */
export type DialPurpose = 'registry' | 'redirect' | 'token realm';

/** Construction options of {@link ConnectionPolicy}. */
export interface ConnectionPolicyOptions {
  /** Registries references may name (`REGISTRY_ALLOWLIST` patterns). */
  readonly registries: RegistryAllowlist;
  /**
   * Hosts a registry may send the client to besides the registries themselves: the blob storage its
   * redirects point at and the token services its challenges name (`REGISTRY_BLOB_HOSTS` patterns).
   * @default []
   */
  readonly blobHosts?: readonly string[];
  /** Hosts dialled over plain http besides loopback ones (`REGISTRY_INSECURE_HOSTS` patterns). @default [] */
  readonly insecureHosts?: readonly string[];
  /** @default systemResolver */
  readonly resolve?: HostResolver;
}

/** A URL that passed the policy, with the addresses it was checked at: the connection uses exactly these. */
export interface DialTarget {
  readonly url: URL;
  readonly addresses: readonly ResolvedAddress[];
}

/** The settings the policy is built from, as `lib/runtime/config.ts` parses them. */
export interface ConnectionPolicySettings {
  readonly REGISTRY_ALLOWLIST: string;
  readonly REGISTRY_BLOB_HOSTS: string;
  readonly REGISTRY_INSECURE_HOSTS: string;
}

const purposeLabel: Record<DialPurpose, string> = {
  registry: 'registry',
  redirect: 'redirect target',
  'token realm': 'token realm',
};

/**
 * Decides every connection the OCI client makes (docs/adr/0009-registry-connection-policy.md). A URL
 * passes when its scheme is https (http only for loopback and insecure hosts), its host is on the
 * allowlist (the reference's registry) or on the allowlist or the blob and token hosts (redirects and
 * token realms), and every address the host resolves to is public, unless a pattern names the host
 * exactly. The caller then connects to the addresses that were checked, never resolving again, so a
 * name cannot change its answer between the check and the connection.
 */
export class ConnectionPolicy {
  private readonly registries: RegistryAllowlist;
  private readonly blobHosts: readonly string[];
  private readonly insecureHosts: readonly string[];
  private readonly resolve: HostResolver;

  constructor(options: ConnectionPolicyOptions) {
    this.registries = options.registries;
    this.blobHosts = options.blobHosts ?? [];
    this.insecureHosts = options.insecureHosts ?? [];
    this.resolve = options.resolve ?? systemResolver;
  }

  /** `REGISTRY_ALLOWLIST`, then the layer buckets of its ECR registries and `REGISTRY_BLOB_HOSTS`, then `REGISTRY_INSECURE_HOSTS`. */
  static fromSettings(settings: ConnectionPolicySettings): ConnectionPolicy {
    const registries = parseRegistryAllowlist(settings.REGISTRY_ALLOWLIST);
    return new ConnectionPolicy({
      registries,
      blobHosts: [
        ...ecrLayerBucketHosts(registries),
        ...parseRegistryAllowlist(settings.REGISTRY_BLOB_HOSTS),
      ],
      insecureHosts: parseRegistryAllowlist(settings.REGISTRY_INSECURE_HOSTS),
    });
  }

  /** The `/v2/` base of a registry: `http://` for loopback and insecure hosts, `https://` for the rest. */
  registryUrl(registry: string): URL {
    const insecure = new URL(`http://${registry}/`);
    return this.plainHttpAllowed(insecure) ? insecure : new URL(`https://${registry}/`);
  }

  /**
   * The checks that need no network: scheme and host lists. Throws RegistryHostNotAllowedError; returns
   * how the host matched (`exact` hosts may resolve to private addresses).
   */
  permit(url: URL, purpose: DialPurpose): HostMatch {
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw refusal(url, purpose, `the scheme ${url.protocol} is neither https nor http`);
    }
    const port = url.port === '' ? (url.protocol === 'https:' ? '443' : '80') : url.port;
    const match =
      purpose === 'registry'
        ? matchHost(url.hostname, port, this.registries)
        : strongest(
            matchHost(url.hostname, port, this.registries),
            matchHost(url.hostname, port, this.blobHosts),
          );
    if (match === undefined) {
      throw refusal(
        url,
        purpose,
        purpose === 'registry'
          ? 'it is not on the registry allowlist (REGISTRY_ALLOWLIST)'
          : 'it is neither on the registry allowlist (REGISTRY_ALLOWLIST) nor a blob or token host (REGISTRY_BLOB_HOSTS)',
      );
    }
    if (url.protocol === 'http:' && !this.plainHttpAllowed(url)) {
      throw refusal(
        url,
        purpose,
        'plain http is used only for loopback hosts and REGISTRY_INSECURE_HOSTS; use https',
      );
    }
    return match;
  }

  /**
   * {@link permit}, then resolves the host and checks every address it has. Throws
   * RegistryHostNotAllowedError for a refusal, RegistryUnavailableError when the name does not resolve.
   */
  async check(url: URL, purpose: DialPurpose): Promise<DialTarget> {
    const match = this.permit(url, purpose);
    const host = bareHost(url);
    const family = isIP(host);
    const addresses: readonly ResolvedAddress[] =
      family === 4 || family === 6 ? [{ address: host, family }] : await this.resolved(url, host);
    if (match !== 'exact') {
      for (const { address } of addresses) {
        const kind = classifyAddress(address) ?? 'reserved';
        if (kind !== 'public') {
          throw refusal(
            url,
            purpose,
            `it resolves to ${address} (${kind}); loopback, private and link-local addresses are dialled only for hosts listed exactly, not by a *.suffix pattern`,
          );
        }
      }
    }
    return { url, addresses };
  }

  private async resolved(url: URL, host: string): Promise<readonly ResolvedAddress[]> {
    let addresses: readonly ResolvedAddress[];
    try {
      addresses = await this.resolve(host);
    } catch (error) {
      throw new RegistryUnavailableError(`${url.host} could not be resolved`, { cause: error });
    }
    if (addresses.length === 0) throw new RegistryUnavailableError(`${url.host} resolves to no address`);
    return addresses;
  }

  private plainHttpAllowed(url: URL): boolean {
    const host = bareHost(url);
    if (host === 'localhost' || classifyAddress(host) === 'loopback') return true;
    return matchHost(url.hostname, url.port === '' ? '80' : url.port, this.insecureHosts) !== undefined;
  }
}

/** The policy of a client built without one: loopback registries only, as the embedded mode's default. */
export const loopbackPolicy = new ConnectionPolicy({ registries: loopbackRegistries });

function strongest(a: HostMatch | undefined, b: HostMatch | undefined): HostMatch | undefined {
  return a === 'exact' || b === 'exact' ? 'exact' : (a ?? b);
}

/** The URL's host without IPv6 brackets: what resolvers and sockets take. */
function bareHost(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

function refusal(url: URL, purpose: DialPurpose, reason: string): RegistryHostNotAllowedError {
  // The origin only: a pre-signed redirect URL carries credentials in its query.
  const origin =
    url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : `${url.protocol}//${url.host}`;
  return new RegistryHostNotAllowedError(
    origin,
    reason,
    `${purposeLabel[purpose]} ${origin} is not allowed: ${reason}`,
  );
}
