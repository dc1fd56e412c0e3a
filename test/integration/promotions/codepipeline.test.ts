import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPromotionEventsHandler } from '../../../lambdas/promotion-events/handler.js';
import { createPromotionStagesHandler } from '../../../lambdas/promotion-stages/handler.js';
import { CodePipelinePromotionPipeline } from '../../../lib/adapters/codepipeline/promotion-pipeline.js';
import { keys } from '../../../lib/adapters/dynamodb/keys.js';
import { FileBlobStore } from '../../../lib/adapters/local/file-blob-store.js';
import { callerFor } from '../../../lib/domain/identity/principal.js';
import type { PromotionRecord } from '../../../lib/ports/deployment-store.js';
import { FakeCodePipeline } from '../../support/fake-codepipeline.js';
import {
  packageName as name,
  namespace,
  type PromotionPlane,
  seedPiiPackages,
  startPromotionPlane,
  stopPromotionRegistry,
} from '../../support/promotion-plane.js';

/**
 * The AWS promotion path with everything real but CodePipeline's control API: the CodePipeline adapter,
 * the `promotion-stages` handler (Validate, Guard, Deploy jobs) and the `promotion-events` handler
 * (state-change events), over the use cases and a real table.
 */

const account = '111122223333';
const owner = `arn:aws:sts::${account}:assumed-role/Owners/olivia`;
const security = `arn:aws:sts::${account}:assumed-role/Security/sara`;
const requester = `arn:aws:sts::${account}:assumed-role/Deployers/rita`;
const pipelines = { int: 'dev-datakit-promote-int', prod: 'dev-datakit-promote-prod' };

let harness: PromotionPlane;
let fake: FakeCodePipeline;
let requestsDir: string;
let requests: FileBlobStore;
let stagesHandler: ReturnType<typeof createPromotionStagesHandler>;
let eventsHandler: ReturnType<typeof createPromotionEventsHandler>;

beforeAll(async () => {
  fake = new FakeCodePipeline();
  requestsDir = mkdtempSync(join(tmpdir(), 'datakit-requests-'));
  requests = new FileBlobStore(requestsDir);
  harness = await startPromotionPlane({
    groups: {
      owners: [`arn:aws:iam::${account}:role/Owners`],
      security: [`arn:aws:iam::${account}:role/Security`],
    },
    pipeline: new CodePipelinePromotionPipeline(fake, requests, pipelines),
    cells: ['blue', 'green', 'red', 'late', 'console'],
  });
  const logger = new Logger({ logLevel: 'SILENT' });
  stagesHandler = createPromotionStagesHandler({ logger }, harness.plane.promotions.stages, fake);
  eventsHandler = createPromotionEventsHandler({ logger }, harness.plane.promotions);
}, 120_000);

afterAll(async () => {
  await harness?.close();
  await stopPromotionRegistry();
  rmSync(requestsDir, { recursive: true, force: true });
});

const promotions = () => harness.plane.promotions;

async function request(
  env: string,
  cell: string,
  version = '1.0.0',
  by = requester,
): Promise<PromotionRecord> {
  return promotions().request({ namespace, name, version, env, cell, requestedBy: callerFor(by) });
}

const decide = (id: string, by: string, decision: 'approve' | 'reject' = 'approve') =>
  promotions().decide({ promotionId: id, decision, caller: callerFor(by) });

/** A Lambda action's job, as CodePipeline invokes the stages function. */
function job(step: string, promotion: PromotionRecord, id = `job-${step}-${promotion.id}`) {
  return {
    'CodePipeline.job': {
      id,
      accountId: account,
      data: {
        actionConfiguration: {
          configuration: {
            FunctionName: 'dev-datakit-promotion-stages',
            UserParameters: JSON.stringify({
              step,
              promotionId: promotion.id,
              pipeline: promotion.pipeline?.name,
              executionId: promotion.pipeline?.executionId,
            }),
          },
        },
        inputArtifacts: [],
        outputArtifacts: [],
      },
    },
  };
}

/** A CodePipeline state-change event as EventBridge delivers it. */
function stateChange(
  level: 'Pipeline' | 'Stage' | 'Action',
  promotion: PromotionRecord,
  state: string,
  extra: { stage?: string; action?: string; time?: string } = {},
) {
  return {
    version: '0',
    id: 'evt',
    'detail-type': `CodePipeline ${level} Execution State Change`,
    source: 'aws.codepipeline',
    account,
    time: extra.time ?? new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    region: 'eu-west-1',
    resources: [`arn:aws:codepipeline:eu-west-1:${account}:${promotion.pipeline?.name}`],
    detail: {
      pipeline: promotion.pipeline?.name,
      'execution-id': promotion.pipeline?.executionId,
      state,
      version: 1,
      ...(extra.stage === undefined ? {} : { stage: extra.stage }),
      ...(extra.action === undefined
        ? {}
        : { action: extra.action, type: { category: 'Approval', provider: 'Manual' } }),
    },
  };
}

async function deployedVersion(env: string, cell: string) {
  return (await harness.plane.deployments.getDeployment(namespace, name, env, cell))?.version;
}

async function toInt(cell: string): Promise<void> {
  await request('dev', cell);
  const int = await request('int', cell);
  fake.reachApprovals(int.pipeline?.executionId ?? '', ['owners']);
  await decide(int.id, owner);
  await stagesHandler(job('guard', int));
  await stagesHandler(job('deploy', int));
}

describe('the CodePipeline promotion pipeline', () => {
  it('starts an execution on the request object, with the promotion id as a variable', async () => {
    await request('dev', 'blue');
    const int = await request('int', 'blue');

    const execution = fake.executions.get(int.pipeline?.executionId ?? '');
    expect(int.pipeline?.name).toBe('dev-datakit-promote-int');
    expect(execution?.input).toEqual({
      name: 'dev-datakit-promote-int',
      clientRequestToken: int.id,
      variables: [
        { name: 'PROMOTION_ID', value: int.id },
        { name: 'GOVERNANCE', value: 'not checked (environment not governed)' },
      ],
      sourceRevisions: [
        {
          actionName: 'Request',
          revisionType: 'S3_OBJECT_KEY',
          revisionValue: `requests/int/${int.id}.json`,
        },
      ],
    });
    const stored = JSON.parse((await requests.get(`requests/int/${int.id}.json`)) ?? '{}');
    expect(stored).toMatchObject({ id: int.id, version: '1.0.0', env: 'int', status: 'AWAITING_APPROVAL' });
    expect(await harness.plane.deployments.promotionOfExecution(execution?.id ?? '')).toBe(int.id);
  });

  it('walks int: Validate, the owner approval handed to its action with its token, Guard, Deploy', async () => {
    const int = (await promotions().list({ namespace, name, env: 'int', limit: 10 })).items.find(
      (promotion) => promotion.cell === 'blue',
    );
    if (int === undefined) throw new Error('no int promotion');
    await stagesHandler(job('validate', int));
    expect(fake.jobSuccesses.map((success) => success.jobId)).toContain(`job-validate-${int.id}`);

    // Approved before the execution reached its approval: recorded, handed over when the stage starts.
    await decide(int.id, owner);
    expect(fake.approvalResults).toEqual([]);
    const executionId = int.pipeline?.executionId ?? '';
    fake.reachApprovals(executionId, ['owners']);
    await eventsHandler(stateChange('Stage', int, 'STARTED', { stage: 'Approve' }));
    expect(fake.approvalResults).toEqual([
      expect.objectContaining({
        pipelineName: 'dev-datakit-promote-int',
        stageName: 'Approve',
        actionName: 'Approve-owners',
        result: expect.objectContaining({ status: 'Approved', summary: expect.stringContaining('olivia') }),
      }),
    ]);
    expect(fake.approvalStatus(executionId, 'owners')).toBe('Succeeded');

    await stagesHandler(job('guard', int));
    expect(await deployedVersion('int', 'blue')).toBeUndefined();
    await stagesHandler(job('deploy', int));
    expect(await deployedVersion('int', 'blue')).toBe('1.0.0');
    expect(await promotions().get(int.id)).toMatchObject({ status: 'DEPLOYED' });
    expect(fake.jobFailures).toEqual([]);
  });

  it('hands each prod approval to the action of its group, finding tokens across pages', async () => {
    const prod = await request('prod', 'blue');
    const executionId = prod.pipeline?.executionId ?? '';
    fake.reachApprovals(executionId, ['owners', 'security']);
    const before = fake.approvalResults.length;

    await decide(prod.id, owner);
    expect(fake.approvalStatus(executionId, 'owners')).toBe('Succeeded');
    expect(fake.approvalStatus(executionId, 'security')).toBe('InProgress');
    await decide(prod.id, security);
    expect(fake.approvalStatus(executionId, 'security')).toBe('Succeeded');
    expect(fake.approvalResults.slice(before).map((result) => result.actionName)).toEqual([
      'Approve-owners',
      'Approve-security',
    ]);
    await stagesHandler(job('guard', prod));
    await stagesHandler(job('deploy', prod));
    expect(await deployedVersion('prod', 'blue')).toBe('1.0.0');
  });

  it('rejects the waiting actions on a rejection', async () => {
    await toInt('green');
    const prod = await request('prod', 'green');
    const executionId = prod.pipeline?.executionId ?? '';
    fake.reachApprovals(executionId, ['owners', 'security']);
    await decide(prod.id, owner);
    await decide(prod.id, security, 'reject');
    expect(fake.approvalStatus(executionId, 'security')).toBe('Failed');
    expect(await promotions().get(prod.id)).toMatchObject({ status: 'REJECTED' });
  });

  it('answers 503 when CodePipeline does not take the approval, and hands it over on the retry', async () => {
    await toInt('red');
    const prod = await request('prod', 'red');
    const executionId = prod.pipeline?.executionId ?? '';
    fake.reachApprovals(executionId, ['owners', 'security']);
    fake.failApprovals = 1;
    await expect(decide(prod.id, owner)).rejects.toMatchObject({ code: 'PIPELINE_UNAVAILABLE' });
    expect((await promotions().get(prod.id)).approvals).toHaveLength(1);
    expect(fake.approvalStatus(executionId, 'owners')).toBe('InProgress');

    expect(await decide(prod.id, owner)).toMatchObject({ status: 'AWAITING_APPROVAL' });
    expect(fake.approvalStatus(executionId, 'owners')).toBe('Succeeded');
  });
});

describe('the stages and the events', () => {
  it('fails the Guard job when an approval was given in the console, around the rules', async () => {
    await toInt('console');
    const prod = await request('prod', 'console');
    const executionId = prod.pipeline?.executionId ?? '';
    fake.reachApprovals(executionId, ['owners', 'security']);
    await decide(prod.id, owner);
    // Someone with IAM access approves security in the console: no recorded approval of security.
    fake.consoleDecision(executionId, 'Approve-security', 'Succeeded');
    await eventsHandler(
      stateChange('Action', prod, 'SUCCEEDED', { stage: 'Approve', action: 'Approve-security' }),
    );

    await stagesHandler(job('guard', prod));

    expect(fake.jobFailures.at(-1)).toMatchObject({
      jobId: `job-guard-${prod.id}`,
      failureDetails: {
        type: 'JobFailed',
        message: expect.stringMatching(/^GUARD_REFUSED: .*no recorded approval of group security/),
      },
    });
    expect(await promotions().get(prod.id)).toMatchObject({
      status: 'FAILED',
      error: { code: 'GUARD_REFUSED' },
    });
    // Even a Deploy job reached some other way refuses.
    await stagesHandler(job('deploy', prod, 'job-deploy-forced'));
    expect(fake.jobFailures.at(-1)).toMatchObject({ jobId: 'job-deploy-forced' });
    expect(await deployedVersion('prod', 'console')).toBeUndefined();
    const audit = await harness.deps.table.queryAll({
      index: 'GSI3',
      partition: keys.auditIndex.ofTarget(`package:${namespace}/${name}`),
    });
    expect(audit.filter((item) => item.id === `${prod.id}:console-approval:security`)).toHaveLength(1);
  });

  it('moves stages forward from events, ignores late ones, and never moves an ended promotion back', async () => {
    await toInt('late');
    const prod = await request('prod', 'late');
    await eventsHandler(stateChange('Stage', prod, 'SUCCEEDED', { stage: 'Approve' }));
    await eventsHandler(stateChange('Stage', prod, 'STARTED', { stage: 'Approve' }));
    expect((await promotions().get(prod.id)).stages.find((stage) => stage.name === 'Approve')?.status).toBe(
      'SUCCEEDED',
    );
    await eventsHandler(stateChange('Pipeline', prod, 'STOPPED'));
    const stopped = await promotions().get(prod.id);
    expect(stopped).toMatchObject({ status: 'FAILED', error: { code: 'PIPELINE_STOPPED' } });
    await eventsHandler(stateChange('Pipeline', prod, 'SUCCEEDED'));
    await eventsHandler(stateChange('Stage', prod, 'STARTED', { stage: 'Deploy' }));
    expect(await promotions().get(prod.id)).toEqual(stopped);
  });

  it('marks a promotion whose pipeline failed after the approval timeout EXPIRED', async () => {
    await request('dev', 'late', '1.1.0');
    const next = await request('int', 'late', '1.1.0');
    const after = new Date(Date.parse(next.expiresAt ?? '') + 5000).toISOString().replace(/\.\d+Z$/, 'Z');
    await eventsHandler(stateChange('Pipeline', next, 'FAILED', { time: after }));
    expect(await harness.plane.deployments.getPromotion(next.id)).toMatchObject({ status: 'EXPIRED' });
  });

  it('ignores executions that run no promotion, and events that are not CodePipeline state changes', async () => {
    const orphan = { pipeline: { name: 'dev-datakit-promote-int', executionId: 'not-a-promotion' } } as const;
    await expect(
      eventsHandler(
        stateChange(
          'Pipeline',
          { ...((await request('dev', 'blue', '1.1.0')) as PromotionRecord), ...orphan },
          'FAILED',
        ),
      ),
    ).resolves.toBeUndefined();
    await expect(eventsHandler({ 'detail-type': 'Something Else' })).resolves.toBeUndefined();
  });

  it('records, at Validate, which execution runs the promotion (from #{codepipeline.PipelineExecutionId})', async () => {
    const dev = await request('dev', 'red', '1.1.0');
    const int = await request('int', 'red', '1.1.0');
    const restarted = {
      ...int,
      pipeline: { name: 'dev-datakit-promote-int', executionId: 'execution-of-a-retry' },
    };
    await stagesHandler(job('validate', restarted, 'job-validate-restarted'));
    expect(fake.jobSuccesses.map((success) => success.jobId)).toContain('job-validate-restarted');
    expect(await harness.plane.deployments.promotionOfExecution('execution-of-a-retry')).toBe(int.id);
    expect((await promotions().get(int.id)).pipeline?.executionId).toBe('execution-of-a-retry');
    expect(dev.status).toBe('DEPLOYED');
  });

  it('reports a job with bad parameters as a configuration error', async () => {
    await stagesHandler({
      'CodePipeline.job': {
        id: 'job-bad',
        data: { actionConfiguration: { configuration: { UserParameters: '{"step":"launch"}' } } },
      },
    });
    expect(fake.jobFailures.at(-1)).toMatchObject({
      jobId: 'job-bad',
      failureDetails: { type: 'ConfigurationError' },
    });
  });
});

describe('a governed environment whose groups do not include security', () => {
  // staging needs owners only; governed, its pipeline also has a security action for governance overrides.
  let staged: PromotionPlane;
  let stagingFake: FakeCodePipeline;
  let stages: ReturnType<typeof createPromotionStagesHandler>;

  beforeAll(async () => {
    stagingFake = new FakeCodePipeline();
    staged = await startPromotionPlane({
      groups: {
        owners: [`arn:aws:iam::${account}:role/Owners`],
        security: [`arn:aws:iam::${account}:role/Security`],
      },
      pipeline: new CodePipelinePromotionPipeline(stagingFake, requests, {
        staging: 'dev-datakit-promote-staging',
      }),
      versions: [],
      environments: [
        { name: 'dev', approvals: [], governed: false },
        { name: 'staging', approvals: ['owners'], governed: true },
      ],
    });
    await seedPiiPackages(staged);
    stages = createPromotionStagesHandler(
      { logger: new Logger({ logLevel: 'SILENT' }) },
      staged.plane.promotions.stages,
      stagingFake,
    );
  }, 120_000);

  afterAll(async () => staged?.close());

  const ask = async (package_: string, governanceOverride?: { reason: string }) => {
    const target = { namespace: 'sales', name: package_, version: '1.0.0', cell: 'blue' };
    await staged.plane.promotions.request({ ...target, env: 'dev', requestedBy: callerFor(requester) });
    return staged.plane.promotions.request({
      ...target,
      env: 'staging',
      requestedBy: callerFor(requester),
      governanceOverride,
    });
  };
  const approve = (id: string, by: string) =>
    staged.plane.promotions.decide({ promotionId: id, decision: 'approve', caller: callerFor(by) });

  it('hands the security action over as not required to a promotion without an override', async () => {
    const promotion = await ask('archiver');
    expect(promotion.requiredApprovals).toEqual([{ group: 'owners' }]);
    const executionId = promotion.pipeline?.executionId ?? '';
    expect(stagingFake.executions.get(executionId)?.input.variables).toContainEqual({
      name: 'GOVERNANCE',
      value: 'checked, no PII flow below confidential',
    });
    stagingFake.reachApprovals(executionId, ['owners', 'security']);
    await approve(promotion.id, owner);
    expect(stagingFake.approvalStatus(executionId, 'owners')).toBe('Succeeded');
    expect(stagingFake.approvalStatus(executionId, 'security')).toBe('Succeeded');
    expect(
      stagingFake.approvalResults.find((r) => r.actionName === 'Approve-security')?.result?.summary,
    ).toMatch(/^Not required: /);
    await stages(job('guard', promotion));
    await stages(job('deploy', promotion));
    expect(await staged.plane.promotions.get(promotion.id)).toMatchObject({ status: 'DEPLOYED' });
  });

  it('makes a promotion with a governance override wait for security, and tells the approvers why', async () => {
    const promotion = await ask('exporter', { reason: 'DPA-17' });
    expect(promotion.requiredApprovals).toEqual([{ group: 'owners' }, { group: 'security' }]);
    const executionId = promotion.pipeline?.executionId ?? '';
    expect(stagingFake.executions.get(executionId)?.input.variables).toContainEqual({
      name: 'GOVERNANCE',
      value: 'OVERRIDE, needs security: PII would reach sales/mailing (below confidential); reason: DPA-17',
    });
    stagingFake.reachApprovals(executionId, ['owners', 'security']);
    await approve(promotion.id, owner);
    expect(stagingFake.approvalStatus(executionId, 'security')).toBe('InProgress');
    await approve(promotion.id, security);
    expect(stagingFake.approvalStatus(executionId, 'security')).toBe('Succeeded');
    await stages(job('guard', promotion));
    await stages(job('deploy', promotion));
    expect(await staged.plane.promotions.get(promotion.id)).toMatchObject({ status: 'DEPLOYED' });
  });
});
