import { Logger } from '@aws-lambda-powertools/logger';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoCellStore } from '../../../lib/adapters/dynamodb/cell-store.js';
import { DynamoDeploymentStore } from '../../../lib/adapters/dynamodb/deployment-store.js';
import { DynamoRegistry } from '../../../lib/adapters/dynamodb/registry-store.js';
import { DynamoRunStore } from '../../../lib/adapters/dynamodb/run-store.js';
import { EnvironmentSecretStore } from '../../../lib/adapters/local/env-secret-store.js';
import { LocalWorkflows } from '../../../lib/adapters/local/local-workflows.js';
import { makeRuns } from '../../../lib/domain/runs/runs.js';
import type { SlotId } from '../../../lib/domain/triggers/model.js';
import { triggeredRunStarter } from '../../../lib/domain/triggers/run-starter.js';
import { triggerRunId } from '../../../lib/domain/triggers/trigger-state.js';
import type { TriggeredRunStarter } from '../../../lib/ports/trigger-runs.js';
import { startTestTable, type TestTable } from '../../support/dynamo.js';

const at = '2026-05-01T10:00:00.000Z';
const consumer: SlotId = { cell: 'local', env: 'dev', namespace: 'sales', name: 'report' };
const trigger = {
  type: 'on-change' as const,
  upstream: [{ dataset: { namespace: 'sales', name: 'orders' }, runId: 'up-1' }],
  coalesced: 1,
  chain: ['sales/ingest', 'sales/report'],
};

let harness: TestTable;
let workflows: LocalWorkflows;
let runStore: DynamoRunStore;
let starter: TriggeredRunStarter;
/** The Prepare steps the local state machine called, by run id (each execution calls it once). */
const prepared: string[] = [];

beforeAll(async () => {
  harness = await startTestTable();
  const cells = new DynamoCellStore(harness.table);
  await cells.putCell(
    {
      name: 'local',
      labels: {},
      origin: 'embedded',
      runtime: { kind: 'local' },
      createdAt: at,
      updatedAt: at,
      revision: 0,
    },
    0,
  );
  const deployments = new DynamoDeploymentStore(harness.table);
  await deployments.commitDeployment(
    {
      namespace: 'sales',
      name: 'report',
      env: 'dev',
      cell: 'local',
      kind: 'Transform',
      version: '1.0.0',
      digest: `sha256:${'a'.repeat(64)}`,
      deployedAt: at,
      promotionId: 'promo-1',
      mode: 'batch',
      trigger: { policy: 'on-change' },
      history: [],
      revision: 0,
    },
    0,
  );
  runStore = new DynamoRunStore(harness.table);
  // The real local state machine; its Prepare step only records the call and waits (the test stops it).
  workflows = new LocalWorkflows(
    {
      step: async (payload) => {
        if (typeof payload === 'object' && payload !== null && 'runId' in payload) {
          prepared.push(String(payload.runId));
        }
        return new Promise(() => {});
      },
      runTask: () => new Promise(() => {}),
    },
    new Logger({ logLevel: 'SILENT' }),
  );
  // Starting a run touches neither tasks nor logs: those ports refuse to be used.
  const unused = async (): Promise<never> => {
    throw new Error('not used when a run starts');
  };
  const runs = makeRuns({
    runs: runStore,
    deployments,
    cells,
    packages: new DynamoRegistry(harness.table),
    workflows,
    tasks: { registerTaskDefinition: unused, stopRunTasks: unused },
    secrets: new EnvironmentSecretStore({}),
    logs: { tail: unused },
    events: { publish: async () => {} },
    emitLineage: async () => {},
    lineageEndpoint: () => 'http://127.0.0.1:1',
    clock: () => new Date(at),
  });
  starter = triggeredRunStarter(runs);
}, 60_000);

afterAll(async () => {
  for (const runId of workflows.running()) await workflows.stopRun({ kind: 'local' }, runId, 'test over');
  await workflows.drain();
  await harness.close();
});

describe('starting triggered runs through the runs use case', () => {
  it('creates one run and one execution for a deterministic id, however many starts race', async () => {
    const runId = triggerRunId(consumer, ['up-1']);
    const request = { runId, ...consumer, trigger };
    const results = await Promise.all(Array.from({ length: 5 }, () => starter.start(request)));
    expect(results.every((result) => result.started)).toBe(true);
    const run = await runStore.getRun(runId);
    expect(run).toMatchObject({ runId, status: 'PENDING', trigger, version: '1.0.0', env: 'dev' });
    const listed = await runStore.listRuns({ namespace: 'sales', name: 'report', limit: 10 });
    expect(listed.items.map((item) => item.runId)).toEqual([runId]);
    await expect.poll(() => prepared.filter((id) => id === runId).length).toBe(1);
    expect(workflows.running()).toEqual([runId]);
  });

  it('returns the status of a run that exists, whatever the request says now', async () => {
    const runId = triggerRunId(consumer, ['up-1']);
    expect(await starter.start({ runId, ...consumer, trigger: { type: 'on-change' } })).toEqual({
      started: true,
      status: 'PENDING',
    });
    expect((await runStore.getRun(runId))?.trigger).toEqual(trigger);
  });

  it('answers with a refusal, not an error, when the consumer is not deployed there', async () => {
    const runId = triggerRunId({ ...consumer, env: 'prod' }, ['up-1']);
    expect(await starter.start({ runId, ...consumer, env: 'prod', trigger })).toEqual({
      started: false,
      refusal: { code: 'DEPLOYMENT_NOT_FOUND', message: expect.stringContaining('not deployed to prod') },
    });
    expect(await runStore.getRun(runId)).toBeUndefined();
  });
});
