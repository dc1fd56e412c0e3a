import type { APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, type LineageHarness, runEvent, runId, startLineageHarness } from '../../support/lineage.js';

let h: LineageHarness;
beforeAll(async () => {
  h = await startLineageHarness();
});
afterAll(async () => {
  await h.close();
});

interface GraphNode {
  id: string;
  inEdges: { origin: string; destination: string }[];
  outEdges: { origin: string; destination: string }[];
}

function graphOf(response: APIGatewayProxyResult): GraphNode[] {
  const body = json(response);
  if (typeof body !== 'object' || body === null || !('graph' in body) || !Array.isArray(body.graph)) {
    throw new Error(`not a lineage graph: ${response.body}`);
  }
  return body.graph;
}

/** Runs one job to completion with the given IO. */
async function complete(namespace: string, name: string, inputs: string[], outputs: string[], at: string) {
  const response = await h.post(
    runEvent({
      runId: runId(),
      eventTime: at,
      job: { namespace, name },
      inputs: inputs.map((dataset) => ({ namespace, name: dataset })),
      outputs: outputs.map((dataset) => ({ namespace, name: dataset })),
    }),
  );
  expect(response.statusCode).toBe(201);
}

/**
 * Marquez's `/lineage` semantics written independently of the implementation: jobs within `depth` hops
 * (two jobs are adjacent when they share a dataset in any role), plus every dataset those jobs touch.
 */
function expectedLineage(
  jobs: ReadonlyMap<string, { inputs: string[]; outputs: string[] }>,
  startJob: string,
  depth: number,
): { jobs: Set<string>; datasets: Set<string> } {
  const touching = (dataset: string) =>
    [...jobs]
      .filter(([, io]) => io.inputs.includes(dataset) || io.outputs.includes(dataset))
      .map(([job]) => job);
  const reached = new Set([startJob]);
  let frontier = [startJob];
  for (let hop = 0; hop < depth; hop++) {
    const next: string[] = [];
    for (const job of frontier) {
      const io = jobs.get(job);
      for (const dataset of [...(io?.inputs ?? []), ...(io?.outputs ?? [])]) {
        for (const other of touching(dataset)) {
          if (!reached.has(other)) {
            reached.add(other);
            next.push(other);
          }
        }
      }
    }
    frontier = next;
  }
  const datasets = new Set(
    [...reached].flatMap((job) => [...(jobs.get(job)?.inputs ?? []), ...(jobs.get(job)?.outputs ?? [])]),
  );
  return { jobs: reached, datasets };
}

describe('GET /api/v1/lineage', () => {
  it('matches an independent BFS over a generated graph, for several nodes and depths', async () => {
    const ns = 'reads-random';
    // A seeded pseudo-random DAG: 30 jobs, each reading up to 2 earlier datasets and writing 1–2 new ones.
    let seed = 42;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const jobs = new Map<string, { inputs: string[]; outputs: string[] }>();
    const datasets: string[] = [];
    for (let n = 0; n < 30; n++) {
      const inputs =
        datasets.length === 0
          ? []
          : [...new Set([0, 1].map(() => datasets[Math.floor(random() * datasets.length)] ?? ''))].slice(
              0,
              1 + Math.floor(random() * 2),
            );
      const outputs = Array.from({ length: 1 + Math.floor(random() * 2) }, (_, k) => `d${n}_${k}`);
      datasets.push(...outputs);
      jobs.set(`j${n}`, { inputs, outputs });
    }
    await h.postBatch(
      [...jobs].map(([name, io]) =>
        runEvent({
          runId: runId(),
          eventTime: '2024-06-01T00:00:00Z',
          job: { namespace: ns, name },
          inputs: io.inputs.map((dataset) => ({ namespace: ns, name: dataset })),
          outputs: io.outputs.map((dataset) => ({ namespace: ns, name: dataset })),
        }),
      ),
    );

    for (const [start, depth] of [
      ['j0', 1],
      ['j5', 2],
      ['j17', 3],
      ['j29', 20],
    ] as const) {
      const graph = graphOf(
        await h.get('/api/v1/lineage', { query: { nodeId: `job:${ns}:${start}`, depth: String(depth) } }),
      );
      const expected = expectedLineage(jobs, start, depth);

      expect(
        new Set(
          graph
            .filter((node) => node.id.startsWith('job:'))
            .map((node) => node.id.slice(`job:${ns}:`.length)),
        ),
      ).toEqual(expected.jobs);
      expect(
        new Set(
          graph
            .filter((node) => node.id.startsWith('dataset:'))
            .map((node) => node.id.slice(`dataset:${ns}:`.length)),
        ),
      ).toEqual(expected.datasets);
      for (const node of graph.filter((n) => n.id.startsWith('job:'))) {
        const io = jobs.get(node.id.slice(`job:${ns}:`.length));
        expect(node.inEdges.map((edge) => edge.origin).sort()).toEqual(
          (io?.inputs ?? []).map((d) => `dataset:${ns}:${d}`).sort(),
        );
        expect(node.outEdges.map((edge) => edge.destination).sort()).toEqual(
          (io?.outputs ?? []).map((d) => `dataset:${ns}:${d}`).sort(),
        );
      }
    }
  });

  it('drops the edge of a dataset a job stopped reading once its next run completes', async () => {
    const ns = 'reads-stop';
    await complete(ns, 'etl', ['a', 'b'], ['out'], '2024-06-02T00:00:00Z');
    await complete(ns, 'b-consumer', ['b'], ['b2'], '2024-06-02T00:00:00Z');

    await complete(ns, 'etl', ['a'], ['out'], '2024-06-03T00:00:00Z');

    const graph = graphOf(await h.get('/api/v1/lineage', { query: { nodeId: `job:${ns}:etl` } }));
    expect(graph.map((node) => node.id).sort()).toEqual([
      `dataset:${ns}:a`,
      `dataset:${ns}:out`,
      `job:${ns}:etl`,
    ]);
    const fromB = graphOf(await h.get('/api/v1/lineage', { query: { nodeId: `dataset:${ns}:b` } }));
    expect(fromB.map((node) => node.id).sort()).toEqual([
      `dataset:${ns}:b`,
      `dataset:${ns}:b2`,
      `job:${ns}:b-consumer`,
    ]);
  });

  it('grows a streaming job’s edges while its run reports new IO, before any terminal event', async () => {
    const ns = 'reads-stream';
    const id = runId();
    const event = (at: string, topic: string) =>
      runEvent({
        runId: id,
        eventType: 'RUNNING',
        eventTime: at,
        job: {
          namespace: ns,
          name: 'consumer',
          facets: { jobType: { processingType: 'STREAMING', integration: 'FLINK', jobType: 'JOB' } },
        },
        inputs: [{ namespace: ns, name: topic }],
        outputs: [{ namespace: ns, name: 'sink' }],
      });
    await h.post(event('2024-06-04T00:00:00Z', 'topic-a'));
    await h.post(event('2024-06-04T00:01:00Z', 'topic-b'));

    const job = json(
      await h.get('/api/v1/namespaces/{namespace}/jobs/{job}', {
        pathParameters: { namespace: ns, job: 'consumer' },
      }),
    );
    expect(job).toMatchObject({
      type: 'STREAM',
      inputs: [{ name: 'topic-a' }, { name: 'topic-b' }],
      latestRun: { state: 'RUNNING' },
    });
  });

  it('answers 404 for an unknown node, 400 naming query.nodeId for a malformed one, 400 for a depth over 100', async () => {
    const unknown = await h.get('/api/v1/lineage', { query: { nodeId: 'job:nowhere:nothing' } });
    const malformed = await h.get('/api/v1/lineage', { query: { nodeId: 'table:x' } });
    const deep = await h.get('/api/v1/lineage', { query: { nodeId: 'job:a:b', depth: '101' } });

    expect([unknown.statusCode, malformed.statusCode, deep.statusCode]).toEqual([404, 400, 400]);
    expect(json(malformed)).toMatchObject({
      errors: [{ code: 'LINEAGE_NODE_ID_INVALID', path: 'query.nodeId' }],
    });
    expect(json(deep)).toMatchObject({ errors: [{ path: 'query.depth' }] });
  });

  it('reads namespaces that hold :// and a port from the node id', async () => {
    const ns = 'postgres://host:5432';
    await complete(ns, 'db.schema.job', ['db.schema.src'], ['db.schema.dst'], '2024-06-05T00:00:00Z');

    const graph = graphOf(
      await h.get('/api/v1/lineage', { query: { nodeId: `dataset:${ns}:db.schema.dst`, depth: '1' } }),
    );
    expect(graph.map((node) => node.id).sort()).toEqual([
      `dataset:${ns}:db.schema.dst`,
      `dataset:${ns}:db.schema.src`,
      `job:${ns}:db.schema.job`,
    ]);
    const namespace = json(
      await h.get('/api/v1/namespaces/{namespace}', { pathParameters: { namespace: ns } }),
    );
    expect(namespace).toMatchObject({ name: ns, isHidden: false });
  });
});

describe('parent runs, column lineage, search, events, the dk lineage view', () => {
  it('links a child run to its parent job and run', async () => {
    const parent = runId();
    const child = runId();
    await h.post(
      runEvent({
        runId: parent,
        eventType: 'START',
        eventTime: '2024-06-06T00:00:00Z',
        job: { namespace: 'reads-parent', name: 'dag' },
      }),
    );
    await h.post(
      runEvent({
        runId: child,
        eventType: 'START',
        eventTime: '2024-06-06T00:00:01Z',
        job: { namespace: 'reads-parent', name: 'dag.task' },
        runFacets: { parent: { run: { runId: parent }, job: { namespace: 'reads-parent', name: 'dag' } } },
      }),
    );

    const job = json(
      await h.get('/api/v1/namespaces/{namespace}/jobs/{job}', {
        pathParameters: { namespace: 'reads-parent', job: 'dag.task' },
      }),
    );
    expect(job).toMatchObject({ parentJobName: 'dag', simpleName: 'task' });
    expect((await h.deps.lineage.listChildRuns(parent)).map((run) => run.runId)).toEqual([child]);
  });

  it('answers column lineage upstream, and downstream on request', async () => {
    const ns = 'reads-columns';
    const lineage = (inputs: [string, string][]) => ({
      inputFields: inputs.map(([name, f]) => ({
        namespace: ns,
        name,
        field: f,
        transformations: [{ type: 'DIRECT', subtype: 'IDENTITY' }],
      })),
    });
    await h.post(
      runEvent({
        runId: runId(),
        eventTime: '2024-06-07T00:00:00Z',
        job: { namespace: ns, name: 'build' },
        inputs: [{ namespace: ns, name: 'raw' }],
        outputs: [
          {
            namespace: ns,
            name: 'clean',
            facets: {
              schema: {
                fields: [
                  { name: 'id', type: 'INT' },
                  { name: 'full_name', type: 'STRING' },
                ],
              },
              columnLineage: {
                fields: {
                  id: lineage([['raw', 'id']]),
                  full_name: lineage([
                    ['raw', 'first'],
                    ['raw', 'last'],
                  ]),
                },
              },
            },
          },
        ],
      }),
    );

    const upstream = graphOf(
      await h.get('/api/v1/column-lineage', { query: { nodeId: `datasetField:${ns}:clean:full_name` } }),
    );
    expect(upstream.map((node) => node.id).sort()).toEqual([
      `datasetField:${ns}:clean:full_name`,
      `datasetField:${ns}:raw:first`,
      `datasetField:${ns}:raw:last`,
    ]);
    const downstream = graphOf(
      await h.get('/api/v1/column-lineage', {
        query: { nodeId: `datasetField:${ns}:raw:id`, withDownstream: 'true' },
      }),
    );
    expect(downstream.map((node) => node.id).sort()).toEqual([
      `datasetField:${ns}:clean:id`,
      `datasetField:${ns}:raw:id`,
    ]);
    const ofDataset = json(
      await h.get('/api/v1/column-lineage', { query: { nodeId: `dataset:${ns}:clean` } }),
    );
    expect(ofDataset).toMatchObject({
      graph: expect.arrayContaining([
        expect.objectContaining({
          id: `datasetField:${ns}:clean:full_name`,
          data: expect.objectContaining({
            fieldType: 'STRING',
            inputFields: [
              expect.objectContaining({ field: 'first', transformationType: 'DIRECT' }),
              expect.objectContaining({ field: 'last' }),
            ],
          }),
        }),
      ]),
    });
  });

  it('finds jobs and datasets by a word prefix, with Marquez wildcards, filter and namespace', async () => {
    await complete(
      'reads-search',
      'food_delivery.etl',
      ['public.delivery_7_days'],
      ['public.orders'],
      '2024-06-08T00:00:00Z',
    );

    const all = json(await h.get('/api/v1/search', { query: { q: 'deliv' } }));
    const jobsOnly = json(await h.get('/api/v1/search', { query: { q: 'delivery_7', filter: 'job' } }));
    const datasets = json(
      await h.get('/api/v1/search', { query: { q: 'delivery%days', namespace: 'reads-search' } }),
    );

    expect(all).toMatchObject({
      totalCount: 2,
      results: [
        { type: 'JOB', name: 'food_delivery.etl', nodeId: 'job:reads-search:food_delivery.etl' },
        { type: 'DATASET', name: 'public.delivery_7_days' },
      ],
    });
    expect(jobsOnly).toEqual({ totalCount: 0, results: [] });
    expect(datasets).toMatchObject({ totalCount: 1, results: [{ name: 'public.delivery_7_days' }] });
  });

  it('pages raw events newest first with a cursor, and filters by before/after', async () => {
    for (const minute of ['01', '02', '03']) {
      await h.post(
        runEvent({
          runId: runId(),
          eventTime: `2001-01-01T00:${minute}:00Z`,
          job: { namespace: 'reads-events', name: minute },
        }),
      );
    }
    const window = { after: '2001-01-01T00:00:00Z', before: '2001-01-01T00:59:00Z' };

    const first = json(await h.get('/api/v1/events/lineage', { query: { ...window, limit: '2' } }));
    expect(first).toMatchObject({
      events: [{ job: { name: '03' } }, { job: { name: '02' } }],
      nextCursor: expect.any(String),
    });
    const cursor =
      typeof first === 'object' &&
      first !== null &&
      'nextCursor' in first &&
      typeof first.nextCursor === 'string'
        ? first.nextCursor
        : '';
    const second = json(await h.get('/api/v1/events/lineage', { query: { ...window, limit: '2', cursor } }));
    expect(second).toMatchObject({ events: [{ job: { name: '01' } }] });
    const ascending = json(
      await h.get('/api/v1/events/lineage', { query: { ...window, sortDirection: 'asc', limit: '1' } }),
    );
    expect(ascending).toMatchObject({ events: [{ job: { name: '01' } }] });
  });

  it('refuses dates outside years 0000–9999 and an after later than before with 400 naming the field', async () => {
    const refusals: [Record<string, string>, string][] = [
      [{ after: '+275760-09-13T00:00:00Z' }, 'query.after'],
      [{ after: '-000001-01-01T00:00:00Z' }, 'query.after'],
      [{ before: '+999999-01-01T00:00:00Z' }, 'query.before'],
      [{ before: '9999-12-31T23:00:00-05:00' }, 'query.before'],
      [{ after: 'yesterday' }, 'query.after'],
      [{ after: '2024-01-02T00:00:00Z', before: '2024-01-01T00:00:00Z' }, 'query.after'],
    ];
    for (const [query, path] of refusals) {
      const response = await h.get('/api/v1/events/lineage', { query });
      expect(response.statusCode, JSON.stringify(query)).toBe(400);
      expect(json(response)).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ path }] });
    }
  });

  it('accepts the first and last instants of the range, alone or together', async () => {
    for (const query of [
      { after: '9999-12-31T23:59:59.999Z' },
      { before: '0000-01-01T00:00:00Z' },
      { after: '0000-01-01T00:00:00Z', before: '9999-12-31T23:59:59.999Z' },
      { after: '2024-01-01T00:00:00Z', before: '2024-01-01T00:00:00Z' },
    ]) {
      const response = await h.get('/api/v1/events/lineage', { query });
      expect(response.statusCode, JSON.stringify(query)).toBe(200);
    }
  });

  it('reads a zone-less before/after as UTC, as event times are', async () => {
    await h.post(
      runEvent({
        runId: runId(),
        eventTime: '2002-02-02T10:00:00Z',
        job: { namespace: 'reads-utc', name: 'a' },
      }),
    );
    const window = { after: '2002-02-02T09:59:00', before: '2002-02-02T10:01:00' };
    // Far from UTC, so reading the window in local time would miss the event.
    const zone = process.env.TZ;
    process.env.TZ = 'Pacific/Kiritimati';
    const listed = await h.get('/api/v1/events/lineage', { query: window }).finally(() => {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    });

    expect(json(listed)).toMatchObject({ events: [{ job: { namespace: 'reads-utc', name: 'a' } }] });
  });

  it('serves the dk lineage view of a job: upstream and downstream by distance, and its last run', async () => {
    const ns = 'reads-view';
    await complete(ns, 'extract', ['source'], ['staged'], '2024-06-09T00:00:00Z');
    await complete(ns, 'transform', ['staged'], ['mart'], '2024-06-09T01:00:00Z');
    await complete(ns, 'report', ['mart'], ['dashboard'], '2024-06-09T02:00:00Z');

    const view = json(
      await h.get('/v1/lineage/{namespace}/{name}', {
        pathParameters: { namespace: ns, name: 'transform' },
        query: { depth: '1' },
      }),
    );
    const upstreamOnly = json(
      await h.get('/v1/lineage/{namespace}/{name}', {
        pathParameters: { namespace: ns, name: 'transform' },
        query: { direction: 'upstream' },
      }),
    );

    expect(view).toMatchObject({
      job: { namespace: ns, name: 'transform' },
      upstream: { datasets: [{ name: 'staged', distance: 1 }], jobs: [{ name: 'extract', distance: 1 }] },
      downstream: { datasets: [{ name: 'mart', distance: 1 }], jobs: [{ name: 'report', distance: 1 }] },
      lastRun: {
        status: 'COMPLETED',
        startedAt: null,
        finishedAt: '2024-06-09T01:00:00.000Z',
        durationMs: null,
      },
    });
    expect(upstreamOnly).toMatchObject({
      upstream: {
        datasets: [
          { name: 'staged', distance: 1 },
          { name: 'source', distance: 2 },
        ],
        jobs: [{ name: 'extract' }],
      },
      downstream: { datasets: [], jobs: [] },
    });
    expect(
      (await h.get('/v1/lineage/{namespace}/{name}', { pathParameters: { namespace: ns, name: 'nope' } }))
        .statusCode,
    ).toBe(404);
  });
});
