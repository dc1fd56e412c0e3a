import { createHash } from 'node:crypto';
import type { DynamoRegistry } from '../../lib/adapters/dynamodb/registry-store.js';
import type { PackageHead, StagedVersion } from '../../lib/domain/registry/model.js';
import { compareVersions } from '../../lib/domain/registry/version-order.js';

/** A DataSet contract as a seeded version declares it. */
export interface SeedDataSet {
  readonly name: string;
  readonly classification?: 'public' | 'internal' | 'confidential' | 'restricted';
  readonly schema?: readonly { name: string; type?: string; pii?: boolean; from?: string }[];
  readonly store?: string;
  readonly prefix?: string;
}

/** A package version to register by hand: what registration would stage and commit. */
export interface SeedVersion {
  readonly namespace: string;
  readonly name: string;
  readonly version: string;
  readonly kind: 'Transform' | 'DataSet';
  readonly labels?: Readonly<Record<string, string>>;
  readonly inputs?: readonly string[];
  readonly outputs?: readonly string[];
  /** DataSets the version declares (a DataSet package declares its own). */
  readonly declares?: readonly SeedDataSet[];
  readonly registeredAt?: string;
}

function manifestOf(namespace: string, dataSet: SeedDataSet): Record<string, unknown> {
  return {
    apiVersion: 'datakit.infoblox.dev/v1alpha1',
    kind: 'DataSet',
    metadata: { name: dataSet.name, namespace, version: '1.0.0' },
    spec: {
      store: dataSet.store ?? 'lake',
      prefix: dataSet.prefix ?? `data/${dataSet.name}/`,
      ...(dataSet.classification === undefined ? {} : { classification: dataSet.classification }),
      ...(dataSet.schema === undefined
        ? {}
        : { schema: dataSet.schema.map((field) => ({ type: 'string', ...field })) }),
    },
  };
}

/**
 * Stages and commits a version through the registry store, as registration does after reading an
 * artifact (the registry tests cover reading artifacts; these tests need the registry's content only).
 */
export async function seedVersion(store: DynamoRegistry, seed: SeedVersion): Promise<void> {
  const { namespace, name, version } = seed;
  // The Transform contract needs an output (E231): a version without one would resolve to nothing.
  if (seed.kind === 'Transform' && (seed.outputs ?? []).length === 0)
    throw new Error(`seeded Transform ${name} needs at least one output`);
  const digest = `sha256:${createHash('sha256').update(`${namespace}/${name}@${version}`).digest('hex')}`;
  const key = { namespace, name, version, digest };
  const registeredAt = seed.registeredAt ?? '2026-11-01T00:00:00.000Z';
  const ref = (dataset: string) => ({ namespace, name: dataset });
  const inputs = (seed.inputs ?? []).map(ref);
  const outputs = (seed.outputs ?? []).map(ref);
  const declares = seed.declares ?? [];
  const manifest =
    seed.kind === 'DataSet' && declares[0] !== undefined
      ? manifestOf(namespace, declares[0])
      : {
          apiVersion: 'datakit.infoblox.dev/v1alpha1',
          kind: 'Transform',
          metadata: { name, namespace, version, labels: { ...seed.labels } },
          spec: {
            runtime: 'generic-python',
            image: `team/${name}:${version}`,
            inputs: (seed.inputs ?? []).map((dataset) => ({ dataset })),
            outputs: (seed.outputs ?? []).map((dataset) => ({ dataset })),
            trigger: { policy: 'manual' },
          },
        };
  const staged: StagedVersion = {
    detail: {
      ...key,
      kind: seed.kind,
      repository: `127.0.0.1:5000/${namespace}/${name}`,
      registeredAt,
      labels: { ...seed.labels },
      manifest,
      datasets: declares.map((dataSet) => manifestOf(namespace, dataSet)),
      connectors: [],
      datasetGroups: [],
      inputs,
      outputs,
      lint: { errors: [], warnings: [] },
      buildInfo: {},
      annotations: {},
    },
    declarations: declares.map((dataSet) => ({
      ...key,
      dataset: ref(dataSet.name),
      manifest: manifestOf(namespace, dataSet),
    })),
    edges: [
      ...inputs.map((dataset) => ({ ...key, dataset, role: 'consumer' as const })),
      ...outputs.map((dataset) => ({ ...key, dataset, role: 'producer' as const })),
    ],
  };
  const claim = await store.stageVersion(staged);
  if (!claim.claimed) throw new Error(`${namespace}/${name} ${version} is claimed by another digest`);
  await store.stageGraph(staged);
  const head = await store.getHead(namespace, name);
  const next: PackageHead = {
    namespace,
    name,
    kind: seed.kind,
    latestVersion:
      head === undefined || compareVersions(version, head.latestVersion) > 0 ? version : head.latestVersion,
    labels: { ...seed.labels },
    versions: { ...head?.versions, [version]: { digest, registeredAt, registrationId: `seed-${name}` } },
    updatedAt: registeredAt,
    revision: head?.revision ?? 0,
  };
  await store.commitHead(next);
}
