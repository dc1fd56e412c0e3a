import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../../../lib/adapters/dynamodb/keys.js';
import { DynamoRegistry } from '../../../lib/adapters/dynamodb/registry-store.js';
import type { SingleTable } from '../../../lib/adapters/dynamodb/single-table.js';
import { DistributionClient } from '../../../lib/adapters/oci/distribution-client.js';
import { packageDetailSchema } from '../../../lib/contracts/api/packages.js';
import type { PackageHead } from '../../../lib/domain/registry/model.js';
import type { DomainEvent, EventPublisher } from '../../../lib/ports/event-publisher.js';
import type { RegistryStore } from '../../../lib/ports/registry-store.js';
import {
  type ArtifactVariation,
  hostileContentLayer,
  pushDkArtifact,
  tarGz,
} from '../../support/dk-artifact.js';
import { startRegistry, type TestRegistry } from '../../support/registry.js';
import { type RegistryPlane, startRegistryPlane } from '../../support/registry-plane.js';

const transformYaml = (version = '1.2.0', extra = '') => `apiVersion: datakit.infoblox.dev/v1alpha1
kind: Transform
metadata:
  name: orders-daily
  namespace: sales
  version: ${version}
  labels:
    team: sales-data
spec:
  runtime: cloudquery
  inputs:
    - dataset: raw-orders
  outputs:
    - dataset: daily-orders
${extra}`;

const datasetYaml = (classification = 'internal', pii = false) => `apiVersion: datakit.infoblox.dev/v1alpha1
kind: DataSet
metadata:
  name: daily-orders
  namespace: sales
  version: 2.0.0
spec:
  store: warehouse
  table: sales.daily_orders
  format: parquet
  classification: ${classification}
  schema:
    - name: order_id
      type: string
    - name: email
      type: string
      pii: ${pii}
`;

const connectorYaml = `apiVersion: datakit.infoblox.dev/v1alpha1
kind: Connector
metadata:
  name: postgres
spec:
  type: postgres
  capabilities: [source, destination]
`;

const storeYaml = 'this: [is not even valid for a Store: and must be ignored\n';

const files = (version = '1.2.0'): Record<string, string> => ({
  'dk.yaml': transformYaml(version),
  'dataset/daily-orders.yaml': datasetYaml(),
  'connector/postgres.yaml': connectorYaml,
  'store/local.yaml': storeYaml,
  'src/main.py': 'print("hi")\n',
});

let registry: TestRegistry;
let plane: RegistryPlane;
const client = new DistributionClient({ timeoutMs: 10_000 });
let counter = 0;

/** Pushes to a fresh repository (or the given one) and returns the tag reference string. */
async function push(
  packageFiles: Record<string, string | Buffer>,
  options: { tag?: string; repository?: string; variation?: ArtifactVariation } = {},
): Promise<{ reference: string; digest: string }> {
  counter += 1;
  const repository = { registry: registry.host, repository: options.repository ?? `sales/orders-${counter}` };
  const tag = options.tag ?? '1.2.0';
  const pushed = await pushDkArtifact(client, repository, tag, packageFiles, options.variation);
  return { reference: `${registry.host}/${repository.repository}:${tag}`, digest: pushed.digest };
}

type Json = Record<string, unknown>;
const record = (body: unknown): Json => body as Json;

beforeAll(async () => {
  registry = await startRegistry();
});
afterAll(async () => {
  await registry?.stop();
});

describe('registering a valid package', () => {
  let result: Awaited<ReturnType<RegistryPlane['register']>>;
  let digest: string;

  beforeAll(async () => {
    plane = await startRegistryPlane();
    const pushed = await push(files());
    digest = pushed.digest;
    result = await plane.register(pushed.reference);
  });
  afterAll(async () => plane.close());

  it('answers 201 with a registered record naming the version and its digest', () => {
    expect(result.status).toBe(201);
    expect(result.body).toMatchObject({
      status: 'registered',
      source: 'api',
      namespace: 'sales',
      name: 'orders-daily',
      version: '1.2.0',
      kind: 'Transform',
      digest,
      tag: '1.2.0',
      problems: [],
    });
    expect(record(result.body).warnings).toEqual([
      expect.objectContaining({ code: 'W209', path: 'dk.yaml:spec.trigger' }),
    ]);
  });

  it('shows the version with manifests, DataSets, connectors, lint and build info', async () => {
    const response = await plane.get('/v1/packages/sales/orders-daily/versions/1.2.0');

    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      namespace: 'sales',
      name: 'orders-daily',
      version: '1.2.0',
      kind: 'Transform',
      digest,
      repository: expect.stringMatching(/^127\.0\.0\.1:\d+\/sales\/orders-\d+$/),
      registeredAt: expect.any(String),
      manifest: { kind: 'Transform', metadata: { name: 'orders-daily' } },
      datasets: [{ kind: 'DataSet', metadata: { name: 'daily-orders' } }],
      connectors: [{ kind: 'Connector', metadata: { name: 'postgres' } }],
      inputs: [{ namespace: 'sales', name: 'raw-orders' }],
      outputs: [{ namespace: 'sales', name: 'daily-orders' }],
      lint: { errors: [], warnings: [expect.objectContaining({ code: 'W209' })] },
      buildInfo: { builder: 'dk/0.9.0' },
    });
  });

  it('lists the package with its versions', async () => {
    const list = await plane.get('/v1/packages?namespace=sales');
    const detail = await plane.get('/v1/packages/sales/orders-daily');

    expect(record(list.body).items).toEqual([
      expect.objectContaining({ name: 'orders-daily', latestVersion: '1.2.0' }),
    ]);
    expect(detail.body).toMatchObject({
      labels: { team: 'sales-data' },
      versions: [{ version: '1.2.0', digest }],
    });
  });

  it('shows the declared DataSet with its contract and producer, and the referenced input as undeclared', async () => {
    const dataset = await plane.get('/v1/datasets/sales/daily-orders');
    const list = await plane.get('/v1/datasets?namespace=sales');

    expect(dataset.body).toMatchObject({
      declared: true,
      store: 'warehouse',
      location: { table: 'sales.daily_orders' },
      format: 'parquet',
      classification: 'internal',
      version: '2.0.0',
      schema: [{ name: 'order_id' }, { name: 'email' }],
      producers: [{ namespace: 'sales', name: 'orders-daily', version: '1.2.0' }],
      consumers: [],
    });
    expect(record(list.body).items).toEqual([
      expect.objectContaining({ name: 'daily-orders', declared: true }),
      expect.objectContaining({
        name: 'raw-orders',
        declared: false,
        consumers: [expect.objectContaining({ name: 'orders-daily' })],
      }),
    ]);
  });

  it('draws the pipeline edges in json, mermaid and dot', async () => {
    const json = await plane.get('/v1/pipeline');
    const mermaid = await plane.get('/v1/pipeline?format=mermaid');
    const dot = await plane.get('/v1/pipeline?format=dot&destination=sales/daily-orders');

    expect(record(json.body).edges).toEqual([
      { from: 'dataset:sales/raw-orders', to: 'transform:sales/orders-daily' },
      { from: 'transform:sales/orders-daily', to: 'dataset:sales/daily-orders' },
    ]);
    expect(mermaid.contentType).toBe('text/vnd.mermaid');
    expect(mermaid.text).toContain('graph LR');
    expect(dot.text).toContain('"transform:sales/orders-daily" -> "dataset:sales/daily-orders";');
  });

  it('publishes Package Version Registered and audits the registration', async () => {
    const events = plane.bus
      .events()
      .filter((event) => event['detail-type'] === 'Package Version Registered');
    const audit = await plane.table.table.queryAll({
      index: 'GSI3',
      partition: keys.auditIndex.ofTarget('package:sales/orders-daily'),
    });

    expect(events.map((event) => event.detail)).toEqual([
      expect.objectContaining({
        namespace: 'sales',
        name: 'orders-daily',
        version: '1.2.0',
        digest,
        datasets: [{ namespace: 'sales', name: 'daily-orders' }],
      }),
    ]);
    // The request's one record, with what registration recorded on its way.
    expect(audit).toEqual([
      expect.objectContaining({
        action: 'package.register',
        outcome: 'succeeded',
        namespace: 'sales',
        effects: [expect.objectContaining({ action: 'package.version.registered' })],
      }),
    ]);
  });
});

describe('idempotency and immutability', () => {
  beforeAll(async () => {
    plane = await startRegistryPlane();
  });
  afterAll(async () => plane.close());

  it('records the same digest delivered again as a duplicate of the registered record', async () => {
    const { reference } = await push(files('3.0.0'), { tag: '3.0.0' });
    const first = await plane.register(reference);

    const second = await plane.register(reference);

    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ status: 'duplicate', duplicateOf: record(first.body).id });
  });

  it('registers 8 concurrent deliveries of one digest as one version: one registered, seven duplicates', async () => {
    const { reference } = await push(files('4.0.0'), { tag: '4.0.0' });

    const results = await Promise.all(Array.from({ length: 8 }, () => plane.register(reference)));

    expect(results.map((result) => result.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 201]);
    const detail = await plane.get('/v1/packages/sales/orders-daily');
    expect(record(detail.body).versions).toEqual(
      expect.arrayContaining([expect.objectContaining({ version: '4.0.0' })]),
    );
    await plane.bus.drain();
    const registered = plane.bus
      .events()
      .filter(
        (event) => event['detail-type'] === 'Package Version Registered' && event.detail.version === '4.0.0',
      );
    expect(registered).toHaveLength(1);
  });

  it('rejects the same version with another digest as E021 (409) and leaves the original untouched', async () => {
    const original = await push(files('5.0.0'), { tag: '5.0.0', repository: 'sales/immutable' });
    await plane.register(original.reference);
    const changed = { ...files('5.0.0'), 'src/main.py': 'print("changed")\n' };
    const other = await push(changed, { tag: '5.0.0', repository: 'sales/immutable-2' });

    const result = await plane.register(other.reference);

    expect(result.status).toBe(409);
    expect(result.body).toMatchObject({
      status: 'rejected',
      problems: [expect.objectContaining({ code: 'E021' })],
    });
    const version = await plane.get('/v1/packages/sales/orders-daily/versions/5.0.0');
    expect(record(version.body).digest).toBe(original.digest);
    const audit = await plane.table.table.queryAll({
      index: 'GSI3',
      partition: keys.auditIndex.ofTarget('package:sales/orders-daily'),
    });
    const conflict = audit.find((entry) => entry.outcome === 'refused');
    expect(conflict).toMatchObject({
      action: 'package.register',
      request: { status: 409 },
      effects: [expect.objectContaining({ action: 'package.version.conflict' })],
    });
  });

  it('registers one of two digests of one version delivered concurrently and refuses the other as E021', async () => {
    const a = await push(files('6.0.0'), { tag: '6.0.0' });
    const b = await push({ ...files('6.0.0'), 'src/main.py': 'print("b")\n' }, { tag: '6.0.0' });

    const results = await Promise.all(
      [a, b, a, b].map(async (pushed) => ({ pushed, result: await plane.register(pushed.reference) })),
    );

    const winners = results.filter(({ result }) => result.status === 201);
    const winner = winners[0]?.pushed;
    expect(winners).toHaveLength(1);
    for (const { pushed, result } of results) {
      if (pushed === winner) expect([200, 201]).toContain(result.status);
      else
        expect(result.body).toMatchObject({
          status: 'rejected',
          problems: [expect.objectContaining({ code: 'E021' })],
        });
    }
    const version = await plane.get('/v1/packages/sales/orders-daily/versions/6.0.0');
    expect(record(version.body).digest).toBe(winner?.digest);
  });

  it('commits 8 versions of one package pushed concurrently, each visible with its own digest', async () => {
    const pushed = await Promise.all(
      Array.from({ length: 8 }, (_, index) => push(files(`7.${index}.0`), { tag: `7.${index}.0` })),
    );

    const results = await Promise.all(pushed.map((artifact) => plane.register(artifact.reference)));

    expect(results.map((result) => result.status)).toEqual(Array(8).fill(201));
    const { versions } = packageDetailSchema.parse((await plane.get('/v1/packages/sales/orders-daily')).body);
    for (const [index, artifact] of pushed.entries()) {
      expect(versions).toContainEqual(
        expect.objectContaining({ version: `7.${index}.0`, digest: artifact.digest }),
      );
    }
  });

  it('moves latestVersion forward only for a higher version', async () => {
    const high = await push(files('9.0.0'), { tag: 'v9.0.0' });
    const low = await push(files('0.9.0'), { tag: '0.9.0' });
    expect((await plane.register(high.reference)).status).toBe(201);
    expect((await plane.register(low.reference)).status).toBe(201);

    const detail = await plane.get('/v1/packages/sales/orders-daily');

    expect(record(detail.body).latestVersion).toBe('9.0.0');
  });
});

/** The real store, with `beforeCommit` run before each `commitHead`: a crash or a rival writer at the commit step. */
class CommitHookStore implements RegistryStore {
  constructor(
    private readonly inner: RegistryStore,
    private readonly beforeCommit: (head: PackageHead, inner: RegistryStore) => Promise<void>,
  ) {}
  getHead: RegistryStore['getHead'] = (namespace, name) => this.inner.getHead(namespace, name);
  stageVersion: RegistryStore['stageVersion'] = (staged) => this.inner.stageVersion(staged);
  stageGraph: RegistryStore['stageGraph'] = (staged) => this.inner.stageGraph(staged);
  commitHead: RegistryStore['commitHead'] = async (head) => {
    await this.beforeCommit(head, this.inner);
    return this.inner.commitHead(head);
  };
  claimRegistration: RegistryStore['claimRegistration'] = (record) => this.inner.claimRegistration(record);
  releaseRegistration: RegistryStore['releaseRegistration'] = (id) => this.inner.releaseRegistration(id);
}

/** Each class of bad artifact, the code it is refused with, and what it does to the package. */
const rejections: ReadonlyArray<{
  readonly what: string;
  readonly code: string;
  readonly files?: Record<string, string | Buffer>;
  readonly variation?: ArtifactVariation;
  readonly tag?: string;
}> = [
  {
    what: 'a wrong artifactType',
    code: 'DK_ARTIFACT_TYPE_INVALID',
    variation: { artifactType: 'application/vnd.example' },
  },
  {
    what: 'a wrong config media type',
    code: 'DK_ARTIFACT_CONFIG_MEDIA_TYPE',
    variation: { configMediaType: 'application/json' },
  },
  {
    what: 'a missing dk.yaml',
    code: 'DK_ARTIFACT_DK_YAML_MISSING',
    files: { 'dataset/daily-orders.yaml': datasetYaml() },
  },
  {
    what: 'invalid YAML',
    code: 'DK_YAML_INVALID',
    files: { ...files(), 'dataset/daily-orders.yaml': 'a: [unclosed\n' },
  },
  {
    what: 'a schema error',
    code: 'DK_UNKNOWN_FIELD',
    files: { ...files(), 'dk.yaml': `${transformYaml()}  colour: blue\n` },
  },
  {
    what: 'a governance error (PII classified internal)',
    code: 'G001',
    files: { ...files(), 'dataset/daily-orders.yaml': datasetYaml('internal', true) },
  },
  {
    what: 'an unsafe archive path',
    code: 'DK_ARCHIVE_UNSAFE_PATH',
    variation: { contentLayer: Buffer.alloc(0) },
  },
  { what: 'an oversized archive', code: 'DK_ARCHIVE_TOO_LARGE', variation: {} },
  {
    what: 'an identity mismatch between dk.yaml and the annotations',
    code: 'DK_IDENTITY_MISMATCH',
    variation: { annotations: { 'io.infoblox.dk.namespace': 'billing' } },
  },
  { what: 'a tag that is not the version', code: 'DK_IDENTITY_MISMATCH', tag: '1.2.1' },
  {
    what: 'a package without a version',
    code: 'E020',
    files: { ...files(), 'dk.yaml': transformYaml().replace('  version: 1.2.0\n', '') },
  },
];

describe('rejections', () => {
  let unsafeLayer: Buffer;
  let bomb: Buffer;

  beforeAll(async () => {
    plane = await startRegistryPlane();
    unsafeLayer = await tarGz([{ name: '../escape.py', contents: 'x' }]);
    // The issue-7 reproduction: 228 KB compressed, 224 MiB inflated, past the per-layer inflated cap.
    bomb = await hostileContentLayer('inflation-7x32mib').build();
  });
  afterAll(async () => plane.close());

  it.each(rejections.map((rejection) => [rejection.what, rejection]))(
    'refuses %s with a record of every reason, an event, and nothing visible',
    async (_what, rejection) => {
      const variation =
        rejection.code === 'DK_ARCHIVE_UNSAFE_PATH'
          ? { contentLayer: unsafeLayer }
          : rejection.code === 'DK_ARCHIVE_TOO_LARGE'
            ? { contentLayer: bomb }
            : rejection.variation;
      const { reference } = await push(rejection.files ?? files(), {
        ...(rejection.tag === undefined ? {} : { tag: rejection.tag }),
        ...(variation === undefined ? {} : { variation }),
      });

      const result = await plane.register(reference);

      expect(result.status).toBe(422);
      expect(result.body).toMatchObject({
        status: 'rejected',
        problems: expect.arrayContaining([expect.objectContaining({ code: rejection.code })]),
      });
      expect((await plane.get('/v1/packages/sales/orders-daily')).status).toBe(404);
      expect(record((await plane.get('/v1/datasets')).body).items).toEqual([]);
      expect(record((await plane.get('/v1/pipeline')).body).nodes).toEqual([]);
      const rejected = plane.bus
        .events()
        .filter((event) => event['detail-type'] === 'Package Registration Rejected');
      expect(rejected.at(-1)?.detail).toMatchObject({ registrationId: record(result.body).id, reference });
    },
  );

  it('lists rejections newest first, filtered by status and paginated', async () => {
    const first = await plane.get('/v1/registrations?status=rejected&limit=2');
    const next = await plane.get(
      `/v1/registrations?status=rejected&limit=100&cursor=${String(record(first.body).nextCursor)}`,
    );
    const registered = await plane.get('/v1/registrations?status=registered');

    expect(record(first.body).items).toHaveLength(2);
    expect(record(next.body).items).toHaveLength(rejections.length - 2);
    expect(record(registered.body).items).toEqual([]);
  });
});

describe('failures and retries', () => {
  it('leaves nothing visible when the commit fails, and a retry registers the version', async () => {
    let failCommits = 1;
    const failing = (table: SingleTable): RegistryStore =>
      new CommitHookStore(new DynamoRegistry(table), async () => {
        if (failCommits-- > 0) throw new Error('storage failed at the commit');
      });
    const local = await startRegistryPlane({ registryStore: failing });
    try {
      const { reference } = await push(files());

      await expect(local.register(reference)).resolves.toMatchObject({ status: 500 });
      expect((await local.get('/v1/packages/sales/orders-daily/versions/1.2.0')).status).toBe(404);
      expect((await local.get('/v1/packages/sales/orders-daily')).status).toBe(404);
      expect(record((await local.get('/v1/datasets')).body).items).toEqual([]);
      expect(record((await local.get('/v1/pipeline')).body).edges).toEqual([]);

      const retry = await local.register(reference);

      expect(retry.body).toMatchObject({ status: 'registered' });
      expect((await local.get('/v1/packages/sales/orders-daily/versions/1.2.0')).status).toBe(200);
    } finally {
      await local.close();
    }
  });

  it('refuses a version as DK_PACKAGE_KIND_CONFLICT when a package of another kind commits the name first', async () => {
    const rival = async (head: PackageHead, inner: RegistryStore) => {
      if (head.revision !== 0) return;
      await inner.commitHead({
        ...head,
        kind: 'DataSet',
        latestVersion: '0.1.0',
        versions: {
          '0.1.0': {
            digest: `sha256:${'d'.repeat(64)}`,
            registeredAt: head.updatedAt,
            registrationId: 'r-rival',
          },
        },
      });
    };
    const local = await startRegistryPlane({
      registryStore: (table) => new CommitHookStore(new DynamoRegistry(table), rival),
    });
    try {
      const { reference } = await push(files());

      const result = await local.register(reference);

      expect(result.status).toBe(422);
      expect(result.body).toMatchObject({
        status: 'rejected',
        problems: [expect.objectContaining({ code: 'DK_PACKAGE_KIND_CONFLICT' })],
      });
      const detail = await local.get('/v1/packages/sales/orders-daily');
      expect(detail.body).toMatchObject({ kind: 'DataSet', versions: [{ version: '0.1.0' }] });
      expect((await local.get('/v1/packages/sales/orders-daily/versions/1.2.0')).status).toBe(404);
    } finally {
      await local.close();
    }
  });

  it('completes a registration whose event could not be published when it is retried', async () => {
    let failures = 1;
    const published: DomainEvent[] = [];
    const flaky: EventPublisher = {
      publish: async (events) => {
        if (failures-- > 0) throw new Error('bus down');
        published.push(...events);
      },
    };
    const local = await startRegistryPlane({ events: flaky });
    try {
      const { reference } = await push(files());

      expect((await local.register(reference)).status).toBe(500);
      const retry = await local.register(reference);

      expect(retry.status).toBe(201);
      const domain = published.filter((event) => event.detailType !== 'Audit Record');
      expect(domain.map((event) => event.detailType)).toEqual(['Package Version Registered']);
      // Each request's audit record went to the bus too: the failure, then the registration.
      const outcomes = published
        .filter((event) => event.detailType === 'Audit Record')
        .map((event) => [event.detail.action, event.detail.outcome]);
      expect(outcomes).toEqual([
        ['package.register', 'failed'],
        ['package.register', 'succeeded'],
      ]);
    } finally {
      await local.close();
    }
  });

  it('answers 503 and records nothing when the registry is down', async () => {
    const local = await startRegistryPlane();
    try {
      const result = await local.register('127.0.0.1:1/sales/orders:1.2.0');

      expect(result.status).toBe(503);
      expect(result.body).toMatchObject({ code: 'DK_REGISTRY_UNAVAILABLE' });
      expect(record((await local.get('/v1/registrations')).body).items).toEqual([]);
    } finally {
      await local.close();
    }
  });

  it('refuses registries outside the allowlist with 403 REGISTRY_NOT_ALLOWED', async () => {
    const local = await startRegistryPlane({ allowlist: '*.dkr.ecr.eu-west-1.amazonaws.com' });
    try {
      const { reference } = await push(files());

      const result = await local.register(reference);

      expect(result.status).toBe(403);
      expect(result.body).toMatchObject({ code: 'REGISTRY_NOT_ALLOWED' });
    } finally {
      await local.close();
    }
  });

  it('refuses a malformed reference with 400 DK_REF_INVALID', async () => {
    const local = await startRegistryPlane();
    try {
      const result = await local.register('not a reference');

      expect(result.status).toBe(400);
      expect(result.body).toMatchObject({
        code: 'DK_REF_INVALID',
        errors: [expect.objectContaining({ path: 'body.reference' })],
      });
    } finally {
      await local.close();
    }
  });
});
