import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { type EmbeddedControlPlane, startEmbeddedControlPlane } from '../lambdas/embedded.js';
import { packageHeadItem } from '../lib/adapters/dynamodb/package-heads.js';
import { type Metric, registerBenchmark } from './benchmark.js';

// A long run of the embedded control plane under mixed traffic, to see whether memory comes back:
// RSS of the process and the heap of the storage worker (after a full collection in each), before and
// after the run, and whether every LevelDB iterator was closed.

const requests = Number.parseInt(process.env.BENCH_SOAK_REQUESTS ?? '', 10) || 20_000;
const warmUp = 2_000;
const clients = 8;
const packages = 50;
const jobs = 50;
const namespace = 'soak';

/** One request of the mix, by its index: half lists, a quarter gets, 15 % /healthz, 10 % writes. */
function request(url: string, index: number): Promise<Response> {
  const n = index % packages;
  const slot = index % 20;
  const get = (path: string) => fetch(`${url}${path}`);
  if (slot < 10) {
    const lists = [
      '/v1/packages',
      '/v1/packages?limit=5',
      '/v1/registrations',
      '/v1/datasets',
      '/api/v1/namespaces',
      `/api/v1/namespaces/${namespace}/jobs`,
      `/api/v1/namespaces/${namespace}/jobs?limit=5`,
      `/api/v1/namespaces/${namespace}/datasets`,
      `/api/v1/namespaces/${namespace}/jobs/job-${n % jobs}/runs`,
      '/api/v1/search?q=job',
    ];
    return get(lists[slot] ?? '/v1/packages');
  }
  if (slot < 15) {
    const gets = [
      `/v1/packages/${namespace}/pkg-${n}`,
      `/api/v1/namespaces/${namespace}`,
      `/api/v1/namespaces/${namespace}/jobs/job-${n % jobs}`,
      `/api/v1/namespaces/${namespace}/datasets/out-${n % jobs}`,
      `/api/v1/lineage?nodeId=${encodeURIComponent(`job:${namespace}:job-${n % jobs}`)}&depth=2`,
    ];
    return get(gets[slot - 10] ?? '/healthz');
  }
  if (slot < 18) return get('/healthz');
  return fetch(`${url}/api/v1/lineage`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(lineageEvent(index)),
  });
}

function lineageEvent(index: number): Record<string, unknown> {
  const job = index % jobs;
  return {
    eventType: index % 2 === 0 ? 'START' : 'COMPLETE',
    eventTime: new Date(Date.UTC(2026, 0, 1) + index * 1000).toISOString(),
    producer: 'https://github.com/OpenLineage/OpenLineage/tree/1.0.0/client/python',
    schemaURL: 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent',
    run: {
      runId: `00000000-0000-4000-8000-${(Math.floor(index / 2) % 1_000_000).toString(16).padStart(12, '0')}`,
    },
    job: { namespace, name: `job-${job}` },
    inputs: [{ namespace, name: `in-${job}` }],
    outputs: [{ namespace, name: `out-${job}` }],
  };
}

/** Sends `count` requests from `clients` concurrent clients; returns the statuses that were not 2xx. */
async function drive(url: string, first: number, count: number): Promise<Map<string, number>> {
  const failures = new Map<string, number>();
  let next = first;
  const end = first + count;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < end) {
        const index = next++;
        const response = await request(url, index);
        await response.arrayBuffer();
        if (response.status >= 300) {
          const key = `${response.status} ${new URL(response.url).pathname}`;
          failures.set(key, (failures.get(key) ?? 0) + 1);
        }
      }
    }),
  );
  return failures;
}

/** V8's collector in this thread (the same trick the storage worker uses). */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  const gc: unknown = runInNewContext('gc');
  if (typeof gc === 'function') gc();
}

async function memory(plane: EmbeddedControlPlane): Promise<{ rss: number; workerHeap: number }> {
  collectGarbage();
  const stats = await plane.storage.stats({ collect: true });
  return { rss: process.memoryUsage().rss, workerHeap: stats.heapUsed };
}

const mb = (bytes: number) => bytes / 1024 / 1024;

registerBenchmark({
  name: 'soak',
  description: `${requests} mixed requests against the embedded control plane: RSS and storage worker heap before and after`,
  run: async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'datakit-bench-soak-'));
    const plane = await startEmbeddedControlPlane({ port: 0, dataDir, logLevel: 'SILENT' });
    try {
      for (let n = 0; n < packages; n++) {
        await plane.deps.table.put(
          packageHeadItem({
            namespace,
            name: `pkg-${n}`,
            kind: 'Transform',
            latestVersion: '0.1.0',
            labels: { team: 'soak' },
            versions: {},
            updatedAt: '2026-01-01T00:00:00.000Z',
            revision: 1,
          }),
        );
      }
      // Every job of the mix has run once, so the gets find their job, datasets and lineage.
      for (let job = 0; job < jobs; job++) {
        const response = await fetch(`${plane.url}/api/v1/lineage`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(lineageEvent(job)),
        });
        if (response.status !== 201) throw new Error(`seeding job ${job} answered ${response.status}`);
      }
      process.stderr.write(`warming up with ${warmUp} requests\n`);
      const warmUpFailures = await drive(plane.url, 0, warmUp);
      const before = await memory(plane);
      process.stderr.write(`soaking with ${requests} requests, ${clients} clients\n`);
      const started = performance.now();
      const failures = await drive(plane.url, warmUp, requests);
      const seconds = (performance.now() - started) / 1000;
      const after = await memory(plane);
      const { openIterators, restarts } = await plane.storage.stats();
      for (const [key, count] of [...warmUpFailures, ...failures])
        process.stderr.write(`not 2xx: ${key} ×${count}\n`);
      const failed = [...failures.values()].reduce((sum, count) => sum + count, 0);
      return [
        { name: 'soak.requests', value: requests, unit: 'requests' },
        { name: 'soak.requests-per-second', value: requests / seconds, unit: 'requests/s' },
        { name: 'soak.failures', value: failed, unit: 'requests' },
        { name: 'soak.rss.before', value: mb(before.rss), unit: 'MiB' },
        { name: 'soak.rss.after', value: mb(after.rss), unit: 'MiB' },
        { name: 'soak.worker-heap.before', value: mb(before.workerHeap), unit: 'MiB' },
        { name: 'soak.worker-heap.after', value: mb(after.workerHeap), unit: 'MiB' },
        { name: 'soak.worker.open-iterators', value: openIterators, unit: 'iterators' },
        { name: 'soak.worker.restarts', value: restarts, unit: 'restarts' },
      ] satisfies Metric[];
    } finally {
      await plane.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  },
});
