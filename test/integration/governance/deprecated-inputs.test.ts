import { Logger } from '@aws-lambda-powertools/logger';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoAuditStore } from '../../../lib/adapters/dynamodb/audit-log.js';
import { DynamoCellStore } from '../../../lib/adapters/dynamodb/cell-store.js';
import { DynamoDeploymentStore } from '../../../lib/adapters/dynamodb/deployment-store.js';
import { DynamoDeprecationStore } from '../../../lib/adapters/dynamodb/deprecation-store.js';
import { openLineageGraph } from '../../../lib/adapters/dynamodb/lineage-store.js';
import { DynamoRegistry } from '../../../lib/adapters/dynamodb/registry-store.js';
import { DynamoRunStore } from '../../../lib/adapters/dynamodb/run-store.js';
import { DynamoSubscriptionStore } from '../../../lib/adapters/dynamodb/subscription-store.js';
import { LocalEventBus } from '../../../lib/adapters/local/event-bus.js';
import { makeCheckDeployable, makeDeployVersion } from '../../../lib/domain/deployments/deploy.js';
import { UnprocessableError } from '../../../lib/domain/errors.js';
import { makeDeprecations } from '../../../lib/domain/governance/deprecate.js';
import { makeGovernanceInputs } from '../../../lib/domain/governance/governance-inputs.js';
import { makePiiCheck } from '../../../lib/domain/governance/pii-gate.js';
import { GroupDirectory } from '../../../lib/domain/identity/groups.js';
import { Environments } from '../../../lib/domain/promotions/environments.js';
import { makePromotions } from '../../../lib/domain/promotions/promotions.js';
import type { ScheduleControl } from '../../../lib/ports/schedule-control.js';
import { AuditTrail } from '../../../lib/runtime/audit-trail.js';
import { startTestTable, type TestTable } from '../../support/dynamo.js';
import { seedVersion } from '../../support/registry-seed.js';

/*
 * Issue 11.5 at deploy time, through the one deploy use case on the embedded DynamoDB: a consumer of a
 * deprecated DataSet deploys with a warning (recorded on its promotion) until the sunset; after it, a new
 * consumer is refused while an environment and cell that already runs one may still redeploy it.
 */

const ns = 'analytics';
let now = new Date('2026-11-01T00:00:00.000Z');
let harness: TestTable;
let promotions: ReturnType<typeof makePromotions>;
let deprecations: ReturnType<typeof makeDeprecations>;

/** Transforms here declare no schedule: a deploy that tried to put one fails the test. */
const noSchedules: ScheduleControl = {
  put: async () => {
    throw new Error('no schedule expected');
  },
  delete: async () => {},
};

const promote = (name: string, version = '0.1.0') =>
  promotions.request({
    namespace: ns,
    name,
    version,
    env: 'dev',
    cell: 'local',
    requestedBy: { principal: 'alice', person: 'alice' },
  });

beforeAll(async () => {
  harness = await startTestTable();
  const clock = () => now;
  const registry = new DynamoRegistry(harness.table);
  const lake = { name: 'events', classification: 'internal' as const, store: 'lake' };
  await seedVersion(registry, {
    namespace: ns,
    name: 'events',
    version: '1.0.0',
    kind: 'DataSet',
    declares: [lake],
  });
  await seedVersion(registry, {
    namespace: ns,
    name: 'enriched',
    version: '1.0.0',
    kind: 'DataSet',
    declares: [{ name: 'enriched', classification: 'internal', store: 'lake' }],
  });
  await seedVersion(registry, {
    namespace: ns,
    name: 'reports',
    version: '1.0.0',
    kind: 'DataSet',
    declares: [{ name: 'reports', classification: 'internal', store: 'lake' }],
  });
  for (const [name, version, input] of [
    ['enrich', '0.1.0', 'events'],
    ['enrich', '0.2.0', 'events'],
    ['report', '0.1.0', 'events'],
    ['publish', '0.1.0', 'enriched'],
  ] as const) {
    await seedVersion(registry, {
      namespace: ns,
      name,
      version,
      kind: 'Transform',
      inputs: [input],
      outputs: name === 'enrich' ? ['enriched'] : ['reports'],
    });
  }
  const cells = new DynamoCellStore(harness.table);
  await cells.putCell(
    {
      name: 'local',
      labels: {},
      origin: 'embedded',
      runtime: { kind: 'local' },
      createdAt: now.toISOString(),
      updatedAt: now.toISOString(),
      revision: 0,
    },
    0,
  );
  await cells.putStore({
    cell: 'local',
    name: 'lake',
    connector: 's3',
    manifest: {
      apiVersion: 'datakit.infoblox.dev/v1alpha1',
      kind: 'Store',
      metadata: { name: 'lake' },
      spec: { connector: 's3', connection: { bucket: 'lake' } },
    },
    secretNames: [],
    revision: 1,
    updatedAt: now.toISOString(),
  });
  const deployments = new DynamoDeploymentStore(harness.table);
  const subscriptions = new DynamoSubscriptionStore(harness.table);
  const bus = new LocalEventBus(new Logger({ logLevel: 'SILENT' }));
  const deps = {
    packages: registry,
    cells,
    cellMode: 'embedded' as const,
    deployments,
    subscriptions,
    clock,
  };
  const noPipeline = async (): Promise<never> => {
    throw new Error('dev promotions run no pipeline');
  };
  promotions = makePromotions({
    promotions: deployments,
    pipeline: { start: noPipeline, syncDecisions: noPipeline },
    events: bus,
    audit: new AuditTrail({
      store: new DynamoAuditStore(harness.table, { retentionDays: 400, clock }),
      logger: new Logger({ logLevel: 'SILENT' }),
    }),
    environments: new Environments(),
    groups: new GroupDirectory({}),
    checkDeployable: makeCheckDeployable(deps),
    piiCheck: makePiiCheck({
      packages: registry,
      inputs: makeGovernanceInputs({
        packages: registry,
        deployments,
        environments: ['dev', 'int', 'prod'],
        lineageGraph: () => openLineageGraph(harness.table),
      }),
    }),
    deployVersion: makeDeployVersion({ ...deps, schedules: noSchedules, events: bus }),
    idempotency: new DynamoRunStore(harness.table, clock),
    clock,
    approvalTimeoutMinutes: 60,
  });
  deprecations = makeDeprecations({
    packages: registry,
    deprecations: new DynamoDeprecationStore(harness.table),
    deployments,
    events: bus,
    clock,
  });
});
afterAll(async () => harness.close());

describe('deploying consumers of a deprecated DataSet', () => {
  it('deploys without warnings while nothing is deprecated', async () => {
    expect((await promote('enrich')).warnings).toEqual([]);
  });

  it('warns before the sunset, on the promotion record', async () => {
    await deprecations.deprecateDataSet({
      namespace: ns,
      name: 'events',
      reason: 'use events-v2',
      sunset: '2027-01-31',
      by: 'bob',
    });
    const promotion = await promote('enrich', '0.2.0');
    expect(promotion.status).toBe('DEPLOYED');
    expect(promotion.warnings).toEqual([
      'DataSet analytics/events is deprecated: use events-v2; sunset 2027-01-31',
    ]);
  });

  it('refuses a new consumer after the sunset and records nothing', async () => {
    now = new Date('2027-02-01T00:00:00.000Z');
    const refusal = await promote('report').catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(UnprocessableError);
    expect(refusal).toMatchObject({
      code: 'DEPLOY_DATASET_SUNSET',
      problems: [{ code: 'DEPLOY_DATASET_SUNSET', path: 'analytics/events' }],
    });
    const deployments = new DynamoDeploymentStore(harness.table);
    expect(await deployments.getDeployment(ns, 'report', 'dev', 'local')).toBeUndefined();
  });

  it('lets an environment and cell that already runs a consumer roll it back, with a warning', async () => {
    const rollback = await promote('enrich', '0.1.0');
    expect(rollback.status).toBe('DEPLOYED');
    expect(rollback.warnings[0]).toMatch(
      /its sunset 2027-01-31 has passed \(allowed: this environment and cell already depend on it\)/,
    );
  });

  it('treats the DataSets of a deprecated DataSet package as deprecated, and the package itself', async () => {
    now = new Date('2026-12-01T00:00:00.000Z');
    await deprecations.deprecatePackage({
      namespace: ns,
      name: 'enriched',
      reason: 'merged into events',
      sunset: '2027-01-01',
      by: 'bob',
    });
    expect((await promote('enriched', '1.0.0')).warnings).toEqual([
      'package analytics/enriched is deprecated: merged into events; sunset 2027-01-01',
    ]);
    expect((await promote('publish')).warnings).toEqual([
      'DataSet analytics/enriched (its package analytics/enriched) is deprecated: merged into events; sunset 2027-01-01',
    ]);
  });
});
