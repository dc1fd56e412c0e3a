import { createHash } from 'node:crypto';
import type { DataSetRef, PackageVersion } from '../../contracts/api/packages.js';
import type { RegistrationRecord, RegistrationSource } from '../../contracts/api/registrations.js';
import type {
  PackageRegistrationRejected,
  PackageVersionRegistered,
} from '../../contracts/events/registry.js';
import { maxEventProblems } from '../../contracts/events/registry.js';
import type { Problem } from '../../contracts/problem.js';
import {
  type ArtifactSource,
  ArtifactSourceError,
  RegistryAuthError,
  RegistryHostNotAllowedError,
  RegistryUnavailableError,
  withSignal,
} from '../../ports/artifact-source.js';
import type { AuditLog } from '../../ports/audit-log.js';
import type { EventPublisher } from '../../ports/event-publisher.js';
import type { RegistryStore } from '../../ports/registry-store.js';
import {
  ConcurrentModificationError,
  DependencyUnavailableError,
  ForbiddenError,
  ValidationError,
} from '../errors.js';
import { type PackageArtifact, type PackageArtifactLimits, readPackageArtifact } from './artifact.js';
import { annotationKeys, claimedIdentity, type PackageIdentity, resolveIdentity } from './identity.js';
import type { AuditAction, DataSetDeclaration, PackageHead, PipelineEdge, StagedVersion } from './model.js';
import { type PackageContents, readPackageContents } from './package-contents.js';
import {
  type ArtifactReference,
  formatReference,
  InvalidReferenceError,
  parseReference,
} from './reference.js';
import { isRegistryAllowed, type RegistryAllowlist } from './registry-allowlist.js';
import { compareVersions } from './version-order.js';

/** What to register: a reference, the tag of the push when the reference is a digest, and who asked. */
export interface RegisterPackageInput {
  readonly reference: string;
  readonly tag?: string | undefined;
  readonly source: RegistrationSource;
  /** The principal that asked (API requests); the audit trail names the source (`ecr`, …) otherwise. */
  readonly actor?: string | undefined;
  /**
   * Checks that the caller may register into the package's namespace, once the artifact has said which
   * (API requests: the `publisher` role, ADR 0018). A refusal throws and leaves nothing written.
   */
  readonly authorize?: ((namespace: string) => Promise<void>) | undefined;
  /**
   * The caller's deadline for reading the artifact (lib/runtime/deadline.ts): once it fires the read
   * stops and the registration fails as retryable (503), leaving the caller time to answer.
   */
  readonly signal?: AbortSignal | undefined;
}

/** The outcome; `record` is what `POST /v1/registrations` answers with. */
export interface RegisterPackageResult {
  readonly status: RegistrationRecord['status'];
  /** True when the version exists with another digest (E021): the rejection is a conflict. */
  readonly conflict: boolean;
  readonly record: RegistrationRecord;
}

export interface RegisterPackageLimits {
  readonly artifact?: Partial<PackageArtifactLimits>;
  /** Largest serialised version detail; DynamoDB items stop at 400 KB. @default 300 KiB */
  readonly maxVersionBytes?: number;
  /** Commit attempts under contention before giving up. @default 50 */
  readonly maxCommitAttempts?: number;
}

export interface RegisterPackageDeps {
  readonly artifacts: ArtifactSource;
  readonly store: RegistryStore;
  readonly events: EventPublisher;
  /** The audit trail: every registration, duplicate, conflict and rejection. */
  readonly audit: AuditLog;
  readonly clock: () => Date;
  /** Unique ids for records and audit entries. */
  readonly ids: () => string;
  /** Registries this use case may read from. */
  readonly allowlist: RegistryAllowlist;
  readonly limits?: RegisterPackageLimits;
}

export type RegisterPackage = (input: RegisterPackageInput) => Promise<RegisterPackageResult>;

/**
 * Registration: read and verify the artifact, validate every manifest, resolve the identity, then
 * stage the version (detail, DataSet declarations, pipeline edges) and commit it by adding it to the
 * package head — the one write that makes all of it visible. Refusals become `rejected` records and a
 * `Package Registration Rejected` event; failures worth retrying (registry or storage down) are thrown
 * and leave nothing visible, so the caller (EventBridge, a webhook, an API client) can simply retry.
 */
export function makeRegisterPackage(deps: RegisterPackageDeps): RegisterPackage {
  const { store, events, clock, ids } = deps;
  const maxVersionBytes = deps.limits?.maxVersionBytes ?? 300 * 1024;
  const maxCommitAttempts = deps.limits?.maxCommitAttempts ?? 50;

  return async (input) => {
    const reference = parseInput(input.reference);
    if (!isRegistryAllowed(reference.registry, deps.allowlist)) {
      throw new ForbiddenError(
        'REGISTRY_NOT_ALLOWED',
        `Registry ${reference.registry} is not on the allowlist of registries packages are read from.`,
        {
          problems: [
            { code: 'REGISTRY_NOT_ALLOWED', path: 'body.reference', message: 'registry not allowed' },
          ],
        },
      );
    }
    const tag = input.tag ?? reference.tag;
    const context: Context = { input, reference, tag, createdAt: clock().toISOString() };

    const artifact = await readArtifact(
      withSignal(deps.artifacts, input.signal),
      reference,
      deps.limits?.artifact,
    );
    if (!artifact.ok)
      return reject(
        context,
        artifact.problems,
        artifact.digest === undefined ? {} : { digest: artifact.digest },
      );
    const claimed = { digest: artifact.digest, ...claimedIdentity(artifact.annotations) };

    const contents = readPackageContents(artifact.files);
    if (!contents.ok) return reject(context, contents.problems, claimed);
    const identity = resolveIdentity({
      manifest: contents.contents.manifest,
      annotations: artifact.annotations,
      config: artifact.config,
      tag,
    });
    if (!identity.ok) return reject(context, identity.problems, claimed);
    // Only now is the namespace known; a caller without the role there leaves nothing behind.
    await input.authorize?.(identity.identity.namespace);

    const staged = stage(identity.identity, artifact, contents.contents, context);
    const size = Buffer.byteLength(JSON.stringify(staged.detail));
    if (size > maxVersionBytes) {
      return reject(
        context,
        [
          {
            code: 'DK_PACKAGE_TOO_LARGE',
            message: `the manifests take ${size} bytes; at most ${maxVersionBytes} can be recorded`,
          },
        ],
        claimed,
      );
    }
    return commit(context, identity.identity, staged);
  };

  async function commit(
    context: Context,
    identity: PackageIdentity,
    staged: StagedVersion,
  ): Promise<RegisterPackageResult> {
    const { namespace, name, version } = identity;
    const digest = staged.detail.digest;
    let head = await store.getHead(namespace, name);
    const existing = head?.versions[version];
    if (existing !== undefined) return settleExisting(context, identity, staged, existing.digest);
    if (head !== undefined && head.kind !== identity.kind)
      return kindConflict(context, identity, digest, head);

    const claim = await store.stageVersion(staged);
    if (!claim.claimed) return settleExisting(context, identity, staged, claim.digest);
    await store.stageGraph(staged);

    for (let attempt = 1; ; attempt++) {
      const committed = head?.versions[version];
      if (committed !== undefined) return settleExisting(context, identity, staged, committed.digest);
      // A package of another kind may have committed the name since the first read.
      if (head !== undefined && head.kind !== identity.kind)
        return kindConflict(context, identity, digest, head);
      try {
        await store.commitHead(
          withVersion(head, identity, staged, registeredId(identity, digest), context.createdAt),
        );
        return settleCommitted(context, identity, staged);
      } catch (error) {
        if (!(error instanceof ConcurrentModificationError) || attempt >= maxCommitAttempts) throw error;
        // Jittered backoff, so writers of one package do not collide again in lockstep.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 2 * attempt)));
        head = await store.getHead(namespace, name);
      }
    }
  }

  function kindConflict(
    context: Context,
    identity: PackageIdentity,
    digest: string,
    head: PackageHead,
  ): Promise<RegisterPackageResult> {
    return reject(
      context,
      [
        {
          code: 'DK_PACKAGE_KIND_CONFLICT',
          path: 'dk.yaml:kind',
          message: `${identity.namespace}/${identity.name} is registered as a ${head.kind}, not a ${identity.kind}`,
        },
      ],
      { ...identity, digest },
    );
  }

  /** The version is claimed or committed already: the same digest is a duplicate, another one E021. */
  async function settleExisting(
    context: Context,
    identity: PackageIdentity,
    staged: StagedVersion,
    claimedBy: string,
  ): Promise<RegisterPackageResult> {
    const digest = staged.detail.digest;
    if (claimedBy !== digest) {
      return reject(
        context,
        [
          {
            code: 'E021',
            path: `annotations["${annotationKeys.version}"]`,
            message: `${identity.namespace}/${identity.name} ${identity.version} already exists with digest ${claimedBy}; versions are immutable, publish a new version`,
          },
        ],
        { ...identity, digest },
        'package.version.conflict',
      );
    }
    const head = await store.getHead(identity.namespace, identity.name);
    if (head?.versions[identity.version]?.digest !== digest) {
      // Claimed by this digest but not committed yet: finish the work (staging is idempotent).
      return commit(context, identity, staged);
    }
    return settleCommitted(context, identity, staged);
  }

  /**
   * The version is committed. Whoever creates its deterministic `registered` record publishes the
   * event and audits; everyone else is a duplicate. A crash between commit and record leaves the
   * claim open, so a retry completes the registration instead of calling it a duplicate.
   */
  async function settleCommitted(
    context: Context,
    identity: PackageIdentity,
    staged: StagedVersion,
  ): Promise<RegisterPackageResult> {
    const digest = staged.detail.digest;
    const id = registeredId(identity, digest);
    const base = recordBase(context, { ...identity, digest }, staged.detail.lint.warnings);
    const registered: RegistrationRecord = { ...base, id, status: 'registered' };
    if (await store.claimRegistration(registered)) {
      try {
        const detail: PackageVersionRegistered = {
          registrationId: id,
          namespace: identity.namespace,
          name: identity.name,
          version: identity.version,
          kind: identity.kind,
          digest,
          repository: staged.detail.repository,
          registeredAt: context.createdAt,
          datasets: staged.declarations.map((declaration) => declaration.dataset),
          inputs: staged.detail.inputs,
          outputs: staged.detail.outputs,
        };
        await events.publish([
          { detailType: 'Package Version Registered', detail, time: new Date(context.createdAt) },
        ]);
      } catch (error) {
        await store.releaseRegistration(id);
        throw error;
      }
      await audit(context, 'package.version.registered', identity, { registrationId: id, digest });
      return { status: 'registered', conflict: false, record: registered };
    }
    const duplicate: RegistrationRecord = { ...base, id: ids(), status: 'duplicate', duplicateOf: id };
    await store.claimRegistration(duplicate);
    await audit(context, 'package.version.duplicate', identity, {
      registrationId: duplicate.id,
      duplicateOf: id,
      digest,
    });
    return { status: 'duplicate', conflict: false, record: duplicate };
  }

  async function reject(
    context: Context,
    problems: readonly Problem[],
    known: Partial<PackageIdentity> & { readonly digest?: string },
    action: AuditAction = 'package.registration.rejected',
  ): Promise<RegisterPackageResult> {
    const record: RegistrationRecord = {
      ...recordBase(context, known, []),
      id: ids(),
      status: 'rejected',
      problems: [...problems],
    };
    await store.claimRegistration(record);
    const detail: PackageRegistrationRejected = {
      registrationId: record.id,
      source: record.source,
      reference: record.reference,
      ...pick(record, ['digest', 'namespace', 'name', 'version']),
      problems: problems.slice(0, maxEventProblems),
      problemCount: problems.length,
      rejectedAt: record.createdAt,
    };
    await events.publish([
      { detailType: 'Package Registration Rejected', detail, time: new Date(record.createdAt) },
    ]);
    await audit(context, action, known, {
      registrationId: record.id,
      codes: [...new Set(problems.map((problem) => problem.code))],
      ...(known.digest === undefined ? {} : { digest: known.digest }),
    });
    return { status: 'rejected', conflict: action === 'package.version.conflict', record };
  }

  async function audit(
    context: Context,
    action: AuditAction,
    known: Partial<PackageIdentity>,
    details: Readonly<Record<string, unknown>>,
  ): Promise<void> {
    const subject =
      known.namespace !== undefined && known.name !== undefined
        ? `package:${known.namespace}/${known.name}`
        : `artifact:${formatReference(context.reference)}`;
    await deps.audit.append({
      id: ids(),
      at: clock().toISOString(),
      action,
      subject,
      actor: context.input.actor ?? context.input.source,
      ...(action === 'package.version.registered' || action === 'package.version.duplicate'
        ? {}
        : { outcome: 'refused' as const }),
      details: {
        reference: context.input.reference,
        ...(known.version === undefined ? {} : { version: known.version }),
        ...details,
      },
    });
  }
}

interface Context {
  readonly input: RegisterPackageInput;
  readonly reference: ArtifactReference;
  readonly tag: string | undefined;
  readonly createdAt: string;
}

/** A malformed reference is the caller's mistake: nothing is recorded. */
function parseInput(reference: string): ArtifactReference {
  try {
    return parseReference(reference);
  } catch (error) {
    if (!(error instanceof InvalidReferenceError)) throw error;
    throw new ValidationError(error.code, error.message, {
      problems: [{ code: error.code, path: 'body.reference', message: error.message }],
      cause: error,
    });
  }
}

/** The id of the record that committed a version: the same for every delivery of that digest. */
export function registeredId(identity: PackageIdentity, digest: string): string {
  const key = `${identity.namespace}/${identity.name}@${identity.version}#${digest}`;
  return `r-${createHash('sha256').update(key).digest('hex').slice(0, 32)}`;
}

function recordBase(
  context: Context,
  known: Partial<PackageIdentity> & { readonly digest?: string },
  warnings: readonly Problem[],
): Omit<RegistrationRecord, 'id' | 'status'> {
  return {
    source: context.input.source,
    reference: context.input.reference,
    ...(context.tag === undefined ? {} : { tag: context.tag }),
    ...pick(known, ['digest', 'namespace', 'name', 'version', 'kind']),
    problems: [],
    warnings: [...warnings],
    createdAt: context.createdAt,
  };
}

function pick<T extends object, K extends keyof T>(value: T, keys: readonly K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const key of keys) if (value[key] !== undefined) out[key] = value[key];
  return out;
}

type ArtifactRead =
  | PackageArtifact
  | { readonly ok: false; readonly digest?: string; readonly problems: readonly Problem[] };

/**
 * Registry outages and refused credentials are retryable dependency failures; a host the connection
 * policy refuses is the registry's (or the allowlist's) problem, refused like a registry off the
 * allowlist; anything about the artifact is a rejection.
 */
async function readArtifact(
  source: ArtifactSource,
  reference: ArtifactReference,
  limits: Partial<PackageArtifactLimits> | undefined,
): Promise<ArtifactRead> {
  try {
    return await readPackageArtifact(source, reference, limits);
  } catch (error) {
    if (error instanceof RegistryHostNotAllowedError) {
      throw new ForbiddenError(error.code, error.message, {
        problems: [{ code: error.code, path: 'body.reference', message: error.message }],
        cause: error,
      });
    }
    if (error instanceof RegistryUnavailableError || error instanceof RegistryAuthError) {
      throw new DependencyUnavailableError(error.code, 'The registry could not be read; retry later.', {
        cause: error,
      });
    }
    if (error instanceof ArtifactSourceError) {
      return { ok: false, problems: [{ code: error.code, path: 'reference', message: error.message }] };
    }
    throw error;
  }
}

/** Builds everything the version writes, from validated contents. */
function stage(
  identity: PackageIdentity,
  artifact: PackageArtifact,
  contents: PackageContents,
  context: Context,
): StagedVersion {
  const { namespace, name, version } = identity;
  const digest = artifact.digest;
  const key = { namespace, name, version, digest };
  const refs = (direction: 'inputs' | 'outputs'): DataSetRef[] => {
    if (contents.manifest.kind !== 'Transform') return [];
    const named = contents.manifest.spec[direction].flatMap((ref) =>
      ref.dataset === undefined ? [] : [ref.dataset],
    );
    return [...new Set(named)].map((dataset) => ({ namespace, name: dataset }));
  };
  const inputs = refs('inputs');
  const outputs = refs('outputs');
  const declarations: DataSetDeclaration[] = contents.datasets.map(({ manifest }) => ({
    ...key,
    dataset: { namespace: manifest.metadata.namespace ?? namespace, name: manifest.metadata.name },
    manifest: asRecord(manifest),
  }));
  const edges: PipelineEdge[] = [
    ...inputs.map((dataset) => ({ ...key, dataset, role: 'consumer' as const })),
    ...outputs.map((dataset) => ({ ...key, dataset, role: 'producer' as const })),
  ];
  const description = artifact.annotations[annotationKeys.description];
  const detail: PackageVersion = {
    namespace,
    name,
    version,
    kind: identity.kind,
    digest,
    repository: `${context.reference.registry}/${context.reference.repository}`,
    ...(context.tag === undefined ? {} : { tag: context.tag }),
    registeredAt: context.createdAt,
    ...(description === undefined || description === '' ? {} : { description }),
    labels: { ...(contents.manifest.metadata.labels ?? {}) },
    manifest: asRecord(contents.manifest),
    datasets: contents.datasets.map(({ manifest }) => asRecord(manifest)),
    connectors: contents.connectors.map(({ manifest }) => asRecord(manifest)),
    datasetGroups: contents.datasetGroups.map(({ manifest }) => asRecord(manifest)),
    inputs,
    outputs,
    lint: { errors: [], warnings: [...contents.warnings] },
    buildInfo: { ...artifact.config.buildInfo },
    annotations: { ...artifact.annotations },
  };
  return { detail, declarations, edges };
}

/** The head with one more committed version; the latest version sets the head's kind, labels and description. */
function withVersion(
  head: PackageHead | undefined,
  identity: PackageIdentity,
  staged: StagedVersion,
  registrationId: string,
  registeredAt: string,
): PackageHead {
  const versions = {
    ...(head?.versions ?? {}),
    [identity.version]: { digest: staged.detail.digest, registeredAt, registrationId },
  };
  const isLatest = head === undefined || compareVersions(identity.version, head.latestVersion) > 0;
  const description = isLatest ? staged.detail.description : head.description;
  return {
    namespace: identity.namespace,
    name: identity.name,
    kind: identity.kind,
    latestVersion: isLatest ? identity.version : head.latestVersion,
    labels: isLatest ? staged.detail.labels : head.labels,
    ...(description === undefined ? {} : { description }),
    versions,
    updatedAt: registeredAt,
    revision: head?.revision ?? 0,
  };
}

function asRecord(value: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value));
}
