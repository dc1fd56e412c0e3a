import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../../../lib/adapters/dynamodb/keys.js';
import { DynamoTriggerStore } from '../../../lib/adapters/dynamodb/trigger-store.js';
import type { RunTrigger } from '../../../lib/contracts/api/runs.js';
import type { DatasetUpdatedDetail } from '../../../lib/contracts/events/lineage.js';
import type { SlotId, TriggerSlot } from '../../../lib/domain/triggers/model.js';
import { makeTriggerResolver } from '../../../lib/domain/triggers/resolver.js';
import type { TriggerStore } from '../../../lib/ports/trigger-store.js';
import { startTestTable, type TestTable } from '../../support/dynamo.js';
import { runTriggerModel, scenarioArbitrary } from '../../support/trigger-model.js';

let harness: TestTable;
/** The table's clock, which decides what has expired; tests move it. */
let now = new Date('2026-03-01T00:00:00.000Z');
const clock = () => now;
/** What the table reads as the current time (the model test hands it the model's clock). */
let tableClock: () => Date = clock;

beforeAll(async () => {
  harness = await startTestTable({ now: () => tableClock() });
});
afterAll(async () => harness.close());

let cells = 0;
/** A consumer of its own cell, so tests sharing the table never share state. */
const consumer = (name = 'report'): SlotId => ({
  cell: `c${++cells}`,
  env: 'dev',
  namespace: 'sales',
  name,
});
const up = (runId: string) => ({ dataset: { namespace: 'sales', name: 'orders' }, runId });

describe('DynamoTriggerStore', () => {
  it('creates a slot at revision 1 and writes it again only from the revision it read', async () => {
    const store = new DynamoTriggerStore(harness.table, clock);
    const id = consumer();
    expect(await store.getSlot(id)).toBeUndefined();
    const slot: TriggerSlot = { consecutiveFailures: 0, paused: false };
    expect(await store.putSlot(id, slot, 0)).toBe(true);
    expect(await store.putSlot(id, { ...slot, consecutiveFailures: 9 }, 0)).toBe(false);
    expect(await store.getSlot(id)).toEqual({ slot, revision: 1 });
    expect(await store.putSlot(id, { ...slot, consecutiveFailures: 1 }, 1)).toBe(true);
    expect(await store.putSlot(id, { ...slot, consecutiveFailures: 7 }, 1)).toBe(false);
    expect(await store.getSlot(id)).toEqual({ slot: { ...slot, consecutiveFailures: 1 }, revision: 2 });
  });

  it('keeps every field of a busy slot', async () => {
    const store = new DynamoTriggerStore(harness.table, clock);
    const id = consumer();
    const slot: TriggerSlot = {
      inFlight: { runId: 'r1', upstream: [up('u1')], overflow: 0, chain: ['up/ingest'] },
      pending: { upstream: [up('u2'), up('u3')], overflow: 4, chain: ['up/ingest', 'x/y'] },
      consecutiveFailures: 2,
      paused: true,
      pausedAt: '2026-03-01T00:00:00.000Z',
      pausedBy: 'r0',
      resumedBy: 'm1',
      lastEnded: 'r0',
    };
    expect(await store.putSlot(id, slot, 0)).toBe(true);
    expect(await store.getSlot(id)).toEqual({ slot, revision: 1 });
    const item = await harness.table.get(keys.triggerSlot(id.cell, id.env, id.namespace, id.name));
    expect(item).toMatchObject({ PK: `TRIGSLOT#${id.cell}#dev#sales#report`, SK: '#SLOT' });
  });

  it('remembers handled upstream runs per consumer until they expire, and again when rewritten', async () => {
    const store = new DynamoTriggerStore(harness.table, clock);
    const id = consumer();
    const prod = { ...id, env: 'prod' };
    expect(await store.isHandled(id, 'u1')).toBe(false);
    await store.markHandled(id, [up('u1'), up('u1'), up('u2')], 60);
    expect(await store.isHandled(id, 'u1')).toBe(true);
    expect(await store.isHandled(id, 'u2')).toBe(true);
    expect(await store.isHandled(prod, 'u1')).toBe(false);
    const item = await harness.table.get(keys.triggerHandled(id.cell, id.env, id.namespace, id.name, 'u1'));
    expect(item).toMatchObject({ SK: '#IDEMP', expiresAt: Math.floor(now.getTime() / 1000) + 60 });
    const start = now;
    try {
      now = new Date(start.getTime() + 61_000);
      // DynamoDB deletes expired items late (dynalite never): the read filters them.
      expect(await store.isHandled(id, 'u1')).toBe(false);
      // The expired item is still there, and a rewrite must still take effect.
      await store.markHandled(id, [up('u1')], 60);
      expect(await store.isHandled(id, 'u1')).toBe(true);
    } finally {
      now = start;
    }
  });

  it('marks many upstream runs at once, beyond one batch', async () => {
    const store = new DynamoTriggerStore(harness.table, clock);
    const id = consumer();
    const many = Array.from({ length: 60 }, (_, index) => up(`u${index}`));
    await store.markHandled(id, many, 60);
    const handled = await Promise.all(many.map((u) => store.isHandled(id, u.runId)));
    expect(handled.every(Boolean)).toBe(true);
  });
});

describe('the trigger resolver on DynamoDB, several resolvers at once', () => {
  /** Runs "started" by any resolver, keyed by id like the run records (written once). */
  function world() {
    const runs = new Map<
      string,
      { consumer: string; trigger: RunTrigger; status: 'RUNNING' | 'SUCCEEDED' }
    >();
    const resolvers = Array.from({ length: 6 }, () =>
      makeTriggerResolver({
        // Each resolver has its own store instance and client view of the same table, like Lambdas.
        store: new DynamoTriggerStore(harness.table, clock),
        runs: {
          start: async (request) => {
            const existing = runs.get(request.runId);
            if (existing === undefined) {
              runs.set(request.runId, {
                consumer: `${request.env}/${request.name}`,
                trigger: request.trigger,
                status: 'RUNNING',
              });
            }
            return { started: true, status: runs.get(request.runId)?.status ?? 'RUNNING' };
          },
        },
        subscriptions: {
          consumersOf: async () => [
            { namespace: 'sales', name: 'report', env: 'dev' },
            { namespace: 'sales', name: 'report', env: 'prod' },
            { namespace: 'sales', name: 'forecast', env: 'dev' },
          ],
        },
        audit: { append: async () => {} },
        events: { publish: async () => {} },
        clock,
      }),
    );
    return { runs, resolvers };
  }

  const updated = (cell: string, runId: string, dataset: string): DatasetUpdatedDetail => ({
    dataset: { namespace: 's3://lake', name: dataset },
    version: `${runId}/${dataset}`,
    runId,
    job: { namespace: 'up', name: 'ingest' },
    eventTime: '2026-03-01T00:00:00.000Z',
    producer: '',
    cell,
    datakit: { namespace: 'sales', name: dataset },
    producerRunId: runId,
  });

  it('starts one run per consumer for a burst, and one follow-up listing every other upstream run', async () => {
    const { runs, resolvers } = world();
    const cell = `burst${++cells}`;
    const upstream = ['u1', 'u2', 'u3', 'u4', 'u5'];
    // Every upstream run writes two outputs, each delivered three times, to any resolver, all at once.
    const deliveries = upstream.flatMap((runId) =>
      ['orders', 'customers'].flatMap((dataset) => [0, 1, 2].map(() => updated(cell, runId, dataset))),
    );
    await Promise.all(
      deliveries.map((detail, index) => resolvers[index % resolvers.length]?.onDataSetUpdated(detail)),
    );
    const first = [...runs.entries()];
    expect(first.map(([, run]) => run.consumer).sort()).toEqual([
      'dev/forecast',
      'dev/report',
      'prod/report',
    ]);
    // The runs end (each end delivered twice, to two resolvers at once): one follow-up each.
    const ends = first.flatMap(([runId, run]) => {
      run.status = 'SUCCEEDED';
      const [env = '', name = ''] = run.consumer.split('/');
      const ended = { runId, namespace: 'sales', name, env, cell, status: 'SUCCEEDED' as const };
      return [0, 1].map((copy) => resolvers[copy]?.onRunEnded({ ...ended, trigger: { type: 'on-change' } }));
    });
    await Promise.all(ends);
    const followUps = [...runs.entries()].filter(([runId]) => !first.some(([id]) => id === runId));
    expect(followUps).toHaveLength(3);
    for (const name of ['dev/forecast', 'dev/report', 'prod/report']) {
      const listed = [...runs.values()]
        .filter((run) => run.consumer === name)
        .flatMap((run) => run.trigger.upstream?.map((u) => u.runId) ?? []);
      expect(listed.sort()).toEqual(upstream);
    }
    for (const [, run] of followUps) expect(run.trigger.coalesced).toBe(4);
  });

  it('takes different upstream runs for different consumers at once without losing any', async () => {
    const { runs, resolvers } = world();
    const cell = `wide${++cells}`;
    const upstream = Array.from({ length: 12 }, (_, index) => `w${index}`);
    await Promise.all(
      upstream.map((runId, index) =>
        resolvers[index % resolvers.length]?.onDataSetUpdated(updated(cell, runId, 'orders')),
      ),
    );
    // Finish runs until every consumer is idle; each end is delivered once.
    for (let round = 0; round < 10; round++) {
      const live = [...runs.entries()].filter(([, run]) => run.status === 'RUNNING');
      if (live.length === 0) break;
      await Promise.all(
        live.map(([runId, run]) => {
          run.status = 'SUCCEEDED';
          const [env = '', name = ''] = run.consumer.split('/');
          return resolvers[0]?.onRunEnded({
            runId,
            namespace: 'sales',
            name,
            env,
            cell,
            status: 'SUCCEEDED',
            trigger: { type: 'on-change' },
          });
        }),
      );
    }
    for (const name of ['dev/forecast', 'dev/report', 'prod/report']) {
      const own = [...runs.values()].filter((run) => run.consumer === name);
      expect(own.length).toBeLessThanOrEqual(2);
      const listed = own.flatMap((run) => run.trigger.upstream?.map((u) => u.runId) ?? []);
      expect(listed.sort()).toEqual([...upstream].sort());
    }
    const state = await resolvers[0]?.state({ cell, env: 'dev', namespace: 'sales', name: 'report' });
    expect(state?.inFlight).toBeUndefined();
    expect(state?.pending).toBeUndefined();
  });
});

describe('the trigger model on DynamoDB', () => {
  it('holds with the DynamoDB adapter on dynalite as it does in memory', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), scenarioArbitrary, async (s, scenario) => {
        const namespace = `model${++run}-${++cells}`;
        try {
          const outcome = await runTriggerModel(s, scenario, (modelClock) => {
            // The table decides what has expired by its own clock: the model's.
            tableClock = modelClock;
            return isolated(new DynamoTriggerStore(harness.table, modelClock), namespace);
          });
          expect(outcome.violations).toEqual([]);
        } finally {
          tableClock = clock;
        }
      }),
      { numRuns: 30 },
    );
  }, 120_000);
});

/** The store under another cell name, so each case starts from empty slots and keys. */
function isolated(store: TriggerStore, cell: string): TriggerStore {
  const map = (id: SlotId): SlotId => ({ ...id, cell: `${cell}-${id.cell}` });
  return {
    getSlot: (id) => store.getSlot(map(id)),
    putSlot: (id, slot, revision) => store.putSlot(map(id), slot, revision),
    isHandled: (id, runId) => store.isHandled(map(id), runId),
    markHandled: (id, upstream, ttl) => store.markHandled(map(id), upstream, ttl),
  };
}
