import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDeploymentStore } from '../../../lib/adapters/dynamodb/deployment-store.js';
import { keys } from '../../../lib/adapters/dynamodb/keys.js';
import { DynamoLineageStore } from '../../../lib/adapters/dynamodb/lineage-store.js';
import { DynamoRegistry } from '../../../lib/adapters/dynamodb/registry-store.js';
import { DynamoRunStore } from '../../../lib/adapters/dynamodb/run-store.js';
import { FileBlobStore } from '../../../lib/adapters/local/file-blob-store.js';
import type { RegistrationRecord } from '../../../lib/contracts/api/registrations.js';
import { newRunRecord } from '../../../lib/domain/runs/model.js';
import { transitionRun } from '../../../lib/domain/runs/run-state.js';
import { startTestTable, type TestTable } from '../../support/dynamo.js';
import { seedVersion } from '../../support/registry-seed.js';

/*
 * Retention (issue 11.6): raw lineage events, run records and registration records carry the TTL attribute
 * their retention gives them, and every read hides them from their expiry on (the embedded DynamoDB, like
 * DynamoDB before its sweep, still holds them). Committed versions and deployments never expire.
 */

const day = 24 * 3600;
const start = new Date('2026-11-01T00:00:00.000Z');
let now = start;
let harness: TestTable;
let blobDir: string;

const later = (days: number) => new Date(start.getTime() + days * day * 1000);
const epoch = (iso: string) => Math.floor(Date.parse(iso) / 1000);

beforeAll(async () => {
  harness = await startTestTable({ now: () => now });
  blobDir = mkdtempSync(join(tmpdir(), 'datakit-retention-'));
});
afterAll(async () => {
  await harness.close();
  rmSync(blobDir, { recursive: true, force: true });
});

describe('raw lineage events', () => {
  const rawEvent = (eventId: string) => ({
    eventId,
    eventTime: '2026-11-01T00:00:00.000Z',
    receivedAt: '2026-11-01T00:00:05.000Z',
    json: JSON.stringify({ eventType: 'START', id: eventId }),
    kind: 'run' as const,
    eventType: 'START' as const,
  });
  const listed = async (store: DynamoLineageStore) =>
    (
      await store.listRawEvents({
        after: '2026-01-01T00:00:00Z',
        before: '2027-12-31T00:00:00Z',
        ascending: true,
        limit: 100,
        offset: 0,
      })
    ).events;

  it('expire their retention after they arrive; 0 keeps them', async () => {
    now = start;
    const kept = new DynamoLineageStore(harness.table, new FileBlobStore(blobDir), 30);
    const forever = new DynamoLineageStore(harness.table, new FileBlobStore(blobDir), 0);
    expect(await kept.putRawEvent(rawEvent('a'.repeat(64)))).toBe(true);
    expect(await forever.putRawEvent(rawEvent('b'.repeat(64)))).toBe(true);

    expect((await harness.table.get(keys.lineageRawEvent('a'.repeat(64))))?.expiresAt).toBe(
      epoch('2026-11-01T00:00:05.000Z') + 30 * day,
    );
    expect(await harness.table.get(keys.lineageRawEvent('b'.repeat(64)))).not.toHaveProperty('expiresAt');
    expect(await listed(kept)).toHaveLength(2);

    now = later(31);
    expect(await listed(kept)).toEqual([{ eventType: 'START', id: 'b'.repeat(64) }]);
  });
});

describe('run records', () => {
  it('expire their retention after the run ended (or was created, while it runs)', async () => {
    now = start;
    const store = new DynamoRunStore(harness.table, () => now, 10);
    const runId = '11111111-1111-4111-8111-111111111111';
    const created = newRunRecord({
      runId,
      namespace: 'sales',
      name: 'orders',
      version: '1.0.0',
      digest: 'sha256:00',
      env: 'dev',
      cell: 'local',
      trigger: { type: 'manual' },
      createdAt: '2026-11-01T00:00:00.000Z',
    });
    expect(await store.createRun(created)).toBe(true);
    expect((await harness.table.get(keys.run(runId)))?.expiresAt).toBe(
      epoch('2026-11-01T00:00:00.000Z') + 10 * day,
    );

    const started = transitionRun(created, { type: 'started', at: '2026-11-01T00:00:01.000Z' }).run;
    expect(await store.updateRun(started, 1)).toBe(true);
    const failed = transitionRun(started, {
      type: 'failed',
      at: '2026-11-05T00:00:00.000Z',
      error: { code: 'RUN_EXIT_NONZERO', message: 'exit 1' },
      exitCode: 1,
    }).run;
    expect(await store.updateRun(failed, 2)).toBe(true);
    expect((await harness.table.get(keys.run(runId)))?.expiresAt).toBe(
      epoch('2026-11-05T00:00:00.000Z') + 10 * day,
    );

    now = later(12);
    expect(await store.getRun(runId)).toMatchObject({ status: 'FAILED' });
    now = later(15);
    expect(await store.getRun(runId)).toBeUndefined();
    expect((await store.listRuns({ namespace: 'sales', name: 'orders', limit: 10 })).items).toEqual([]);
    // The deployment's last run is a projection of its own, kept: status still says how the last run went.
    expect(await store.lastRuns('sales', 'orders')).toEqual([
      expect.objectContaining({ runId, status: 'FAILED' }),
    ]);
  });
});

describe('registration records, committed versions and deployments', () => {
  const record = (id: string, status: RegistrationRecord['status']): RegistrationRecord => ({
    id,
    status,
    source: 'api',
    reference: '127.0.0.1:5000/sales/orders:1.0.0',
    problems: status === 'rejected' ? [{ code: 'E001', message: 'bad name' }] : [],
    warnings: [],
    createdAt: '2026-11-01T00:00:00.000Z',
  });

  it('keep the record that registered a version forever and the others for their retention', async () => {
    now = start;
    const registry = new DynamoRegistry(harness.table, { registrationRetentionDays: 5 });
    expect(await registry.claimRegistration(record('reg-registered', 'registered'))).toBe(true);
    expect(await registry.claimRegistration(record('reg-duplicate', 'duplicate'))).toBe(true);
    expect(await registry.claimRegistration(record('reg-rejected', 'rejected'))).toBe(true);
    expect(await harness.table.get(keys.registration('reg-registered'))).not.toHaveProperty('expiresAt');
    expect((await harness.table.get(keys.registration('reg-rejected')))?.expiresAt).toBe(
      epoch('2026-11-01T00:00:00.000Z') + 5 * day,
    );

    now = later(6);
    const ids = (await registry.listRegistrations({ limit: 10 })).items.map((item) => item.id);
    expect(ids).toEqual(['reg-registered']);
  });

  it('never expire committed versions, their DataSets and edges, or deployments', async () => {
    now = start;
    const registry = new DynamoRegistry(harness.table, { registrationRetentionDays: 1 });
    await seedVersion(registry, {
      namespace: 'sales',
      name: 'orders',
      version: '1.0.0',
      kind: 'DataSet',
      declares: [{ name: 'orders', classification: 'internal' }],
    });
    await seedVersion(registry, {
      namespace: 'sales',
      name: 'load',
      version: '1.0.0',
      kind: 'Transform',
      outputs: ['orders'],
    });
    const deployments = new DynamoDeploymentStore(harness.table);
    await deployments.commitDeployment(
      {
        namespace: 'sales',
        name: 'load',
        env: 'dev',
        cell: 'local',
        kind: 'Transform',
        version: '1.0.0',
        digest: 'sha256:1',
        deployedAt: '2026-11-01T00:00:00.000Z',
        promotionId: 'p1',
        history: [],
        revision: 0,
      },
      0,
    );
    const items = [
      ...(await harness.table.queryAll({ partition: keys.packagePartition('sales', 'orders') })),
      ...(await harness.table.queryAll({ partition: keys.packagePartition('sales', 'load') })),
      ...(await harness.table.queryAll({ partition: keys.datasetPartition('sales', 'orders') })),
    ];
    expect(items.length).toBeGreaterThanOrEqual(6);
    for (const item of items) expect(item, `${item.PK} ${item.SK}`).not.toHaveProperty('expiresAt');

    now = later(36_500);
    expect(await registry.getVersion('sales', 'orders', '1.0.0')).toBeDefined();
    expect(await registry.getDataSet('sales', 'orders')).toMatchObject({ producers: [{ name: 'load' }] });
    expect(await deployments.getDeployment('sales', 'load', 'dev', 'local')).toMatchObject({
      version: '1.0.0',
    });
  });
});
