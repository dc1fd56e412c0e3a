import { Logger } from '@aws-lambda-powertools/logger';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createGovernanceApi } from '../../../lambdas/governance-api/handler.js';
import { createPackagesApi } from '../../../lambdas/packages-api/handler.js';
import { DynamoDeploymentStore } from '../../../lib/adapters/dynamodb/deployment-store.js';
import { openLineageGraph } from '../../../lib/adapters/dynamodb/lineage-store.js';
import { DynamoRegistry } from '../../../lib/adapters/dynamodb/registry-store.js';
import { LocalEventBus } from '../../../lib/adapters/local/event-bus.js';
import type { ApiHandler } from '../../../lib/api/http-handler.js';
import { deprecationResultSchema } from '../../../lib/contracts/api/deprecations.js';
import { governanceReportSchema } from '../../../lib/contracts/api/governance.js';
import { parseLineageEvent } from '../../../lib/contracts/openlineage/parse.js';
import { DependencyUnavailableError } from '../../../lib/domain/errors.js';
import { makeGovernanceInputs } from '../../../lib/domain/governance/governance-inputs.js';
import { makeIngestLineageEvent } from '../../../lib/domain/lineage/ingest.js';
import type { DeploymentRecord } from '../../../lib/ports/deployment-store.js';
import type { DomainEvent, EventPublisher } from '../../../lib/ports/event-publisher.js';
import { loadConfig } from '../../../lib/runtime/config.js';
import { createDependencies, type Dependencies } from '../../../lib/runtime/dependencies.js';
import { apiEvent, lambdaContext } from '../../support/api-event.js';
import { startTestTable, type TestTable } from '../../support/dynamo.js';
import { type SeedDataSet, seedVersion } from '../../support/registry-seed.js';

/*
 * The governance API over the embedded DynamoDB with the real adapters: a registry seeded by the registry
 * store, deployments committed by the deployment store, and OpenLineage events ingested by the ingestion
 * use case. The scenario is the reactive pipeline's shape plus an external Spark export: users (PII) →
 * enrich → enriched → aggregate → summary (internal), and enriched → spark/export → a temporary dataset
 * DataKit does not know → spark/publish → exports (a DataKit DataSet by its symlink, internal).
 */

const ns = 'analytics';
let harness: TestTable;
let deps: Dependencies;
let bus: LocalEventBus;
let governance: ApiHandler;
let packagesApi: ApiHandler;
/** Fails the next `failures` publishes, then delivers to the bus. */
let failures = 0;

const flakyBus: EventPublisher = {
  async publish(events: readonly DomainEvent[]) {
    if (failures > 0) {
      failures--;
      throw new DependencyUnavailableError('EVENTS_UNAVAILABLE', 'The bus is down.');
    }
    await bus.publish(events);
  },
};

async function call(
  handler: ApiHandler,
  method: string,
  resource: string,
  options: {
    path?: string;
    pathParameters?: Record<string, string>;
    query?: Record<string, string>;
    body?: unknown;
  } = {},
) {
  const response = await handler(
    apiEvent({
      method,
      resource,
      ...(options.path === undefined ? {} : { path: options.path }),
      ...(options.pathParameters === undefined ? {} : { pathParameters: options.pathParameters }),
      ...(options.query === undefined ? {} : { query: options.query }),
      ...(options.body === undefined
        ? {}
        : {
            body: JSON.stringify(options.body),
            headers: { 'content-type': 'application/json', 'x-datakit-principal': 'alice' },
          }),
    }),
    lambdaContext(),
  );
  const contentType = String(response.headers?.['content-type'] ?? '');
  return {
    status: response.statusCode,
    contentType,
    text: response.body,
    json: contentType.includes('json') ? (JSON.parse(response.body) as unknown) : undefined,
  };
}

const report = (query: Record<string, string> = {}) =>
  call(governance, 'GET', '/v1/governance/report', { query });
const deprecate = (subject: 'datasets' | 'packages', name: string, body: unknown) =>
  call(governance, 'POST', `/v1/${subject}/{namespace}/{name}/deprecation`, {
    path: `/v1/${subject}/${ns}/${name}/deprecation`,
    pathParameters: { namespace: ns, name },
    body,
  });

const lake = (name: string) => ({ namespace: 's3://lake', name: `data/${name}` });

function deployment(name: string, inputs: string[], outputs: string[]): DeploymentRecord {
  const bound = (dataset: string) => ({ namespace: ns, name: dataset, cell: 'blue', lineage: lake(dataset) });
  return {
    namespace: ns,
    name,
    env: 'dev',
    cell: 'blue',
    kind: 'Transform',
    version: '0.1.0',
    digest: 'sha256:0',
    deployedAt: '2026-11-01T00:00:00.000Z',
    promotionId: `p-${name}`,
    history: [],
    inputs: inputs.map(bound),
    outputs: outputs.map(bound),
    revision: 0,
  };
}

async function ingest(event: Record<string, unknown>): Promise<void> {
  const parsed = parseLineageEvent(JSON.stringify(event));
  if (!parsed.ok) throw new Error(parsed.problems.map((p) => p.message).join('; '));
  await makeIngestLineageEvent({ store: deps.lineage, events: bus, clock: deps.clock })(parsed.event);
}

beforeAll(async () => {
  harness = await startTestTable();
  const logger = new Logger({ logLevel: 'SILENT' });
  bus = new LocalEventBus(logger);
  deps = createDependencies(
    loadConfig({
      TABLE_NAME: harness.table.tableName,
      DYNAMODB_ENDPOINT: harness.endpoint,
      LOG_LEVEL: 'SILENT',
      // Roles are not what these tests are about (test/unit/api/authorization-matrix.test.ts is).
      ACCESS_CONTROL: 'off',
      IDENTITY_SOURCE: 'embedded',
    }),
    { logger, events: flakyBus },
  );
  governance = createGovernanceApi(deps);
  packagesApi = createPackagesApi(deps);

  const registry = new DynamoRegistry(harness.table);
  const dataSetPackage = (name: string, declares: readonly SeedDataSet[]) =>
    seedVersion(registry, { namespace: ns, name, version: '1.0.0', kind: 'DataSet', declares });
  await dataSetPackage('users', [
    { name: 'users', classification: 'confidential', schema: [{ name: 'id' }, { name: 'email', pii: true }] },
  ]);
  await dataSetPackage('enriched', [
    {
      name: 'enriched',
      classification: 'confidential',
      schema: [
        { name: 'user_id', from: 'users.id' },
        { name: 'user_email', pii: true, from: 'users.email' },
        { name: 'contact', from: 'users.email' },
      ],
    },
  ]);
  await dataSetPackage('summary', [
    { name: 'summary', classification: 'internal', schema: [{ name: 'total' }] },
  ]);
  await dataSetPackage('exports', [
    { name: 'exports', classification: 'internal', schema: [{ name: 'mail' }] },
  ]);
  await dataSetPackage('clicks', [{ name: 'clicks', classification: 'public', schema: [{ name: 'url' }] }]);
  await seedVersion(registry, {
    namespace: ns,
    name: 'enrich',
    version: '0.1.0',
    kind: 'Transform',
    labels: { team: 'identity' },
    inputs: ['users'],
    outputs: ['enriched'],
  });
  await seedVersion(registry, {
    namespace: ns,
    name: 'aggregate',
    version: '0.2.0',
    kind: 'Transform',
    labels: { team: 'bi', owner: 'carol' },
    inputs: ['enriched'],
    outputs: ['summary'],
  });
  await seedVersion(registry, {
    namespace: ns,
    name: 'crawl',
    version: '0.1.0',
    kind: 'Transform',
    inputs: ['clicks'],
    outputs: ['clicks'],
  });
  const deployments = new DynamoDeploymentStore(harness.table);
  await deployments.commitDeployment(deployment('enrich', ['users'], ['enriched']), 0);
  await deployments.commitDeployment(deployment('aggregate', ['enriched'], ['summary']), 0);

  const job = (name: string) => ({ namespace: 'spark', name });
  await ingest({
    eventType: 'COMPLETE',
    eventTime: '2026-11-01T01:00:00Z',
    producer: 'https://spark.example/openlineage',
    run: { runId: 'a3c2d1e0-1111-4222-8333-444455556661' },
    job: job('export'),
    inputs: [lake('enriched')],
    outputs: [
      {
        namespace: 's3://tmp',
        name: 'staging/export',
        facets: {
          columnLineage: {
            _producer: 'https://spark.example',
            _schemaURL: 'https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json',
            fields: { mail: { inputFields: [{ ...lake('enriched'), field: 'user_email' }] } },
          },
        },
      },
    ],
  });
  await ingest({
    eventType: 'COMPLETE',
    eventTime: '2026-11-01T02:00:00Z',
    producer: 'https://spark.example/openlineage',
    run: { runId: 'a3c2d1e0-1111-4222-8333-444455556662' },
    job: job('publish'),
    inputs: [{ namespace: 's3://tmp', name: 'staging/export' }],
    outputs: [
      {
        ...lake('exports'),
        facets: {
          symlinks: {
            _producer: 'https://spark.example',
            _schemaURL: 'https://openlineage.io/spec/facets/1-0-1/SymlinksDatasetFacet.json',
            identifiers: [{ namespace: `datakit://blue/${ns}`, name: 'exports', type: 'DATAKIT_DATASET' }],
          },
          columnLineage: {
            _producer: 'https://spark.example',
            _schemaURL: 'https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json',
            fields: {
              mail: { inputFields: [{ namespace: 's3://tmp', name: 'staging/export', field: 'mail' }] },
            },
          },
        },
      },
    ],
  });
});

afterAll(async () => {
  await bus.drain();
  await harness.close();
});

beforeEach(() => {
  failures = 0;
});

describe('GET /v1/governance/report', () => {
  it('follows PII through Transforms, contracts and OpenLineage jobs and columns to a DataSet named by a symlink', async () => {
    const answer = await report({ filter: 'pii=true' });
    expect(answer.status).toBe(200);
    const body = governanceReportSchema.parse(answer.json);
    expect(body.lineage.complete).toBe(true);
    expect(body.lineage.nodesRead).toBeGreaterThan(0);
    const flows = body.flows.map((flow) => `${flow.from.name} → ${flow.to.name}`);
    expect(flows).toEqual(['enriched → exports', 'enriched → summary', 'users → enriched']);
    expect(body.flows[0]).toMatchObject({
      via: [{ type: 'column-lineage' }, { type: 'job', namespace: 'spark', name: 'publish', cell: 'blue' }],
      columns: [{ from: 'user_email', to: 'mail' }],
      toClassification: 'internal',
    });
    expect(body.violations.map((v) => [v.code, v.dataset.name, v.column, v.path])).toEqual([
      ['PII_UNDERCLASSIFIED', 'exports', undefined, ['analytics/enriched', 'analytics/exports']],
      ['PII_UNDERCLASSIFIED', 'summary', undefined, ['analytics/enriched', 'analytics/summary']],
      ['PII_COLUMN_UNMARKED', 'enriched', 'contact', ['analytics/users.email', 'analytics/enriched.contact']],
      ['PII_COLUMN_UNMARKED', 'exports', 'mail', ['analytics/enriched.user_email', 'analytics/exports.mail']],
    ]);
    expect(body.packages.map((p) => p.name)).toEqual([
      'aggregate',
      'enrich',
      'enriched',
      'exports',
      'summary',
      'users',
    ]);
    expect(body.packages.find((p) => p.name === 'enrich')?.cells).toEqual(['blue']);
  });

  it('filters by cell: only what is deployed there', async () => {
    const body = governanceReportSchema.parse((await report({ cell: 'blue', filter: 'pii=true' })).json);
    expect(body.packages.map((p) => p.name)).toEqual(['aggregate', 'enrich']);
    expect(body.violations.map((v) => v.dataset.name)).toEqual(['summary', 'enriched']);
  });

  it('answers CSV and Markdown', async () => {
    const csv = await report({ filter: 'pii=true', format: 'csv' });
    expect(csv.status).toBe(200);
    expect(csv.contentType).toBe('text/csv; charset=utf-8');
    expect(csv.text.split('\r\n')[0]).toMatch(/^record,package,dataset,/);
    const markdown = await report({ filter: 'pii=true', format: 'markdown' });
    expect(markdown.contentType).toBe('text/markdown; charset=utf-8');
    expect(markdown.text).toContain('| PII_UNDERCLASSIFIED | analytics/exports | internal |');
  });

  it('refuses an unknown filter with 400 naming query.filter', async () => {
    const answer = await report({ filter: 'owner=bi' });
    expect(answer.status).toBe(400);
    expect(answer.json).toMatchObject({
      code: 'VALIDATION_FAILED',
      errors: [
        {
          path: 'query.filter',
          message: 'unknown filter "owner"; filters are pii, namespace, classification, cell',
        },
      ],
    });
  });

  it('says its lineage is incomplete when the walk runs out of its node budget', async () => {
    const inputs = makeGovernanceInputs({
      packages: new DynamoRegistry(harness.table),
      deployments: new DynamoDeploymentStore(harness.table),
      environments: ['dev'],
      lineageGraph: () => openLineageGraph(harness.table),
      maxLineageNodes: 2,
    });
    const read = await inputs();
    expect(read.lineageRead).toEqual({ complete: false, nodesRead: 2 });
    expect((await inputs({ lineage: false })).lineageRead).toEqual({ complete: true, nodesRead: 0 });
  });
});

describe('POST /v1/datasets/{namespace}/{name}/deprecation', () => {
  const body = { reason: 'use enriched-v2', sunset: '2027-06-30' };
  const deprecatedEvents = () =>
    bus.events().filter((event) => event['detail-type'] === 'DataSet Deprecated');

  it('records the deprecation and announces it with every consumer, cell and owner', async () => {
    const answer = await deprecate('datasets', 'enriched', body);
    expect(answer.status).toBe(201);
    const result = deprecationResultSchema.parse(answer.json);
    const impact = {
      consumers: [
        {
          namespace: ns,
          name: 'aggregate',
          version: '0.2.0',
          owners: { owner: 'carol', team: 'bi' },
          deployments: [{ env: 'dev', cell: 'blue', version: '0.1.0' }],
        },
      ],
      consumerCount: 1,
      cells: ['blue'],
      owners: ['owner=carol', 'team=bi'],
    };
    expect(result).toEqual({
      subject: 'dataset',
      namespace: ns,
      name: 'enriched',
      deprecation: { ...body, deprecatedAt: expect.any(String), deprecatedBy: 'alice' },
      impact,
    });
    const events = deprecatedEvents();
    expect(events).toHaveLength(1);
    expect(events[0]?.detail).toEqual({ namespace: ns, name: 'enriched', ...result.deprecation, ...impact });

    const read = await call(packagesApi, 'GET', '/v1/datasets/{namespace}/{name}', {
      path: `/v1/datasets/${ns}/enriched`,
      pathParameters: { namespace: ns, name: 'enriched' },
    });
    expect(read.json).toMatchObject({ name: 'enriched', deprecation: result.deprecation });
    const list = await call(packagesApi, 'GET', '/v1/datasets', { query: { namespace: ns } });
    const listed = (list.json as { items: { name: string; deprecation?: unknown }[] }).items;
    expect(listed.find((item) => item.name === 'enriched')?.deprecation).toEqual(result.deprecation);
    expect(listed.find((item) => item.name === 'users')?.deprecation).toBeUndefined();
    const shown = governanceReportSchema.parse((await report()).json);
    expect(shown.deprecations).toContainEqual(
      expect.objectContaining({
        subject: 'dataset',
        name: 'enriched',
        sunsetPassed: false,
        consumers: [{ namespace: ns, name: 'aggregate', version: '0.2.0' }],
      }),
    );
  });

  it('does nothing for the same reason and sunset again; another sunset replaces it and announces again', async () => {
    const before = deprecatedEvents().length;
    const again = await deprecate('datasets', 'enriched', body);
    expect(again.status).toBe(200);
    expect(deprecatedEvents()).toHaveLength(before);

    const later = await deprecate('datasets', 'enriched', { ...body, sunset: '2027-12-31T00:00:00Z' });
    expect(later.status).toBe(200);
    expect(deprecationResultSchema.parse(later.json).deprecation.sunset).toBe('2027-12-31T00:00:00Z');
    expect(deprecatedEvents()).toHaveLength(before + 1);
  });

  it('announces on a repeat what a failed publish did not', async () => {
    failures = 1;
    const failed = await deprecate('datasets', 'summary', body);
    expect(failed.status).toBe(503);
    const before = deprecatedEvents().length;
    const retried = await deprecate('datasets', 'summary', body);
    expect(retried.status).toBe(200);
    expect(deprecatedEvents()).toHaveLength(before + 1);
    expect(deprecatedEvents().at(-1)?.detail).toMatchObject({ name: 'summary', consumerCount: 0 });
    expect((await deprecate('datasets', 'summary', body)).status).toBe(200);
    expect(deprecatedEvents()).toHaveLength(before + 1);
  });

  it('answers 404 for an unknown DataSet and 400 naming each bad field', async () => {
    const missing = await deprecate('datasets', 'nothing', body);
    expect(missing.status).toBe(404);
    expect(missing.json).toMatchObject({ code: 'DATASET_NOT_FOUND' });

    const bad = await deprecate('datasets', 'users', { reason: ' ', sunset: 'next week', extra: true });
    expect(bad.status).toBe(400);
    const paths = (bad.json as { errors: { path: string }[] }).errors.map((error) => error.path).sort();
    expect(paths).toEqual(['body', 'body.reason', 'body.sunset']);
    const read = await call(packagesApi, 'GET', '/v1/datasets/{namespace}/{name}', {
      path: `/v1/datasets/${ns}/users`,
      pathParameters: { namespace: ns, name: 'users' },
    });
    expect(read.json).not.toHaveProperty('deprecation');
  });
});

describe('POST /v1/packages/{namespace}/{name}/deprecation', () => {
  it("announces the package's DataSets and their consumers; the DataSets it declares inherit it", async () => {
    const body = { reason: 'users move to the identity namespace', sunset: '2027-03-01' };
    const answer = await deprecate('packages', 'users', body);
    expect(answer.status).toBe(201);
    const event = bus.events().find((e) => e['detail-type'] === 'Package Deprecated');
    expect(event?.detail).toMatchObject({
      namespace: ns,
      name: 'users',
      kind: 'DataSet',
      ...body,
      dataSets: [{ namespace: ns, name: 'users' }],
      deployments: [],
      consumers: [
        {
          namespace: ns,
          name: 'enrich',
          version: '0.1.0',
          owners: { team: 'identity' },
          deployments: [{ env: 'dev', cell: 'blue', version: '0.1.0' }],
        },
      ],
      cells: ['blue'],
      owners: ['team=identity'],
    });
    const pkg = await call(packagesApi, 'GET', '/v1/packages/{namespace}/{name}', {
      path: `/v1/packages/${ns}/users`,
      pathParameters: { namespace: ns, name: 'users' },
    });
    expect(pkg.json).toMatchObject({ name: 'users', deprecation: { ...body, deprecatedBy: 'alice' } });
    const dataSet = await call(packagesApi, 'GET', '/v1/datasets/{namespace}/{name}', {
      path: `/v1/datasets/${ns}/users`,
      pathParameters: { namespace: ns, name: 'users' },
    });
    expect(dataSet.json).toMatchObject({
      deprecation: { ...body, package: { namespace: ns, name: 'users' } },
    });
  });

  it('answers 404 for an unknown package', async () => {
    const answer = await deprecate('packages', 'nothing', { reason: 'x', sunset: '2027-01-01' });
    expect(answer.status).toBe(404);
    expect(answer.json).toMatchObject({ code: 'PACKAGE_NOT_FOUND' });
  });
});
