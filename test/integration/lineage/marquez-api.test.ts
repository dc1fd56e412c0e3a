import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobVersionOf } from '../../../lib/domain/lineage/folds.js';
import { json, type LineageHarness, runEvent, runId, startLineageHarness } from '../../support/lineage.js';

// The Marquez API as its web UI reads it (docs/api.md, Lineage): what each page and drawer asks, answered
// with Marquez's semantics, over a real (dynalite) table.

let h: LineageHarness;
beforeAll(async () => {
  h = await startLineageHarness();
});
afterAll(async () => {
  await h.close();
});

const ref = (namespace: string, name: string) => ({ namespace, name });
const at = (day: number, minute: number) => new Date(Date.UTC(2024, 5, day, 10, minute)).toISOString();

async function post(event: Record<string, unknown>): Promise<void> {
  const response = await h.post(event);
  expect(response.statusCode, response.body).toBe(201);
}

async function ok(
  resource: string,
  options: { pathParameters?: Record<string, string>; query?: Record<string, string> } = {},
): Promise<Record<string, unknown>> {
  const response = await h.get(resource, options);
  expect(response.statusCode, response.body).toBe(200);
  const body = json(response);
  if (typeof body !== 'object' || body === null) throw new Error(`not an object: ${response.body}`);
  return body as Record<string, unknown>;
}

const get = {
  job: (namespace: string, job: string) =>
    ok('/api/v1/namespaces/{namespace}/jobs/{job}', { pathParameters: { namespace, job } }),
  runs: (namespace: string, job: string, query: Record<string, string> = {}) =>
    ok('/api/v1/namespaces/{namespace}/jobs/{job}/runs', { pathParameters: { namespace, job }, query }),
  run: (id: string) => ok('/api/v1/jobs/runs/{id}', { pathParameters: { id } }),
  dataset: (namespace: string, dataset: string) =>
    ok('/api/v1/namespaces/{namespace}/datasets/{dataset}', { pathParameters: { namespace, dataset } }),
  versions: (namespace: string, dataset: string, query: Record<string, string> = {}) =>
    ok('/api/v1/namespaces/{namespace}/datasets/{dataset}/versions', {
      pathParameters: { namespace, dataset },
      query,
    }),
};

/** A job's run: START with its IO, then COMPLETE (or `end`) without it, as Marquez's demo sends them. */
async function run(
  namespace: string,
  job: string,
  io: { inputs?: { namespace: string; name: string }[]; outputs?: { namespace: string; name: string }[] },
  start: string,
  end: string,
  options: { id?: string; endType?: 'COMPLETE' | 'FAIL' | 'ABORT'; jobFacets?: Record<string, unknown> } = {},
): Promise<string> {
  const id = options.id ?? runId();
  const jobRef = { namespace, name: job, facets: options.jobFacets ?? {} };
  await post(runEvent({ runId: id, eventType: 'START', eventTime: start, job: jobRef, ...io }));
  await post(runEvent({ runId: id, eventType: options.endType ?? 'COMPLETE', eventTime: end, job: jobRef }));
  return id;
}

describe('tags', () => {
  const ns = 'tags';

  it('serves the tags of datasets and fields from producers’ tags facets, and lists them', async () => {
    await post({
      eventTime: at(1, 0),
      schemaURL: 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent',
      dataset: {
        namespace: ns,
        name: 'customers',
        facets: {
          schema: {
            fields: [
              { name: 'email', type: 'VARCHAR' },
              { name: 'id', type: 'INTEGER' },
            ],
          },
          tags: {
            tags: [
              { key: 'tier', value: 'gold' },
              { key: 'pii', value: 'true', field: 'email' },
            ],
          },
        },
      },
    });

    const dataset = await get.dataset(ns, 'customers');
    expect(dataset).toMatchObject({
      tags: ['tier:gold'],
      fields: [
        { name: 'email', tags: ['pii'] },
        { name: 'id', tags: [] },
      ],
    });
    const tags = await ok('/api/v1/tags');
    expect(tags.tags).toEqual(
      expect.arrayContaining([
        { name: 'pii', description: null },
        { name: 'tier:gold', description: null },
      ]),
    );
  });

  it('creates a tag with a description (PUT /tags/{tag}) and lists it', async () => {
    const created = await h.send('PUT', '/api/v1/tags/{tag}', {
      pathParameters: { tag: 'SENSITIVE' },
      body: { description: 'Holds personal data' },
    });

    expect(created.statusCode).toBe(200);
    expect(json(created)).toEqual({ name: 'SENSITIVE', description: 'Holds personal data' });
    expect((await ok('/api/v1/tags')).tags).toContainEqual({
      name: 'SENSITIVE',
      description: 'Holds personal data',
    });
  });

  it('adds and removes a tag on a dataset, a field and a job, answering the dataset or job', async () => {
    await run(ns, 'load', { outputs: [ref(ns, 'customers')] }, at(1, 5), at(1, 6));
    const path = { namespace: ns, dataset: 'customers', tag: 'SENSITIVE' };

    const tagged = await h.send('POST', '/api/v1/namespaces/{namespace}/datasets/{dataset}/tags/{tag}', {
      pathParameters: path,
    });
    expect(tagged.statusCode).toBe(200);
    expect(json(tagged)).toMatchObject({ name: 'customers', tags: ['SENSITIVE', 'tier:gold'] });

    const field = await h.send(
      'POST',
      '/api/v1/namespaces/{namespace}/datasets/{dataset}/fields/{field}/tags/{tag}',
      { pathParameters: { ...path, field: 'id' } },
    );
    expect(json(field)).toMatchObject({ fields: [{ name: 'email' }, { name: 'id', tags: ['SENSITIVE'] }] });

    const job = await h.send('POST', '/api/v1/namespaces/{namespace}/jobs/{job}/tags/{tag}', {
      pathParameters: { namespace: ns, job: 'load', tag: 'critical' },
    });
    expect(json(job)).toMatchObject({ name: 'load', tags: ['critical'] });
    expect((await ok('/api/v1/tags')).tags).toContainEqual({ name: 'critical', description: null });

    const untagged = await h.send('DELETE', '/api/v1/namespaces/{namespace}/datasets/{dataset}/tags/{tag}', {
      pathParameters: path,
    });
    expect(json(untagged)).toMatchObject({ tags: ['tier:gold'] });
    expect((await get.job(ns, 'load')).tags).toEqual(['critical']);
  });

  it('answers 404 for a tag on a job, dataset or field that does not exist', async () => {
    const job = await h.send('POST', '/api/v1/namespaces/{namespace}/jobs/{job}/tags/{tag}', {
      pathParameters: { namespace: ns, job: 'nope', tag: 'x' },
    });
    const field = await h.send(
      'POST',
      '/api/v1/namespaces/{namespace}/datasets/{dataset}/fields/{field}/tags/{tag}',
      { pathParameters: { namespace: ns, dataset: 'customers', field: 'nope', tag: 'x' } },
    );

    expect([job.statusCode, job.statusCode === 404 && (json(job) as { code: string }).code]).toEqual([
      404,
      'JOB_NOT_FOUND',
    ]);
    expect(json(field)).toMatchObject({ status: 404, code: 'DATASET_FIELD_NOT_FOUND' });
  });
});

describe('jobs', () => {
  it('lists the jobs of every namespace, by namespace and name, and by their latest run’s state', async () => {
    await run('all-a', 'ok', {}, at(2, 0), at(2, 1));
    await run('all-a', 'broken', {}, at(2, 0), at(2, 1), { endType: 'FAIL' });
    await run('all-b', 'ok', {}, at(2, 0), at(2, 1));

    const all = await ok('/api/v1/jobs', { query: { limit: '1000' } });
    const names = (all.jobs as { namespace: string; name: string }[])
      .filter((job) => job.namespace.startsWith('all-'))
      .map((job) => `${job.namespace}/${job.name}`);
    expect(names).toEqual(['all-a/broken', 'all-a/ok', 'all-b/ok']);
    expect(all.totalCount).toBe((all.jobs as unknown[]).length);

    const failed = await ok('/api/v1/jobs', { query: { lastRunStates: 'FAILED', limit: '1000' } });
    expect(
      (failed.jobs as { name: string; latestRun: { state: string } }[]).map((job) => job.latestRun.state),
    ).toEqual(['FAILED']);
    const paged = await ok('/api/v1/jobs', { query: { limit: '1', offset: '1' } });
    expect(paged.jobs).toHaveLength(1);
  });

  it('shows a job’s 10 latest runs newest first, its labels, and how many runs it has', async () => {
    const ns = 'many-runs';
    const jobFacets = { jobType: { processingType: 'BATCH', integration: 'AIRFLOW', jobType: 'TASK' } };
    const ids: string[] = [];
    for (let n = 0; n < 12; n++)
      ids.push(await run(ns, 'daily', {}, at(3, n * 2), at(3, n * 2 + 1), { jobFacets }));

    const job = await get.job(ns, 'daily');
    expect((job.latestRuns as { id: string }[]).map((r) => r.id)).toEqual(ids.slice(2).reverse());
    expect((job.latestRun as { id: string }).id).toBe(ids[11]);
    expect(job).toMatchObject({ labels: ['TASK', 'AIRFLOW'], tags: [] });

    const runs = await get.runs(ns, 'daily', { limit: '5' });
    expect(runs.totalCount).toBe(12);
    expect((runs.runs as { id: string }[]).map((r) => r.id)).toEqual(ids.slice(7).reverse());
    const list = await ok('/api/v1/namespaces/{namespace}/jobs', { pathParameters: { namespace: ns } });
    expect((list.jobs as { latestRuns: unknown[] }[])[0]?.latestRuns).toHaveLength(10);
  });

  it('sets currentVersion and the run’s jobVersion as Marquez computes them, once the run ended', async () => {
    const ns = 'versions';
    const io = { inputs: [ref(ns, 'in')], outputs: [ref(ns, 'out')] };
    const id = await run(ns, 'job', io, at(4, 0), at(4, 5));
    const version = jobVersionOf({ namespace: ns, name: 'job' }, io.inputs, io.outputs);

    expect(await get.job(ns, 'job')).toMatchObject({
      currentVersion: version,
      latestRun: { id, jobVersion: { namespace: ns, name: 'job', version } },
    });
    expect(await get.run(id)).toMatchObject({ jobVersion: { version } });
  });

  it('answers the facets of a run, and of its job as the run sent them', async () => {
    const ns = 'run-facets';
    const id = runId();
    const sql = { query: 'INSERT INTO t SELECT * FROM s' };
    await post(
      runEvent({
        runId: id,
        eventType: 'START',
        eventTime: at(5, 0),
        job: { namespace: ns, name: 'j', facets: { sql } },
        runFacets: { nominalTime: { nominalStartTime: at(5, 0) } },
      }),
    );

    const runFacets = await ok('/api/v1/jobs/runs/{id}/facets', {
      pathParameters: { id },
      query: { type: 'run' },
    });
    const jobFacets = await ok('/api/v1/jobs/runs/{id}/facets', {
      pathParameters: { id },
      query: { type: 'JOB' },
    });
    const bad = await h.get('/api/v1/jobs/runs/{id}/facets', {
      pathParameters: { id },
      query: { type: 'x' },
    });
    const missing = await h.get('/api/v1/jobs/runs/{id}/facets', {
      pathParameters: { id: runId() },
      query: { type: 'run' },
    });

    expect(runFacets).toEqual({ runId: id, facets: { nominalTime: { nominalStartTime: at(5, 0) } } });
    expect(jobFacets).toEqual({ runId: id, facets: { sql } });
    expect(bad.statusCode).toBe(400);
    expect(missing.statusCode).toBe(404);
  });

  it('answers one run consistently on every read when two jobs reuse its id: it stays its first job’s', async () => {
    const ns = 'reuse';
    const id = runId();
    await post(runEvent({ runId: id, eventType: 'START', eventTime: at(6, 0), job: ref(ns, 'first') }));
    await post(runEvent({ runId: id, eventType: 'COMPLETE', eventTime: at(6, 5), job: ref(ns, 'second') }));

    const runRead = await get.run(id);
    const first = await get.job(ns, 'first');
    const firstRuns = await get.runs(ns, 'first');
    const second = await get.job(ns, 'second');
    const secondRuns = await get.runs(ns, 'second');

    expect(runRead).toMatchObject({ id, state: 'COMPLETED' });
    expect(first.latestRun).toEqual(runRead);
    expect(firstRuns).toEqual({ runs: [runRead], totalCount: 1 });
    expect(second.latestRun).toBeNull();
    expect(secondRuns).toEqual({ runs: [], totalCount: 0 });
  });
});

describe('datasets', () => {
  it('shows each dataset’s column lineage, in the list and alone', async () => {
    const ns = 'columns';
    await post(
      runEvent({
        runId: runId(),
        eventTime: at(7, 0),
        job: ref(ns, 'agg'),
        inputs: [ref(ns, 'orders')],
        outputs: [
          {
            ...ref(ns, 'daily'),
            facets: {
              schema: { fields: [{ name: 'total', type: 'BIGINT' }] },
              columnLineage: {
                fields: {
                  total: {
                    inputFields: [
                      {
                        namespace: ns,
                        name: 'orders',
                        field: 'amount',
                        transformations: [{ type: 'INDIRECT', subtype: 'AGGREGATION', description: 'sum' }],
                      },
                    ],
                  },
                },
              },
            },
          },
        ],
      }),
    );
    const lineage = [
      {
        name: 'total',
        inputFields: [
          {
            namespace: ns,
            dataset: 'orders',
            field: 'amount',
            transformationDescription: 'sum',
            transformationType: 'INDIRECT',
          },
        ],
        transformationDescription: 'sum',
        transformationType: 'INDIRECT',
      },
    ];

    expect((await get.dataset(ns, 'daily')).columnLineage).toEqual(lineage);
    expect((await get.dataset(ns, 'orders')).columnLineage).toBeNull();
    const list = await ok('/api/v1/namespaces/{namespace}/datasets', { pathParameters: { namespace: ns } });
    expect(
      (list.datasets as { name: string; columnLineage: unknown }[]).map((d) => [d.name, d.columnLineage]),
    ).toEqual([
      ['daily', lineage],
      ['orders', null],
    ]);
  });

  it('gets a version on COMPLETE of a run that declared it only on START, listed newest first', async () => {
    const ns = 'dataset-versions';
    const first = await run(ns, 'load', { outputs: [ref(ns, 'table')] }, at(8, 0), at(8, 5));
    const second = await run(ns, 'load', { outputs: [ref(ns, 'table')] }, at(9, 0), at(9, 5));

    const dataset = await get.dataset(ns, 'table');
    const versions = await get.versions(ns, 'table');
    const list = versions.versions as { version: string; createdAt: string; createdByRun: { id: string } }[];
    expect(versions.totalCount).toBe(2);
    expect(list.map((v) => [v.createdByRun.id, v.createdAt])).toEqual([
      [second, at(9, 5)],
      [first, at(8, 5)],
    ]);
    expect(dataset.currentVersion).toBe(list[0]?.version);
    expect(dataset.lastModifiedAt).toBe(at(9, 5));

    const one = await ok('/api/v1/namespaces/{namespace}/datasets/{dataset}/versions/{version}', {
      pathParameters: { namespace: ns, dataset: 'table', version: list[1]?.version ?? '' },
    });
    expect(one).toMatchObject({ version: list[1]?.version, createdByRun: { id: first } });
    const missing = await h.get('/api/v1/namespaces/{namespace}/datasets/{dataset}/versions/{version}', {
      pathParameters: { namespace: ns, dataset: 'table', version: 'nope' },
    });
    expect(json(missing)).toMatchObject({ status: 404, code: 'DATASET_VERSION_NOT_FOUND' });
    const paged = await get.versions(ns, 'table', { limit: '1', offset: '1' });
    expect((paged.versions as { version: string }[]).map((v) => v.version)).toEqual([list[1]?.version]);
  });

  it('keeps its current version when a run writing it fails', async () => {
    const ns = 'failed-write';
    await run(ns, 'load', { outputs: [ref(ns, 'table')] }, at(10, 0), at(10, 5));
    const before = (await get.dataset(ns, 'table')).currentVersion;
    await run(ns, 'load', { outputs: [ref(ns, 'table')] }, at(11, 0), at(11, 5), { endType: 'FAIL' });

    expect(before).toEqual(expect.any(String));
    expect((await get.dataset(ns, 'table')).currentVersion).toBe(before);
  });

  it('gets a version from a DatasetEvent, the same one for the same declaration', async () => {
    const ns = 'dataset-event';
    const declare = (minute: number) =>
      post({
        eventTime: at(12, minute),
        schemaURL: 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent',
        dataset: {
          namespace: ns,
          name: 'ref',
          facets: { schema: { fields: [{ name: 'k', type: 'STRING' }] } },
        },
      });
    await declare(0);
    const version = (await get.dataset(ns, 'ref')).currentVersion;
    await declare(5);

    expect(version).toEqual(expect.any(String));
    expect(await get.versions(ns, 'ref')).toMatchObject({
      totalCount: 1,
      versions: [{ version, createdByRun: null }],
    });
  });

  it('gets a version from a streaming job’s run while it runs', async () => {
    const ns = 'streaming';
    const jobType = { processingType: 'STREAMING', integration: 'FLINK', jobType: 'JOB' };
    const id = runId();
    await post(
      runEvent({
        runId: id,
        eventType: 'RUNNING',
        eventTime: at(13, 0),
        job: { namespace: ns, name: 'clicks', facets: { jobType } },
        inputs: [ref(ns, 'topic')],
        outputs: [ref(ns, 'sink')],
      }),
    );

    const dataset = await get.dataset(ns, 'sink');
    expect(dataset.currentVersion).toEqual(expect.any(String));
    expect(await get.versions(ns, 'sink')).toMatchObject({
      totalCount: 1,
      versions: [{ version: dataset.currentVersion, createdByRun: { id, state: 'RUNNING' } }],
    });
    expect((await get.job(ns, 'clicks')).currentVersion).toBe(
      jobVersionOf({ namespace: ns, name: 'clicks' }, [ref(ns, 'topic')], [ref(ns, 'sink')]),
    );
  });

  it('shows the input facets of the runs reading a dataset (data quality metrics) on its facets', async () => {
    const ns = 'quality';
    const metrics = { rowCount: 1200, columnMetrics: { id: { nullCount: 0, distinctCount: 1200 } } };
    await post(
      runEvent({
        runId: runId(),
        eventTime: at(14, 0),
        job: ref(ns, 'check'),
        inputs: [{ ...ref(ns, 'orders'), inputFacets: { dataQualityMetrics: metrics } }],
      }),
    );

    expect((await get.dataset(ns, 'orders')).facets).toMatchObject({ dataQualityMetrics: metrics });
  });
});

describe('events', () => {
  const day = (minute: number) => new Date(Date.UTC(2024, 6, 1, 0, 0) + minute * 60_000).toISOString();

  it('pages RunEvents by offset with how many the range holds, leaving DatasetEvents and JobEvents out', async () => {
    // 9 RunEvents spread over a day, their edges not on 15-minute marks, a DatasetEvent and a JobEvent among them.
    const minutes = [1, 7, 16, 44, 300, 301, 700, 1200, 1439];
    for (const minute of minutes) {
      await post(
        runEvent({ runId: runId(), eventType: 'START', eventTime: day(minute), job: ref('ev', 'j') }),
      );
    }
    await post({
      eventTime: day(302),
      schemaURL: 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent',
      dataset: ref('ev', 'd'),
    });
    await post({
      eventTime: day(303),
      schemaURL: 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/JobEvent',
      job: ref('ev', 'declared'),
    });
    const range = { after: day(5), before: day(1200) };

    const first = await ok('/api/v1/events/lineage', { query: { ...range, limit: '3' } });
    const second = await ok('/api/v1/events/lineage', { query: { ...range, limit: '3', offset: '3' } });
    const third = await ok('/api/v1/events/lineage', { query: { ...range, limit: '3', offset: '6' } });

    const times = (page: Record<string, unknown>) =>
      (page.events as { eventTime: string }[]).map((e) => e.eventTime);
    const inRange = minutes
      .filter((m) => m >= 5 && m <= 1200)
      .map((m) => day(m))
      .reverse();
    expect([first.totalCount, second.totalCount, third.totalCount]).toEqual([7, 7, 7]);
    expect([...times(first), ...times(second), ...times(third)]).toEqual(inRange);
    for (const page of [first, second, third]) {
      for (const event of page.events as Record<string, unknown>[]) expect(event).toHaveProperty('run');
    }
  });

  it('leaves out a DatasetEvent a store written before the split lists among RunEvents', async () => {
    const eventTime = day(1500);
    const datasetEvent = { eventTime, dataset: ref('ev', 'legacy'), producer: 'p' };
    // As a raw item of a store written before DatasetEvents and JobEvents were indexed apart.
    await h.deps.table.put({
      PK: 'LEVENT#legacy',
      SK: '#EVENT',
      eventId: 'legacy',
      eventTime,
      json: JSON.stringify(datasetEvent),
      GSI1PK: 'LEVENTS',
      GSI1SK: `${eventTime}#legacy`,
    });
    await post(runEvent({ runId: runId(), eventType: 'START', eventTime: day(1501), job: ref('ev', 'j') }));

    const page = await ok('/api/v1/events/lineage', { query: { after: day(1500), before: day(1502) } });

    expect((page.events as { eventTime: string }[]).map((e) => e.eventTime)).toEqual([day(1501)]);
  });

  it('refuses an offset past 10 000', async () => {
    const response = await h.get('/api/v1/events/lineage', { query: { offset: '10001' } });

    expect(json(response)).toMatchObject({ status: 400, errors: [{ path: 'query.offset' }] });
  });
});

describe('statistics', () => {
  it('counts RunEvents by type per hour of the last day, and what existed per day of the last week', async () => {
    const now = Date.now();
    const recent = (minutesAgo: number) => new Date(now - minutesAgo * 60_000).toISOString();
    const stats = (subject: string, query: Record<string, string>) =>
      ok('/api/v1/stats/{subject}', { pathParameters: { subject }, query });
    const before = await stats('lineage-events', { period: 'DAY', timezone: 'UTC' });
    const jobsBefore = await stats('jobs', { period: 'day' });
    const id = runId();
    await post(runEvent({ runId: id, eventType: 'START', eventTime: recent(2), job: ref('stats', 'fresh') }));
    await post(runEvent({ runId: id, eventType: 'FAIL', eventTime: recent(1), job: ref('stats', 'fresh') }));

    const after = await stats('lineage-events', { period: 'DAY', timezone: 'UTC' });
    type Metric = { startInterval: string; start: number; fail: number; complete: number; abort: number };
    const sum = (metrics: unknown, key: 'start' | 'fail') =>
      (metrics as Metric[]).reduce((total, metric) => total + metric[key], 0);
    expect(after).toHaveLength(24);
    expect(sum(after, 'start') - sum(before, 'start')).toBe(1);
    expect(sum(after, 'fail') - sum(before, 'fail')).toBe(1);

    const jobs = (await stats('jobs', { period: 'DAY' })) as unknown as { count: number }[];
    expect(
      (jobs.at(-1)?.count ?? 0) - ((jobsBefore as unknown as { count: number }[]).at(-1)?.count ?? 0),
    ).toBe(1);
    const week = (await stats('datasets', { period: 'WEEK', timezone: 'Asia/Kolkata' })) as unknown as {
      startInterval: string;
    }[];
    expect(week).toHaveLength(7);
    expect(week[0]?.startInterval).toMatch(/T18:30:00\.000Z$/);
    const sources = (await stats('sources', { period: 'WEEK' })) as unknown as { count: number }[];
    expect(sources.at(-1)?.count).toBeGreaterThan(0);
  });

  it('refuses an unknown period or time zone', async () => {
    const period = await h.get('/api/v1/stats/{subject}', {
      pathParameters: { subject: 'jobs' },
      query: { period: 'MONTH' },
    });
    const zone = await h.get('/api/v1/stats/{subject}', {
      pathParameters: { subject: 'jobs' },
      query: { period: 'DAY', timezone: 'Mars/Olympus' },
    });

    expect(json(period)).toMatchObject({ status: 400, errors: [{ path: 'query.period' }] });
    expect(json(zone)).toMatchObject({ status: 400, errors: [{ path: 'query.timezone' }] });
  });
});

describe('search and column lineage, as Marquez’s clients ask', () => {
  it('sorts search by UPDATE_AT, Marquez’s spelling', async () => {
    await run('search-sort', 'zeta_report', {}, at(15, 0), at(15, 1));
    await run('search-sort', 'alpha_report', {}, at(16, 0), at(16, 1));

    const byUpdate = await ok('/api/v1/search', {
      query: { q: 'report', sort: 'UPDATE_AT', namespace: 'search-sort' },
    });

    expect((byUpdate.results as { name: string }[]).map((r) => r.name)).toEqual([
      'alpha_report',
      'zeta_report',
    ]);
  });

  it('counts column-lineage depth from a field as Marquez’s depth-limit test does', async () => {
    const ns = 'col-depth';
    const lineage = (field: string, inputs: { dataset: string; field: string }[]) => ({
      columnLineage: {
        fields: {
          [field]: { inputFields: inputs.map((i) => ({ namespace: ns, name: i.dataset, field: i.field })) },
        },
      },
    });
    await post(
      runEvent({
        runId: runId(),
        eventTime: at(17, 0),
        job: ref(ns, 'job1'),
        inputs: [ref(ns, 'dataset_a')],
        outputs: [
          {
            ...ref(ns, 'dataset_b'),
            facets: lineage('col_c', [
              { dataset: 'dataset_a', field: 'col_a' },
              { dataset: 'dataset_a', field: 'col_b' },
            ]),
          },
        ],
      }),
    );
    await post(
      runEvent({
        runId: runId(),
        eventTime: at(17, 5),
        job: ref(ns, 'job2'),
        inputs: [ref(ns, 'dataset_b')],
        outputs: [
          { ...ref(ns, 'dataset_c'), facets: lineage('col_d', [{ dataset: 'dataset_b', field: 'col_c' }]) },
        ],
      }),
    );

    const graph = await ok('/api/v1/column-lineage', {
      query: { nodeId: `datasetField:${ns}:dataset_c:col_d`, depth: '1', withDownstream: 'false' },
    });

    expect((graph.graph as { id: string }[]).map((node) => node.id).sort()).toEqual([
      `datasetField:${ns}:dataset_b:col_c`,
      `datasetField:${ns}:dataset_c:col_d`,
    ]);
  });
});

describe('ingestion, as lenient as Marquez', () => {
  it('accepts a run id that is not a UUID, and answers it under that id and its UUID', async () => {
    const job = ref('lenient', 'manual');
    await post(runEvent({ runId: 'manual__2024-05-01', eventType: 'START', eventTime: at(18, 0), job }));
    await post(
      runEvent({ runId: 'manual__2024-05-01', eventType: 'compleTe', eventTime: at(18, 5), job } as never),
    );

    // Java: UUID.nameUUIDFromBytes("manual__2024-05-01".getBytes()), Marquez's runToUuid.
    const uuid = 'd71dc922-ffef-31c7-8a58-1ee3b8d6e54e';
    expect(await get.run('manual__2024-05-01')).toMatchObject({ id: uuid, state: 'COMPLETED' });
    expect(await get.run(uuid)).toMatchObject({ id: uuid, state: 'COMPLETED' });
    expect((await get.runs('lenient', 'manual')).totalCount).toBe(1);
  });

  it('reads an eventType Marquez does not know (FAILED) as a transition that is not terminal', async () => {
    const id = runId();
    await post({
      ...runEvent({ runId: id, eventTime: at(19, 0), job: ref('lenient', 'odd') }),
      eventType: 'FAILED',
    });

    expect(await get.run(id)).toMatchObject({ state: 'RUNNING' });
  });

  it('reads a plain body sent with Content-Encoding: gzip as it is, and refuses a broken gzip body', async () => {
    const event = runEvent({ runId: runId(), eventTime: at(20, 0), job: ref('lenient', 'gzip') });
    const plain = await h.post(event, { headers: { 'content-encoding': 'gzip' } });
    const broken = await h.post(undefined, {
      raw: gzipSync(Buffer.from(JSON.stringify(event))).subarray(0, 20),
      headers: { 'content-encoding': 'gzip' },
    });

    expect(plain.statusCode).toBe(201);
    expect(json(broken)).toMatchObject({ status: 400, code: 'MALFORMED_BODY' });
  });
});
