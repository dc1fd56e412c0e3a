import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoCellStore } from '../lib/adapters/dynamodb/cell-store.js';
import { DynamoDeploymentStore } from '../lib/adapters/dynamodb/deployment-store.js';
import { DynamoRunStore } from '../lib/adapters/dynamodb/run-store.js';
import type { TableStats } from '../lib/adapters/dynamodb/single-table.js';
import { DynamoSubscriptionStore } from '../lib/adapters/dynamodb/subscription-store.js';
import { LocalEventBus } from '../lib/adapters/local/event-bus.js';
import type { DatasetUpdatedDetail } from '../lib/contracts/events/lineage.js';
import { Environments } from '../lib/domain/promotions/environments.js';
import { loadConfig } from '../lib/runtime/config.js';
import { createDependencies } from '../lib/runtime/dependencies.js';
import { createRunPlane } from '../lib/runtime/wiring/runs.js';
import { startTestTable } from '../test/support/dynamo.js';
import { type Metric, percentile, registerBenchmark } from './benchmark.js';

/**
 * The trigger resolver in process against the embedded DynamoDB (what the trigger function does per
 * event): the time from `DataSet Updated` to the consumer's run recorded PENDING and its execution started
 * (the state machine is a recorder here: its own cost is the runs benchmark's), a fan-out to 1,000 consumers,
 * and a storm of 100 updates while the consumer runs. Deployments and subscriptions are seeded directly.
 */
async function run(): Promise<Metric[]> {
  const table = await startTestTable();
  const logger = new Logger({ logLevel: 'SILENT' });
  const bus = new LocalEventBus(logger);
  const deps = createDependencies(
    loadConfig({ TABLE_NAME: table.table.tableName, DYNAMODB_ENDPOINT: table.endpoint, LOG_LEVEL: 'SILENT' }),
    {
      logger,
      events: bus,
    },
  );
  const started: string[] = [];
  const unused = async (): Promise<never> => {
    throw new Error('not used by the benchmark');
  };
  const plane = createRunPlane(deps, {
    workflows: { startRun: async (_runtime, runId) => void started.push(runId), stopRun: async () => {} },
    tasks: { registerTaskDefinition: unused, stopRunTasks: async () => {} },
    secrets: { ensureStoreSecret: async () => undefined, resolve: unused, putDerived: unused },
    logs: { tail: async () => [] },
    schedules: { put: async () => {}, delete: async () => {} },
    services: { ensureService: unused, removeService: async () => {}, serviceStatus: async () => undefined },
    pipeline: { start: unused, syncDecisions: unused },
    cellMode: 'embedded',
    environments: new Environments(),
    lineageUrl: () => 'http://127.0.0.1:1',
  });
  const cells = new DynamoCellStore(deps.table);
  const deployments = new DynamoDeploymentStore(deps.table);
  const subscriptions = new DynamoSubscriptionStore(deps.table);
  const runs = new DynamoRunStore(deps.table);
  const now = new Date().toISOString();
  await cells.putCell(
    {
      name: 'local',
      labels: {},
      origin: 'embedded',
      runtime: { kind: 'local' },
      createdAt: now,
      updatedAt: now,
      revision: 0,
    },
    0,
  );

  /** A deployed on-change consumer of `dataset`. */
  const consumer = async (name: string, dataset: string) => {
    const deployment = {
      namespace: 'bench',
      name,
      env: 'dev',
      cell: 'local',
      kind: 'Transform' as const,
      version: '1.0.0',
      digest: 'sha256:00',
      deployedAt: now,
      promotionId: 'seed',
      mode: 'batch' as const,
      trigger: { policy: 'on-change' as const },
      inputs: [{ namespace: 'bench', name: dataset, cell: 'local' }],
      outputs: [{ namespace: 'bench', name: `${name}-out`, cell: 'local' }],
      history: [],
      revision: 0,
    };
    await deployments.commitDeployment(deployment, 0);
    await subscriptions.putSubscriptions([
      {
        cell: 'local',
        dataset: { namespace: 'bench', name: dataset },
        consumer: { namespace: 'bench', name, env: 'dev', cell: 'local' },
        version: '1.0.0',
      },
    ]);
  };
  const update = (dataset: string, runId = randomUUID()): DatasetUpdatedDetail => ({
    dataset: { namespace: 's3://bench', name: dataset },
    version: randomUUID(),
    runId,
    job: { namespace: 'bench', name: 'producer' },
    eventTime: new Date().toISOString(),
    producer: 'bench',
    cell: 'local',
    datakit: { namespace: 'bench', name: dataset },
    producerRunId: runId,
    chain: [],
  });
  const snapshot = (): TableStats => ({ ...deps.table.stats });

  // 1. Update → consumer run PENDING and started, one consumer, its previous run ended in between.
  await consumer('single', 'single-in');
  const latencies: number[] = [];
  const before = snapshot();
  const samples = 200;
  for (let index = 0; index < samples; index++) {
    const t0 = performance.now();
    const [result] = await plane.triggers.onDataSetUpdated(update('single-in'));
    latencies.push(performance.now() - t0);
    const runId = result?.inFlightRunId;
    if (runId === undefined) throw new Error('the update started no run');
    await plane.triggers.onRunEnded({
      runId,
      namespace: 'bench',
      name: 'single',
      env: 'dev',
      cell: 'local',
      status: 'SUCCEEDED',
      trigger: { type: 'on-change' },
    });
  }
  const after = snapshot();
  const perTrigger = (after.requests - before.requests) / samples;

  // 2. Fan-out: one update of a DataSet read by 1,000 on-change consumers.
  const fanOut = 1000;
  for (let index = 0; index < fanOut; index += 50) {
    await Promise.all(Array.from({ length: 50 }, (_, offset) => consumer(`fan-${index + offset}`, 'hub')));
  }
  const startedBefore = started.length;
  const fanOutBefore = snapshot();
  const t0 = performance.now();
  await plane.triggers.onDataSetUpdated(update('hub'));
  const fanOutMs = performance.now() - t0;
  const fanOutRequests = snapshot().requests - fanOutBefore.requests;
  const fanOutStarted = started.length - startedBefore;

  // 3. Storm: 100 updates (10 at a time) while the consumer runs → exactly one follow-up covering them.
  await consumer('stormy', 'storm-in');
  const [first] = await plane.triggers.onDataSetUpdated(update('storm-in'));
  const inFlight = first?.inFlightRunId;
  if (inFlight === undefined) throw new Error('the storm consumer did not start');
  for (let index = 0; index < 100; index += 10) {
    await Promise.all(Array.from({ length: 10 }, () => plane.triggers.onDataSetUpdated(update('storm-in'))));
  }
  const startedBeforeEnd = started.length;
  await plane.triggers.onRunEnded({
    runId: inFlight,
    namespace: 'bench',
    name: 'stormy',
    env: 'dev',
    cell: 'local',
    status: 'SUCCEEDED',
    trigger: { type: 'on-change' },
  });
  const followUps = started.length - startedBeforeEnd;
  const stormRuns = (await runs.listRuns({ namespace: 'bench', name: 'stormy', limit: 100 })).items;
  const followUp = stormRuns.find((runRecord) => runRecord.runId !== inFlight);

  await table.close();
  return [
    { name: 'triggers.update-to-pending.p50', value: percentile(latencies, 50), unit: 'ms' },
    { name: 'triggers.update-to-pending.p99', value: percentile(latencies, 99), unit: 'ms' },
    { name: 'triggers.dynamodb-requests-per-trigger', value: perTrigger, unit: 'requests' },
    { name: 'triggers.fan-out-1000.started', value: fanOutStarted, unit: 'runs' },
    { name: 'triggers.fan-out-1000.wall', value: fanOutMs, unit: 'ms' },
    { name: 'triggers.fan-out-1000.dynamodb-requests', value: fanOutRequests, unit: 'requests' },
    { name: 'triggers.storm-100.follow-ups', value: followUps, unit: 'runs' },
    { name: 'triggers.storm-100.coalesced', value: followUp?.trigger.coalesced ?? 0, unit: 'updates' },
  ];
}

registerBenchmark({
  name: 'triggers',
  description:
    'DataSet Updated → consumer run PENDING, fan-out to 1,000 consumers, a storm of 100 updates (in process)',
  run,
});
