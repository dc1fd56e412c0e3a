import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as z from 'zod';
import { type EmbeddedControlPlane, startEmbeddedControlPlane } from '../lambdas/embedded.js';
import { DistributionClient } from '../lib/adapters/oci/distribution-client.js';
import { buildPackageArtifact, pushArtifact } from '../lib/adapters/oci/package-builder.js';
import { runLogsSchema, runSchema } from '../lib/contracts/api/runs.js';
import { fileDataSetManifest } from '../test/support/manifests.js';
import { startRegistry } from '../test/support/registry.js';
import { type Metric, median, percentile, registerBenchmark, tableStatsPer } from './benchmark.js';

/**
 * Runs in embedded mode (issue 8): `POST /v1/runs` of a deployed Transform whose program prints when its
 * process started and when it finished, then exits at once. What the run takes beyond the program's own
 * lifetime is the state machine's overhead (Prepare, the local runner, Complete). See bench/README.md.
 */

const namespace = 'bench';
const name = 'stamp';
const version = '1.0.0';
const marker = 'dk-bench-stamp';

/**
 * The Transform: one line on stdout, then exit. `performance.timeOrigin` is when Node started this process
 * (Unix ms, before Node's own bootstrap), `main` when the program's first line ran, `end` its last line.
 */
const program = `const main = Date.now();
console.log(JSON.stringify({ '${marker}': true, origin: performance.timeOrigin, main, end: Date.now() }));
`;

const stampSchema = z.object({ origin: z.number(), main: z.number(), end: z.number() });
type Stamp = z.infer<typeof stampSchema>;

const transform = `apiVersion: datakit.infoblox.dev/v1alpha1
kind: Transform
metadata:
  name: ${name}
  namespace: ${namespace}
  version: ${version}
spec:
  runtime: generic-python
  image: bench/stamp:${version}
  command: ["node", "main.js"]
  inputs:
    - dataset: seed
  outputs:
    - dataset: stamps
  trigger:
    policy: manual
  timeout: 1m
`;

/** One run as measured: client-side times (Date.now()), the run record's and the process's own. */
interface RunSample {
  readonly runId: string;
  /** Just before `POST /v1/runs` was sent. */
  readonly sent: number;
  /** When the 202 arrived. */
  readonly accepted: number;
  /** When `Run Succeeded` reached the bus: Complete's write and its effects (lineage, events) done. */
  readonly settled: number;
  readonly createdAt: number;
  readonly startedAt: number;
  readonly finishedAt: number;
  readonly stamp: Stamp;
}

const sequentialRuns = Number(process.env.BENCH_RUNS_SAMPLES ?? 40);
const warmUpRuns = 3;
const concurrent = 20;
const concurrentRounds = Number(process.env.BENCH_RUNS_CONCURRENT_ROUNDS ?? 3);

async function run(): Promise<Metric[]> {
  const dataDir = await mkdtemp(join(tmpdir(), 'datakit-bench-runs-'));
  const plane = await startEmbeddedControlPlane({ port: 0, logLevel: 'SILENT', dataDir });
  const registry = await startRegistry();
  const ended = new RunEnds();
  plane.bus.addRule('bench-run-ends', { 'detail-type': ['Run Succeeded', 'Run Failed'] }, async (event) => {
    ended.record(event.detail.runId, event['detail-type'], event.detail.error);
  });
  const api = apiOf(plane);
  try {
    await api('PUT', '/v1/cells/local/stores/files', 201, {
      apiVersion: 'datakit.infoblox.dev/v1alpha1',
      kind: 'Store',
      metadata: { name: 'files' },
      spec: { connector: 'file', connection: { path: join(dataDir, 'store-files') } },
    });
    const artifact = await buildPackageArtifact({
      'dk.yaml': transform,
      'dataset/seed.yaml': fileDataSetManifest(namespace, 'seed'),
      'dataset/stamps.yaml': fileDataSetManifest(namespace, 'stamps'),
      'main.js': program,
    });
    await pushArtifact(
      new DistributionClient({ timeoutMs: 10_000 }),
      { registry: registry.host, repository: `${namespace}/${name}` },
      version,
      artifact,
    );
    await api('POST', '/v1/registrations', 201, {
      reference: `${registry.host}/${namespace}/${name}:${version}`,
    });
    await api('POST', '/v1/promotions', 201, { namespace, name, version, env: 'dev', cell: 'local' });

    // The first run fetches and unpacks the content layer; the next ones find it on disk.
    const firstRun = await startAndWait(api, ended);
    for (let index = 1; index < warmUpRuns; index++) await startAndWait(api, ended);
    process.stderr.write(`runs: warm-up done, ${sequentialRuns} sequential runs\n`);

    const stats = plane.deps.table.stats;
    const before = { ...stats };
    const cpuBefore = process.cpuUsage();
    const pending: PendingRun[] = [];
    for (let index = 0; index < sequentialRuns; index++) pending.push(await startAndWait(api, ended));
    const cpu = process.cpuUsage(cpuBefore);
    const perRun = tableStatsPer(before, stats, sequentialRuns);
    const sequential = await Promise.all(pending.map((one) => describeRun(api, one)));
    const first = await describeRun(api, firstRun);

    const rounds: { wall: number; settledWall: number; samples: RunSample[] }[] = [];
    for (let round = 0; round < concurrentRounds; round++) {
      process.stderr.write(`runs: ${concurrent} concurrent runs, round ${round + 1}/${concurrentRounds}\n`);
      // Every POST is sent before the first answer arrives: 20 manual runs of one deployment at once.
      const started = await Promise.all(Array.from({ length: concurrent }, () => startRun(api, ended)));
      const settled = await Promise.all(started.map(async (one) => ({ ...one, settled: await one.settled })));
      const samples = await Promise.all(settled.map((one) => describeRun(api, one)));
      const firstSent = Math.min(...samples.map((sample) => sample.sent));
      rounds.push({
        wall: Math.max(...samples.map((sample) => sample.finishedAt)) - firstSent,
        settledWall: Math.max(...samples.map((sample) => sample.settled)) - firstSent,
        samples,
      });
    }
    const concurrentSamples = rounds.flatMap((round) => round.samples);

    return [
      ...distribution('runs.start-to-process', sequential.map(startToProcess)),
      ...distribution('runs.overhead', sequential.map(overhead)),
      {
        name: 'runs.overhead.after-process.p50',
        value: percentile(
          sequential.map((sample) => sample.finishedAt - sample.stamp.end),
          50,
        ),
        unit: 'ms',
      },
      ...distribution('runs.overhead-to-settled', sequential.map(settledOverhead)),
      ...distribution(
        'runs.api',
        sequential.map((sample) => sample.accepted - sample.sent),
      ),
      {
        name: 'runs.created-to-prepared.p50',
        value: percentile(
          sequential.map((sample) => sample.startedAt - sample.createdAt),
          50,
        ),
        unit: 'ms',
      },
      {
        name: 'runs.prepared-to-process.p50',
        value: percentile(
          sequential.map((sample) => sample.stamp.origin - sample.startedAt),
          50,
        ),
        unit: 'ms',
      },
      {
        name: 'runs.process.lifetime.p50',
        value: percentile(sequential.map(lifetime), 50),
        unit: 'ms',
      },
      {
        name: 'runs.process.node-bootstrap.p50',
        value: percentile(
          sequential.map((sample) => sample.stamp.main - sample.stamp.origin),
          50,
        ),
        unit: 'ms',
      },
      { name: 'runs.first-run.start-to-process', value: startToProcess(first), unit: 'ms' },
      { name: 'runs.first-run.overhead', value: overhead(first), unit: 'ms' },
      {
        name: `runs.concurrent-${concurrent}.wall`,
        value: median(rounds.map((round) => round.wall)),
        unit: 'ms',
      },
      {
        name: `runs.concurrent-${concurrent}.settled-wall`,
        value: median(rounds.map((round) => round.settledWall)),
        unit: 'ms',
      },
      ...distribution(`runs.concurrent-${concurrent}.overhead`, concurrentSamples.map(overhead)),
      ...distribution(
        `runs.concurrent-${concurrent}.start-to-process`,
        concurrentSamples.map(startToProcess),
      ),
      {
        name: `runs.concurrent-${concurrent}.process.lifetime.p50`,
        value: percentile(concurrentSamples.map(lifetime), 50),
        unit: 'ms',
      },
      {
        name: 'runs.control-plane-cpu',
        value: (cpu.user + cpu.system) / 1000 / sequentialRuns,
        unit: 'ms/run',
      },
      { name: 'runs.dynamodb.requests', value: perRun.requests, unit: 'requests/run' },
      { name: 'runs.dynamodb.items-read', value: perRun.itemsRead, unit: 'items/run' },
      { name: 'runs.dynamodb.items-written', value: perRun.itemsWritten, unit: 'items/run' },
      { name: 'runs.dynamodb.rcu', value: perRun.readCapacityUnits, unit: 'RCU/run' },
      { name: 'runs.dynamodb.wcu', value: perRun.writeCapacityUnits, unit: 'WCU/run' },
    ];
  } finally {
    await registry.stop();
    await plane.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** From `POST /v1/runs` sent to the Transform's process starting (Node's time origin). */
const startToProcess = (sample: RunSample) => sample.stamp.origin - sample.sent;
/** The process's own lifetime, as it reports it: its start to its last line. */
const lifetime = (sample: RunSample) => sample.stamp.end - sample.stamp.origin;
/** The run's wall time (request sent → `finishedAt` of the SUCCEEDED record) less the process's own. */
const overhead = (sample: RunSample) => sample.finishedAt - sample.sent - lifetime(sample);
/** The same up to `Run Succeeded` on the bus: Complete's effects included. */
const settledOverhead = (sample: RunSample) => sample.settled - sample.sent - lifetime(sample);

function distribution(name: string, values: readonly number[]): Metric[] {
  return [
    { name: `${name}.p50`, value: percentile(values, 50), unit: 'ms' },
    { name: `${name}.p99`, value: percentile(values, 99), unit: 'ms' },
  ];
}

type Api = (method: string, path: string, expected: number, body?: unknown) => Promise<unknown>;

function apiOf(plane: EmbeddedControlPlane): Api {
  return async (method, path, expected, body) => {
    const response = await fetch(`${plane.url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (response.status !== expected) {
      throw new Error(`${method} ${path} answered ${response.status} (expected ${expected}): ${text}`);
    }
    return text === '' ? undefined : JSON.parse(text);
  };
}

interface RunEnd {
  readonly at: number;
  readonly type: string;
  readonly error: unknown;
}

/** When each run's end reached the bus (Date.now()), awaited by run id. */
class RunEnds {
  private readonly waiting = new Map<string, (end: RunEnd) => void>();
  private readonly seen = new Map<string, RunEnd>();

  record(runId: unknown, type: string, error: unknown): void {
    if (typeof runId !== 'string') return;
    const end = { at: Date.now(), type, error };
    const waiter = this.waiting.get(runId);
    if (waiter === undefined) this.seen.set(runId, end);
    else waiter(end);
  }

  async of(runId: string): Promise<number> {
    const end =
      this.seen.get(runId) ??
      (await new Promise<RunEnd>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`run ${runId} did not end within 60 s`)), 60_000);
        this.waiting.set(runId, (value) => {
          clearTimeout(timer);
          resolve(value);
        });
      }));
    this.seen.delete(runId);
    this.waiting.delete(runId);
    if (end.type !== 'Run Succeeded') {
      throw new Error(`run ${runId} ended with ${end.type}: ${JSON.stringify(end.error)}`);
    }
    return end.at;
  }
}

interface PendingRun {
  readonly runId: string;
  readonly sent: number;
  readonly accepted: number;
  readonly settled: number;
}

async function startRun(
  api: Api,
  ended: RunEnds,
): Promise<Omit<PendingRun, 'settled'> & { settled: Promise<number> }> {
  const sent = Date.now();
  const { runId } = runSchema.parse(await api('POST', '/v1/runs', 202, { namespace, name, cell: 'local' }));
  const accepted = Date.now();
  return { runId, sent, accepted, settled: ended.of(runId) };
}

async function startAndWait(api: Api, ended: RunEnds): Promise<PendingRun> {
  const started = await startRun(api, ended);
  return { ...started, settled: await started.settled };
}

/** Reads the run record and the stamp the process printed (through the logs API), after the fact. */
async function describeRun(api: Api, pending: PendingRun): Promise<RunSample> {
  const record = runSchema.parse(await api('GET', `/v1/runs/${pending.runId}`, 200));
  if (record.status !== 'SUCCEEDED' || record.startedAt === undefined || record.finishedAt === undefined) {
    throw new Error(`run ${pending.runId} is ${record.status}: ${JSON.stringify(record.error)}`);
  }
  const logs = runLogsSchema.parse(await api('GET', `/v1/runs/${pending.runId}/logs?limit=50`, 200));
  const line = logs.lines.find((entry) => entry.stream === 'stdout' && entry.message.includes(marker));
  if (line === undefined) throw new Error(`run ${pending.runId} printed no stamp: ${JSON.stringify(logs)}`);
  return {
    ...pending,
    createdAt: Date.parse(record.createdAt),
    startedAt: Date.parse(record.startedAt),
    finishedAt: Date.parse(record.finishedAt),
    stamp: stampSchema.parse(JSON.parse(line.message)),
  };
}

registerBenchmark({
  name: 'runs',
  description:
    'embedded mode: POST /v1/runs → process started, the state machine overhead per run, 20 concurrent runs, DynamoDB requests per run',
  run,
});
