import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoLineageStore } from '../../../lib/adapters/dynamodb/lineage-store.js';
import { makeIngestLineageEvent } from '../../../lib/domain/lineage/ingest.js';
import { datasetNodeId, jobNodeId } from '../../../lib/domain/lineage/node-id.js';
import type { LineageStore } from '../../../lib/ports/lineage-store.js';
import { type LineageHarness, normalized, runEvent, startLineageHarness } from '../../support/lineage.js';

// Interleavings a load test only hits by luck, forced here: the store is the real one over dynalite, with
// one of its calls held until the concurrent ingestion has finished.

let h: LineageHarness;
beforeAll(async () => {
  h = await startLineageHarness();
});
afterAll(async () => {
  await h.close();
});

type HeldMethod = 'removeDatasetEdges' | 'writeJob';

/** The real store, except that the first call of `method` waits until `release()`. */
function storeHoldingFirst(store: LineageStore, method: HeldMethod) {
  let reached: () => void = () => {};
  let release: () => void = () => {};
  const callReached = new Promise<void>((resolve) => {
    reached = resolve;
  });
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let held = false;
  const gated = new Proxy(store, {
    get(target, property, receiver) {
      if (property === method) {
        return async (...args: unknown[]) => {
          if (!held) {
            held = true;
            reached();
            await released;
          }
          return Reflect.apply(target[method], target, args);
        };
      }
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { store: gated, callReached, release };
}

const clock = () => new Date('2024-06-01T00:00:00Z');

/**
 * A job whose first run read x and y, and the two events of its second run: the COMPLETE names only y (so
 * its fold drops x → job), the RUNNING, dated earlier, names x (so folded after it, x → job is back).
 */
async function jobLosingAndRegainingX(ns: string) {
  const job = { namespace: ns, name: 'daily' };
  const x = { namespace: ns, name: 'x' };
  const y = { namespace: ns, name: 'y' };
  const ingest = makeIngestLineageEvent({ store: h.deps.lineage, events: h.bus, clock });
  await ingest(
    normalized(
      runEvent({
        runId: '00000000-0000-4000-8000-00000000a001',
        eventTime: '2024-06-01T10:00:00Z',
        job,
        inputs: [x, y],
      }),
    ),
  );
  const secondRun = '00000000-0000-4000-8000-00000000a002';
  return {
    ingest,
    x,
    y,
    complete: normalized(runEvent({ runId: secondRun, eventTime: '2024-06-01T11:05:00Z', job, inputs: [y] })),
    running: normalized(
      runEvent({
        runId: secondRun,
        eventType: 'RUNNING',
        eventTime: '2024-06-01T11:01:00Z',
        job,
        inputs: [x],
      }),
    ),
  };
}

async function readersOfX(ns: string) {
  const stored = await h.deps.lineage.getJob(jobNodeId(ns, 'daily'));
  const dataset = await h.deps.lineage.getDataset(datasetNodeId(ns, 'x'));
  return { inputs: stored?.job.io.current.inputs, readers: [...(dataset?.readers ?? [])] };
}

describe('concurrent ingestion of one job', () => {
  it('keeps a reader edge that a late event of the same run restores while its removal is in flight', async () => {
    const ns = 'race-removal-in-flight';
    const { ingest, x, y, complete, running } = await jobLosingAndRegainingX(ns);
    const gate = storeHoldingFirst(h.deps.lineage, 'removeDatasetEdges');
    const ingestHeld = makeIngestLineageEvent({ store: gate.store, events: h.bus, clock });

    const first = ingestHeld(complete);
    await gate.callReached;
    await ingest(running);
    gate.release();
    await first;

    expect(await readersOfX(ns)).toEqual({ inputs: [x, y], readers: [jobNodeId(ns, 'daily')] });
  });

  it('keeps a reader edge restored by an event whose snapshot predates the removal', async () => {
    const ns = 'race-stale-snapshot';
    const { ingest, x, y, complete, running } = await jobLosingAndRegainingX(ns);
    const gate = storeHoldingFirst(h.deps.lineage, 'writeJob');
    const ingestHeld = makeIngestLineageEvent({ store: gate.store, events: h.bus, clock });

    const late = ingestHeld(running);
    await gate.callReached;
    await ingest(complete);
    gate.release();
    await late;

    expect(await readersOfX(ns)).toEqual({ inputs: [x, y], readers: [jobNodeId(ns, 'daily')] });
  });
});

describe('a dataset node at the item size limit', () => {
  it('answers a non-retryable 500 (not 503) to an event adding one more edge, and keeps the edges it has', async () => {
    const ns = 'hub';
    const hub = { namespace: ns, name: 'events' };
    const readers = Array.from({ length: 3405 }, (_, n) =>
      jobNodeId(ns, `reader-${String(n).padStart(4, '0')}-${'x'.repeat(100)}`),
    );
    const store = h.deps.lineage;
    if (!(store instanceof DynamoLineageStore)) throw new Error('the harness store bulk-loads nodes');
    await store.importNodes({
      jobs: [],
      datasets: [
        {
          dataset: {
            namespace: ns,
            name: 'events',
            type: 'DB_TABLE',
            physicalName: 'events',
            sourceName: ns,
            createdAt: '2024-06-01T00:00:00.000Z',
            updatedAt: '2024-06-01T00:00:00.000Z',
            fields: [],
            tags: [],
            facets: {},
          },
          writers: [],
          readers,
        },
      ],
    });

    const oneMore = `one-more-${'y'.repeat(1000)}`;

    const response = await h.post(
      runEvent({
        runId: '00000000-0000-4000-8000-00000000b001',
        eventTime: '2024-06-02T00:00:00Z',
        job: { namespace: ns, name: oneMore },
        inputs: [hub],
      }),
    );

    expect(response.statusCode).toBe(500);
    expect(response.headers?.['retry-after']).toBeUndefined();
    const dataset = await store.getDataset(datasetNodeId(ns, 'events'));
    expect(dataset?.readers.size).toBe(readers.length);
    // The dataset is listed on before the job is written: no job holds an edge its dataset does not list.
    expect(await store.getJob(jobNodeId(ns, oneMore))).toBeUndefined();
  });
});
