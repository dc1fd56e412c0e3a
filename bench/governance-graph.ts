import { DynamoDeploymentStore } from '../lib/adapters/dynamodb/deployment-store.js';
import { DynamoLineageStore, openLineageGraph } from '../lib/adapters/dynamodb/lineage-store.js';
import { DynamoRegistry } from '../lib/adapters/dynamodb/registry-store.js';
import { FileBlobStore } from '../lib/adapters/local/file-blob-store.js';
import { parseLineageEvent } from '../lib/contracts/openlineage/parse.js';
import { makeGovernanceInputs } from '../lib/domain/governance/governance-inputs.js';
import { type IngestLineageEvent, makeIngestLineageEvent } from '../lib/domain/lineage/ingest.js';
import { startTestTable } from '../test/support/dynamo.js';
import { seedVersion } from '../test/support/registry-seed.js';

/**
 * A fresh embedded table seeded by `seedGovernanceGraph`, with the registry and what the governance report
 * (and the PII gate) read of it. `close` stops the table.
 */
export async function seededGovernanceGraph(pipelines: number, versions: number) {
  const harness = await startTestTable();
  const registry = new DynamoRegistry(harness.table);
  const deployments = new DynamoDeploymentStore(harness.table);
  const ingest = makeIngestLineageEvent({
    // Events here are small: nothing goes to the blob store.
    store: new DynamoLineageStore(harness.table, new FileBlobStore('.bench/governance-blobs')),
    events: { publish: async () => {} },
    clock: () => new Date(),
  });
  process.stderr.write(`seeding ${pipelines} pipelines\n`);
  await seedGovernanceGraph({ registry, deployments, ingest }, pipelines, versions);
  const inputs = makeGovernanceInputs({
    packages: registry,
    deployments,
    environments: ['dev', 'int', 'prod'],
    lineageGraph: () => openLineageGraph(harness.table),
  });
  return { table: harness.table, registry, inputs, close: () => harness.close() };
}

/**
 * The registry the governance benchmarks read (`governance-report`, `pii-gate`): `pipelines` copies of the
 * reactive pipeline's shape, each in its own namespace `team-<p>`: users (PII, confidential) → enrich →
 * enriched (PII) → aggregate → summary (internal: a violation), every package with `versions` registered
 * versions `1.<v>.0` (older ones stay in the table and are read too), both Transforms deployed in dev with
 * OpenLineage names, and an external Spark job per pipeline copying enriched to a dataset DataKit does not
 * know and a second one writing it into a symlinked DataKit DataSet (with column lineage).
 */
export async function seedGovernanceGraph(
  stores: {
    readonly registry: DynamoRegistry;
    readonly deployments: DynamoDeploymentStore;
    readonly ingest: IngestLineageEvent;
  },
  pipelines: number,
  versions: number,
): Promise<void> {
  const { registry, deployments, ingest } = stores;
  for (let p = 0; p < pipelines; p++) {
    const ns = `team-${p}`;
    for (let v = 1; v <= versions; v++) {
      const version = `1.${v}.0`;
      const dataSet = (
        name: string,
        classification: 'confidential' | 'internal' | 'public',
        schema: { name: string; pii?: boolean; from?: string }[],
      ) =>
        seedVersion(registry, {
          namespace: ns,
          name,
          version,
          kind: 'DataSet',
          declares: [{ name, classification, schema }],
        });
      await dataSet('users', 'confidential', [{ name: 'id' }, { name: 'email', pii: true }]);
      await dataSet('enriched', 'confidential', [
        { name: 'id', from: 'users.id' },
        { name: 'email', pii: true, from: 'users.email' },
      ]);
      await dataSet('summary', 'internal', [{ name: 'total' }]);
      await dataSet('exports', 'internal', [{ name: 'mail' }]);
      await dataSet('clicks', 'public', [{ name: 'url' }]);
      await seedVersion(registry, {
        namespace: ns,
        name: 'enrich',
        version,
        kind: 'Transform',
        inputs: ['users'],
        outputs: ['enriched'],
      });
      await seedVersion(registry, {
        namespace: ns,
        name: 'aggregate',
        version,
        kind: 'Transform',
        inputs: ['enriched'],
        outputs: ['summary'],
      });
    }
    const lake = (name: string) => ({ namespace: 's3://lake', name: `${ns}/${name}` });
    for (const [name, input, output] of [
      ['enrich', 'users', 'enriched'],
      ['aggregate', 'enriched', 'summary'],
    ] as const) {
      await deployments.commitDeployment(
        {
          namespace: ns,
          name,
          env: 'dev',
          cell: 'blue',
          kind: 'Transform',
          version: `1.${versions}.0`,
          digest: 'sha256:0',
          deployedAt: '2026-11-01T00:00:00.000Z',
          promotionId: 'bench',
          history: [],
          inputs: [{ namespace: ns, name: input, cell: 'blue', lineage: lake(input) }],
          outputs: [{ namespace: ns, name: output, cell: 'blue', lineage: lake(output) }],
          revision: 0,
        },
        0,
      );
    }
    const events = [
      {
        job: 'export',
        inputs: [lake('enriched')],
        outputs: [
          {
            namespace: 's3://tmp',
            name: `${ns}/export`,
            facets: { columnLineage: columnLineage(lake('enriched'), 'email', 'mail') },
          },
        ],
      },
      {
        job: 'publish',
        inputs: [{ namespace: 's3://tmp', name: `${ns}/export` }],
        outputs: [
          {
            ...lake('exports'),
            facets: {
              symlinks: {
                _producer: 'https://bench',
                _schemaURL: 'https://openlineage.io/spec/facets/1-0-1/SymlinksDatasetFacet.json',
                identifiers: [
                  { namespace: `datakit://blue/${ns}`, name: 'exports', type: 'DATAKIT_DATASET' },
                ],
              },
              columnLineage: columnLineage({ namespace: 's3://tmp', name: `${ns}/export` }, 'mail', 'mail'),
            },
          },
        ],
      },
    ];
    for (const [index, event] of events.entries()) {
      const parsed = parseLineageEvent(
        JSON.stringify({
          eventType: 'COMPLETE',
          eventTime: '2026-11-01T01:00:00Z',
          producer: 'https://bench',
          run: { runId: `00000000-0000-4000-8000-${String(p * 2 + index).padStart(12, '0')}` },
          job: { namespace: 'spark', name: `${ns}.${event.job}` },
          inputs: event.inputs,
          outputs: event.outputs,
        }),
      );
      if (!parsed.ok) throw new Error(parsed.problems.map((problem) => problem.message).join('; '));
      await ingest(parsed.event);
    }
  }
}

function columnLineage(input: { namespace: string; name: string }, from: string, to: string) {
  return {
    _producer: 'https://bench',
    _schemaURL: 'https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json',
    fields: { [to]: { inputFields: [{ ...input, field: from }] } },
  };
}
