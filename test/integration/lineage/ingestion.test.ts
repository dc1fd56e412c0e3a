import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  gzipJson,
  json,
  type LineageHarness,
  runEvent,
  runId,
  startLineageHarness,
} from '../../support/lineage.js';

let h: LineageHarness;
beforeAll(async () => {
  h = await startLineageHarness();
});
afterAll(async () => {
  await h.close();
});

const job = (namespace: string, name: string) =>
  h.get('/api/v1/namespaces/{namespace}/jobs/{job}', { pathParameters: { namespace, job: name } });

describe('POST /api/v1/lineage', () => {
  it('answers 201 with an empty body and records the run, the job and its datasets', async () => {
    const id = runId();
    const base = { runId: id, job: { namespace: 'ing-basic', name: 'load.orders' } };
    const io = {
      inputs: [{ namespace: 'pg://db:5432', name: 'raw.orders' }],
      outputs: [{ namespace: 'pg://db:5432', name: 'mart.orders' }],
    };

    const start = await h.post(
      runEvent({ ...base, ...io, eventType: 'START', eventTime: '2024-05-01T10:00:00Z' }),
    );
    const complete = await h.post(
      runEvent({ ...base, ...io, eventType: 'COMPLETE', eventTime: '2024-05-01T10:05:00Z' }),
    );

    expect([start.statusCode, start.body, complete.statusCode, complete.body]).toEqual([201, '', 201, '']);
    const body = json(await job('ing-basic', 'load.orders'));
    expect(body).toMatchObject({
      id: { namespace: 'ing-basic', name: 'load.orders' },
      inputs: [{ namespace: 'pg://db:5432', name: 'raw.orders' }],
      outputs: [{ namespace: 'pg://db:5432', name: 'mart.orders' }],
      latestRun: { id, state: 'COMPLETED', startedAt: '2024-05-01T10:00:00.000Z', durationMs: 300_000 },
    });
    const run = json(await h.get('/api/v1/jobs/runs/{id}', { pathParameters: { id } }));
    expect(run).toMatchObject({ id, state: 'COMPLETED', endedAt: '2024-05-01T10:05:00.000Z' });
  });

  it('accepts gzip bodies', async () => {
    const response = await h.post(undefined, {
      raw: gzipJson(
        runEvent({
          runId: runId(),
          eventTime: '2024-05-01T10:00:00Z',
          job: { namespace: 'ing-gzip', name: 'j' },
        }),
      ),
      headers: { 'content-encoding': 'gzip' },
    });

    expect(response.statusCode).toBe(201);
    expect((await job('ing-gzip', 'j')).statusCode).toBe(200);
  });

  it('yields a completed run with its start time when COMPLETE arrives before START', async () => {
    const id = runId();
    const base = { runId: id, job: { namespace: 'ing-order', name: 'late-start' } };

    await h.post(runEvent({ ...base, eventType: 'COMPLETE', eventTime: '2024-05-01T11:00:00Z' }));
    await h.post(runEvent({ ...base, eventType: 'START', eventTime: '2024-05-01T10:00:00Z' }));

    expect(json(await h.get('/api/v1/jobs/runs/{id}', { pathParameters: { id } }))).toMatchObject({
      state: 'COMPLETED',
      startedAt: '2024-05-01T10:00:00.000Z',
      endedAt: '2024-05-01T11:00:00.000Z',
      durationMs: 3_600_000,
    });
  });

  it('publishes DataSet Updated for every output of a COMPLETE event, and nothing for START', async () => {
    const id = runId();
    const base = {
      runId: id,
      job: { namespace: 'ing-events', name: 'writer' },
      outputs: [
        { namespace: 'ing-events', name: 'a' },
        { namespace: 'ing-events', name: 'b' },
      ],
    };
    const before = h.bus.events().length;

    await h.post(runEvent({ ...base, eventType: 'START', eventTime: '2024-05-01T10:00:00Z' }));
    await h.post(runEvent({ ...base, eventType: 'COMPLETE', eventTime: '2024-05-01T10:01:00Z' }));

    const published = h.bus.events().slice(before);
    expect(published.map((event) => [event['detail-type'], event.detail.dataset])).toEqual([
      ['DataSet Updated', { namespace: 'ing-events', name: 'a' }],
      ['DataSet Updated', { namespace: 'ing-events', name: 'b' }],
    ]);
    expect(published[0]?.detail).toMatchObject({
      runId: id,
      job: { namespace: 'ing-events', name: 'writer' },
      eventTime: '2024-05-01T10:01:00.000Z',
    });
    const dataset = json(
      await h.get('/api/v1/namespaces/{namespace}/datasets/{dataset}', {
        pathParameters: { namespace: 'ing-events', dataset: 'a' },
      }),
    );
    expect(dataset).toMatchObject({
      currentVersion: published[0]?.detail.version,
      lastModifiedAt: '2024-05-01T10:01:00.000Z',
    });
  });

  it('names the DataKit DataSet behind an output declared only on START (its symlinks facet) when COMPLETE comes', async () => {
    const id = runId();
    const job = { namespace: 'ing-symlinks', name: 'spark-writer' };
    const symlinked = {
      namespace: 's3://lake',
      name: 'data/raw-events',
      facets: {
        symlinks: {
          identifiers: [
            { namespace: 'datakit://local/default', name: 'raw-events', type: 'DATAKIT_DATASET' },
          ],
        },
      },
    };
    const before = h.bus.events().length;

    await h.post(
      runEvent({
        runId: id,
        job,
        outputs: [symlinked],
        eventType: 'START',
        eventTime: '2024-05-01T10:00:00Z',
      }),
    );
    await h.post(runEvent({ runId: id, job, eventType: 'COMPLETE', eventTime: '2024-05-01T10:01:00Z' }));

    const published = h.bus.events().slice(before);
    expect(published.map((event) => event.detail)).toEqual([
      expect.objectContaining({
        dataset: { namespace: 's3://lake', name: 'data/raw-events' },
        cell: 'local',
        datakit: { namespace: 'default', name: 'raw-events' },
      }),
    ]);
  });

  it('changes nothing when the same event is posted again', async () => {
    const event = runEvent({
      runId: runId(),
      eventTime: '2024-05-02T10:00:00Z',
      job: { namespace: 'ing-replay', name: 'j' },
      inputs: [
        {
          namespace: 'ing-replay',
          name: 'in',
          facets: { schema: { fields: [{ name: 'id', type: 'INT' }] } },
        },
      ],
      outputs: [{ namespace: 'ing-replay', name: 'out' }],
    });
    await h.post(event);
    const items = await h.itemCount();
    const state = [
      await job('ing-replay', 'j'),
      await h.get('/api/v1/namespaces/{namespace}/datasets', { pathParameters: { namespace: 'ing-replay' } }),
    ].map((r) => r.body);
    const written = h.deps.table.stats.itemsWritten;

    const again = await h.post({ ...event });

    expect(again.statusCode).toBe(201);
    expect(h.deps.table.stats.itemsWritten).toBe(written);
    expect(await h.itemCount()).toBe(items);
    expect(
      [
        await job('ing-replay', 'j'),
        await h.get('/api/v1/namespaces/{namespace}/datasets', {
          pathParameters: { namespace: 'ing-replay' },
        }),
      ].map((r) => r.body),
    ).toEqual(state);
  });

  it('treats key order as irrelevant to identity: a re-serialised event is a replay', async () => {
    const event = runEvent({
      runId: runId(),
      eventTime: '2024-05-02T10:00:00Z',
      job: { namespace: 'ing-replay2', name: 'j' },
    });
    await h.post(event);
    const items = await h.itemCount();

    const reordered = Object.fromEntries(Object.entries(event).reverse());
    await h.post(reordered);

    expect(await h.itemCount()).toBe(items);
  });

  it('keeps an event over 350 KB in the blob store and lists it whole', async () => {
    const big = 'x'.repeat(400 * 1024);
    const event = runEvent({
      runId: runId(),
      eventTime: '2030-01-01T00:00:00Z',
      job: { namespace: 'ing-big', name: 'j', facets: { sql: { query: big } } },
    });

    expect((await h.post(event)).statusCode).toBe(201);

    const listed = json(await h.get('/api/v1/events/lineage', { query: { limit: '1' } }));
    expect(listed).toMatchObject({
      events: [{ job: { namespace: 'ing-big', facets: { sql: { query: big } } } }],
    });
  });

  it('accepts a batch whole, as an array or as {events}', async () => {
    const events = [1, 2, 3].map((n) =>
      runEvent({
        runId: runId(),
        eventTime: `2024-05-03T10:0${n}:00Z`,
        job: { namespace: 'ing-batch', name: `j${n}` },
      }),
    );

    expect((await h.postBatch(events.slice(0, 2))).statusCode).toBe(201);
    expect((await h.postBatch({ events: events.slice(2) })).statusCode).toBe(201);
    const jobs = json(
      await h.get('/api/v1/namespaces/{namespace}/jobs', { pathParameters: { namespace: 'ing-batch' } }),
    );
    expect(jobs).toMatchObject({ totalCount: 3, jobs: [{ name: 'j1' }, { name: 'j2' }, { name: 'j3' }] });
  });

  it('refuses a batch whole when one event is malformed, naming the event and the field', async () => {
    const good = runEvent({
      runId: runId(),
      eventTime: '2024-05-03T10:00:00Z',
      job: { namespace: 'ing-batch-bad', name: 'ok' },
    });
    const bad = { ...good, run: {} };

    const response = await h.postBatch([good, bad]);

    expect(response.statusCode).toBe(400);
    expect(json(response)).toMatchObject({
      code: 'OL_MISSING_RUN_ID',
      errors: [{ code: 'OL_MISSING_RUN_ID', path: '[1].run.runId' }],
    });
    expect((await job('ing-batch-bad', 'ok')).statusCode).toBe(404);
  });

  it('records DatasetEvents (schema, no edges) and JobEvents (declared IO)', async () => {
    const datasetEvent = {
      eventTime: '2024-05-04T10:00:00Z',
      producer: 'test',
      schemaURL: 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent',
      dataset: {
        namespace: 'ing-static',
        name: 'customers',
        facets: { schema: { fields: [{ name: 'id', type: 'BIGINT', description: 'key' }] } },
      },
    };
    const jobEvent = {
      eventTime: '2024-05-04T10:00:00Z',
      producer: 'test',
      schemaURL: 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/JobEvent',
      job: { namespace: 'ing-static', name: 'declared' },
      inputs: [{ namespace: 'ing-static', name: 'customers' }],
      outputs: [],
    };

    expect((await h.post(datasetEvent)).statusCode).toBe(201);
    expect((await h.post(jobEvent)).statusCode).toBe(201);

    const dataset = json(
      await h.get('/api/v1/namespaces/{namespace}/datasets/{dataset}', {
        pathParameters: { namespace: 'ing-static', dataset: 'customers' },
      }),
    );
    expect(dataset).toMatchObject({ fields: [{ name: 'id', type: 'BIGINT', description: 'key', tags: [] }] });
    expect(json(await job('ing-static', 'declared'))).toMatchObject({
      inputs: [{ namespace: 'ing-static', name: 'customers' }],
      latestRun: null,
    });
  });

  it('stays consistent under concurrent events for the same job and datasets', async () => {
    const ns = 'ing-concurrent';
    const events = Array.from({ length: 12 }, (_, n) =>
      runEvent({
        runId: runId(),
        eventType: 'RUNNING',
        eventTime: `2024-05-05T10:00:${String(n).padStart(2, '0')}Z`,
        job: { namespace: ns, name: 'stream' },
        inputs: [{ namespace: ns, name: `topic-${n % 4}` }],
        outputs: [{ namespace: ns, name: 'sink' }],
      }),
    );
    // One run of a streaming job reporting IO as it goes, in events sent concurrently.
    const single = events.map((event) => ({
      ...event,
      run: { runId: '11111111-1111-4111-8111-111111111111', facets: {} },
    }));

    const responses = await Promise.all(single.map((event) => h.post(event)));

    expect(responses.map((response) => response.statusCode)).toEqual(single.map(() => 201));
    const body = json(await job(ns, 'stream'));
    expect(body).toMatchObject({
      inputs: [0, 1, 2, 3].map((n) => ({ namespace: ns, name: `topic-${n}` })),
      outputs: [{ namespace: ns, name: 'sink' }],
    });
    const graph = json(await h.get('/api/v1/lineage', { query: { nodeId: `dataset:${ns}:sink` } }));
    expect(graph).toMatchObject({
      graph: expect.arrayContaining([expect.objectContaining({ id: `job:${ns}:stream` })]),
    });
    for (const n of [0, 1, 2, 3]) {
      const topic = json(
        await h.get('/api/v1/lineage', { query: { nodeId: `dataset:${ns}:topic-${n}`, depth: '0' } }),
      );
      expect(topic).toMatchObject({
        graph: expect.arrayContaining([expect.objectContaining({ id: `job:${ns}:stream` })]),
      });
    }
  });
});
