import { createHash } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
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
import {
  type ConnectionPolicy,
  type DialPurpose,
  type DialTarget,
  loopbackPolicy,
  type ResolvedAddress,
} from './connection-policy.js';

export {
  ArtifactNotFoundError,
  BlobIntegrityError,
  BlobTooLargeError,
  RegistryAuthError,
  RegistryHostNotAllowedError,
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
  /**
   * Which hosts may be dialled and how: every connection (the registry, each redirect, each token
   * realm) passes it first. @default loopback registries only
   */
  readonly policy?: ConnectionPolicy;
  /** Upper bound for each request, headers and body included; a read's own deadline may end it sooner. @default 30_000 */
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

interface Exchange {
  readonly method: string;
  readonly headers: Record<string, string>;
  readonly body: Buffer | undefined;
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

/**
 * OCI distribution client over node:http(s), every connection decided by its ConnectionPolicy: reads
 * manifests and verified blobs, pushes for tests and tooling.
 */
export class DistributionClient implements ArtifactSource {
  private readonly credentials: CredentialProvider | undefined;
  private readonly policy: ConnectionPolicy;
  private readonly timeoutMs: number;
  private readonly maxManifestBytes: number;
  private readonly now: () => number;
  private readonly challenges = new Map<string, Challenge>();
  private readonly tokens = new Map<string, CachedToken>();
  // Own agents: kept-alive sockets were opened under this client's policy and are reused only by it.
  private readonly httpAgent = new HttpAgent({ keepAlive: true });
  private readonly httpsAgent = new HttpsAgent({ keepAlive: true });

  constructor(options: DistributionClientOptions = {}) {
    this.credentials = options.credentials;
    this.policy = options.policy ?? loopbackPolicy;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.maxManifestBytes = options.maxManifestBytes ?? 4 * 1024 * 1024;
    this.now = options.now ?? Date.now;
  }

  /** Fetches a manifest by tag or digest; a digest reference must match the bytes received. */
  async getManifest(reference: ArtifactReference, limit?: Partial<ReadLimit>): Promise<FetchedManifest> {
    const target = referenceTarget(reference);
    const maxBytes = limit?.maxBytes ?? this.maxManifestBytes;
    const response = await this.send(
      reference,
      'pull',
      `manifests/${target}`,
      { method: 'GET', headers: { accept: manifestAccept } },
      limit?.signal,
    );
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
    const response = await this.send(
      reference,
      'pull',
      `blobs/${descriptor.digest}`,
      { method: 'GET' },
      limit.signal,
    );
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
    // Dialled as a redirect would be: the policy decides when send() connects.
    const uploadUrl = parseUrl(location, this.repositoryUrl(repository));
    if (uploadUrl === undefined) {
      throw new RegistryProtocolError(`blob upload location ${location.slice(0, 200)} is not a URL`);
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

  private repositoryUrl(repository: RepositoryName): URL {
    return new URL(`v2/${repository.repository}/`, this.policy.registryUrl(repository.registry));
  }

  /**
   * One logical request: authorise (from cache, or by answering the registry's challenge once), follow
   * redirects. A path is relative to the repository (the registry is dialled); a URL is one the registry
   * named (an upload location, dialled as a redirect target).
   */
  private async send(
    repository: RepositoryName,
    action: Action,
    path: string | URL,
    request: RegistryRequest,
    signal?: AbortSignal,
  ): Promise<Response> {
    const url = typeof path === 'string' ? new URL(path, this.repositoryUrl(repository)) : path;
    const purpose: DialPurpose = typeof path === 'string' ? 'registry' : 'redirect';
    const scope = `repository:${repository.repository}:${action}`;
    const host = repository.registry;

    const known = this.challenges.get(host);
    let authorization =
      known === undefined ? undefined : await this.authorize(host, scope, known, false, signal);
    let response = await this.fetchFollowingRedirects(url, purpose, request, authorization, signal);
    if (response.status !== 401) return response;

    const challenge = parseChallenge(response.headers.get('www-authenticate') ?? '');
    await response.body?.cancel();
    if (challenge === undefined)
      throw new RegistryAuthError(`${host} answered 401 without a usable challenge`, { status: 401 });
    this.challenges.set(host, challenge);
    authorization = await this.authorize(host, scope, challenge, true, signal);
    response = await this.fetchFollowingRedirects(url, purpose, request, authorization, signal);
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
    signal: AbortSignal | undefined,
  ): Promise<string> {
    if (challenge.scheme === 'basic') {
      const credentials = await this.credentialsFor(host, signal);
      if (credentials === undefined)
        throw new RegistryAuthError(`${host} requires credentials and none are configured`);
      return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
    }
    if (challenge.scheme === 'bearer')
      return `Bearer ${await this.bearerToken(host, scope, challenge, refresh, signal)}`;
    throw new RegistryAuthError(`${host} asks for unsupported auth scheme ${challenge.scheme}`);
  }

  private async bearerToken(
    host: string,
    scope: string,
    challenge: Challenge,
    refresh: boolean,
    signal: AbortSignal | undefined,
  ): Promise<string> {
    const realm = challenge.params.get('realm');
    if (realm === undefined) throw new RegistryAuthError(`${host} sent a Bearer challenge without a realm`);
    const tokenUrl = parseUrl(realm);
    if (tokenUrl === undefined) {
      throw new RegistryAuthError(`${host} sent a token realm ${realm.slice(0, 200)} that is not a URL`);
    }
    // Checked before the cache is consulted, so a cached token never stands in for a realm the policy
    // refuses; dialling it below checks its addresses too.
    this.policy.permit(tokenUrl, 'token realm');
    const service = challenge.params.get('service');
    // The host is part of the key as well: a token is only ever offered to the registry it was asked for.
    const key = JSON.stringify([host, tokenUrl.href, service ?? null, scope]);
    const cached = this.tokens.get(key);
    if (!refresh && cached !== undefined && cached.expiresAt > this.now()) return cached.token;

    if (service !== undefined) tokenUrl.searchParams.set('service', service);
    tokenUrl.searchParams.set('scope', scope);

    const credentials = await this.credentialsFor(host, signal);
    // As the authorization of the exchange, not a plain header: it then stays on the realm's origin
    // when the token service redirects.
    const authorization =
      credentials === undefined
        ? undefined
        : `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
    const response = await this.fetchFollowingRedirects(
      tokenUrl,
      'token realm',
      { method: 'GET' },
      authorization,
      signal,
    );
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

  private async credentialsFor(
    host: string,
    signal: AbortSignal | undefined,
  ): Promise<RegistryCredentials | undefined> {
    if (this.credentials === undefined) return undefined;
    try {
      // The provider's request is shared with other callers, so only this caller stops waiting.
      return await untilAborted(this.credentials.credentialsFor(host), signal, `credentials for ${host}`);
    } catch (error) {
      if (error instanceof RegistryAuthError || error instanceof RegistryUnavailableError) throw error;
      throw new RegistryAuthError(`could not obtain credentials for ${host}`, { cause: error });
    }
  }

  /**
   * Follows redirects by hand (at most five), passing every hop through the connection policy, so
   * credentials never travel to another origin (ECR and S3-backed registries redirect blob GETs to
   * pre-signed URLs that reject a second authorisation) and no hop reaches a host the policy refuses.
   */
  private async fetchFollowingRedirects(
    url: URL,
    purpose: DialPurpose,
    request: RegistryRequest,
    authorization: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<Response> {
    let current = url;
    let currentPurpose = purpose;
    const origin = url.origin;
    for (let hop = 0; hop <= maxRedirects; hop += 1) {
      const target = await untilAborted(
        this.policy.check(current, currentPurpose),
        signal,
        `resolving ${current.host}`,
      );
      const headers: Record<string, string> = { ...request.headers };
      if (authorization !== undefined && current.origin === origin) headers.authorization = authorization;
      const response = await this.exchange(
        target,
        { method: request.method, headers, body: request.body },
        signal,
      );
      const location = response.headers.get('location');
      const redirect = [301, 302, 303, 307, 308].includes(response.status) && request.method !== 'POST';
      if (!redirect || location === null) return response;
      await response.body?.cancel();
      const next = parseUrl(location, current);
      if (next === undefined) {
        throw new RegistryProtocolError(`${current.host} redirected to ${location.slice(0, 200)}, not a URL`);
      }
      current = next;
      currentPurpose = 'redirect';
    }
    throw new RegistryProtocolError(`${url.host} redirected more than ${maxRedirects} times`);
  }

  /**
   * One HTTP exchange. Idempotent reads are retried on connection failures: a registry closing an idle
   * keep-alive connection just as it is reused answers ECONNRESET, which says nothing about the registry.
   * Nothing is retried once the request's time is up.
   */
  private async exchange(
    target: DialTarget,
    init: Exchange,
    deadline: AbortSignal | undefined,
  ): Promise<Response> {
    const idempotent = init.method === 'GET' || init.method === 'HEAD';
    for (let attempt = 1; ; attempt++) {
      const timeout = AbortSignal.timeout(this.timeoutMs);
      const signal = deadline === undefined ? timeout : AbortSignal.any([timeout, deadline]);
      const { url } = target;
      const what = `${init.method} ${url.origin}${url.pathname}`;
      // Which limit ended the exchange, in words: the same error ends a stalled body (see toResponse).
      const stopped = (cause?: unknown): RegistryUnavailableError =>
        deadline?.aborted === true
          ? new RegistryUnavailableError(`${what} stopped: the caller's deadline passed`, { cause })
          : new RegistryUnavailableError(`${what} got no answer within ${this.timeoutMs} ms`, { cause });
      try {
        return await this.dial(target, init, signal, stopped);
      } catch (error) {
        if (signal.aborted) throw stopped(error);
        if (!idempotent || attempt >= 3) {
          throw new RegistryUnavailableError(`${what} failed: ${describe(error)}`, { cause: error });
        }
      }
    }
  }

  /**
   * Connects to the addresses the policy checked (the socket's lookup answers with them instead of asking
   * DNS again), with the URL's host name for the Host header, TLS SNI and certificate check. The response
   * body stays bound to `signal`: a stalled body is cut off like stalled headers.
   */
  private dial(
    target: DialTarget,
    init: Exchange,
    signal: AbortSignal,
    stopped: () => Error,
  ): Promise<Response> {
    const { url } = target;
    const secure = url.protocol === 'https:';
    const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const headers: Record<string, string> = { 'user-agent': 'datakit-control-plane', ...init.headers };
    if (init.body !== undefined || init.method === 'POST' || init.method === 'PUT') {
      headers['content-length'] = String(init.body?.length ?? 0);
    }
    return new Promise<Response>((resolve, reject) => {
      const options = {
        hostname,
        ...(url.port === '' ? {} : { port: Number(url.port) }),
        path: `${url.pathname}${url.search}`,
        method: init.method,
        headers,
        signal,
        lookup: pinnedLookup(target.addresses),
      };
      const onResponse = (incoming: IncomingMessage): void => {
        try {
          resolve(toResponse(incoming, init.method, signal, stopped));
        } catch (error) {
          incoming.destroy();
          reject(error);
        }
      };
      const request = secure
        ? httpsRequest(
            { ...options, agent: this.httpsAgent, ...(isIP(hostname) === 0 ? { servername: hostname } : {}) },
            onResponse,
          )
        : httpRequest({ ...options, agent: this.httpAgent }, onResponse);
      request.on('error', reject);
      request.end(init.body);
    });
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

function parseUrl(value: string, base?: URL): URL | undefined {
  try {
    return new URL(value, base);
  } catch {
    return undefined;
  }
}

/** A socket lookup that answers with addresses already checked, never asking DNS again. */
function pinnedLookup(addresses: readonly ResolvedAddress[]): LookupFunction {
  return (_hostname, options, callback) => {
    const wanted =
      options.family === 4 || options.family === 6
        ? addresses.filter((candidate) => candidate.family === options.family)
        : addresses;
    const [first] = wanted;
    if (first === undefined) {
      callback(
        Object.assign(new Error('no checked address of the wanted family'), { code: 'ENOTFOUND' }),
        '',
      );
    } else if (options.all === true) {
      callback(
        null,
        wanted.map(({ address, family }) => ({ address, family })),
      );
    } else {
      callback(null, first.address, first.family);
    }
  };
}

/**
 * The web Response of a node response, its body a pull stream that `signal` (the request's time) ends
 * with the `stopped()` error.
 */
function toResponse(
  incoming: IncomingMessage,
  method: string,
  signal: AbortSignal,
  stopped: () => Error,
): Response {
  const status = incoming.statusCode ?? 0;
  if (status < 200 || status > 599) {
    throw new RegistryProtocolError(`the registry answered with status ${status}`);
  }
  const headers = new Headers();
  for (let index = 0; index + 1 < incoming.rawHeaders.length; index += 2) {
    headers.append(incoming.rawHeaders[index] ?? '', incoming.rawHeaders[index + 1] ?? '');
  }
  if (method === 'HEAD' || status === 204 || status === 205 || status === 304) {
    incoming.resume();
    return new Response(null, { status, headers });
  }
  const abort = () => incoming.destroy(stopped());
  signal.addEventListener('abort', abort, { once: true });
  incoming.once('close', () => signal.removeEventListener('abort', abort));
  // Errors surface through the stream's reads; without a listener an unread body's error would crash.
  incoming.on('error', () => undefined);
  const chunks = incoming[Symbol.asyncIterator]();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await chunks.next();
      if (next.done === true) {
        controller.close();
        return;
      }
      const chunk: unknown = next.value;
      if (chunk instanceof Uint8Array) controller.enqueue(chunk);
    },
    cancel() {
      incoming.destroy();
    },
  });
  return new Response(body, { status, headers });
}

/** `work`, unless `signal` aborts first: then RegistryUnavailableError (the work itself is not cancelled). */
async function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined, what: string): Promise<T> {
  if (signal === undefined) return work;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () =>
      reject(
        new RegistryUnavailableError(`${what} stopped: the caller's deadline passed`, {
          cause: signal.reason,
        }),
      );
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return `${error.message}${cause}`;
  }
  return String(error);
}
