import { Logger } from '@aws-lambda-powertools/logger';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../../../lib/adapters/dynamodb/keys.js';
import { LocalPromotionPipeline } from '../../../lib/adapters/local/local-promotion-pipeline.js';
import { callerFor } from '../../../lib/domain/identity/principal.js';
import type { PromotionRecord } from '../../../lib/ports/deployment-store.js';
import {
  packageName as name,
  namespace,
  type PromotionPlane,
  startPromotionPlane,
  stopPromotionRegistry,
} from '../../support/promotion-plane.js';

/**
 * The promotion use cases of the embedded mode on a real table with registered versions: the in-process
 * pipeline runs Guard and Deploy after the last approval, as CodePipeline does in AWS.
 */

let harness: PromotionPlane;
let pipeline: LocalPromotionPipeline;

beforeAll(async () => {
  pipeline = new LocalPromotionPipeline(new Logger({ logLevel: 'SILENT' }));
  harness = await startPromotionPlane({
    groups: { owners: ['olivia', 'oscar', 'sam'], security: ['sara', 'sam', 'steve'] },
    pipeline,
    cells: ['walk', 'refusals', 'order', 'lock', 'idem', 'back', 'expiry', 'status'],
  });
  pipeline.bind(harness.plane.promotions.stages);
}, 120_000);

afterAll(async () => {
  await pipeline?.drain();
  await harness?.close();
  await stopPromotionRegistry();
});

const promotions = () => harness.plane.promotions;

async function request(
  env: string,
  version: string,
  cell: string,
  by = 'rita',
  extra: { override?: { reason: string }; idempotencyKey?: string } = {},
): Promise<PromotionRecord> {
  return promotions().request({ namespace, name, version, env, cell, requestedBy: callerFor(by), ...extra });
}

async function decide(
  id: string,
  by: string,
  decision: 'approve' | 'reject' = 'approve',
  group?: string,
): Promise<PromotionRecord> {
  const promotion = await promotions().decide({ promotionId: id, decision, group, caller: callerFor(by) });
  await pipeline.drain();
  return promotions().get(promotion.id);
}

/** A version walked to `env` in `cell` (dev, then int with an owner, then prod with owner and security). */
async function walk(version: string, cell: string, to: 'dev' | 'int' | 'prod'): Promise<void> {
  await request('dev', version, cell);
  if (to === 'dev') return;
  await decide((await request('int', version, cell)).id, 'olivia');
  if (to === 'int') return;
  const prod = await request('prod', version, cell);
  await decide(prod.id, 'oscar');
  await decide(prod.id, 'steve');
}

async function deployedVersion(env: string, cell: string): Promise<string | undefined> {
  return (await harness.plane.deployments.getDeployment(namespace, name, env, cell))?.version;
}

async function auditActions(promotionId: string): Promise<string[]> {
  const items = await harness.deps.table.queryAll({
    index: 'GSI3',
    partition: keys.auditIndex.ofTarget(`package:${namespace}/${name}`),
  });
  return items
    .filter((item) => String(item.id).startsWith(`${promotionId}:`))
    .map((item) => String(item.action))
    .sort();
}

describe('promotion dev → int → prod', () => {
  it('deploys dev at once, int after one owner, prod after an owner and a security member', async () => {
    const dev = await request('dev', '1.0.0', 'walk');
    expect(dev).toMatchObject({ status: 'DEPLOYED', requiredApprovals: [], approvals: [] });

    const int = await request('int', '1.0.0', 'walk');
    expect(int).toMatchObject({
      status: 'AWAITING_APPROVAL',
      requiredApprovals: [{ group: 'owners' }],
      pipeline: { name: 'embedded-int', executionId: `embedded-${int.id}` },
    });
    expect(int.stages.map((stage) => [stage.name, stage.status])).toEqual([
      ['Validate', 'SUCCEEDED'],
      ['Approve', 'IN_PROGRESS'],
      ['Guard', 'PENDING'],
      ['Deploy', 'PENDING'],
    ]);
    expect(await deployedVersion('int', 'walk')).toBeUndefined();
    expect(await decide(int.id, 'olivia')).toMatchObject({ status: 'DEPLOYED' });
    expect(await deployedVersion('int', 'walk')).toBe('1.0.0');

    const prod = await request('prod', '1.0.0', 'walk');
    expect(prod.requiredApprovals).toEqual([{ group: 'owners' }, { group: 'security' }]);
    expect(await decide(prod.id, 'olivia')).toMatchObject({ status: 'AWAITING_APPROVAL' });
    expect(await deployedVersion('prod', 'walk')).toBeUndefined();
    const deployed = await decide(prod.id, 'sara');
    expect(deployed).toMatchObject({
      status: 'DEPLOYED',
      approvals: [
        { group: 'owners', decision: 'approve', person: 'olivia' },
        { group: 'security', decision: 'approve', person: 'sara' },
      ],
    });
    expect(deployed.stages.every((stage) => stage.status === 'SUCCEEDED')).toBe(true);
    expect(await deployedVersion('prod', 'walk')).toBe('1.0.0');
    const published = harness.bus
      .events()
      .filter((event) => JSON.stringify(event.detail).includes(prod.id))
      .map((event) => event['detail-type'])
      .filter((type) => type !== 'Audit Record');
    expect(published).toEqual([
      'Promotion Requested',
      'Promotion Approved',
      'Promotion Approved',
      'Package Deployed',
    ]);
    expect(await auditActions(prod.id)).toEqual([
      'promotion.approved',
      'promotion.approved',
      'promotion.deployed',
      'promotion.requested',
    ]);
  });
});

describe('approval refusals', () => {
  let prod: PromotionRecord;

  beforeAll(async () => {
    await walk('1.0.0', 'refusals', 'int');
    prod = await request('prod', '1.0.0', 'refusals');
  });

  it('refuses the requester (403 SELF_APPROVAL)', async () => {
    await expect(decide(prod.id, 'rita')).rejects.toMatchObject({ code: 'SELF_APPROVAL' });
  });

  it('refuses someone in no required group, and a group the caller is not in (403)', async () => {
    await expect(decide(prod.id, 'eve')).rejects.toMatchObject({ code: 'APPROVAL_GROUP_FORBIDDEN' });
    await expect(decide(prod.id, 'oscar', 'approve', 'security')).rejects.toMatchObject({
      code: 'APPROVAL_GROUP_FORBIDDEN',
    });
  });

  it('counts a member of both groups once (409 APPROVER_ALREADY_COUNTED)', async () => {
    await expect(decide(prod.id, 'sam')).rejects.toMatchObject({ code: 'APPROVAL_GROUP_AMBIGUOUS' });
    expect(await decide(prod.id, 'sam', 'approve', 'owners')).toMatchObject({ status: 'AWAITING_APPROVAL' });
    await expect(decide(prod.id, 'sam', 'approve', 'security')).rejects.toMatchObject({
      code: 'APPROVER_ALREADY_COUNTED',
    });
    expect(await deployedVersion('prod', 'refusals')).toBeUndefined();
  });

  it('ends on a rejection (REJECTED), deploys nothing, and takes no decision after', async () => {
    const rejected = await decide(prod.id, 'steve', 'reject');
    expect(rejected).toMatchObject({ status: 'REJECTED' });
    await expect(decide(prod.id, 'sara')).rejects.toMatchObject({ code: 'PROMOTION_ENDED' });
    expect(await deployedVersion('prod', 'refusals')).toBeUndefined();
    expect(await auditActions(prod.id)).toContain('promotion.rejected');
  });
});

describe('validation before anything is recorded', () => {
  it('refuses int before dev (422 PROMOTION_ORDER_VIOLATION) and records nothing', async () => {
    await expect(request('int', '1.1.0', 'order')).rejects.toMatchObject({
      code: 'PROMOTION_ORDER_VIOLATION',
    });
    const listed = await promotions().list({ namespace, name, env: 'int', limit: 100 });
    expect(listed.items.filter((promotion) => promotion.cell === 'order')).toEqual([]);
  });

  it('lets an override skip the order, with a warning and an audit entry, but not the approvals', async () => {
    const overridden = await request('int', '1.1.0', 'order', 'rita', {
      override: { reason: 'hotfix INC-42' },
    });
    expect(overridden.status).toBe('AWAITING_APPROVAL');
    expect(overridden.warnings).toEqual([
      expect.stringMatching(/^PROMOTION_ORDER_OVERRIDDEN: .*hotfix INC-42$/),
    ]);
    expect(await auditActions(overridden.id)).toEqual(['promotion.override', 'promotion.requested']);
  });

  it('refuses a version that is not registered and an unknown environment', async () => {
    await expect(request('dev', '9.9.9', 'order')).rejects.toMatchObject({ code: 'VERSION_NOT_FOUND' });
    await expect(request('qa', '1.0.0', 'order')).rejects.toMatchObject({ code: 'PROMOTION_ENV_UNKNOWN' });
  });

  it('refuses a cell without the Stores the DataSets need', async () => {
    await harness.plane.cells.putCell('bare', {});
    await expect(request('dev', '1.0.0', 'bare')).rejects.toMatchObject({ code: 'DEPLOY_STORE_MISSING' });
  });
});

describe('one open promotion per package × environment × cell', () => {
  it('answers 409 naming the open one, and takes a new one once it ended', async () => {
    await walk('1.0.0', 'lock', 'dev');
    const first = await request('int', '1.0.0', 'lock');
    await expect(request('int', '1.0.0', 'lock', 'rolf')).rejects.toMatchObject({
      code: 'PROMOTION_ALREADY_OPEN',
      message: expect.stringContaining(first.id),
    });
    const override = { override: { reason: 'race' } };
    const racing = await Promise.allSettled([
      request('prod', '1.0.0', 'lock', 'rita', override),
      request('prod', '1.0.0', 'lock', 'rolf', override),
    ]);
    expect(racing.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    expect(racing.find((result) => result.status === 'rejected')).toMatchObject({
      reason: { code: 'PROMOTION_ALREADY_OPEN' },
    });

    await decide(first.id, 'oscar', 'reject');
    const second = await request('int', '1.0.0', 'lock', 'rolf');
    expect(second).toMatchObject({ status: 'AWAITING_APPROVAL' });
    expect(second.id).not.toBe(first.id);
  });

  it('answers the same promotion for the same Idempotency-Key', async () => {
    await walk('1.0.0', 'idem', 'dev');
    const first = await request('int', '1.0.0', 'idem', 'rita', { idempotencyKey: 'k-1' });
    const again = await request('int', '1.0.0', 'idem', 'rita', { idempotencyKey: 'k-1' });
    expect(again.id).toBe(first.id);
  });
});

describe('rollback', () => {
  it('goes back to the version deployed before, through the same approvals, audited', async () => {
    await walk('1.0.0', 'back', 'prod');
    await walk('1.1.0', 'back', 'prod');
    expect(await deployedVersion('prod', 'back')).toBe('1.1.0');

    const rollback = await promotions().rollback({
      namespace,
      name,
      env: 'prod',
      cell: 'back',
      requestedBy: callerFor('rita'),
    });
    expect(rollback).toMatchObject({
      version: '1.0.0',
      status: 'AWAITING_APPROVAL',
      rollback: { fromVersion: '1.1.0' },
      requiredApprovals: [{ group: 'owners' }, { group: 'security' }],
    });
    await expect(decide(rollback.id, 'rita')).rejects.toMatchObject({ code: 'SELF_APPROVAL' });
    await decide(rollback.id, 'oscar');
    expect(await deployedVersion('prod', 'back')).toBe('1.1.0');
    expect(await decide(rollback.id, 'sara')).toMatchObject({ status: 'DEPLOYED' });
    const deployment = await harness.plane.deployments.getDeployment(namespace, name, 'prod', 'back');
    expect(deployment).toMatchObject({ version: '1.0.0', promotionId: rollback.id });
    expect(deployment?.history.map((entry) => entry.version)).toEqual(['1.1.0', '1.0.0']);
    expect(await auditActions(rollback.id)).toContain('promotion.rollback');
  });

  it('refuses a rollback with nowhere to go', async () => {
    await expect(
      promotions().rollback({ namespace, name, env: 'prod', cell: 'expiry', requestedBy: callerFor('rita') }),
    ).rejects.toMatchObject({ code: 'DEPLOYMENT_NOT_FOUND' });
    await expect(
      promotions().rollback({ namespace, name, env: 'dev', cell: 'walk', requestedBy: callerFor('rita') }),
    ).rejects.toMatchObject({ code: 'ROLLBACK_NO_PREVIOUS_VERSION' });
    await expect(
      promotions().rollback({
        namespace,
        name,
        env: 'prod',
        cell: 'back',
        toVersion: '1.2.0',
        requestedBy: callerFor('rita'),
      }),
    ).rejects.toMatchObject({ code: 'ROLLBACK_VERSION_NOT_IN_HISTORY' });
  });
});

describe('approval timeout', () => {
  it('expires a promotion nobody decided on in time, on read and by the sweep', async () => {
    await walk('1.0.0', 'expiry', 'dev');
    const int = await request('int', '1.0.0', 'expiry');
    expect(Date.parse(int.expiresAt ?? '') - Date.parse(int.createdAt)).toBe(60 * 60_000);
    harness.advance(59 * 60_000);
    expect(await promotions().get(int.id)).toMatchObject({ status: 'AWAITING_APPROVAL' });
    harness.advance(60_000);
    expect(await promotions().get(int.id)).toMatchObject({ status: 'EXPIRED' });
    await expect(decide(int.id, 'olivia')).rejects.toMatchObject({ code: 'PROMOTION_ENDED' });

    const second = await request('int', '1.0.0', 'expiry');
    harness.advance(60 * 60_000);
    // The sweep ends every promotion whose approvals timed out, this one among them.
    expect(await promotions().expireDue()).toBeGreaterThanOrEqual(1);
    const stored = await harness.plane.deployments.getPromotion(second.id);
    expect(stored?.status).toBe('EXPIRED');
    expect(await auditActions(second.id)).toContain('promotion.expired');
  });
});

describe('status', () => {
  it('shows what is deployed where, a promotion waiting for approvals, and one that failed', async () => {
    await walk('1.0.0', 'status', 'int');
    const int = await request('int', '1.1.0', 'status', 'rita', { override: { reason: 'test' } });
    const rows = (await harness.plane.packageStatus(namespace, name)).deployments.filter(
      (row) => row.cell === 'status',
    );
    expect(rows).toEqual([
      expect.objectContaining({ env: 'dev', version: '1.0.0', status: 'Deployed' }),
      expect.objectContaining({
        env: 'int',
        version: '1.0.0',
        status: 'Promoting',
        promotion: expect.objectContaining({ id: int.id, version: '1.1.0', pendingGroups: ['owners'] }),
      }),
    ]);

    // Guard runs when the pipeline's approvals passed; without recorded approvals (an approval given in
    // the CodePipeline console) it refuses, and the promotion fails.
    await expect(promotions().stages.guard(int.id)).rejects.toMatchObject({ code: 'GUARD_REFUSED' });
    const after = (await harness.plane.packageStatus(namespace, name)).deployments.find(
      (row) => row.cell === 'status' && row.env === 'int',
    );
    expect(after).toMatchObject({
      version: '1.0.0',
      status: 'Failed',
      promotion: { id: int.id, status: 'FAILED', error: { code: 'GUARD_REFUSED' } },
    });
    expect(await deployedVersion('int', 'status')).toBe('1.0.0');
  });
});

describe('approver groups', () => {
  it('refuses a promotion nobody could approve: a required group without members (422)', async () => {
    const empty = await startPromotionPlane({
      groups: { owners: ['olivia'] },
      pipeline: new LocalPromotionPipeline(new Logger({ logLevel: 'SILENT' })),
      versions: ['1.0.0'],
    });
    try {
      await empty.plane.promotions.request({
        namespace,
        name,
        version: '1.0.0',
        env: 'dev',
        cell: 'blue',
        requestedBy: callerFor('rita'),
      });
      await expect(
        empty.plane.promotions.request({
          namespace,
          name,
          version: '1.0.0',
          env: 'prod',
          cell: 'blue',
          requestedBy: callerFor('rita'),
          override: { reason: 'test' },
        }),
      ).rejects.toMatchObject({
        code: 'PROMOTION_APPROVERS_MISSING',
        message: expect.stringContaining('security'),
      });
    } finally {
      await empty.close();
    }
  });
});
