import type { PackageVersion } from '../../contracts/api/packages.js';
import type { ManifestKind } from '../../contracts/manifests/manifest.js';

/**
 * The commit item of a package: its identity, latest version and every committed version. A staged
 * item (version detail, DataSet declaration, pipeline edge) is visible iff the head lists its version
 * with the same digest.
 */
export interface PackageHead {
  readonly namespace: string;
  readonly name: string;
  readonly kind: ManifestKind;
  readonly latestVersion: string;
  readonly description?: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly versions: Readonly<Record<string, VersionEntry>>;
  readonly updatedAt: string;
  /** Optimistic-locking revision; 0 for a head not stored yet. */
  readonly revision: number;
}

export interface VersionEntry {
  readonly digest: string;
  readonly registeredAt: string;
  /** The registration that committed the version. */
  readonly registrationId: string;
}

/** Identifies one version of one package, and the digest that claimed it. */
export interface VersionKey {
  readonly namespace: string;
  readonly name: string;
  readonly version: string;
  readonly digest: string;
}

/** A DataSet contract as one package version carries it (staged; visible with its version). */
export interface DataSetDeclaration extends VersionKey {
  readonly dataset: { readonly namespace: string; readonly name: string };
  /** The DataSet manifest as registered. */
  readonly manifest: Readonly<Record<string, unknown>>;
}

/** A Transform version producing or consuming a DataSet (staged; visible with its version). */
export interface PipelineEdge extends VersionKey {
  readonly dataset: { readonly namespace: string; readonly name: string };
  readonly role: 'producer' | 'consumer';
}

/** Everything one registration writes before the commit. */
export interface StagedVersion {
  readonly detail: PackageVersion;
  readonly declarations: readonly DataSetDeclaration[];
  readonly edges: readonly PipelineEdge[];
}

export type AuditAction =
  | 'package.version.registered'
  | 'package.version.duplicate'
  | 'package.version.conflict'
  | 'package.registration.rejected';
