import { Logger } from '@aws-lambda-powertools/logger';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoAuditStore } from '../../../lib/adapters/dynamodb/audit-log.js';
import { DynamoDeploymentStore } from '../../../lib/adapters/dynamodb/deployment-store.js';
import { keys } from '../../../lib/adapters/dynamodb/keys.js';
import type { PromotionRecord } from '../../../lib/ports/deployment-store.js';
import { AuditTrail } from '../../../lib/runtime/audit-trail.js';
import { startTestTable, type TestTable } from '../../support/dynamo.js';

/** The promotion records, locks and pipeline executions on a real DynamoDB-compatible server. */

let harness: TestTable;
let store: DynamoDeploymentStore;

beforeAll(async () => {
  harness = await startTestTable();
  store = new DynamoDeploymentStore(harness.table);
});

afterAll(async () => harness?.close());

const target = { namespace: 'sales', name: 'report', env: 'prod', cell: 'blue' };
const at = '2026-03-01T10:00:00.000Z';

function promotion(id: string): PromotionRecord {
  return {
    id,
    namespace: 'sales',
    name: 'report',
    version: '1.0.0',
    digest: `sha256:${'b'.repeat(64)}`,
    env: 'prod',
    cell: 'blue',
    status: 'AWAITING_APPROVAL',
    requestedBy: 'rita',
    requestedByPerson: 'rita',
    requiredApprovals: [{ group: 'owners' }],
    approvals: [],
    stages: [],
    warnings: [],
    createdAt: at,
    updatedAt: at,
    revision: 0,
  };
}

describe('the open-promotion lock', () => {
  it('lets exactly one of many concurrent promotions take it, and tells the others who holds it', async () => {
    const ids = Array.from({ length: 8 }, (_, index) => `p-${index}`);
    const claims = await Promise.all(ids.map((id) => store.claimPromotionLock(target, id, at)));
    const winners = claims.flatMap((claim, index) => (claim.claimed ? [ids[index]] : []));
    expect(winners).toHaveLength(1);
    for (const claim of claims) {
      if (!claim.claimed) expect(claim.holder).toEqual({ promotionId: winners[0], at, revision: 1 });
    }
  });

  it('is taken over only from the revision that was read, by one of several racers', async () => {
    const other = { ...target, cell: 'green' };
    await store.claimPromotionLock(other, 'first', at);
    const results = await Promise.all(
      ['second', 'third', 'fourth'].map((id) => store.takeOverPromotionLock(other, id, at, 1)),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    const claim = await store.claimPromotionLock(other, 'fifth', at);
    expect(claim).toMatchObject({ claimed: false, holder: { revision: 2 } });
    expect(await store.takeOverPromotionLock(other, 'fifth', at, 1)).toBe(false);
  });
});

describe('promotion records', () => {
  it('are written only from the revision read: a stale writer gets CONCURRENT_MODIFICATION', async () => {
    const written = await store.putPromotion(promotion('p-rev'), 0);
    expect(written.revision).toBe(1);
    await store.putPromotion({ ...written, status: 'DEPLOYING' }, written.revision);
    await expect(
      store.putPromotion({ ...written, status: 'REJECTED' }, written.revision),
    ).rejects.toMatchObject({
      code: 'CONCURRENT_MODIFICATION',
    });
    expect(await store.getPromotion('p-rev')).toMatchObject({ status: 'DEPLOYING', revision: 2 });
    await expect(store.putPromotion(promotion('p-rev'), 0)).rejects.toMatchObject({
      code: 'CONCURRENT_MODIFICATION',
    });
  });

  it('are listed per package, newest first, filtered by environment and status', async () => {
    await store.putPromotion({ ...promotion('p-old'), createdAt: '2026-02-01T00:00:00.000Z', env: 'int' }, 0);
    const page = await store.listPromotions({ namespace: 'sales', name: 'report', limit: 10 });
    expect(page.items.map((item) => item.id)).toEqual(['p-rev', 'p-old']);
    const int = await store.listPromotions({ namespace: 'sales', name: 'report', env: 'int', limit: 10 });
    expect(int.items.map((item) => item.id)).toEqual(['p-old']);
    const awaiting = await store.listPromotions({ status: 'AWAITING_APPROVAL', limit: 10 });
    expect(awaiting.items.map((item) => item.id)).toEqual(['p-old']);
  });
});

describe('pipeline executions', () => {
  it('map an execution to its promotion, idempotently, and know nothing of other executions', async () => {
    await store.recordPipelineExecution('exec-1', 'p-rev');
    await store.recordPipelineExecution('exec-1', 'p-rev');
    expect(await store.promotionOfExecution('exec-1')).toBe('p-rev');
    expect(await store.promotionOfExecution('exec-2')).toBeUndefined();
  });
});

describe('the audit trail', () => {
  it('keeps one entry per id however often it is appended, listed under its subject', async () => {
    const audit = new AuditTrail({
      store: new DynamoAuditStore(harness.table, { retentionDays: 400, clock: () => new Date(at) }),
      logger: new Logger({ logLevel: 'SILENT' }),
    });
    const entry = {
      id: 'p-rev:override',
      at,
      action: 'promotion.override',
      subject: 'package:sales/report',
      actor: 'rita',
      details: { reason: 'hotfix' },
    };
    await Promise.all([
      audit.append(entry),
      audit.append(entry),
      audit.append({ ...entry, actor: 'someone else' }),
    ]);
    const items = await harness.table.queryAll({
      index: 'GSI3',
      partition: keys.auditIndex.ofTarget('package:sales/report'),
    });
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ action: 'promotion.override', details: { reason: 'hotfix' } });
  });
});
