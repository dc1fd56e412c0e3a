import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoRegistry } from '../../lib/adapters/dynamodb/registry-store.js';
import { EnvironmentSecretStore } from '../../lib/adapters/local/env-secret-store.js';
import { LocalEventBus } from '../../lib/adapters/local/event-bus.js';
import { DistributionClient } from '../../lib/adapters/oci/distribution-client.js';
import { buildPackageArtifact, pushArtifact } from '../../lib/adapters/oci/package-builder.js';
import type { GroupPatterns } from '../../lib/contracts/identity.js';
import type { GovernanceInputSource } from '../../lib/domain/governance/governance-inputs.js';
import { type Environment, Environments } from '../../lib/domain/promotions/environments.js';
import type { PromotionPipeline } from '../../lib/ports/promotion-pipeline.js';
import { loadConfig } from '../../lib/runtime/config.js';
import { createDependencies, type Dependencies } from '../../lib/runtime/dependencies.js';
import { createRunPlane, type RunPlane } from '../../lib/runtime/wiring/runs.js';
import { startTestTable, type TestTable } from './dynamo.js';
import { fileDataSetManifest } from './manifests.js';
import { startRegistry, type TestRegistry } from './registry.js';
import { seedVersion } from './registry-seed.js';

export const namespace = 'sales';
export const packageName = 'report';

/** A Transform with its two DataSets, all in Store `files`: every version deploys to a cell that has it. */
const transform = (version: string) => `apiVersion: datakit.infoblox.dev/v1alpha1
kind: Transform
metadata: { name: ${packageName}, namespace: ${namespace}, version: ${version} }
spec:
  runtime: generic-python
  image: team/report:${version}
  command: ["node", "main.js"]
  inputs: [{ dataset: orders }]
  outputs: [{ dataset: daily }]
  trigger: { policy: manual }
`;
export interface PromotionPlane {
  readonly table: TestTable;
  readonly deps: Dependencies;
  readonly plane: RunPlane;
  readonly bus: LocalEventBus;
  /** Moves the plane's clock forward (approval timeouts); it also moves a millisecond per reading. */
  advance(ms: number): void;
  close(): Promise<void>;
}

export interface PromotionPlaneOptions {
  readonly groups: GroupPatterns;
  readonly pipeline: PromotionPipeline;
  /** Versions of sales/report registered before the tests. @default 1.0.0, 1.1.0, 1.2.0 */
  readonly versions?: readonly string[];
  readonly cells?: readonly string[];
  readonly approvalTimeoutMinutes?: number;
  /** @default dev → int → prod (prod governed) */
  readonly environments?: readonly Environment[];
  /** What the PII gate reads instead of the plane's own registry and lineage (a failing store). */
  readonly governanceInputs?: GovernanceInputSource;
}

let registry: TestRegistry | undefined;

/**
 * The promotion use cases over a real table (dynalite) with versions of `sales/report` registered from a
 * real registry, cells with Store `files`, the in-process bus, a settable clock and the given pipeline.
 */
export async function startPromotionPlane(options: PromotionPlaneOptions): Promise<PromotionPlane> {
  registry ??= await startRegistry();
  const table = await startTestTable();
  const logger = new Logger({ logLevel: 'SILENT' });
  const bus = new LocalEventBus(logger);
  // Near the real time: the table filters items by expiry with the real clock.
  let now = new Date();
  const config = loadConfig({
    TABLE_NAME: table.table.tableName,
    DYNAMODB_ENDPOINT: table.endpoint,
    LOG_LEVEL: 'SILENT',
    // Roles are not what these tests are about (test/unit/api/authorization-matrix.test.ts is).
    ACCESS_CONTROL: 'off',
    IDENTITY_SOURCE: 'embedded',
    GROUPS: JSON.stringify(options.groups),
    APPROVAL_TIMEOUT_MINUTES: String(options.approvalTimeoutMinutes ?? 60),
  });
  const base = createDependencies(config, { logger, events: bus });
  // A clock that moves a millisecond per reading, so records written in one test still have an order.
  const deps: Dependencies = {
    ...base,
    clock: () => {
      now = new Date(now.getTime() + 1);
      return now;
    },
    ...(options.governanceInputs === undefined ? {} : { governanceInputs: options.governanceInputs }),
  };
  const unused = async (): Promise<never> => {
    throw new Error('promotions start no runs');
  };
  const plane = createRunPlane(deps, {
    workflows: { startRun: unused, stopRun: unused },
    tasks: { registerTaskDefinition: unused, stopRunTasks: unused },
    secrets: new EnvironmentSecretStore({}),
    logs: { tail: unused },
    // Deploys here are of batch Transforms without schedules: their services and schedules are not asked for.
    schedules: { put: unused, delete: async () => {} },
    services: { ensureService: unused, removeService: async () => {}, serviceStatus: async () => undefined },
    cellMode: 'embedded',
    environments: new Environments(options.environments),
    pipeline: options.pipeline,
    lineageUrl: () => 'http://127.0.0.1:1',
  });
  for (const cell of options.cells ?? ['blue']) {
    await plane.cells.putCell(cell, { labels: {} });
    await plane.cells.putStore(
      cell,
      'files',
      JSON.stringify({
        apiVersion: 'datakit.infoblox.dev/v1alpha1',
        kind: 'Store',
        metadata: { name: 'files' },
        spec: { connector: 'file', connection: { path: '/tmp/promotions' } },
      }),
    );
  }
  const client = new DistributionClient({ timeoutMs: 10_000 });
  for (const version of options.versions ?? ['1.0.0', '1.1.0', '1.2.0']) {
    const artifact = await buildPackageArtifact({
      'dk.yaml': transform(version),
      'dataset/orders.yaml': fileDataSetManifest(namespace, 'orders'),
      'dataset/daily.yaml': fileDataSetManifest(namespace, 'daily'),
      'main.js': 'console.log("report")',
    });
    const host = registry.host;
    await pushArtifact(
      client,
      { registry: host, repository: `${namespace}/${packageName}` },
      version,
      artifact,
    );
    const result = await deps.registerPackage({
      reference: `${host}/${namespace}/${packageName}:${version}`,
      source: 'api',
    });
    if (result.status !== 'registered' && result.status !== 'duplicate') {
      throw new Error(`version ${version} was not registered: ${JSON.stringify(result.record)}`);
    }
  }
  return {
    table,
    deps,
    plane,
    bus,
    advance: (ms) => {
      now = new Date(now.getTime() + ms);
    },
    close: async () => {
      await bus.drain();
      await table.close();
    },
  };
}

/** Stops the registry the planes of this test file share. */
export async function stopPromotionRegistry(): Promise<void> {
  await registry?.stop();
  registry = undefined;
}

/**
 * Packages of namespace `sales` around PII, seeded into the plane's registry, their DataSets in Store
 * `files`: `customers` (confidential, `email` PII), `mailing` (internal), `vault` (confidential); `exporter`
 * 1.0.0 and 1.1.0 copy customers into mailing (a PII flow below confidential), `archiver` 1.0.0 into vault.
 */
export async function seedPiiPackages(plane: PromotionPlane): Promise<void> {
  const ns = 'sales';
  const store = new DynamoRegistry(plane.deps.table);
  const dataSet = (
    name: string,
    version: string,
    classification: 'internal' | 'confidential',
    schema: { name: string; pii?: boolean }[],
  ) =>
    seedVersion(store, {
      namespace: ns,
      name,
      version,
      kind: 'DataSet',
      declares: [{ name, classification, schema, store: 'files' }],
    });
  await dataSet('customers', '1.0.0', 'confidential', [{ name: 'id' }, { name: 'email', pii: true }]);
  await dataSet('mailing', '1.0.0', 'internal', [{ name: 'id' }, { name: 'email' }]);
  await dataSet('vault', '1.0.0', 'confidential', [{ name: 'email', pii: true }]);
  for (const version of ['1.0.0', '1.1.0']) {
    await seedVersion(store, {
      namespace: ns,
      name: 'exporter',
      version,
      kind: 'Transform',
      inputs: ['customers'],
      outputs: ['mailing'],
    });
  }
  await seedVersion(store, {
    namespace: ns,
    name: 'archiver',
    version: '1.0.0',
    kind: 'Transform',
    inputs: ['customers'],
    outputs: ['vault'],
  });
}
