import { createHash } from 'node:crypto';
import * as z from 'zod';
import type { ArtifactReference, RepositoryName } from '../../domain/registry/reference.js';
import { referenceTarget } from '../../domain/registry/reference.js';
import {
  ArtifactNotFoundError,
  type ArtifactSource,
  type BlobDescriptor,
  BlobIntegrityError,
  BlobTooLargeError,
  type FetchedManifest,
  type ReadLimit,
  RegistryAuthError,
  RegistryProtocolError,
  RegistryUnavailableError,
} from '../../ports/artifact-source.js';

export {
  ArtifactNotFoundError,
  BlobIntegrityError,
  BlobTooLargeError,
  RegistryAuthError,
  RegistryProtocolError,
  RegistryUnavailableError,
} from '../../ports/artifact-source.js';

/** Username/password for one registry host (ECR: `AWS` and a temporary token). */
export interface RegistryCredentials {
  readonly username: string;
  readonly password: string;
}

/** Supplies credentials per registry host; `undefined` means "try anonymously". */
export interface CredentialProvider {
  /** Credentials for `host` (as written in references, port included), or undefined when it has none. */
  credentialsFor(host: string): Promise<RegistryCredentials | undefined>;
}

/** Construction options; everything has a production-safe default. */
export interface DistributionClientOptions {
  /** Where credentials come from; without one every registry is read anonymously. */
  readonly credentials?: CredentialProvider;
  /** Hosts allowed over plain http besides loopback ones (for in-cluster registries without TLS). @default [] */
  readonly insecureHosts?: readonly string[];
  /** Upper bound for each request, headers and body included. @default 30_000 */
  readonly timeoutMs?: number;
  /** Manifest size bound when the caller gives none; the distribution spec's own default. @default 4 MiB */
  readonly maxManifestBytes?: number;
  /** Clock for token expiry, injectable so caching is testable. @default Date.now */
  readonly now?: () => number;
}

/** What a push returns: enough to build a descriptor or a digest reference. */
export interface PushedContent {
  readonly digest: string;
  readonly size: number;
}

export const ociManifestMediaType = 'application/vnd.oci.image.manifest.v1+json';
export const ociIndexMediaType = 'application/vnd.oci.image.index.v1+json';
const dockerManifestMediaType = 'application/vnd.docker.distribution.manifest.v2+json';
const dockerManifestListMediaType = 'application/vnd.docker.distribution.manifest.list.v2+json';
const manifestAccept = [
  ociManifestMediaType,
  ociIndexMediaType,
  dockerManifestMediaType,
  dockerManifestListMediaType,
].join(', ');

const maxRedirects = 5;
// Tokens are refreshed this long before the registry says they expire, so a request never races expiry.
const tokenSafetyMarginMs = 10_000;
// The distribution token spec's default when a token server omits expires_in.
const defaultTokenLifetimeSeconds = 60;

const tokenResponseSchema = z.object({
  token: z.string().min(1).optional(),
  access_token: z.string().min(1).optional(),
  expires_in: z.number().positive().optional(),
});

const registryErrorsSchema = z.object({
  errors: z.array(z.object({ code: z.string(), message: z.string().optional() })),
});

type Action = 'pull' | 'pull,push';

interface Challenge {
  readonly scheme: string;
  readonly params: ReadonlyMap<string, string>;
}

interface CachedToken {
  readonly token: string;
  readonly expiresAt: number;
}

interface RegistryRequest {
  readonly method: 'GET' | 'HEAD' | 'POST' | 'PUT';
  readonly headers?: Record<string, string>;
  readonly body?: Buffer;
}

/** True for hosts that never leave the machine, where TLS adds nothing. */
export function isLoopbackHost(host: string): boolean {
  const name = hostName(host.toLowerCase());
  return name === 'localhost' || name === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
}

/** Host names are case-insensitive: `Registry.Internal:5000` is `registry.internal:5000`. */
function isListedHost(host: string, hosts: readonly string[]): boolean {
  const wanted = host.toLowerCase();
  return hosts.some((listed) => listed.toLowerCase() === wanted);
}

/** `http://` for loopback and explicitly insecure hosts, `https://` for everything else. */
export function registryBaseUrl(host: string, insecureHosts: readonly string[] = []): string {
  const scheme = isLoopbackHost(host) || isListedHost(host, insecureHosts) ? 'http' : 'https';
  return `${scheme}://${host}`;
}

/** Parses a `WWW-Authenticate` header into its scheme and auth-params (quoted or token values). */
export function parseChallenge(header: string): Challenge | undefined {
  const match = /^\s*([A-Za-z][A-Za-z0-9_-]*)\s*(.*)$/s.exec(header);
  if (match === null) return undefined;
  const [, scheme = '', rest = ''] = match;
  const params = new Map<string, string>();
  for (const param of rest.matchAll(/([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g)) {
    const [, key = '', quoted, token] = param;
    params.set(key.toLowerCase(), quoted === undefined ? (token ?? '') : quoted.replace(/\\(.)/g, '$1'));
  }
  return { scheme: scheme.toLowerCase(), params };
}

/** OCI distribution client over fetch: reads manifests and verified blobs, pushes for tests and tooling. */
export class DistributionClient implements ArtifactSource {
  private readonly credentials: CredentialProvider | undefined;
  private readonly insecureHosts: readonly string[];
  private readonly timeoutMs: number;
  private readonly maxManifestBytes: number;
  private readonly now: () => number;
  private readonly challenges = new Map<string, Challenge>();
  private readonly tokens = new Map<string, CachedToken>();

  constructor(options: DistributionClientOptions = {}) {
    this.credentials = options.credentials;
    this.insecureHosts = options.insecureHosts ?? [];
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.maxManifestBytes = options.maxManifestBytes ?? 4 * 1024 * 1024;
    this.now = options.now ?? Date.now;
  }

  /** Fetches a manifest by tag or digest; a digest reference must match the bytes received. */
  async getManifest(reference: ArtifactReference, limit?: ReadLimit): Promise<FetchedManifest> {
    const target = referenceTarget(reference);
    const maxBytes = limit?.maxBytes ?? this.maxManifestBytes;
    const response = await this.send(reference, 'pull', `manifests/${target}`, {
      method: 'GET',
      headers: { accept: manifestAccept },
    });
    await this.expectStatus(response, [200], `manifest ${target}`);
    const bytes = await readBounded(response, maxBytes, tooLarge(`manifest ${target}`, maxBytes));
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    const expected = reference.digest ?? sha256Header(response.headers.get('docker-content-digest'));
    if (expected !== undefined && expected !== digest) {
      throw new BlobIntegrityError(
        'DK_BLOB_DIGEST_MISMATCH',
        `manifest ${target} hashes to ${digest}, not ${expected}`,
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(bytes.toString('utf8'));
    } catch (error) {
      throw new RegistryProtocolError(`manifest ${target} is not JSON`, { cause: error });
    }
    const mediaType = (response.headers.get('content-type') ?? '').split(';')[0]?.trim() ?? '';
    return { digest, mediaType, bytes, json };
  }

  /** Fetches a blob, refusing more than `maxBytes` while streaming and verifying digest and size. */
  async getBlob(reference: RepositoryName, descriptor: BlobDescriptor, limit: ReadLimit): Promise<Buffer> {
    const algorithm = digestAlgorithm(descriptor.digest);
    if (descriptor.size > limit.maxBytes) {
      throw new BlobTooLargeError(
        `blob ${descriptor.digest} declares ${descriptor.size} bytes; the limit is ${limit.maxBytes}`,
      );
    }
    const response = await this.send(reference, 'pull', `blobs/${descriptor.digest}`, { method: 'GET' });
    await this.expectStatus(response, [200], `blob ${descriptor.digest}`);
    const bytes = await readBounded(
      response,
      descriptor.size,
      (received) =>
        new BlobIntegrityError(
          'DK_BLOB_SIZE_MISMATCH',
          `blob ${descriptor.digest} has at least ${received} bytes; the descriptor says ${descriptor.size}`,
        ),
    );
    if (bytes.length !== descriptor.size) {
      throw new BlobIntegrityError(
        'DK_BLOB_SIZE_MISMATCH',
        `blob ${descriptor.digest} has ${bytes.length} bytes; the descriptor says ${descriptor.size}`,
      );
    }
    const actual = `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
    if (actual !== descriptor.digest) {
      throw new BlobIntegrityError(
        'DK_BLOB_DIGEST_MISMATCH',
        `blob hashes to ${actual}, not ${descriptor.digest}`,
      );
    }
    return bytes;
  }

  /** Uploads a blob unless the repository already has it (POST then PUT: a monolithic upload in two requests). */
  async putBlob(repository: RepositoryName, bytes: Buffer): Promise<PushedContent> {
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    const pushed = { digest, size: bytes.length };
    const existing = await this.send(repository, 'pull,push', `blobs/${digest}`, { method: 'HEAD' });
    await existing.body?.cancel();
    if (existing.status === 200) return pushed;

    const started = await this.send(repository, 'pull,push', 'blobs/uploads/', { method: 'POST' });
    await this.expectStatus(started, [202], `blob upload to ${repository.repository}`);
    await started.body?.cancel();
    const location = started.headers.get('location');
    if (location === null) throw new RegistryProtocolError('blob upload started without a Location header');
    const uploadUrl = new URL(location, this.repositoryUrl(repository));
    if (!this.isAllowedScheme(uploadUrl)) {
      throw new RegistryProtocolError(`blob upload location ${uploadUrl.origin} is not a permitted URL`);
    }
    uploadUrl.searchParams.set('digest', digest);

    const completed = await this.send(repository, 'pull,push', uploadUrl, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
      body: bytes,
    });
    await this.expectStatus(completed, [201], `blob ${digest}`);
    await completed.body?.cancel();
    return pushed;
  }

  /** Uploads a manifest under a tag (or its digest); returns the digest the content is addressed by. */
  async putManifest(reference: ArtifactReference, bytes: Buffer, mediaType: string): Promise<PushedContent> {
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    const response = await this.send(reference, 'pull,push', `manifests/${referenceTarget(reference)}`, {
      method: 'PUT',
      headers: { 'content-type': mediaType },
      body: bytes,
    });
    await this.expectStatus(response, [201], `manifest ${referenceTarget(reference)}`);
    await response.body?.cancel();
    return { digest, size: bytes.length };
  }

  private repositoryUrl(repository: RepositoryName): string {
    return `${registryBaseUrl(repository.registry, this.insecureHosts)}/v2/${repository.repository}/`;
  }

  /** One logical request: authorise (from cache, or by answering the registry's challenge once), follow redirects. */
  private async send(
    repository: RepositoryName,
    action: Action,
    path: string | URL,
    request: RegistryRequest,
  ): Promise<Response> {
    const url = typeof path === 'string' ? new URL(path, this.repositoryUrl(repository)) : path;
    const scope = `repository:${repository.repository}:${action}`;
    const host = repository.registry;

    const known = this.challenges.get(host);
    let authorization = known === undefined ? undefined : await this.authorize(host, scope, known, false);
    let response = await this.fetchFollowingRedirects(url, request, authorization);
    if (response.status !== 401) return response;

    const challenge = parseChallenge(response.headers.get('www-authenticate') ?? '');
    await response.body?.cancel();
    if (challenge === undefined)
      throw new RegistryAuthError(`${host} answered 401 without a usable challenge`, { status: 401 });
    this.challenges.set(host, challenge);
    authorization = await this.authorize(host, scope, challenge, true);
    response = await this.fetchFollowingRedirects(url, request, authorization);
    if (response.status === 401) {
      await response.body?.cancel();
      throw new RegistryAuthError(`${host} refused the ${challenge.scheme} credentials for ${scope}`, {
        status: 401,
      });
    }
    return response;
  }

  private async authorize(
    host: string,
    scope: string,
    challenge: Challenge,
    refresh: boolean,
  ): Promise<string> {
    if (challenge.scheme === 'basic') {
      const credentials = await this.credentialsFor(host);
      if (credentials === undefined)
        throw new RegistryAuthError(`${host} requires credentials and none are configured`);
      return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
    }
    if (challenge.scheme === 'bearer')
      return `Bearer ${await this.bearerToken(host, scope, challenge, refresh)}`;
    throw new RegistryAuthError(`${host} asks for unsupported auth scheme ${challenge.scheme}`);
  }

  private async bearerToken(
    host: string,
    scope: string,
    challenge: Challenge,
    refresh: boolean,
  ): Promise<string> {
    const key = `${host} ${scope}`;
    const cached = this.tokens.get(key);
    if (!refresh && cached !== undefined && cached.expiresAt > this.now()) return cached.token;

    const realm = challenge.params.get('realm');
    if (realm === undefined) throw new RegistryAuthError(`${host} sent a Bearer challenge without a realm`);
    const tokenUrl = parseUrl(realm);
    if (tokenUrl === undefined || !this.isAllowedScheme(tokenUrl)) {
      throw new RegistryAuthError(`${host} sent a token realm ${realm} that is not a permitted URL`);
    }
    const service = challenge.params.get('service');
    if (service !== undefined) tokenUrl.searchParams.set('service', service);
    tokenUrl.searchParams.set('scope', scope);

    const credentials = await this.credentialsFor(host);
    const headers: Record<string, string> =
      credentials === undefined
        ? {}
        : {
            authorization: `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`,
          };
    const response = await this.fetchFollowingRedirects(tokenUrl, { method: 'GET', headers }, undefined);
    if (response.status === 401 || response.status === 403) {
      await response.body?.cancel();
      throw new RegistryAuthError(`token service ${tokenUrl.host} refused ${scope}`, {
        status: response.status,
      });
    }
    await this.expectStatus(response, [200], `token for ${scope}`);
    const body = tokenResponseSchema.safeParse(await readJson(response, 64 * 1024, 'token response'));
    const token = body.success ? (body.data.token ?? body.data.access_token) : undefined;
    if (!body.success || token === undefined) {
      throw new RegistryAuthError(`token service ${tokenUrl.host} sent no token`, { cause: body.error });
    }
    const lifetimeMs = (body.data.expires_in ?? defaultTokenLifetimeSeconds) * 1000;
    this.tokens.set(key, { token, expiresAt: this.now() + Math.max(0, lifetimeMs - tokenSafetyMarginMs) });
    return token;
  }

  private async credentialsFor(host: string): Promise<RegistryCredentials | undefined> {
    if (this.credentials === undefined) return undefined;
    try {
      return await this.credentials.credentialsFor(host);
    } catch (error) {
      if (error instanceof RegistryAuthError || error instanceof RegistryUnavailableError) throw error;
      throw new RegistryAuthError(`could not obtain credentials for ${host}`, { cause: error });
    }
  }

  private isAllowedScheme(url: URL): boolean {
    if (url.protocol === 'https:') return true;
    return (
      url.protocol === 'http:' && (isLoopbackHost(url.host) || isListedHost(url.host, this.insecureHosts))
    );
  }

  /**
   * Follows redirects by hand so credentials never travel to another origin (ECR and S3-backed registries
   * redirect blob GETs to pre-signed URLs that reject a second authorisation) and https never downgrades.
   */
  private async fetchFollowingRedirects(
    url: URL,
    request: RegistryRequest,
    authorization: string | undefined,
  ): Promise<Response> {
    let current = url;
    const origin = url.origin;
    for (let hop = 0; hop <= maxRedirects; hop += 1) {
      const headers: Record<string, string> = { ...request.headers };
      if (authorization !== undefined && current.origin === origin) headers.authorization = authorization;
      const response = await this.fetchOnce(current, { method: request.method, headers, body: request.body });
      const location = response.headers.get('location');
      const redirect = [301, 302, 303, 307, 308].includes(response.status) && request.method !== 'POST';
      if (!redirect || location === null) return response;
      await response.body?.cancel();
      const next = new URL(location, current);
      if (!this.isAllowedScheme(next)) {
        throw new RegistryProtocolError(`${current.host} redirected to a non-permitted URL ${next.origin}`);
      }
      current = next;
    }
    throw new RegistryProtocolError(`${url.host} redirected more than ${maxRedirects} times`);
  }

  /**
   * One HTTP exchange. Idempotent reads are retried on connection failures: a registry closing an idle
   * keep-alive connection just as it is reused answers ECONNRESET, which says nothing about the registry.
   */
  private async fetchOnce(
    url: URL,
    init: { method: string; headers: Record<string, string>; body: Buffer | undefined },
  ): Promise<Response> {
    const idempotent = init.method === 'GET' || init.method === 'HEAD';
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.fetchAttempt(url, init);
      } catch (error) {
        const timedOut = error instanceof RegistryUnavailableError && isTimeout(error.cause);
        if (!idempotent || timedOut || attempt >= 3) throw error;
      }
    }
  }

  private async fetchAttempt(
    url: URL,
    init: { method: string; headers: Record<string, string>; body: Buffer | undefined },
  ): Promise<Response> {
    try {
      return await fetch(url, {
        method: init.method,
        headers: init.headers,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
        ...(init.body === undefined ? {} : { body: new Uint8Array(init.body) }),
      });
    } catch (error) {
      throw new RegistryUnavailableError(
        `${init.method} ${url.origin}${url.pathname} failed: ${describe(error)}`,
        {
          cause: error,
        },
      );
    }
  }

  private async expectStatus(response: Response, expected: readonly number[], what: string): Promise<void> {
    if (expected.includes(response.status)) return;
    const detail = await errorDetail(response);
    const status = response.status;
    const message = `${what}: registry answered ${status}${detail}`;
    if (status === 404) throw new ArtifactNotFoundError(message, { status });
    if (status === 401 || status === 403) throw new RegistryAuthError(message, { status });
    if (status === 429 || status >= 500) throw new RegistryUnavailableError(message, { status });
    throw new RegistryProtocolError(message, { status });
  }
}

/** Reads a body, cancelling the transfer as soon as it exceeds `maxBytes` and throwing `overflow()` instead. */
async function readBounded(
  response: Response,
  maxBytes: number,
  overflow: (received: number) => Error,
): Promise<Buffer> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel();
    throw overflow(declared);
  }
  if (response.body === null) return Buffer.alloc(0);
  const reader = response.body.getReader();
  const chunks: Buffer[] = [];
  let received = 0;
  for (;;) {
    let chunk: Awaited<ReturnType<typeof reader.read>>;
    try {
      chunk = await reader.read();
    } catch (error) {
      throw new RegistryUnavailableError(`the transfer failed: ${describe(error)}`, { cause: error });
    }
    if (chunk.done) return Buffer.concat(chunks);
    received += chunk.value.byteLength;
    if (received > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw overflow(received);
    }
    chunks.push(Buffer.from(chunk.value.buffer, chunk.value.byteOffset, chunk.value.byteLength));
  }
}

function tooLarge(what: string, maxBytes: number): (received: number) => Error {
  return (received) =>
    new BlobTooLargeError(`${what} is at least ${received} bytes; the limit is ${maxBytes}`);
}

async function readJson(response: Response, maxBytes: number, what: string): Promise<unknown> {
  const bytes = await readBounded(response, maxBytes, tooLarge(what, maxBytes));
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new RegistryProtocolError(`${what} is not JSON`, { cause: error });
  }
}

async function errorDetail(response: Response): Promise<string> {
  try {
    const text = (await readBounded(response, 16 * 1024, tooLarge('error body', 16 * 1024))).toString('utf8');
    const parsed = registryErrorsSchema.safeParse(JSON.parse(text));
    if (!parsed.success) return '';
    return ` (${parsed.data.errors.map((error) => [error.code, error.message].filter(Boolean).join(': ')).join('; ')})`;
  } catch {
    return '';
  }
}

function digestAlgorithm(digest: string): 'sha256' | 'sha512' {
  if (/^sha256:[a-f0-9]{64}$/.test(digest)) return 'sha256';
  if (/^sha512:[a-f0-9]{128}$/.test(digest)) return 'sha512';
  throw new RegistryProtocolError(`unsupported or malformed digest ${JSON.stringify(digest)}`);
}

function sha256Header(value: string | null): string | undefined {
  return value !== null && /^sha256:[a-f0-9]{64}$/.test(value) ? value : undefined;
}

function hostName(host: string): string {
  if (host.startsWith('[')) return host.slice(1, host.indexOf(']'));
  const colon = host.lastIndexOf(':');
  return colon >= 0 && host.indexOf(':') === colon ? host.slice(0, colon) : host;
}

function parseUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return `${error.message}${cause}`;
  }
  return String(error);
}
