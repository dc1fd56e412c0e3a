import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { promotionPipelineEventPattern } from '../../lib/contracts/events/codepipeline.js';
import { maxGovernanceNoteLength } from '../../lib/contracts/promotion-pipeline.js';
import { buildControlPlane, logicalIdOf, type SynthesizedControlPlane } from './control-plane-fixture.js';

/**
 * The promotion pipelines as synthesized (issue 10): one CodePipeline V2 pipeline per environment with
 * approvals, their stages and actions, topics, buckets, the state-change rule, and who may do what —
 * above all, that only the promotions API may hand decisions to the approval actions.
 */

const account = '111122223333';
const context = {
  'datakit:stage': 'test',
  'datakit:cells': [{ name: 'blue' }],
  'datakit:approvalTimeoutDays': 3,
  'datakit:approverGroups': {
    owners: [`arn:aws:iam::${account}:role/Owners`],
    security: [`arn:aws:iam::${account}:role/Security`, `arn:aws:iam::${account}:user/dave`],
  },
};

type Resource = { Type: string; Properties: Record<string, unknown> };
type Statement = { Effect: string; Action: string | string[]; Resource: unknown };

let controlPlane: SynthesizedControlPlane;
let template: Template;

beforeAll(() => {
  controlPlane = buildControlPlane(context);
  template = Template.fromStack(controlPlane.api);
});

function pipeline(env: string): Record<string, unknown> {
  const found = Object.values(
    template.findResources('AWS::CodePipeline::Pipeline', {
      Properties: { Name: `test-datakit-promote-${env}` },
    }),
  ) as Resource[];
  expect(found).toHaveLength(1);
  return found[0]?.Properties ?? {};
}

type Stage = {
  Name: string;
  Actions: {
    Name: string;
    ActionTypeId: Record<string, string>;
    Configuration: Record<string, unknown>;
    TimeoutInMinutes?: number;
  }[];
};

const stagesOf = (env: string) => pipeline(env).Stages as Stage[];
const roleRef = (name: 'promotions-api') => {
  const role = controlPlane.api.functions.get(name)?.role;
  if (role === undefined) throw new Error(`no role of ${name}`);
  return logicalIdOf(role);
};

describe('the promotion pipelines', () => {
  it('are one V2 pipeline in PARALLEL mode per environment with approvals, none for dev', () => {
    const names = Object.values(template.findResources('AWS::CodePipeline::Pipeline')).map(
      (resource) => (resource as Resource).Properties.Name,
    );
    expect(names.sort()).toEqual(['test-datakit-promote-int', 'test-datakit-promote-prod']);
    for (const env of ['int', 'prod']) {
      expect(pipeline(env)).toMatchObject({
        PipelineType: 'V2',
        ExecutionMode: 'PARALLEL',
        Variables: [{ Name: 'PROMOTION_ID' }, { Name: 'GOVERNANCE' }],
      });
    }
  });

  it('run Request → Validate → one approval per required group → Guard → Deploy', () => {
    expect(stagesOf('int').map((stage) => [stage.Name, stage.Actions.map((action) => action.Name)])).toEqual([
      ['Request', ['Request']],
      ['Validate', ['Validate']],
      ['Approve', ['Approve-owners']],
      ['Guard', ['Guard']],
      ['Deploy', ['Deploy']],
    ]);
    expect(
      stagesOf('prod')
        .find((stage) => stage.Name === 'Approve')
        ?.Actions.map((a) => a.Name),
    ).toEqual(['Approve-owners', 'Approve-security']);
  });

  it('read the request from S3 only when started, never by polling', () => {
    const source = stagesOf('prod')[0]?.Actions[0];
    expect(source?.ActionTypeId).toMatchObject({ Category: 'Source', Provider: 'S3' });
    expect(source?.Configuration).toMatchObject({ PollForSourceChanges: false });
    template.resourceCountIs('AWS::Events::Rule', 3); // registrations, pipeline state changes, triggers
  });

  it('invoke the stages function with the step and the promotion id variable', () => {
    const stagesFunction = logicalIdOf(controlPlane.api.promotions.stagesFunction);
    for (const [stage, step] of [
      ['Validate', 'validate'],
      ['Guard', 'guard'],
      ['Deploy', 'deploy'],
    ]) {
      const action = stagesOf('prod').find((candidate) => candidate.Name === stage)?.Actions[0];
      expect(action?.ActionTypeId).toMatchObject({ Category: 'Invoke', Provider: 'Lambda' });
      expect(action?.Configuration).toEqual({
        FunctionName: { Ref: stagesFunction },
        UserParameters: JSON.stringify({
          step,
          promotionId: '#{variables.PROMOTION_ID}',
          pipeline: 'test-datakit-promote-prod',
          executionId: '#{codepipeline.PipelineExecutionId}',
        }),
      });
    }
  });

  it('notify each approval on the environment topic with a link to the promotion, timing out as configured', () => {
    const topics = template.findResources('AWS::SNS::Topic');
    for (const env of ['int', 'prod']) {
      const [topicId] = Object.entries(topics).find(
        ([, topic]) => (topic as Resource).Properties.TopicName === `test-datakit-approvals-${env}`,
      ) ?? [''];
      const approvals = stagesOf(env).find((stage) => stage.Name === 'Approve')?.Actions ?? [];
      for (const approval of approvals) {
        expect(approval.ActionTypeId).toMatchObject({ Category: 'Approval', Provider: 'Manual' });
        expect(approval.TimeoutInMinutes).toBe(3 * 24 * 60);
        expect(approval.Configuration.NotificationArn).toEqual({ Ref: topicId });
        expect(JSON.stringify(approval.Configuration.ExternalEntityLink)).toContain(
          '/test/v1/promotions/#{variables.PROMOTION_ID}',
        );
        // What the PII gate found, within CodePipeline's 500 characters once the variable is filled in.
        const text = String(approval.Configuration.CustomData);
        expect(text).toContain('#{variables.GOVERNANCE}');
        expect(
          text.replace('#{variables.GOVERNANCE}', 'x'.repeat(maxGovernanceNoteLength)).length,
        ).toBeLessThanOrEqual(500);
      }
    }
  });

  it('have encrypted, TLS-only approval topics', () => {
    for (const topic of Object.values(template.findResources('AWS::SNS::Topic'))) {
      expect(JSON.stringify((topic as Resource).Properties.KmsMasterKeyId)).toContain(':alias/aws/sns');
    }
    const policies = Object.values(template.findResources('AWS::SNS::TopicPolicy')).map((policy) =>
      JSON.stringify(policy),
    );
    expect(policies).toHaveLength(2);
    for (const policy of policies) expect(policy).toContain('aws:SecureTransport');
  });

  it('keep requests and artifacts in encrypted, private, TLS-only buckets; requests versioned and retained', () => {
    const requests = logicalIdOf(controlPlane.api.promotions.requestsBucket);
    const artifacts = logicalIdOf(controlPlane.api.promotions.artifactsBucket);
    const buckets = template.findResources('AWS::S3::Bucket') as Record<
      string,
      Resource & { DeletionPolicy?: string }
    >;
    for (const id of [requests, artifacts]) {
      expect(buckets[id]?.Properties).toMatchObject({
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, RestrictPublicBuckets: true },
      });
    }
    expect(buckets[requests]).toMatchObject({
      DeletionPolicy: 'Retain',
      Properties: { VersioningConfiguration: { Status: 'Enabled' } },
    });
    expect(pipeline('int').ArtifactStore).toEqual({ Location: { Ref: artifacts }, Type: 'S3' });
    const bucketPolicies = Object.values(template.findResources('AWS::S3::BucketPolicy')).map((p) =>
      JSON.stringify(p),
    );
    for (const id of [requests, artifacts]) {
      expect(
        bucketPolicies.some((policy) => policy.includes(id) && policy.includes('aws:SecureTransport')),
      ).toBe(true);
    }
  });

  it('send their state changes to the events function, with retries and a dead-letter queue', () => {
    const pattern = promotionPipelineEventPattern(['test-datakit-promote-int', 'test-datakit-promote-prod']);
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: pattern.source, 'detail-type': pattern['detail-type'], detail: pattern.detail },
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [logicalIdOf(controlPlane.api.promotions.eventsFunction), 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 21600 },
          DeadLetterConfig: Match.objectLike({}),
        }),
      ],
    });
  });
});

describe('who may do what with the promotion pipelines', () => {
  /** Every IAM policy statement of every stack, with the roles its policy is attached to. */
  function statements(): { roles: string; statement: Statement }[] {
    const stacks = [controlPlane.stateful, controlPlane.api, ...controlPlane.cells];
    return stacks.flatMap((stack) =>
      Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy')).flatMap((policy) => {
        const properties = (policy as Resource).Properties;
        const document = properties.PolicyDocument as { Statement: Statement[] };
        return document.Statement.map((statement) => ({
          roles: JSON.stringify(properties.Roles),
          statement,
        }));
      }),
    );
  }
  const actionsOf = (statement: Statement) =>
    Array.isArray(statement.Action) ? statement.Action : [statement.Action];
  const allows = (statement: Statement, action: string) =>
    statement.Effect === 'Allow' &&
    actionsOf(statement).some(
      (granted) => granted === action || granted === '*' || granted === `${action.split(':')[0]}:*`,
    );

  it('lets only the promotions API hand decisions to the approval actions (PutApprovalResult), on those actions only', () => {
    const granted = statements().filter(({ statement }) =>
      allows(statement, 'codepipeline:PutApprovalResult'),
    );

    expect(granted).toHaveLength(1);
    expect(granted[0]?.roles).toBe(JSON.stringify([{ Ref: roleRef('promotions-api') }]));
    const resources = JSON.stringify(granted[0]?.statement.Resource);
    for (const action of [
      'int/Approve/Approve-owners',
      'prod/Approve/Approve-owners',
      'prod/Approve/Approve-security',
    ]) {
      expect(resources).toContain(`:test-datakit-promote-${action}`);
    }
    expect(resources).not.toContain('*');
  });

  it('runs the state-change follower as the promotions API’s role: it hands over decisions recorded early', () => {
    const functions = template.findResources('AWS::Lambda::Function') as Record<string, Resource>;
    const follower = functions[logicalIdOf(controlPlane.api.promotions.eventsFunction)];
    expect(follower?.Properties.Role).toEqual({ 'Fn::GetAtt': [roleRef('promotions-api'), 'Arn'] });
  });

  it('lets the promotions API start the pipelines, read their action executions and write requests', () => {
    const own = statements().filter(({ roles }) => roles.includes(roleRef('promotions-api')));
    const actions = own.flatMap(({ statement }) => actionsOf(statement));
    expect(actions).toEqual(
      expect.arrayContaining([
        'codepipeline:StartPipelineExecution',
        'codepipeline:ListActionExecutions',
        's3:PutObject',
      ]),
    );
  });

  it('lets nobody but the promotions API write requests: the pipelines only read them', () => {
    const requests = logicalIdOf(controlPlane.api.promotions.requestsBucket);
    const writers = statements().filter(
      ({ statement }) =>
        JSON.stringify(statement.Resource).includes(requests) &&
        actionsOf(statement).some((action) => /^s3:(Put|Delete|\*)/.test(action)),
    );
    expect(writers.map(({ roles }) => roles)).toEqual([JSON.stringify([{ Ref: roleRef('promotions-api') }])]);
  });

  it('lets the stages function report its jobs, and deploy in every cell as the deployer does', () => {
    const stagesRole = logicalIdOf(controlPlane.api.promotions.stagesFunction.role ?? controlPlane.api);
    const own = statements().filter(({ roles }) => roles.includes(stagesRole));
    const actions = own.flatMap(({ statement }) => actionsOf(statement));
    expect(actions).toEqual(
      expect.arrayContaining([
        'codepipeline:PutJobSuccessResult',
        'codepipeline:PutJobFailureResult',
        'ecs:CreateService',
      ]),
    );
    expect(actions).not.toContain('codepipeline:PutApprovalResult');
  });

  it('gives every function the approver groups, the environments and the approval timeout', () => {
    const functions = Object.values(template.findResources('AWS::Lambda::Function')) as Resource[];
    const promotionFunctions = functions.filter((fn) =>
      JSON.stringify(fn.Properties.Environment).includes('GROUPS'),
    );
    expect(promotionFunctions.length).toBeGreaterThanOrEqual(12);
    for (const fn of promotionFunctions) {
      expect(fn.Properties.Environment).toMatchObject({
        Variables: {
          GROUPS: JSON.stringify(context['datakit:approverGroups']),
          APPROVAL_TIMEOUT_MINUTES: String(3 * 24 * 60),
          ENVIRONMENTS: expect.stringContaining(
            '{"name":"prod","approvals":["owners","security"],"governed":true}',
          ),
        },
      });
    }
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          PROMOTION_PIPELINES: JSON.stringify({
            int: 'test-datakit-promote-int',
            prod: 'test-datakit-promote-prod',
          }),
          PROMOTION_REQUESTS_BUCKET: { Ref: logicalIdOf(controlPlane.api.promotions.requestsBucket) },
        }),
      },
    });
  });
});

describe('configured environments', () => {
  it('builds a pipeline for each environment that needs approvals, with its own groups', () => {
    const custom = buildControlPlane({
      'datakit:stage': 'alt',
      'datakit:environments': JSON.stringify([
        { name: 'dev' },
        { name: 'staging', approvals: ['qa'] },
        { name: 'live', approvals: ['owners', 'security', 'auditors'] },
      ]),
    });
    const customTemplate = Template.fromStack(custom.api);
    expect(approvalActions(customTemplate)).toEqual([
      ['alt-datakit-promote-staging', ['Approve-qa']],
      ['alt-datakit-promote-live', ['Approve-owners', 'Approve-security', 'Approve-auditors']],
    ]);
    expect(JSON.stringify(customTemplate.findResources('AWS::Lambda::Function'))).not.toContain(
      'alt-datakit-promote-dev',
    );
  });

  it('gives a governed environment a pipeline with a security action for governance overrides, approvals or not', () => {
    const custom = buildControlPlane({
      'datakit:stage': 'gov',
      'datakit:approverGroups': { owners: [`arn:aws:iam::${account}:role/Owners`] },
      'datakit:environments': JSON.stringify([
        { name: 'dev' },
        { name: 'lab', governed: true },
        { name: 'staging', approvals: ['owners'], governed: true },
        { name: 'live', approvals: ['owners', 'security'], governed: true },
      ]),
    });
    const customTemplate = Template.fromStack(custom.api);
    expect(approvalActions(customTemplate)).toEqual([
      ['gov-datakit-promote-lab', ['Approve-security']],
      ['gov-datakit-promote-staging', ['Approve-owners', 'Approve-security']],
      ['gov-datakit-promote-live', ['Approve-owners', 'Approve-security']],
    ]);
    const pipelines = Object.values(
      customTemplate.findResources('AWS::CodePipeline::Pipeline'),
    ) as Resource[];
    const staging = pipelines.find((found) => found.Properties.Name === 'gov-datakit-promote-staging');
    const security = ((staging?.Properties.Stages ?? []) as Stage[])
      .find((stage) => stage.Name === 'Approve')
      ?.Actions.find((action) => action.Name === 'Approve-security');
    expect(String(security?.Configuration.CustomData)).toMatch(
      /^Only a promotion to staging with a governance override/,
    );
    // The promotions API may hand decisions (and "not required") to the extra actions too.
    const granted = JSON.stringify(
      Object.values(customTemplate.findResources('AWS::IAM::Policy')).filter((policy) =>
        JSON.stringify(policy).includes('codepipeline:PutApprovalResult'),
      ),
    );
    for (const action of ['lab/Approve/Approve-security', 'staging/Approve/Approve-security']) {
      expect(granted).toContain(`:gov-datakit-promote-${action}`);
    }
  });
});

/** Each promotion pipeline's name with the actions of its Approve stage. */
function approvalActions(template: Template): [unknown, string[] | undefined][] {
  const pipelines = Object.values(template.findResources('AWS::CodePipeline::Pipeline')) as Resource[];
  return pipelines.map((found) => [
    found.Properties.Name,
    (found.Properties.Stages as Stage[])
      .find((stage) => stage.Name === 'Approve')
      ?.Actions.map((a) => a.Name),
  ]);
}
