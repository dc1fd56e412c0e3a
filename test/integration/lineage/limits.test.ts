import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLineageIngestApi } from '../../../lambdas/lineage-ingest/handler.js';
import {
  maxEventDatasetNameBytes,
  maxEventDatasets,
  maxEventNesting,
  maxNameBytes,
  maxSchemaFields,
} from '../../../lib/contracts/openlineage/limits.js';
import type { LineageStore } from '../../../lib/ports/lineage-store.js';
import { apiEvent, lambdaContext } from '../../support/api-event.js';
import { json, type LineageHarness, runEvent, runId, startLineageHarness } from '../../support/lineage.js';

let h: LineageHarness;
beforeAll(async () => {
  h = await startLineageHarness();
});
afterAll(async () => {
  await h.close();
});

const eventTime = '2024-07-01T10:00:00Z';

/** `count` datasets of namespace `ns` named `prefix0`, `prefix1`, …, each name padded to `nameBytes`. */
function datasets(ns: string, prefix: string, count: number, nameBytes = 0) {
  return Array.from({ length: count }, (_, index) => ({
    namespace: ns,
    name: `${prefix}${index}`.padEnd(nameBytes, '_'),
  }));
}

/** Posts `body` and expects it refused with `status` and `code`, the table exactly as it was. */
async function expectRefusedWithNothingWritten(
  post: () => Promise<{ statusCode: number; body: string }>,
  status: number,
  problem: Record<string, unknown>,
) {
  const before = await h.dump();

  const response = await post();

  expect(response.statusCode).toBe(status);
  expect(json(response)).toMatchObject({
    code: problem.code,
    errors: expect.arrayContaining([expect.objectContaining(problem)]),
  });
  expect(await h.dump()).toEqual(before);
}

const get = {
  job: (namespace: string, name: string) =>
    h.get('/api/v1/namespaces/{namespace}/jobs/{job}', { pathParameters: { namespace, job: name } }),
  run: (id: string) => h.get('/api/v1/jobs/runs/{id}', { pathParameters: { id } }),
  datasets: (namespace: string) =>
    h.get('/api/v1/namespaces/{namespace}/datasets', {
      pathParameters: { namespace },
      query: { limit: '1000' },
    }),
};

describe('a facet nested too deep', () => {
  it('answers 400 OL_TOO_DEEP naming the value, not a retryable 503, for 5 000 levels (10 KB)', async () => {
    const text = JSON.stringify(
      runEvent({
        runId: runId(),
        eventTime,
        job: { namespace: 'deep', name: 'j', facets: { deep: 'HERE' } },
      }),
    ).replace('"HERE"', `${'['.repeat(5000)}${']'.repeat(5000)}`);

    await expectRefusedWithNothingWritten(() => h.post(undefined, { raw: text }), 400, {
      code: 'OL_TOO_DEEP',
      path: `job.facets.deep${'[0]'.repeat(maxEventNesting - 3)}`,
    });
  });

  it('names the event in a batch', async () => {
    let deep: unknown = 'x';
    for (let level = 0; level < maxEventNesting; level++) deep = { a: deep };
    const good = runEvent({ runId: runId(), eventTime, job: { namespace: 'deep-batch', name: 'ok' } });
    const bad = { ...good, run: { runId: runId(), facets: { deep } } };

    await expectRefusedWithNothingWritten(() => h.postBatch([good, bad]), 400, {
      code: 'OL_TOO_DEEP',
      path: expect.stringMatching(/^\[1\]\.run\.facets\.deep(\.a)+$/),
    });
  });
});

describe('a batch nested too deep', () => {
  it.each([
    ['an array', (events: string) => `[${events}]`],
    ['{events}', (events: string) => `{"events": [${events}]}`],
  ])('names the event and the value in %s of megabytes of nesting', async (_, batch) => {
    const good = JSON.stringify(
      runEvent({ runId: runId(), eventTime, job: { namespace: 'deep-text', name: 'ok' } }),
    );
    const deep = JSON.stringify(
      runEvent({
        runId: runId(),
        eventTime,
        job: { namespace: 'deep-text', name: 'j', facets: { deep: 'HERE' } },
      }),
    ).replace('"HERE"', `${'['.repeat(2_000_000)}${']'.repeat(2_000_000)}`);
    const before = await h.dump();

    const response = await h.postBatch(undefined, { raw: batch(`${good},${deep}`) });

    expect(response.statusCode).toBe(400);
    expect(json(response)).toMatchObject({
      code: 'OL_TOO_DEEP',
      errors: [{ path: `[1].job.facets.deep${'[0]'.repeat(maxEventNesting - 3)}` }],
    });
    expect(await h.dump()).toEqual(before);
  });
});

describe('an event with too many inputs and outputs', () => {
  it.each([3000, 5000])('refuses %i outputs with 400 before writing anything', async (count) => {
    const event = runEvent({
      runId: runId(),
      eventTime,
      job: { namespace: `wide-${count}`, name: 'j' },
      outputs: datasets(`wide-${count}`, 'out-', count),
    });

    await expectRefusedWithNothingWritten(() => h.post(event), 400, {
      code: 'OL_TOO_MANY_DATASETS',
      path: `outputs[${maxEventDatasets}]`,
    });
  });

  it('refuses a batch whole when one of its events is over a limit, naming the event', async () => {
    const ns = 'wide-batch';
    const good = runEvent({ runId: runId(), eventTime, job: { namespace: ns, name: 'ok' } });
    const wide = runEvent({
      runId: runId(),
      eventTime,
      job: { namespace: ns, name: 'wide' },
      inputs: datasets(ns, 'in-', maxEventDatasets + 1),
    });

    await expectRefusedWithNothingWritten(() => h.postBatch({ events: [good, wide] }), 400, {
      code: 'OL_TOO_MANY_DATASETS',
      path: `[1].inputs[${maxEventDatasets}]`,
    });
  });
});

describe('an event at every limit', () => {
  it('is stored whole and fully visible: job, run, every dataset, the lineage graph', async () => {
    const ns = 'edge';
    const half = maxEventDatasets / 2;
    // 1000 datasets whose namespaces and names take the 64 KiB budget exactly (65 or 66 bytes each).
    const nameBytes = Math.floor(maxEventDatasetNameBytes / maxEventDatasets) - ns.length;
    const inputs = datasets(ns, 'in-', half, nameBytes);
    const outputs = datasets(ns, 'out-', half, nameBytes);
    const spare = maxEventDatasetNameBytes - maxEventDatasets * (ns.length + nameBytes);
    for (const output of outputs.slice(0, spare)) output.name = `${output.name}_`;
    const [first, ...rest] = outputs;
    if (first === undefined) throw new Error('no outputs');
    let nested: unknown = 'bottom';
    // The event, outputs, [0], facets, nested: 5 levels above the arrays.
    for (let level = 0; level < maxEventNesting - 5; level++) nested = [nested];
    const fields = Array.from({ length: maxSchemaFields }, (_, index) => ({
      name: `c${index}`,
      type: 'BIGINT',
    }));
    const job = { namespace: ns, name: 'j'.repeat(maxNameBytes) };
    const id = runId();
    const event = runEvent({
      runId: id,
      eventTime,
      job,
      inputs,
      outputs: [{ ...first, facets: { schema: { fields }, nested } }, ...rest],
    });
    const refs = (list: { namespace: string; name: string }[]) =>
      list.map(({ namespace, name }) => `${namespace}:${name}`).sort();

    expect((await h.post(event)).statusCode).toBe(201);

    const stored = json(await get.job(ns, job.name));
    if (typeof stored !== 'object' || stored === null || !('inputs' in stored) || !('outputs' in stored)) {
      throw new Error('no job');
    }
    expect(refs(stored.inputs as typeof inputs)).toEqual(refs(inputs));
    expect(refs(stored.outputs as typeof outputs)).toEqual(refs(outputs));
    expect(stored).toMatchObject({ latestRun: { id, state: 'COMPLETED' } });
    const run = json(await get.run(id));
    expect(run).toMatchObject({ state: 'COMPLETED' });
    if (
      typeof run !== 'object' ||
      run === null ||
      !('outputDatasetVersions' in run) ||
      !('inputDatasetVersions' in run)
    ) {
      throw new Error('no run');
    }
    expect([run.inputDatasetVersions, run.outputDatasetVersions]).toMatchObject([
      { length: half },
      { length: half },
    ]);
    expect(json(await get.datasets(ns))).toMatchObject({ totalCount: maxEventDatasets });
    const written = json(
      await h.get('/api/v1/namespaces/{namespace}/datasets/{dataset}', {
        pathParameters: { namespace: ns, dataset: first.name },
      }),
    );
    expect(written).toMatchObject({ facets: { nested }, currentVersion: expect.any(String) });
    expect(written).toHaveProperty(['fields', maxSchemaFields - 1], {
      name: 'c999',
      type: 'BIGINT',
      tags: [],
      description: null,
    });
    for (const nodeId of [`job:${ns}:${job.name}`, `dataset:${ns}:${inputs[0]?.name}`]) {
      const graph = json(await h.get('/api/v1/lineage', { query: { nodeId, depth: '1' } }));
      expect(graph).toHaveProperty(['graph', 'length'], maxEventDatasets + 1);
    }
  }, 300_000);
});

describe('an event naming a dataset twice', () => {
  it('stores it once, with one version of an output named twice', async () => {
    const ns = 'twice';
    const out = { namespace: ns, name: 'out' };
    const id = runId();
    const event = runEvent({
      runId: id,
      eventTime,
      job: { namespace: ns, name: 'j' },
      inputs: [out],
      outputs: [out, out],
    });

    expect((await h.post(event)).statusCode).toBe(201);

    expect(json(await get.run(id))).toMatchObject({ outputDatasetVersions: [{ datasetVersionId: out }] });
    expect(json(await get.job(ns, 'j'))).toMatchObject({ inputs: [out], outputs: [out] });
  });
});

describe('records that would not fit in storage', () => {
  it('refuses a dataset description of 400 KB with LINEAGE_RECORD_TOO_LARGE naming the dataset, writing nothing', async () => {
    const ns = 'big-doc';
    const event = runEvent({
      runId: runId(),
      eventTime,
      job: { namespace: ns, name: 'j' },
      inputs: [{ namespace: ns, name: 'small' }],
      outputs: [
        {
          namespace: ns,
          name: 'documented',
          facets: { documentation: { description: 'd'.repeat(400 * 1024) } },
        },
      ],
    });

    await expectRefusedWithNothingWritten(() => h.post(event), 400, {
      code: 'LINEAGE_RECORD_TOO_LARGE',
      path: 'outputs[0]',
    });
  });

  it('stores a record over its budget without its facets: a 390 KB job facet', async () => {
    const ns = 'big-facet';
    const event = runEvent({
      runId: runId(),
      eventTime,
      job: { namespace: ns, name: 'j', facets: { sql: { query: 'q'.repeat(390 * 1024) } } },
    });

    expect((await h.post(event)).statusCode).toBe(201);
    expect(json(await get.job(ns, 'j'))).toMatchObject({ facets: { _truncated: true } });
  });

  it('refuses the event that would grow a run past what its job can hold, writing nothing', async () => {
    const ns = 'growing';
    const id = runId();
    const job = { namespace: ns, name: 'streaming' };
    // Each event at the name budget (250 datasets of 256 bytes); the run's second event doubles its job's record.
    const running = (prefix: string, eventTime: string) =>
      runEvent({
        runId: id,
        eventType: 'RUNNING',
        eventTime,
        job,
        outputs: datasets(ns, prefix, maxEventDatasetNameBytes / 256, 256 - ns.length),
      });
    expect((await h.post(running('early-', eventTime))).statusCode).toBe(201);

    await expectRefusedWithNothingWritten(() => h.post(running('late-', '2024-07-01T10:30:00Z')), 400, {
      code: 'LINEAGE_RECORD_TOO_LARGE',
      path: 'job',
    });
  }, 120_000);

  it('refuses a batch whole when an event of it would not fit, naming the event', async () => {
    const ns = 'big-batch';
    const good = runEvent({ runId: runId(), eventTime, job: { namespace: ns, name: 'ok' } });
    const big = runEvent({
      runId: runId(),
      eventTime,
      job: { namespace: ns, name: 'j', facets: { documentation: { description: 'd'.repeat(400 * 1024) } } },
    });

    await expectRefusedWithNothingWritten(() => h.postBatch([good, big]), 400, {
      code: 'LINEAGE_RECORD_TOO_LARGE',
      path: '[1].job',
    });
  });
});

describe('failures past the parser', () => {
  /** The harness's ingestion over a store whose every write first throws `error`. */
  function ingestFailingWith(error: Error) {
    const failing = new Proxy(h.deps.lineage, {
      get(target, property, receiver) {
        const value: unknown = Reflect.get(target, property, receiver);
        if (property === 'putRawEvent') return async () => Promise.reject(error);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }) satisfies LineageStore;
    const api = createLineageIngestApi({ ...h.deps, lineage: failing });
    const event = runEvent({ runId: runId(), eventTime, job: { namespace: 'failing', name: 'j' } });
    return api(
      apiEvent({
        method: 'POST',
        resource: '/api/v1/lineage',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(event),
      }),
      lambdaContext(),
    );
  }

  it('answers a stack overflow with a generic 500, never a 503 the producer would retry forever', async () => {
    const response = await ingestFailingWith(new RangeError('Maximum call stack size exceeded'));

    expect(response.statusCode).toBe(500);
    expect(response.headers?.['retry-after']).toBeUndefined();
    expect(json(response)).toMatchObject({ code: 'INTERNAL' });
  });

  it('answers a storage failure with a retryable 503', async () => {
    const response = await ingestFailingWith(
      Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }),
    );

    expect(response.statusCode).toBe(503);
    expect(response.headers?.['retry-after']).toBe('1');
  });
});
