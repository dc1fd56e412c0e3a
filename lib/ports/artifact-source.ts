import type { RegistryCode } from '../domain/registry/codes.js';
import type { ArtifactReference } from '../domain/registry/reference.js';

/** The part of an OCI descriptor needed to fetch and verify a blob. */
export interface BlobDescriptor {
  readonly mediaType: string;
  /** `<algorithm>:<hex>`; the fetched bytes must hash to it. */
  readonly digest: string;
  /** Exact byte length; the fetched bytes must have it. */
  readonly size: number;
}

/** A manifest as the registry served it, verified against the digest it was addressed by. */
export interface FetchedManifest {
  /** `sha256:<hex>` of `bytes`: the immutable identity of the artifact. */
  readonly digest: string;
  /** The `Content-Type` the registry answered with (parameters stripped). */
  readonly mediaType: string;
  /** The raw bytes; digests are computed over these, never over re-serialised JSON. */
  readonly bytes: Buffer;
  /** `bytes` parsed as JSON, still unvalidated. */
  readonly json: unknown;
}

/** Bounds of a read: its size (refused as soon as it is crossed, nothing further buffered) and its time. */
export interface ReadLimit {
  readonly maxBytes: number;
  /**
   * The caller's deadline: once aborted, the read stops and fails with RegistryUnavailableError, so the
   * caller still has time to answer (a Lambda function's remaining time, see lib/runtime/deadline.ts).
   */
  readonly signal?: AbortSignal | undefined;
}

/** Where package artifacts are read from: an OCI registry (ECR or any other) through the distribution API. */
export interface ArtifactSource {
  /** Fetches a manifest by tag or digest; a digest reference is verified against the bytes. */
  getManifest(reference: ArtifactReference, limit?: Partial<ReadLimit>): Promise<FetchedManifest>;
  /** Fetches a blob of the reference's repository, verifying its digest and size against the descriptor. */
  getBlob(reference: ArtifactReference, descriptor: BlobDescriptor, limit: ReadLimit): Promise<Buffer>;
}

interface ErrorDetails {
  readonly cause?: unknown;
  /** HTTP status of the registry response, when there was one. */
  readonly status?: number;
}

/** Base of every artifact-source failure: a stable `code`, whether retrying can help, and the underlying `cause`. */
export abstract class ArtifactSourceError extends Error {
  abstract readonly code: RegistryCode;
  abstract readonly retryable: boolean;
  readonly status: number | undefined;

  constructor(message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.status = details.status;
  }
}

/** 5xx, 429, timeouts and network failures: the registry may answer next time. */
export class RegistryUnavailableError extends ArtifactSourceError {
  readonly code = 'DK_REGISTRY_UNAVAILABLE';
  readonly retryable = true;
}

/** 401/403 after every credential we could offer, or a credential provider that failed. */
export class RegistryAuthError extends ArtifactSourceError {
  readonly code = 'DK_REGISTRY_AUTH';
  readonly retryable = false;
}

/** 404: the repository, manifest or blob does not exist. */
export class ArtifactNotFoundError extends ArtifactSourceError {
  readonly code = 'DK_ARTIFACT_NOT_FOUND';
  readonly retryable = false;
}

/** A 4xx other than auth/not-found, or a response the distribution spec does not allow. */
export class RegistryProtocolError extends ArtifactSourceError {
  readonly code = 'DK_REGISTRY_PROTOCOL';
  readonly retryable = false;
}

/** The manifest or blob is larger than the read limit; nothing beyond the limit was buffered. */
export class BlobTooLargeError extends ArtifactSourceError {
  readonly code = 'DK_BLOB_TOO_LARGE';
  readonly retryable = false;
}

/**
 * A host the client was asked, redirected or sent for a token to dial is outside the connection policy
 * (lib/adapters/oci/connection-policy.ts): not on the lists, plain http, or a private address. Retrying
 * cannot help; the operator's lists decide.
 */
export class RegistryHostNotAllowedError extends ArtifactSourceError {
  readonly code = 'REGISTRY_HOST_NOT_ALLOWED';
  readonly retryable = false;

  constructor(
    /** The refused origin (`https://host:port`), never the full URL: pre-signed URLs carry credentials. */
    readonly origin: string,
    /** Why, in words an operator can act on. */
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

/** The bytes do not match the digest or size they were addressed by: corruption or tampering. */
export class BlobIntegrityError extends ArtifactSourceError {
  readonly retryable = false;

  constructor(
    readonly code: 'DK_BLOB_DIGEST_MISMATCH' | 'DK_BLOB_SIZE_MISMATCH',
    message: string,
    details: ErrorDetails = {},
  ) {
    super(message, details);
  }
}

/** The source with `signal` applied to every read: how a use case hands its caller's deadline down. */
export function withSignal(source: ArtifactSource, signal: AbortSignal | undefined): ArtifactSource {
  if (signal === undefined) return source;
  return {
    getManifest: (reference, limit) => source.getManifest(reference, { ...limit, signal }),
    getBlob: (reference, descriptor, limit) => source.getBlob(reference, descriptor, { ...limit, signal }),
  };
}
