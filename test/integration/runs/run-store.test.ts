import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoRunStore } from '../../../lib/adapters/dynamodb/run-store.js';
import { newRunRecord } from '../../../lib/domain/runs/model.js';
import { transitionRun } from '../../../lib/domain/runs/run-state.js';
import { startTestTable, type TestTable } from '../../support/dynamo.js';

let table: TestTable;
let store: DynamoRunStore;

beforeAll(async () => {
  table = await startTestTable();
  store = new DynamoRunStore(table.table);
});
afterAll(async () => table?.close());

const run = (runId: string, createdAt = '2026-01-01T00:00:00.000Z') =>
  newRunRecord({
    runId,
    namespace: 'sales',
    name: 'orders',
    version: '1.0.0',
    digest: 'sha256:00',
    env: 'dev',
    cell: 'local',
    trigger: { type: 'manual' },
    createdAt,
  });

describe('the DynamoDB run store', () => {
  it('creates a run once, then moves it forward with optimistic locking', async () => {
    const id = '11111111-1111-4111-8111-111111111111';
    expect(await store.createRun(run(id))).toBe(true);
    expect(await store.createRun(run(id))).toBe(false);
    const stored = await store.getRun(id);
    expect(stored).toMatchObject({ status: 'PENDING', revision: 1 });
    const started = transitionRun(stored ?? run(id), { type: 'started', at: '2026-01-01T00:00:01.000Z' }).run;
    expect(await store.updateRun(started, 1)).toBe(true);
    // A writer that read revision 1 too lost the race: nothing written.
    const stale = transitionRun(stored ?? run(id), { type: 'cancelled', at: '2026-01-01T00:00:02.000Z' }).run;
    expect(await store.updateRun(stale, 1)).toBe(false);
    expect(await store.getRun(id)).toMatchObject({ status: 'RUNNING', revision: 2 });
  });

  it('lists live runs of a cell until they end, and keeps the newest run as the last run', async () => {
    const older = '22222222-2222-4222-8222-222222222222';
    const newer = '33333333-3333-4333-8333-333333333333';
    await store.createRun(run(older, '2026-02-01T00:00:00.000Z'));
    await store.createRun(run(newer, '2026-02-02T00:00:00.000Z'));
    const live = (await store.listLiveRuns(['local'])).map((r) => r.runId);
    expect(live).toEqual(expect.arrayContaining([older, newer]));
    const current = await store.getRun(older);
    const ended = transitionRun(current ?? run(older), {
      type: 'orphaned',
      at: '2026-02-03T00:00:00.000Z',
    }).run;
    expect(await store.updateRun(ended, current?.revision ?? 0)).toBe(true);
    expect((await store.listLiveRuns(['local'])).map((r) => r.runId)).not.toContain(older);
    // The older run's end does not displace the newer run as the deployment's last run.
    expect(await store.lastRuns('sales', 'orders')).toEqual([
      expect.objectContaining({ runId: newer, status: 'PENDING' }),
    ]);
  });

  it('claims an idempotency key once and answers the first claimant', async () => {
    expect(await store.claimIdempotencyKey('runs', 'key-1', 'first', 60)).toBeUndefined();
    expect(await store.claimIdempotencyKey('runs', 'key-1', 'second', 60)).toBe('first');
  });
});
