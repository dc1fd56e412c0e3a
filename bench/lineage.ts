import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type EmbeddedControlPlane, startEmbeddedControlPlane } from '../lambdas/embedded.js';
import { DynamoLineageStore } from '../lib/adapters/dynamodb/lineage-store.js';
import { FileBlobStore } from '../lib/adapters/local/file-blob-store.js';
import type { DatasetRecord, JobRecord } from '../lib/domain/lineage/model.js';
import { datasetNodeId, type JobNodeId, jobNodeId } from '../lib/domain/lineage/node-id.js';
import { startControlPlaneProcess } from '../test/support/control-plane-process.js';
import { type Metric, percentile, registerBenchmark } from './benchmark.js';

// Graphs are made of identical components of ~200 nodes: a chain of 40 jobs, whose last dataset is read
// by a fan-out of 40 jobs, each of whose outputs is read by one job of a fan-in of 40 writing one sink
// (120 jobs, 82 datasets). 1k jobs = 9 components, 100k jobs = 834; the queried node is the fan-out
// source of one component, so depth 20 reaches 20 chain hops back and the whole fan-out/fan-in.

const perPart = 40;
const jobsPerComponent = 3 * perPart;
const queries = Number.parseInt(process.env.BENCH_LINEAGE_QUERIES ?? '', 10) || 200;
const ingestSeconds = Number.parseInt(process.env.BENCH_LINEAGE_INGEST_SECONDS ?? '', 10) || 10;
const clients = 8;

interface Component {
  jobs: JobRecord[];
  datasets: { dataset: DatasetRecord; writers: JobNodeId[]; readers: JobNodeId[] }[];
}

const at = '2024-01-01T00:00:00.000Z';

function component(index: number): Component {
  const ns = `bench-${index}`;
  const jobs: JobRecord[] = [];
  const datasets = new Map<string, { dataset: DatasetRecord; writers: JobNodeId[]; readers: JobNodeId[] }>();
  const dataset = (name: string) => {
    let entry = datasets.get(name);
    if (entry === undefined) {
      entry = {
        dataset: {
          namespace: ns,
          name,
          type: 'DB_TABLE',
          physicalName: name,
          sourceName: ns,
          createdAt: at,
          updatedAt: at,
          fields: [{ name: 'id', type: 'BIGINT', tags: [] }],
          tags: [],
          facets: {},
        },
        writers: [],
        readers: [],
      };
      datasets.set(name, entry);
    }
    return entry;
  };
  const job = (name: string, inputs: string[], outputs: string[]) => {
    const id = jobNodeId(ns, name);
    for (const input of inputs) dataset(input).readers.push(id);
    for (const output of outputs) dataset(output).writers.push(id);
    const refs = (names: string[]) => names.map((n) => ({ namespace: ns, name: n }));
    jobs.push({
      namespace: ns,
      name,
      type: 'BATCH',
      createdAt: at,
      updatedAt: at,
      facets: {},
      io: { current: { inputs: refs(inputs), outputs: refs(outputs) } },
    });
  };
  for (let n = 0; n < perPart; n++) job(`chain.${n}`, [`chain.d${n}`], [`chain.d${n + 1}`]);
  const source = `chain.d${perPart}`;
  for (let n = 0; n < perPart; n++) job(`fanout.${n}`, [source], [`fanout.d${n}`]);
  for (let n = 0; n < perPart; n++) job(`fanin.${n}`, [`fanout.d${n}`], ['fanin.sink']);
  return { jobs, datasets: [...datasets.values()] };
}

function sourceNode(index: number): string {
  return datasetNodeId(`bench-${index}`, `chain.d${perPart}`);
}

async function load(plane: EmbeddedControlPlane, jobCount: number): Promise<number> {
  const store = new DynamoLineageStore(plane.deps.table, new FileBlobStore('.bench/lineage-blobs'));
  const components = Math.ceil(jobCount / jobsPerComponent);
  const started = performance.now();
  const concurrency = 8;
  for (let start = 0; start < components; start += concurrency) {
    const batch = Array.from({ length: Math.min(concurrency, components - start) }, (_, k) =>
      component(start + k),
    );
    await Promise.all(batch.map((c) => store.importNodes(c)));
  }
  process.stderr.write(
    `  loaded ${components * jobsPerComponent} jobs in ${Math.round(performance.now() - started)} ms\n`,
  );
  return components;
}

async function measureQueries(
  plane: EmbeddedControlPlane,
  components: number,
  label: string,
): Promise<Metric[]> {
  const target = Math.floor(components / 2);
  const url = `${plane.url}/api/v1/lineage?nodeId=${encodeURIComponent(sourceNode(target))}&depth=20`;
  const first = await fetch(url);
  const body: unknown = await first.json();
  const nodes =
    typeof body === 'object' && body !== null && 'graph' in body && Array.isArray(body.graph)
      ? body.graph.length
      : 0;
  if (first.status !== 200 || nodes === 0) throw new Error(`lineage query failed: ${first.status}`);
  for (let n = 0; n < 20; n++) await (await fetch(url)).arrayBuffer();
  const requestsBefore = plane.deps.table.stats.requests;
  const timings: number[] = [];
  for (let n = 0; n < queries; n++) {
    const started = performance.now();
    const response = await fetch(url);
    await response.arrayBuffer();
    timings.push(performance.now() - started);
  }
  const requests = (plane.deps.table.stats.requests - requestsBefore) / queries;
  return [
    { name: `lineage.query.${label}.p50`, value: percentile(timings, 50), unit: 'ms' },
    { name: `lineage.query.${label}.p99`, value: percentile(timings, 99), unit: 'ms' },
    { name: `lineage.query.${label}.nodes`, value: nodes, unit: 'nodes' },
    { name: `lineage.query.${label}.dynamodb-requests`, value: requests, unit: 'requests/query' },
  ];
}

/** A typical event: a batch job reading two tables and writing one, with a schema on the output. */
function typicalEvent(client: number, n: number, eventType: 'START' | 'COMPLETE'): string {
  const ns = 'bench-ingest';
  const runId = `00000000-0000-4000-8${String(client).padStart(3, '0')}-${n.toString(16).padStart(12, '0')}`;
  return JSON.stringify({
    eventType,
    eventTime: new Date(Date.UTC(2024, 0, 1, 0, 0, n, eventType === 'START' ? 0 : 500)).toISOString(),
    producer: 'https://github.com/OpenLineage/OpenLineage/tree/1.0.0/client/python',
    schemaURL: 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent',
    run: { runId, facets: {} },
    job: { namespace: ns, name: `job-${client}-${n % 5}`, facets: {} },
    inputs: [
      { namespace: ns, name: `in-${client}-${n % 5}`, facets: {} },
      { namespace: ns, name: 'in-shared', facets: {} },
    ],
    outputs: [
      {
        namespace: ns,
        name: `out-${client}-${n % 5}`,
        facets: { schema: { _producer: 'bench', _schemaURL: 'x', fields: [{ name: 'id', type: 'BIGINT' }] } },
      },
    ],
  });
}

/** Posts typical events from `clients` concurrent HTTP clients for `seconds`; counts answers. */
async function drive(plane: { readonly url: string }, seconds: number, offset: number) {
  let events = 0;
  let failures = 0;
  const deadline = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      for (let n = offset; performance.now() < deadline; n++) {
        for (const eventType of ['START', 'COMPLETE'] as const) {
          const response = await fetch(`${plane.url}/api/v1/lineage`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: typicalEvent(client, n, eventType),
          });
          await response.arrayBuffer();
          if (response.status === 201) events++;
          else failures++;
        }
      }
    }),
  );
  return { events, failures };
}

async function measureIngestion(plane: EmbeddedControlPlane): Promise<Metric[]> {
  // Warm-up: first sight of the jobs, datasets and namespace (one-time writes), JIT, connections.
  await drive(plane, 2, 0);
  const stats = plane.deps.table.stats;
  const before = { ...stats };
  const started = performance.now();
  const { events, failures } = await drive(plane, ingestSeconds, 1_000_000);
  const seconds = (performance.now() - started) / 1000;
  return [
    { name: 'lineage.ingest.events-per-second', value: events / seconds, unit: 'events/s' },
    { name: 'lineage.ingest.failures', value: failures, unit: 'events' },
    {
      name: 'lineage.ingest.wcu-per-event',
      value: (stats.writeCapacityUnits - before.writeCapacityUnits) / events,
      unit: 'WCU',
    },
    {
      name: 'lineage.ingest.writes-per-event',
      value: (stats.itemsWritten - before.itemsWritten) / events,
      unit: 'items',
    },
    {
      name: 'lineage.ingest.requests-per-event',
      value: (stats.requests - before.requests) / events,
      unit: 'requests',
    },
    {
      name: 'lineage.ingest.rcu-per-event',
      value: (stats.readCapacityUnits - before.readCapacityUnits) / events,
      unit: 'RCU',
    },
  ];
}

/** Events/s against `npm start` in its own process (INFO request logs, data on disk), as users run it. */
async function measureIngestionOfProcess(): Promise<Metric[]> {
  const dataDir = mkdtempSync(join(tmpdir(), 'datakit-bench-lineage-'));
  const plane = await startControlPlaneProcess(dataDir);
  try {
    const target = { url: plane.url };
    await drive(target, 2, 0);
    const started = performance.now();
    const { events, failures } = await drive(target, ingestSeconds, 1_000_000);
    const seconds = (performance.now() - started) / 1000;
    return [
      { name: 'lineage.ingest.npm-start.events-per-second', value: events / seconds, unit: 'events/s' },
      { name: 'lineage.ingest.npm-start.failures', value: failures, unit: 'events' },
    ];
  } finally {
    await plane.stop('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function withPlane<T>(run: (plane: EmbeddedControlPlane) => Promise<T>): Promise<T> {
  const plane = await startEmbeddedControlPlane({ port: 0, logLevel: 'SILENT' });
  try {
    return await run(plane);
  } finally {
    await plane.close();
  }
}

registerBenchmark({
  name: 'lineage',
  description: 'Lineage: /api/v1/lineage depth 20 on 1k- and 100k-job graphs, ingestion with 8 HTTP clients',
  run: async () => {
    const metrics: Metric[] = [];
    const parts = process.env.BENCH_LINEAGE_PARTS ?? 'query,ingest';
    for (const [jobs, label] of parts.includes('query')
      ? ([
          [1_000, '1k'],
          [100_000, '100k'],
        ] as const)
      : []) {
      process.stderr.write(`  graph of ${label} jobs\n`);
      metrics.push(
        ...(await withPlane(async (plane) => measureQueries(plane, await load(plane, jobs), label))),
      );
    }
    const p50 = (label: string) => metrics.find((m) => m.name === `lineage.query.${label}.p50`)?.value;
    const [small, large] = [p50('1k'), p50('100k')];
    if (small !== undefined && large !== undefined) {
      metrics.push({ name: 'lineage.query.p50-ratio-100k-to-1k', value: large / small, unit: 'ratio' });
    }
    if (!parts.includes('ingest')) return metrics;
    process.stderr.write(`  ingestion: ${clients} clients for ${ingestSeconds} s\n`);
    metrics.push(...(await withPlane(measureIngestion)));
    process.stderr.write(`  ingestion against npm start: ${clients} clients for ${ingestSeconds} s\n`);
    metrics.push(...(await measureIngestionOfProcess()));
    return metrics;
  },
});
