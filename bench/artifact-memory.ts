import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DistributionClient } from '../lib/adapters/oci/distribution-client.js';
import { defaultPackageArtifactLimits } from '../lib/domain/registry/artifact.js';
import { freePort } from '../test/support/control-plane-process.js';
import {
  buildDkArtifact,
  hostileContentLayers,
  pushArtifact,
  streamedTarGz,
} from '../test/support/dk-artifact.js';
import { startRegistry } from '../test/support/registry.js';
import { type Metric, registerBenchmark } from './benchmark.js';

const MiB = 1024 * 1024;
/** Registrations started at once per scenario, as a worker handling several pushes does. */
const concurrent = 4;

interface Scenario {
  readonly name: string;
  readonly description: string;
  /** The content layer; `undefined` keeps the package's own. */
  readonly contentLayer: () => Promise<Buffer | undefined>;
}

function transform(name: string, version: string): Record<string, string> {
  return {
    'dk.yaml': `apiVersion: datakit.infoblox.dev/v1alpha1
kind: Transform
metadata: { name: ${name}, namespace: sales, version: ${version}, labels: { team: sales-data } }
spec:
  runtime: generic-python
  image: team/${name}:${version}
  inputs: [{ dataset: raw-orders }]
  outputs: [{ dataset: daily-orders }]
  trigger: { policy: on-change }
  timeout: 10m
`,
    'dataset/daily-orders.yaml': `apiVersion: datakit.infoblox.dev/v1alpha1
kind: DataSet
metadata: { name: daily-orders, namespace: sales }
spec:
  store: warehouse
  table: sales.daily_orders
  classification: internal
  schema: [{ name: order_id, type: string }, { name: amount, type: decimal }]
`,
    'src/main.py': 'print("orders")\n'.repeat(200),
  };
}

/** Incompressible bytes up to the compressed layer limit: what the compressed blob alone costs. */
function incompressibleAtLayerLimit(): Scenario {
  const size = defaultPackageArtifactLimits.maxLayerBytes - MiB;
  return {
    name: 'incompressible-at-layer-limit',
    description: `${size / MiB} MiB of random bytes in 8 MiB files: the largest layer the defaults fetch`,
    contentLayer: () =>
      streamedTarGz(
        Array.from({ length: Math.ceil(size / (8 * MiB)) }, (_, index) => ({
          name: `tests/fixtures/random-${index}.bin`,
          contents: randomBytes(Math.min(8 * MiB, size - index * 8 * MiB)),
        })),
      ),
  };
}

const scenarios: readonly Scenario[] = [
  {
    name: 'typical',
    description: 'a Transform, a DataSet and some source',
    contentLayer: async () => undefined,
  },
  ...hostileContentLayers.map((layer) => ({
    name: layer.name,
    description: layer.description,
    contentLayer: () => layer.build(),
  })),
  incompressibleAtLayerLimit(),
];

/** The embedded control plane in its own process, so its peak RSS is the registrations' alone. */
interface PlaneProcess {
  readonly url: string;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

async function startPlane(dataDir: string): Promise<PlaneProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'bin/local.ts'], {
    cwd: process.cwd(),
    env: { ...process.env, PORT: String(port), DATAKIT_DATA_DIR: dataDir, LOG_LEVEL: 'SILENT' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the control plane exited early (${child.exitCode})`);
    const healthy = await fetch(`${url}/healthz`).then(
      async (response) => {
        await response.body?.cancel();
        return response.ok;
      },
      () => false,
    );
    if (healthy) return { url, child, stop };
    if (Date.now() > deadline) {
      await stop();
      throw new Error('the control plane did not answer /healthz within 60 s');
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** `VmRSS` or `VmHWM` (peak resident set since the last reset) of a process, in bytes. */
function residentBytes(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((candidate) => candidate.startsWith(`${field}:`));
  const kib = Number(line?.split(/\s+/)[1]);
  if (!Number.isFinite(kib)) throw new Error(`no ${field} for process ${pid}`);
  return kib * 1024;
}

interface Outcome {
  readonly status: number;
  readonly codes: readonly string[];
}

async function register(url: string, reference: string): Promise<Outcome> {
  const response = await fetch(`${url}/v1/registrations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ reference }),
  });
  const body: unknown = await response.json().catch(() => undefined);
  const problems =
    typeof body === 'object' && body !== null && 'problems' in body && Array.isArray(body.problems)
      ? body.problems
      : [];
  const codes = problems.flatMap((problem: unknown) =>
    typeof problem === 'object' && problem !== null && 'code' in problem && typeof problem.code === 'string'
      ? [problem.code]
      : [],
  );
  return { status: response.status, codes: [...new Set(codes)] };
}

async function measure(
  registryHost: string,
  client: DistributionClient,
  scenario: Scenario,
): Promise<Metric[]> {
  const contentLayer = await scenario.contentLayer();
  const push = async (name: string, version: string, layer: Buffer | undefined) => {
    const repository = { registry: registryHost, repository: `sales/${name}` };
    const artifact = await buildDkArtifact(
      transform(name, version),
      {},
      layer === undefined ? {} : { contentLayer: layer },
    );
    const pushed = await pushArtifact(client, repository, version, artifact);
    return `${registryHost}/${repository.repository}@${pushed.digest}`;
  };
  const warmUp = await push(`warm-up-${scenario.name}`, '0.0.1', undefined);
  const references: string[] = [];
  for (let index = 0; index < concurrent; index++) {
    references.push(await push(scenario.name, `1.0.${index}`, contentLayer));
  }

  const dataDir = await mkdtemp(join(tmpdir(), 'dk-bench-memory-'));
  const plane = await startPlane(dataDir);
  try {
    const pid = plane.child.pid;
    if (pid === undefined) throw new Error('the control plane has no pid');
    // One registration first, so that code loading and JIT are not counted as the scenario's cost.
    await register(plane.url, warmUp);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const baseline = residentBytes(pid, 'VmRSS');
    writeFileSync(`/proc/${pid}/clear_refs`, '5'); // resets VmHWM to the current RSS
    const started = performance.now();
    const outcomes = await Promise.all(references.map((reference) => register(plane.url, reference)));
    const elapsed = performance.now() - started;
    const peak = residentBytes(pid, 'VmHWM');
    const summary = outcomes.map((outcome) => `${outcome.status} ${outcome.codes.join(',') || '-'}`);
    process.stderr.write(
      `  ${scenario.name}: ${scenario.description}\n    layer ${contentLayer?.length ?? 'default'} bytes compressed; ` +
        `baseline RSS ${(baseline / MiB).toFixed(1)} MiB, peak ${(peak / MiB).toFixed(1)} MiB; ${summary.join(' | ')}\n`,
    );
    const delta = Math.max(0, peak - baseline) / MiB;
    const prefix = `artifact-memory.${scenario.name}`;
    return [
      { name: `${prefix}.peak-rss-delta`, value: delta, unit: `MiB/${concurrent}-registrations` },
      { name: `${prefix}.peak-rss-delta-per-registration`, value: delta / concurrent, unit: 'MiB' },
      { name: `${prefix}.elapsed`, value: elapsed, unit: 'ms' },
      {
        name: `${prefix}.registered`,
        value: outcomes.filter((outcome) => outcome.status === 201).length,
        unit: `of ${concurrent}`,
      },
    ];
  } finally {
    await plane.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function run(): Promise<Metric[]> {
  const registry = await startRegistry();
  const client = new DistributionClient({ timeoutMs: 60_000 });
  const only = process.env.BENCH_ARTIFACT_MEMORY_SCENARIOS?.split(',');
  try {
    const metrics: Metric[] = [];
    for (const scenario of scenarios) {
      if (only !== undefined && !only.includes(scenario.name)) continue;
      metrics.push(...(await measure(registry.host, client, scenario)));
    }
    return metrics;
  } finally {
    await registry.stop();
  }
}

registerBenchmark({
  name: 'artifact-memory',
  description: `peak RSS of ${concurrent} concurrent registrations of hostile content layers (gzip bombs, many entries)`,
  run,
});
