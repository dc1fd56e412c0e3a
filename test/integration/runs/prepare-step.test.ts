import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoCellStore } from '../../../lib/adapters/dynamodb/cell-store.js';
import { DynamoDeploymentStore } from '../../../lib/adapters/dynamodb/deployment-store.js';
import { DynamoRunStore } from '../../../lib/adapters/dynamodb/run-store.js';
import { EnvironmentSecretStore } from '../../../lib/adapters/local/env-secret-store.js';
import { LocalTasks } from '../../../lib/adapters/local/local-tasks.js';
import { LocalWorkflows } from '../../../lib/adapters/local/local-workflows.js';
import { DistributionClient } from '../../../lib/adapters/oci/distribution-client.js';
import { buildPackageArtifact, pushArtifact } from '../../../lib/adapters/oci/package-builder.js';
import { parseLineageEvent } from '../../../lib/contracts/openlineage/parse.js';
import { makeCells } from '../../../lib/domain/cells/cells.js';
import { makeIngestLineageEvent } from '../../../lib/domain/lineage/ingest.js';
import { newRunRecord, type RunRecord } from '../../../lib/domain/runs/model.js';
import { makeRuns, type Runs } from '../../../lib/domain/runs/runs.js';
import type { ListRunsQuery, RunRepository } from '../../../lib/ports/run-store.js';
import { fileDataSetManifest } from '../../support/manifests.js';
import { startRegistry, type TestRegistry } from '../../support/registry.js';
import { type RegistryPlane, startRegistryPlane } from '../../support/registry-plane.js';

/**
 * The Prepare step against the real stores (dynalite), a registered package and the local runtime's
 * adapters: what it reads, and that a run cancelled while it prepares never gets its task.
 */

const at = '2026-05-01T10:00:00.000Z';
const namespace = 'sales';
const name = 'report';

/**
 * The real run store, counting reads of the run record; `beforeRead` / `beforeUpdate` run once before the
 * n-th read or the first write (a concurrent change arriving at that moment).
 */
class ObservedRunStore implements RunRepository {
  reads = 0;
  beforeRead: { readonly at: number; readonly action: () => Promise<void> } | undefined;
  beforeUpdate: (() => Promise<void>) | undefined;

  constructor(private readonly inner: DynamoRunStore) {}

  createRun(run: RunRecord) {
    return this.inner.createRun(run);
  }
  async getRun(runId: string) {
    this.reads += 1;
    const hook = this.beforeRead;
    if (hook !== undefined && hook.at === this.reads) {
      this.beforeRead = undefined;
      await hook.action();
    }
    return this.inner.getRun(runId);
  }
  async updateRun(run: RunRecord, expectedRevision: number) {
    const hook = this.beforeUpdate;
    this.beforeUpdate = undefined;
    await hook?.();
    return this.inner.updateRun(run, expectedRevision);
  }
  listRuns(query: ListRunsQuery) {
    return this.inner.listRuns(query);
  }
  listLiveRuns(cells: readonly string[]) {
    return this.inner.listLiveRuns(cells);
  }
  lastRuns(ns: string, n: string) {
    return this.inner.lastRuns(ns, n);
  }
  claimIdempotencyKey(scope: string, key: string, value: string, ttlSeconds: number) {
    return this.inner.claimIdempotencyKey(scope, key, value, ttlSeconds);
  }
}

let plane: RegistryPlane;
let registry: TestRegistry;
let dataDir: string;
let workflows: LocalWorkflows;
let tasks: LocalTasks;
let store: ObservedRunStore;
let runs: Runs;
let digest: string;
let sequence = 0;

beforeAll(async () => {
  plane = await startRegistryPlane();
  registry = await startRegistry();
  dataDir = await mkdtemp(join(tmpdir(), 'dk-prepare-'));
  const artifact = await buildPackageArtifact({
    'dk.yaml': `apiVersion: datakit.infoblox.dev/v1alpha1
kind: Transform
metadata: { name: ${name}, namespace: ${namespace}, version: 1.0.0 }
spec:
  runtime: generic-python
  image: sales/report:1.0.0
  command: ["node", "main.js"]
  inputs: [{ dataset: orders }]
  outputs: [{ dataset: reports }]
  trigger: { policy: manual }
  timeout: 1m
`,
    'dataset/orders.yaml': fileDataSetManifest(namespace, 'orders'),
    'dataset/reports.yaml': fileDataSetManifest(namespace, 'reports'),
    'main.js': 'console.log("report")\n',
  });
  await pushArtifact(
    new DistributionClient({ timeoutMs: 10_000 }),
    { registry: registry.host, repository: `${namespace}/${name}` },
    '1.0.0',
    artifact,
  );
  expect((await plane.register(`${registry.host}/${namespace}/${name}:1.0.0`)).status).toBe(201);
  const version = await plane.deps.packages.getVersion(namespace, name, '1.0.0');
  digest = version?.digest ?? '';

  const table = plane.table.table;
  const secrets = new EnvironmentSecretStore({});
  const cellStore = new DynamoCellStore(table);
  const cells = makeCells({ cells: cellStore, secrets, clock: () => new Date(at), mode: 'embedded' });
  await cells.ensureLocalCell();
  await cells.putStore(
    'local',
    'files',
    JSON.stringify({
      apiVersion: 'datakit.infoblox.dev/v1alpha1',
      kind: 'Store',
      metadata: { name: 'files' },
      spec: { connector: 'file', connection: { path: join(dataDir, 'files') } },
    }),
  );
  const deployments = new DynamoDeploymentStore(table);
  await deployments.commitDeployment(
    {
      namespace,
      name,
      env: 'dev',
      cell: 'local',
      kind: 'Transform',
      version: '1.0.0',
      digest,
      deployedAt: at,
      promotionId: 'promo-1',
      mode: 'batch',
      trigger: { policy: 'manual' },
      history: [],
      revision: 0,
    },
    0,
  );

  store = new ObservedRunStore(new DynamoRunStore(table));
  // The real local state machine, idle: these tests call the steps themselves; a cancel stops it.
  workflows = new LocalWorkflows(
    { step: () => new Promise(() => {}), runTask: () => new Promise(() => {}) },
    new Logger({ logLevel: 'SILENT' }),
  );
  tasks = new LocalTasks({
    dataDir: join(dataDir, 'runtime'),
    resolveSecret: (handle) => secrets.resolveHandle(handle),
    fetchContentLayer: async () => {
      throw new Error('Prepare starts nothing, so it fetches nothing');
    },
  });
  const ingest = makeIngestLineageEvent({
    store: plane.deps.lineage,
    events: plane.bus,
    clock: () => new Date(at),
  });
  runs = makeRuns({
    runs: store,
    deployments,
    cells: cellStore,
    packages: plane.deps.packages,
    workflows,
    tasks,
    secrets,
    logs: { tail: async () => [] },
    events: plane.bus,
    emitLineage: async (event) => {
      const parsed = parseLineageEvent(JSON.stringify(event));
      if (!parsed.ok) throw new Error(parsed.problems.map((problem) => problem.message).join('; '));
      await ingest(parsed.event);
    },
    lineageEndpoint: () => 'http://127.0.0.1:1',
    clock: () => new Date(at),
  });
}, 60_000);

afterAll(async () => {
  await tasks?.close();
  await workflows?.drain();
  await registry?.stop();
  await plane?.close();
  if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
});

/** A PENDING run of the deployed version, as `POST /v1/runs` records it (its execution not started). */
async function pendingRun(): Promise<string> {
  sequence += 1;
  const runId = `00000000-0000-4000-8000-${String(sequence).padStart(12, '0')}`;
  const created = await store.createRun(
    newRunRecord({
      runId,
      namespace,
      name,
      version: '1.0.0',
      digest,
      env: 'dev',
      cell: 'local',
      trigger: { type: 'manual' },
      createdAt: at,
    }),
  );
  expect(created).toBe(true);
  return runId;
}

beforeEach(() => {
  store.reads = 0;
  store.beforeRead = undefined;
  store.beforeUpdate = undefined;
});

describe('the Prepare step', () => {
  it('moves a PENDING run to RUNNING reading its record once, and hands RunTask a registered task', async () => {
    const runId = await pendingRun();
    store.reads = 0;

    const task = await runs.prepare(runId);

    expect(store.reads).toBe(1);
    expect(task).toMatchObject({
      cluster: 'local',
      taskDefinition: expect.stringMatching(/^local:task-definition\/datakit-local-sales-report:/),
      timeoutSeconds: 60,
    });
    expect(await runs.get(runId)).toMatchObject({
      status: 'RUNNING',
      startedAt: at,
      family: 'datakit-local-sales-report',
      revision: 2,
    });
  });

  it('answers a repeated Prepare of a RUNNING run (a retried step) with the same task, writing nothing', async () => {
    const runId = await pendingRun();
    const first = await runs.prepare(runId);
    const again = await runs.prepare(runId);
    expect(again).toEqual(first);
    expect(await runs.get(runId)).toMatchObject({ status: 'RUNNING', revision: 2 });
  });

  it('refuses to start the task of a run cancelled while it was being prepared', async () => {
    const runId = await pendingRun();
    // The cancel lands after Prepare read the run and before it writes RUNNING.
    store.beforeUpdate = async () => {
      await runs.cancel(runId, 'someone');
    };

    await expect(runs.prepare(runId)).rejects.toMatchObject({ code: 'RUN_ALREADY_ENDED' });
    expect(await runs.get(runId)).toMatchObject({
      status: 'CANCELLED',
      error: { code: 'RUN_CANCELLED', message: 'The run was cancelled by someone.' },
    });
  });

  it('refuses a retried Prepare of a run cancelled since it was first prepared', async () => {
    const runId = await pendingRun();
    await runs.prepare(runId);
    store.reads = 0;
    // The retried step reads RUNNING; the cancel lands before its second look at the run.
    store.beforeRead = {
      at: 2,
      action: async () => {
        await runs.cancel(runId);
      },
    };

    await expect(runs.prepare(runId)).rejects.toMatchObject({ code: 'RUN_ALREADY_ENDED' });
    expect(await runs.get(runId)).toMatchObject({ status: 'CANCELLED' });
  });
});
