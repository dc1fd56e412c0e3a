import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoRegistry } from '../../../lib/adapters/dynamodb/registry-store.js';
import type { DataSetSummary } from '../../../lib/contracts/api/datasets.js';
import type { PackageHead, StagedVersion } from '../../../lib/domain/registry/model.js';
import { compareVersions } from '../../../lib/domain/registry/version-order.js';
import { startTestTable, type TestTable } from '../../support/dynamo.js';

interface VersionSpec {
  readonly namespace?: string;
  readonly name: string;
  readonly version: string;
  readonly kind?: 'Transform' | 'DataSet';
  readonly inputs?: readonly string[];
  readonly outputs?: readonly string[];
  readonly declares?: readonly string[];
}

const digestOf = (spec: VersionSpec) =>
  `sha256:${Buffer.from(`${spec.name}@${spec.version}`).toString('hex').padEnd(64, '0').slice(0, 64)}`;

/** Everything a registration stages for a version, built by hand (the store does not care how). */
function staged(spec: VersionSpec): StagedVersion {
  const namespace = spec.namespace ?? 'sales';
  const key = { namespace, name: spec.name, version: spec.version, digest: digestOf(spec) };
  const ref = (dataset: string) => ({ namespace, name: dataset });
  const inputs = (spec.inputs ?? []).map(ref);
  const outputs = (spec.outputs ?? []).map(ref);
  const manifest = (dataset: string) => ({
    kind: 'DataSet',
    metadata: { name: dataset, namespace, version: '1.0.0' },
    spec: { store: 'warehouse', table: dataset },
  });
  return {
    detail: {
      ...key,
      kind: spec.kind ?? 'Transform',
      repository: `127.0.0.1:5000/${namespace}/${spec.name}`,
      registeredAt: '2026-11-01T00:00:00.000Z',
      labels: {},
      manifest: { kind: spec.kind ?? 'Transform' },
      datasets: (spec.declares ?? []).map(manifest),
      connectors: [],
      datasetGroups: [],
      inputs,
      outputs,
      lint: { errors: [], warnings: [] },
      buildInfo: {},
      annotations: {},
    },
    declarations: (spec.declares ?? []).map((dataset) => ({
      ...key,
      dataset: ref(dataset),
      manifest: manifest(dataset),
    })),
    edges: [
      ...inputs.map((dataset) => ({ ...key, dataset, role: 'consumer' as const })),
      ...outputs.map((dataset) => ({ ...key, dataset, role: 'producer' as const })),
    ],
  };
}

let harness: TestTable;
let store: DynamoRegistry;

/** Stages a version; commits it (adds it to its head, as registration does) unless told not to. */
async function register(spec: VersionSpec, options: { commit: boolean } = { commit: true }): Promise<void> {
  const version = staged(spec);
  expect(await store.stageVersion(version)).toEqual({ claimed: true });
  await store.stageGraph(version);
  if (!options.commit) return;
  const { namespace, name } = version.detail;
  const head = await store.getHead(namespace, name);
  const latest =
    head === undefined || compareVersions(spec.version, head.latestVersion) > 0
      ? spec.version
      : head.latestVersion;
  const next: PackageHead = {
    namespace,
    name,
    kind: version.detail.kind,
    latestVersion: latest,
    labels: {},
    versions: {
      ...head?.versions,
      [spec.version]: {
        digest: version.detail.digest,
        registeredAt: '2026-11-01T00:00:00.000Z',
        registrationId: 'r',
      },
    },
    updatedAt: '2026-11-01T00:00:00.000Z',
    revision: head?.revision ?? 0,
  };
  await store.commitHead(next);
}

async function allDataSets(limit: number, namespace?: string): Promise<{ names: string[]; pages: number }> {
  const names: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await store.listDataSets({
      limit,
      ...(cursor === undefined ? {} : { cursor }),
      ...(namespace === undefined ? {} : { namespace }),
    });
    expect(page.items.length).toBeLessThanOrEqual(limit);
    names.push(...page.items.map((item: DataSetSummary) => `${item.namespace}/${item.name}`));
    cursor = page.nextCursor;
    pages++;
  } while (cursor !== undefined);
  return { names, pages };
}

const visible = [
  'sales/a',
  'sales/b',
  'sales/c',
  'sales/ds-0',
  'sales/ds-1',
  'sales/ds-2',
  'sales/ds-3',
  'sales/ds-4',
  'sales/hot',
];

beforeAll(async () => {
  harness = await startTestTable();
  store = new DynamoRegistry(harness.table);
  // t1 1.0.0 produced b; 2.0.0 produces c instead: b's only edge is stale.
  await register({ name: 't1', version: '1.0.0', inputs: ['a'], outputs: ['b'] });
  await register({ name: 't1', version: '2.0.0', inputs: ['a'], outputs: ['c'] });
  // A DataSet package declares b, so b stays visible through its declaration.
  await register({ name: 'b', version: '1.0.0', kind: 'DataSet', declares: ['b'] });
  // Staged and never committed: d, t2's edges and its consumption of c stay invisible.
  await register({ name: 't2', version: '1.0.0', inputs: ['c'], outputs: ['d'] }, { commit: false });
  await register({ name: 'many', version: '1.0.0', outputs: ['ds-0', 'ds-1', 'ds-2', 'ds-3', 'ds-4'] });
  // 40 versions writing to one DataSet: one DataSet's items span several pages of the index.
  for (let minor = 0; minor < 40; minor++) {
    await register({ name: 'hot-writer', version: `1.${minor}.0`, outputs: ['hot'] });
  }
  // A namespace whose name starts with another's.
  await register({ namespace: 'sales-eu', name: 'eu', version: '1.0.0', outputs: ['e'] });
}, 60_000);
afterAll(async () => harness.close());

describe('DataSets joined against the package heads', () => {
  it.each([1, 2, 3, 4, 100])('lists every visible DataSet exactly once across pages of %i', async (limit) => {
    const { names } = await allDataSets(limit, 'sales');

    expect(names).toEqual(visible);
  });

  it('lists other namespaces only without a namespace filter', async () => {
    expect((await allDataSets(3)).names).toEqual([...visible, 'sales-eu/e']);
    expect((await allDataSets(3, 'sales-eu')).names).toEqual(['sales-eu/e']);
  });

  it('shows producers and consumers of committed latest versions only', async () => {
    const c = await store.getDataSet('sales', 'c');
    const hot = await store.getDataSet('sales', 'hot');
    const b = await store.getDataSet('sales', 'b');

    expect(c).toMatchObject({ producers: [{ name: 't1', version: '2.0.0' }], consumers: [] });
    expect(hot?.producers).toEqual([{ namespace: 'sales', name: 'hot-writer', version: '1.39.0' }]);
    expect(b).toMatchObject({ declared: true, producers: [], declaredBy: { name: 'b' } });
    expect(await store.getDataSet('sales', 'd')).toBeUndefined();
  });

  it('draws pipeline edges of committed latest versions only', async () => {
    const edges = await store.pipelineEdges();
    const drawn = edges.map((edge) => `${edge.name}@${edge.version} ${edge.role} ${edge.dataset.name}`);

    expect(drawn.sort()).toEqual(
      [
        't1@2.0.0 consumer a',
        't1@2.0.0 producer c',
        'many@1.0.0 producer ds-0',
        'many@1.0.0 producer ds-1',
        'many@1.0.0 producer ds-2',
        'many@1.0.0 producer ds-3',
        'many@1.0.0 producer ds-4',
        'hot-writer@1.39.0 producer hot',
        'eu@1.0.0 producer e',
      ].sort(),
    );
  });

  it('shows a staged version only once its head lists it with the same digest', async () => {
    expect(await store.getVersion('sales', 't2', '1.0.0')).toBeUndefined();
    expect(await store.get('sales', 't2')).toBeUndefined();
    expect(await store.getVersion('sales', 't1', '1.0.0')).toMatchObject({ version: '1.0.0' });
  });
});
