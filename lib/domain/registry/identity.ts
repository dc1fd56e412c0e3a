import { defaultPackageNamespace } from '../../contracts/api/packages.js';
import type { Manifest, ManifestKind } from '../../contracts/manifests/manifest.js';
import { LOOSE_SEMVER_PATTERN, NAME_PATTERN } from '../../contracts/manifests/metadata.js';
import type { Problem } from '../../contracts/problem.js';
import type { PackageConfig } from './artifact.js';

/** Who a package is: the key of everything registration records. */
export interface PackageIdentity {
  readonly namespace: string;
  readonly name: string;
  readonly version: string;
  readonly kind: ManifestKind;
}

export const annotationKeys = {
  namespace: 'io.infoblox.dk.namespace',
  kind: 'io.infoblox.dk.kind',
  title: 'org.opencontainers.image.title',
  version: 'org.opencontainers.image.version',
  description: 'org.opencontainers.image.description',
} as const;

/** A package without `metadata.namespace` lives in this namespace. */
export const defaultNamespace = defaultPackageNamespace;

export interface IdentitySources {
  readonly manifest: Manifest;
  readonly annotations: Readonly<Record<string, string>>;
  readonly config: PackageConfig;
  /** The tag the artifact was pushed under, when known. */
  readonly tag?: string | undefined;
}

export type IdentityResult =
  | { readonly ok: true; readonly identity: PackageIdentity }
  | { readonly ok: false; readonly problems: readonly Problem[] };

/**
 * The identity comes from dk.yaml: `metadata.namespace` (default `default`; Connectors have none, so
 * the namespace annotation), `metadata.name`, and the version (`metadata.version` for Transforms and
 * DataSets; Connectors `spec.version`; kinds without a version field take the version annotation).
 * The annotations, the config blob and the tag (a leading `v` allowed) must agree with it; every
 * disagreement is a `DK_IDENTITY_MISMATCH` naming the field that disagrees.
 */
export function resolveIdentity(sources: IdentitySources): IdentityResult {
  const { manifest, annotations, config, tag } = sources;
  const problems: Problem[] = [];
  const annotation = (key: string): string | undefined =>
    Object.hasOwn(annotations, key) ? annotations[key] : undefined;

  const manifestNamespace = 'namespace' in manifest.metadata ? manifest.metadata.namespace : undefined;
  const namespace =
    manifest.kind === 'Connector'
      ? (annotation(annotationKeys.namespace) ?? defaultNamespace)
      : (manifestNamespace ?? defaultNamespace);
  if (!NAME_PATTERN.test(namespace)) {
    problems.push({
      code: 'DK_NAMESPACE_INVALID',
      path: 'dk.yaml:metadata.namespace',
      message: `namespace ${JSON.stringify(namespace)} must be a DNS-safe name (lowercase letters, digits, "-")`,
    });
  }
  const name = manifest.metadata.name;
  const version = versionOf(manifest, annotation(annotationKeys.version));
  if (version === undefined) {
    problems.push({
      code: 'E020',
      path: versionPath(manifest.kind),
      message: `a package needs a semantic version (${versionPath(manifest.kind)}), such as 1.2.0`,
    });
  }

  const expect = (path: string, actual: string | undefined, expected: string, what: string) => {
    if (actual !== undefined && actual !== expected) {
      problems.push({
        code: 'DK_IDENTITY_MISMATCH',
        path,
        message: `${path} says ${JSON.stringify(actual)} but dk.yaml's ${what} is ${JSON.stringify(expected)}`,
      });
    }
  };
  expect(
    `annotations["${annotationKeys.namespace}"]`,
    annotation(annotationKeys.namespace),
    namespace,
    'namespace',
  );
  expect(`annotations["${annotationKeys.title}"]`, annotation(annotationKeys.title), name, 'name');
  expect(`annotations["${annotationKeys.kind}"]`, annotation(annotationKeys.kind), manifest.kind, 'kind');
  expect('config.kind', config.kind, manifest.kind, 'kind');
  const configMetadata = config.manifest.metadata;
  if (typeof configMetadata === 'object' && configMetadata !== null) {
    const field = (key: string): string | undefined => {
      const value: unknown = Object.hasOwn(configMetadata, key)
        ? Reflect.get(configMetadata, key)
        : undefined;
      return typeof value === 'string' ? value : undefined;
    };
    expect('config.manifest.metadata.name', field('name'), name, 'name');
    if (manifestNamespace !== undefined) {
      expect('config.manifest.metadata.namespace', field('namespace'), manifestNamespace, 'namespace');
    }
  }
  if (version !== undefined) {
    expect(
      `annotations["${annotationKeys.version}"]`,
      annotation(annotationKeys.version),
      version,
      'version',
    );
    if (tag !== undefined && tag !== version && tag !== `v${version}`) {
      problems.push({
        code: 'DK_IDENTITY_MISMATCH',
        path: 'reference.tag',
        message: `the tag ${JSON.stringify(tag)} is not the package version ${version} (nor v${version})`,
      });
    }
  }

  if (problems.length > 0 || version === undefined) return { ok: false, problems };
  return { ok: true, identity: { namespace, name, version, kind: manifest.kind } };
}

/** What a rejected artifact claims to be, for its record: the annotations, trusted for nothing else. */
export function claimedIdentity(
  annotations: Readonly<Record<string, string>>,
): Partial<Pick<PackageIdentity, 'namespace' | 'name' | 'version'>> {
  const get = (key: string) => (Object.hasOwn(annotations, key) ? annotations[key] : undefined);
  const namespace = get(annotationKeys.namespace);
  const name = get(annotationKeys.title);
  const version = get(annotationKeys.version);
  return {
    ...(namespace === undefined ? {} : { namespace }),
    ...(name === undefined ? {} : { name }),
    ...(version === undefined ? {} : { version }),
  };
}

function versionOf(manifest: Manifest, annotated: string | undefined): string | undefined {
  switch (manifest.kind) {
    case 'Transform':
    case 'DataSet':
      return manifest.metadata.version;
    case 'Connector':
      return manifest.spec.version ?? semverOrUndefined(annotated);
    case 'DataSetGroup':
    case 'Store':
      return semverOrUndefined(annotated);
  }
}

function versionPath(kind: ManifestKind): string {
  if (kind === 'Transform' || kind === 'DataSet') return 'dk.yaml:metadata.version';
  if (kind === 'Connector') return 'dk.yaml:spec.version';
  return `annotations["${annotationKeys.version}"]`;
}

function semverOrUndefined(value: string | undefined): string | undefined {
  return value !== undefined && LOOSE_SEMVER_PATTERN.test(value) ? value : undefined;
}
