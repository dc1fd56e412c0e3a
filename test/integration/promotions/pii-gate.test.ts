import { Logger } from '@aws-lambda-powertools/logger';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../../../lib/adapters/dynamodb/keys.js';
import { openLineageGraph } from '../../../lib/adapters/dynamodb/lineage-store.js';
import { DynamoRegistry } from '../../../lib/adapters/dynamodb/registry-store.js';
import { LocalPromotionPipeline } from '../../../lib/adapters/local/local-promotion-pipeline.js';
import { UnprocessableError } from '../../../lib/domain/errors.js';
import { makeGovernanceInputs } from '../../../lib/domain/governance/governance-inputs.js';
import { callerFor } from '../../../lib/domain/identity/principal.js';
import type { PromotionRecord } from '../../../lib/ports/deployment-store.js';
import { startTestTable } from '../../support/dynamo.js';
import {
  type PromotionPlane,
  seedPiiPackages,
  startPromotionPlane,
  stopPromotionRegistry,
} from '../../support/promotion-plane.js';
import { seedVersion } from '../../support/registry-seed.js';

/**
 * The PII gate of governed environments (issue 11 item 4; ADR "PII gate at promotion") through the promotion
 * use cases on the embedded DynamoDB, with the in-process pipeline: `exporter` copies the PII of
 * `customers` (confidential) into `mailing` (internal). prod is governed: refused, listing the path, with
 * nothing recorded; accepted with a governance override that waits for `security`, deploys after it only,
 * and is audited; int is not governed. The Guard stage re-checks the approvals and the flow.
 */

const ns = 'sales';
const groups = { owners: ['olivia', 'oscar', 'sam'], security: ['sara', 'sam', 'steve'] };

let harness: PromotionPlane;
let pipeline: LocalPromotionPipeline;

beforeAll(async () => {
  pipeline = new LocalPromotionPipeline(new Logger({ logLevel: 'SILENT' }));
  harness = await startPromotionPlane({
    groups,
    pipeline,
    versions: [],
    cells: ['refused', 'override', 'console', 'changed', 'back'],
  });
  pipeline.bind(harness.plane.promotions.stages);
  await seedPiiPackages(harness);
}, 120_000);

afterAll(async () => {
  await pipeline?.drain();
  await harness?.close();
  await stopPromotionRegistry();
});

const promotions = () => harness.plane.promotions;

function request(
  name: string,
  version: string,
  env: string,
  cell: string,
  extra: { governanceOverride?: { reason: string }; by?: string } = {},
): Promise<PromotionRecord> {
  const { by = 'rita', ...rest } = extra;
  return promotions().request({
    namespace: ns,
    name,
    version,
    env,
    cell,
    requestedBy: callerFor(by),
    ...rest,
  });
}

async function decide(id: string, by: string, group?: string): Promise<PromotionRecord> {
  await promotions().decide({ promotionId: id, decision: 'approve', group, caller: callerFor(by) });
  await pipeline.drain();
  return promotions().get(id);
}

/** dev, then int with an owner's approval: int is not governed, so the PII flow does not stop it. */
async function toInt(name: string, version: string, cell: string): Promise<void> {
  expect(await request(name, version, 'dev', cell)).toMatchObject({ status: 'DEPLOYED' });
  const int = await request(name, version, 'int', cell);
  expect(int.governance).toBeUndefined();
  expect(await decide(int.id, 'olivia')).toMatchObject({ status: 'DEPLOYED' });
}

async function deployedVersion(name: string, env: string, cell: string): Promise<string | undefined> {
  return (await harness.plane.deployments.getDeployment(ns, name, env, cell))?.version;
}

async function audit(name: string): Promise<{ id: string; action: string; details: unknown }[]> {
  const items = await harness.deps.table.queryAll({
    index: 'GSI3',
    partition: keys.auditIndex.ofTarget(`package:${ns}/${name}`),
  });
  return items.map((item) => ({ id: String(item.id), action: String(item.action), details: item.details }));
}

const mailingViolation = {
  code: 'PII_UNDERCLASSIFIED',
  dataset: { namespace: ns, name: 'mailing' },
  classification: 'internal',
  path: ['sales/customers', 'sales/mailing'],
};

describe('the PII gate of prod (governed)', () => {
  it('refuses a version sending PII into an internal DataSet (422 GOVERNANCE_PII_FLOW, the path in errors[]) and records nothing', async () => {
    await toInt('exporter', '1.0.0', 'refused');
    const auditBefore = await audit('exporter');
    const eventsBefore = harness.bus.events().length;

    const refusal = await request('exporter', '1.0.0', 'prod', 'refused').catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(UnprocessableError);
    expect(refusal).toMatchObject({
      code: 'GOVERNANCE_PII_FLOW',
      message: expect.stringContaining('sales/customers → sales/mailing'),
      problems: [
        {
          code: 'PII_UNDERCLASSIFIED',
          path: 'sales/customers → sales/mailing',
          message: expect.stringContaining('through sales/exporter 1.0.0'),
        },
      ],
    });

    const listed = await promotions().list({ namespace: ns, name: 'exporter', env: 'prod', limit: 100 });
    expect(listed.items.filter((promotion) => promotion.cell === 'refused')).toEqual([]);
    expect(await audit('exporter')).toEqual(auditBefore);
    expect(harness.bus.events().slice(eventsBefore)).toEqual([]);
    expect(await deployedVersion('exporter', 'prod', 'refused')).toBeUndefined();
    // Nor did it take the package's lock: the next request (with an override) is not PROMOTION_ALREADY_OPEN.
    const next = await request('exporter', '1.0.0', 'prod', 'refused', {
      governanceOverride: { reason: 'checking the lock' },
    });
    expect(next.status).toBe('AWAITING_APPROVAL');
  });

  it('passes a version whose PII stays in confidential DataSets, recording that it checked', async () => {
    await toInt('archiver', '1.0.0', 'override');
    const prod = await request('archiver', '1.0.0', 'prod', 'override');
    expect(prod).toMatchObject({
      status: 'AWAITING_APPROVAL',
      requiredApprovals: [{ group: 'owners' }, { group: 'security' }],
      governance: { violations: [] },
    });
    expect(prod.governance?.override).toBeUndefined();
    await decide(prod.id, 'oscar');
    expect(await decide(prod.id, 'steve')).toMatchObject({ status: 'DEPLOYED' });
  });

  it('accepts a governance override: waits for security, deploys only after it, and audits it with the reason and paths', async () => {
    await toInt('exporter', '1.0.0', 'override');
    const prod = await request('exporter', '1.0.0', 'prod', 'override', {
      governanceOverride: { reason: 'DPA-17: mailing is pseudonymised downstream' },
    });
    expect(prod).toMatchObject({
      status: 'AWAITING_APPROVAL',
      requiredApprovals: [{ group: 'owners' }, { group: 'security' }],
      governance: {
        violations: [expect.objectContaining(mailingViolation)],
        override: { reason: 'DPA-17: mailing is pseudonymised downstream' },
      },
      warnings: [expect.stringMatching(/^GOVERNANCE_PII_FLOW_OVERRIDDEN: .*sales\/mailing.*DPA-17/)],
    });
    const requested = harness.bus
      .events()
      .find(
        (event) => event['detail-type'] === 'Promotion Requested' && event.detail.promotionId === prod.id,
      );
    expect(requested?.detail).toMatchObject({
      governance: { violations: ['sales/customers → sales/mailing'], override: true },
    });

    expect(await decide(prod.id, 'olivia')).toMatchObject({ status: 'AWAITING_APPROVAL' });
    expect(await deployedVersion('exporter', 'prod', 'override')).toBeUndefined();
    await expect(decide(prod.id, 'rita')).rejects.toMatchObject({ code: 'SELF_APPROVAL' });
    expect(await decide(prod.id, 'sara', 'security')).toMatchObject({ status: 'DEPLOYED' });
    expect(await deployedVersion('exporter', 'prod', 'override')).toBe('1.0.0');

    const entries = (await audit('exporter')).filter((entry) => entry.id.startsWith(`${prod.id}:`));
    expect(entries.map((entry) => entry.action).sort()).toEqual([
      'promotion.approved',
      'promotion.approved',
      'promotion.deployed',
      'promotion.governance-override',
      'promotion.requested',
    ]);
    expect(entries.find((entry) => entry.action === 'promotion.governance-override')?.details).toMatchObject({
      reason: 'DPA-17: mailing is pseudonymised downstream',
      person: 'rita',
      requiredApprovals: ['owners', 'security'],
      violations: [
        { dataset: 'sales/mailing', classification: 'internal', path: 'sales/customers → sales/mailing' },
      ],
    });
  });

  it('gates a rollback the same way: back to a version that sends PII, only with an override', async () => {
    for (const version of ['1.0.0', '1.1.0']) {
      await toInt('exporter', version, 'back');
      const prod = await request('exporter', version, 'prod', 'back', {
        governanceOverride: { reason: `release ${version}` },
      });
      await decide(prod.id, 'oscar');
      await decide(prod.id, 'steve');
    }
    expect(await deployedVersion('exporter', 'prod', 'back')).toBe('1.1.0');
    const back = {
      namespace: ns,
      name: 'exporter',
      env: 'prod',
      cell: 'back',
      requestedBy: callerFor('rita'),
    };
    await expect(promotions().rollback(back)).rejects.toMatchObject({ code: 'GOVERNANCE_PII_FLOW' });
    const rollback = await promotions().rollback({
      ...back,
      governanceOverride: { reason: 'INC-9: 1.1.0 drops rows' },
    });
    expect(rollback).toMatchObject({
      version: '1.0.0',
      rollback: { fromVersion: '1.1.0' },
      governance: { override: { reason: 'INC-9: 1.1.0 drops rows' } },
    });
  });
});

describe('the Guard stage', () => {
  it('fails a promotion whose security approval is missing (approved in the CodePipeline console): nothing deploys', async () => {
    await toInt('exporter', '1.0.0', 'console');
    const prod = await request('exporter', '1.0.0', 'prod', 'console', {
      governanceOverride: { reason: 'console test' },
    });
    await decide(prod.id, 'oscar');
    // The pipeline's security approval given in the console, around the rules: Guard runs, nothing recorded.
    await expect(promotions().stages.guard(prod.id)).rejects.toMatchObject({
      code: 'GUARD_REFUSED',
      message: expect.stringContaining('no recorded approval of group security'),
    });
    expect(await promotions().get(prod.id)).toMatchObject({
      status: 'FAILED',
      error: { code: 'GUARD_REFUSED' },
    });
    expect(await deployedVersion('exporter', 'prod', 'console')).toBeUndefined();
  });

  it('fails an override whose record no longer requires security', async () => {
    const prod = await request('exporter', '1.0.0', 'prod', 'console', {
      governanceOverride: { reason: 'record test' },
    });
    // A record changed around the rules: security dropped from the required groups, owners approved.
    const stored = await harness.plane.deployments.getPromotion(prod.id);
    if (stored === undefined) throw new Error('the promotion was not recorded');
    await harness.plane.deployments.putPromotion(
      {
        ...stored,
        status: 'DEPLOYING',
        requiredApprovals: [{ group: 'owners' }],
        approvals: [
          {
            group: 'owners',
            decision: 'approve',
            principal: 'olivia',
            person: 'olivia',
            at: stored.createdAt,
          },
        ],
      },
      stored.revision,
    );
    await expect(promotions().stages.guard(prod.id)).rejects.toMatchObject({
      code: 'GUARD_REFUSED',
      message: expect.stringContaining('security'),
    });
    expect(await deployedVersion('exporter', 'prod', 'console')).toBeUndefined();
  });

  it('fails a promotion when PII reaches a DataSet the request did not list: the approvers did not accept it', async () => {
    await toInt('archiver', '1.0.0', 'changed');
    const prod = await request('archiver', '1.0.0', 'prod', 'changed');
    expect(prod.governance?.violations).toEqual([]);
    await decide(prod.id, 'oscar');
    // Meanwhile vault is reclassified internal: archiver now writes PII into it.
    await seedVersion(new DynamoRegistry(harness.deps.table), {
      namespace: ns,
      name: 'vault',
      version: '1.1.0',
      kind: 'DataSet',
      declares: [{ name: 'vault', classification: 'internal', schema: [{ name: 'email' }], store: 'files' }],
    });
    expect(await decide(prod.id, 'sara')).toMatchObject({
      status: 'FAILED',
      error: {
        code: 'GOVERNANCE_PII_FLOW',
        message: expect.stringContaining('sales/customers → sales/vault'),
      },
    });
    expect(await deployedVersion('archiver', 'prod', 'changed')).toBeUndefined();
  });
});

describe('environments', () => {
  it('gates a governed environment without approvals only when overridden: then it waits for security', async () => {
    const labPipeline = new LocalPromotionPipeline(new Logger({ logLevel: 'SILENT' }));
    const lab = await startPromotionPlane({
      groups,
      pipeline: labPipeline,
      versions: [],
      environments: [{ name: 'lab', approvals: [], governed: true }],
    });
    labPipeline.bind(lab.plane.promotions.stages);
    try {
      await seedPiiPackages(lab);
      const ask = (name: string, extra: { governanceOverride?: { reason: string } } = {}) =>
        lab.plane.promotions.request({
          namespace: ns,
          name,
          version: '1.0.0',
          env: 'lab',
          cell: 'blue',
          requestedBy: callerFor('rita'),
          ...extra,
        });
      expect(await ask('archiver')).toMatchObject({ status: 'DEPLOYED', requiredApprovals: [] });
      await expect(ask('exporter')).rejects.toMatchObject({ code: 'GOVERNANCE_PII_FLOW' });
      const overridden = await ask('exporter', { governanceOverride: { reason: 'lab data' } });
      expect(overridden).toMatchObject({
        status: 'AWAITING_APPROVAL',
        requiredApprovals: [{ group: 'security' }],
      });
      await lab.plane.promotions.decide({
        promotionId: overridden.id,
        decision: 'approve',
        caller: callerFor('steve'),
      });
      await labPipeline.drain();
      expect(await lab.plane.promotions.get(overridden.id)).toMatchObject({ status: 'DEPLOYED' });
    } finally {
      await labPipeline.drain();
      await lab.close();
    }
  });

  it('answers 503 GOVERNANCE_CHECK_UNAVAILABLE when the registry cannot be read, and records nothing', async () => {
    const down = await startTestTable();
    const unreachable = makeGovernanceInputs({
      packages: new DynamoRegistry(down.table),
      deployments: harness.plane.deployments,
      environments: ['dev', 'int', 'prod'],
      lineageGraph: () => openLineageGraph(down.table),
    });
    await down.close();
    const broken = await startPromotionPlane({
      groups,
      pipeline: new LocalPromotionPipeline(new Logger({ logLevel: 'SILENT' })),
      versions: [],
      governanceInputs: unreachable,
    });
    try {
      await seedPiiPackages(broken);
      const ask = (env: string) =>
        broken.plane.promotions.request({
          namespace: ns,
          name: 'archiver',
          version: '1.0.0',
          env,
          cell: 'blue',
          requestedBy: callerFor('rita'),
          override: { reason: 'skip the order' },
        });
      // Not governed: not checked, deployed.
      expect(await ask('dev')).toMatchObject({ status: 'DEPLOYED' });
      await expect(ask('prod')).rejects.toMatchObject({
        name: 'DependencyUnavailableError',
        code: 'GOVERNANCE_CHECK_UNAVAILABLE',
      });
      const listed = await broken.plane.promotions.list({
        namespace: ns,
        name: 'archiver',
        env: 'prod',
        limit: 10,
      });
      expect(listed.items).toEqual([]);
    } finally {
      await broken.close();
    }
  });
});
