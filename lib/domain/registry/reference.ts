/** A repository in a registry, without a tag or digest: what blob uploads and token scopes address. */
export interface RepositoryName {
  /** Host, optionally with a port: `123456789012.dkr.ecr.eu-west-1.amazonaws.com`, `127.0.0.1:5000`. */
  readonly registry: string;
  /** One or more lowercase path segments: `team/orders-etl`. */
  readonly repository: string;
}

/** A manifest addressed by tag (mutable) or by digest (immutable); never both. */
export type ArtifactReference =
  | (RepositoryName & { readonly tag: string; readonly digest?: never })
  | (RepositoryName & { readonly digest: string; readonly tag?: never });

/** Why a reference was refused; `code` is stable, the message names the offending part. */
export class InvalidReferenceError extends Error {
  readonly code = 'DK_REF_INVALID';

  constructor(
    readonly input: string,
    reason: string,
  ) {
    super(`invalid artifact reference ${JSON.stringify(input.slice(0, 300))}: ${reason}`);
    this.name = 'InvalidReferenceError';
  }
}

// Grammar from the OCI distribution spec (repository components, tags) and RFC 1123 host names.
const hostLabel = '[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?';
const hostPattern = new RegExp(
  `^(?:${hostLabel}(?:\\.${hostLabel})*|\\[[0-9a-fA-F:.]+\\])(?::([0-9]{1,5}))?$`,
);
const componentPattern = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const tagPattern = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const digestPattern = /^sha256:[a-f0-9]{64}$/;
const maxRepositoryLength = 255;

/** Parses `<registry>/<repository>:<tag>` or `<registry>/<repository>@sha256:<hex>`; throws InvalidReferenceError. */
export function parseReference(input: string): ArtifactReference {
  const slash = input.indexOf('/');
  if (slash <= 0)
    throw new InvalidReferenceError(input, 'expected <registry>/<repository>:<tag> or @<digest>');
  const registry = input.slice(0, slash);
  assertRegistry(input, registry);
  const rest = input.slice(slash + 1);

  const at = rest.indexOf('@');
  if (at >= 0) {
    const repository = rest.slice(0, at);
    const digest = rest.slice(at + 1);
    assertRepository(input, repository);
    if (!digestPattern.test(digest))
      throw new InvalidReferenceError(input, 'digest must be sha256:<64 lowercase hex>');
    return { registry, repository, digest };
  }

  // A colon after the last slash separates the tag; colons before it would belong to the registry port.
  const colon = rest.lastIndexOf(':');
  if (colon < 0 || colon < rest.lastIndexOf('/')) {
    throw new InvalidReferenceError(
      input,
      'a tag or digest is required (the control plane never assumes "latest")',
    );
  }
  const repository = rest.slice(0, colon);
  const tag = rest.slice(colon + 1);
  assertRepository(input, repository);
  if (!tagPattern.test(tag))
    throw new InvalidReferenceError(input, `tag ${JSON.stringify(tag)} is not a valid tag`);
  return { registry, repository, tag };
}

/** Renders a reference back to its canonical string; `parseReference(formatReference(r))` equals `r`. */
export function formatReference(reference: ArtifactReference): string {
  const name = `${reference.registry}/${reference.repository}`;
  return reference.digest === undefined ? `${name}:${reference.tag}` : `${name}@${reference.digest}`;
}

/** The path element a manifest GET uses: the digest when there is one, else the tag. */
export function referenceTarget(reference: ArtifactReference): string {
  return reference.digest ?? reference.tag;
}

function assertRegistry(input: string, registry: string): void {
  const match = hostPattern.exec(registry);
  if (match === null)
    throw new InvalidReferenceError(input, `registry ${JSON.stringify(registry)} is not a host`);
  const port = match[1];
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65_535)) {
    throw new InvalidReferenceError(input, `registry port ${port} is out of range`);
  }
}

function assertRepository(input: string, repository: string): void {
  if (repository.length === 0) throw new InvalidReferenceError(input, 'the repository is empty');
  if (repository.length > maxRepositoryLength) {
    throw new InvalidReferenceError(input, `the repository is longer than ${maxRepositoryLength} characters`);
  }
  for (const component of repository.split('/')) {
    if (!componentPattern.test(component)) {
      throw new InvalidReferenceError(
        input,
        `repository component ${JSON.stringify(component)} must be lowercase letters and digits joined by . _ __ or -`,
      );
    }
  }
}
