import { startEmbeddedControlPlane } from '../lambdas/embedded.js';
import { DistributionClient, ociManifestMediaType } from '../lib/adapters/oci/distribution-client.js';
import { type BuiltArtifact, buildPackageArtifact } from '../lib/adapters/oci/package-builder.js';
import { startRegistry } from '../test/support/registry.js';
import { type Metric, percentile, registerBenchmark, tableStatsPer } from './benchmark.js';

/** A typical package: a Transform, two DataSet contracts, a connector and some source. */
function typicalPackage(version: string, name = 'orders-daily'): Record<string, string> {
  return {
    'dk.yaml': `apiVersion: datakit.infoblox.dev/v1alpha1
kind: Transform
metadata:
  name: ${name}
  namespace: sales
  version: ${version}
  labels: { team: sales-data }
spec:
  runtime: generic-python
  image: team/orders-daily:${version}
  inputs: [{ dataset: raw-orders }]
  outputs: [{ dataset: daily-orders }]
  trigger: { policy: on-change }
  timeout: 10m
`,
    'dataset/raw-orders.yaml': dataset('raw-orders', 'topic: orders.raw'),
    'dataset/daily-orders.yaml': dataset('daily-orders', 'table: sales.daily_orders'),
    'connector/postgres.yaml': `apiVersion: datakit.infoblox.dev/v1alpha1
kind: Connector
metadata: { name: postgres }
spec: { type: postgres, capabilities: [source, destination] }
`,
    'src/main.py': `${'print("orders")\n'.repeat(200)}`,
    'schemas/daily-orders.json': '{"type":"object"}\n',
  };
}

function dataset(name: string, location: string): string {
  return `apiVersion: datakit.infoblox.dev/v1alpha1
kind: DataSet
metadata: { name: ${name}, namespace: sales }
spec:
  store: warehouse
  ${location}
  classification: internal
  schema:
    - { name: order_id, type: string }
    - { name: amount, type: decimal }
`;
}

const samples = 40;
const concurrentPushers = 8;
const perPusher = 10;

async function run(): Promise<Metric[]> {
  const plane = await startEmbeddedControlPlane({ port: 0, logLevel: 'SILENT' });
  const notified = await startRegistry({ notifications: { url: `${plane.url}/local/registry-events` } });
  const quiet = await startRegistry();
  const client = new DistributionClient({ timeoutMs: 10_000 });
  const stats = plane.deps.table.stats;
  try {
    // 1. Push → webhook → visible: blobs first, then time from the manifest PUT to the API showing the version.
    const latencies: number[] = [];
    for (let index = 0; index < samples; index++) {
      const version = `1.0.${index}`;
      const artifact = await buildPackageArtifact(typicalPackage(version));
      const repository = { registry: notified.host, repository: 'sales/orders-daily' };
      for (const blob of artifact.blobs) await client.putBlob(repository, blob);
      const started = performance.now();
      await client.putManifest({ ...repository, tag: version }, artifact.manifest, ociManifestMediaType);
      for (;;) {
        const response = await fetch(`${plane.url}/v1/packages/sales/orders-daily/versions/${version}`);
        await response.body?.cancel();
        if (response.status === 200) break;
        if (performance.now() - started > 10_000) throw new Error(`version ${version} never became visible`);
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      latencies.push(performance.now() - started);
    }

    // 2. Explicit registration calls: latency, and what each one costs DynamoDB.
    const apiLatencies: number[] = [];
    const before = { ...stats };
    for (let index = 0; index < samples; index++) {
      const reference = await pushQuiet(
        client,
        quiet.host,
        `2.0.${index}`,
        await buildPackageArtifact(typicalPackage(`2.0.${index}`)),
      );
      const started = performance.now();
      const response = await register(plane.url, reference);
      apiLatencies.push(performance.now() - started);
      if (response !== 201) throw new Error(`registration answered ${response}`);
    }
    const perRegistration = tableStatsPer(before, stats, samples);

    // 3. Throughput: 8 pushers registering concurrently, artifacts pushed beforehand. As 8 CI pipelines
    // (one package each), and as 8 pipelines publishing versions of one package (contention on its head).
    const throughput = await measureThroughput(
      plane.url,
      client,
      quiet.host,
      (pusher) => `orders-daily-${pusher}`,
      '3',
    );
    const sameThroughput = await measureThroughput(plane.url, client, quiet.host, () => 'orders-daily', '4');

    // 4. Reads: DynamoDB requests for one package and one version.
    const readsOf = async (path: string) => {
      const start = stats.requests;
      const response = await fetch(`${plane.url}${path}`);
      if (response.status !== 200) throw new Error(`${path} answered ${response.status}`);
      await response.body?.cancel();
      return stats.requests - start;
    };
    const packageRequests = await readsOf('/v1/packages/sales/orders-daily');
    const versionRequests = await readsOf('/v1/packages/sales/orders-daily/versions/2.0.3');

    return [
      { name: 'registration.push-to-visible.p50', value: percentile(latencies, 50), unit: 'ms' },
      { name: 'registration.push-to-visible.p99', value: percentile(latencies, 99), unit: 'ms' },
      { name: 'registration.api.p50', value: percentile(apiLatencies, 50), unit: 'ms' },
      { name: 'registration.api.p99', value: percentile(apiLatencies, 99), unit: 'ms' },
      { name: 'registration.throughput.8-pushers', value: throughput, unit: 'registrations/s' },
      {
        name: 'registration.throughput.8-pushers.same-package',
        value: sameThroughput,
        unit: 'registrations/s',
      },
      {
        name: 'registration.dynamodb.items-written',
        value: perRegistration.itemsWritten,
        unit: 'items/registration',
      },
      {
        name: 'registration.dynamodb.wcu',
        value: perRegistration.writeCapacityUnits,
        unit: 'WCU/registration',
      },
      {
        name: 'registration.dynamodb.rcu',
        value: perRegistration.readCapacityUnits,
        unit: 'RCU/registration',
      },
      {
        name: 'registration.dynamodb.requests',
        value: perRegistration.requests,
        unit: 'requests/registration',
      },
      { name: 'read.package.dynamodb-requests', value: packageRequests, unit: 'requests' },
      { name: 'read.version.dynamodb-requests', value: versionRequests, unit: 'requests' },
    ];
  } finally {
    await notified.stop();
    await quiet.stop();
    await plane.close();
  }
}

/** Registrations/s of `concurrentPushers` pushers each registering `perPusher` pre-pushed versions. */
async function measureThroughput(
  url: string,
  client: DistributionClient,
  host: string,
  packageOf: (pusher: number) => string,
  major: string,
): Promise<number> {
  const references: string[][] = [];
  for (let pusher = 0; pusher < concurrentPushers; pusher++) {
    const mine: string[] = [];
    for (let index = 0; index < perPusher; index++) {
      const version = `${major}.${pusher}.${index}`;
      const name = packageOf(pusher);
      mine.push(
        await pushQuiet(
          client,
          host,
          version,
          await buildPackageArtifact(typicalPackage(version, name)),
          name,
        ),
      );
    }
    references.push(mine);
  }
  const started = performance.now();
  await Promise.all(
    references.map(async (mine) => {
      for (const reference of mine) {
        const status = await register(url, reference);
        if (status !== 201) throw new Error(`registration answered ${status}`);
      }
    }),
  );
  return (concurrentPushers * perPusher) / ((performance.now() - started) / 1000);
}

async function pushQuiet(
  client: DistributionClient,
  host: string,
  version: string,
  artifact: BuiltArtifact,
  name = 'orders-daily',
): Promise<string> {
  const repository = { registry: host, repository: `sales/${name}` };
  for (const blob of artifact.blobs) await client.putBlob(repository, blob);
  await client.putManifest({ ...repository, tag: version }, artifact.manifest, ociManifestMediaType);
  return `${host}/${repository.repository}:${version}`;
}

async function register(url: string, reference: string): Promise<number> {
  const response = await fetch(`${url}/v1/registrations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ reference }),
  });
  await response.body?.cancel();
  return response.status;
}

registerBenchmark({
  name: 'registration',
  description:
    'embedded mode: push-to-visible latency, registrations/s with 8 pushers, DynamoDB cost per registration and read',
  run,
});
