import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { triggerEventPattern } from '../../lib/contracts/events/trigger-rule.js';
import { buildControlPlane, templatesOf } from './control-plane-fixture.js';

let template: Template;

beforeAll(() => {
  template = templatesOf(buildControlPlane()).api;
});

describe('reactive triggers in AWS (issue 9)', () => {
  it('routes DataSet Updated and run ends from the datakit bus to an encrypted queue, with the shared pattern', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: triggerEventPattern,
      Targets: [Match.objectLike({ DeadLetterConfig: Match.anyValue(), RetryPolicy: Match.anyValue() })],
    });
    template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      RedrivePolicy: Match.objectLike({ maxReceiveCount: 5 }),
    });
  });

  it('reads the queue with partial batch responses, and the queue outlasts six function timeouts', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 10,
    });
    const queues = Object.values(template.findResources('AWS::SQS::Queue'));
    const timeouts = queues
      .map((queue) => queue.Properties?.VisibilityTimeout)
      .filter((value) => value !== undefined);
    expect(timeouts).toContain(360);
  });

  it('alarms on dead letters (deliveries and ticks) and on a backed-up queue', () => {
    for (const metric of ['ApproximateNumberOfMessagesVisible', 'ApproximateAgeOfOldestMessage']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: metric, Namespace: 'AWS/SQS' });
    }
    expect(
      Object.keys(template.findResources('AWS::CloudWatch::Alarm', { Properties: { Namespace: 'AWS/SQS' } })),
    ).toHaveLength(3);
  });

  it('gives the stage a schedule group whose role may only invoke the trigger function', () => {
    template.hasResourceProperties('AWS::Scheduler::ScheduleGroup', { Name: 'datakit-dev' });
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: Match.objectLike({
        Statement: [Match.objectLike({ Principal: { Service: 'scheduler.amazonaws.com' } })],
      }),
    });
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((policy) =>
      JSON.stringify(policy.Properties?.Roles).includes('SchedulerRole'),
    );
    expect(policies).toHaveLength(1);
    const actions = JSON.stringify(
      policies[0]?.Properties?.PolicyDocument.Statement.map((s: { Action: unknown }) => s.Action),
    );
    expect(actions).toContain('lambda:InvokeFunction');
    expect(actions).toContain('sqs:SendMessage');
    expect(actions).not.toMatch(/states:|dynamodb:|ecs:/);
  });

  const stagesDescription =
    'DataKit promotions: the Validate, Guard and Deploy actions of the promotion pipelines';

  it('lets both deploying functions (inline and pipeline) manage the schedules of their group only', () => {
    const managing = Object.values(template.findResources('AWS::IAM::Policy')).filter((policy) =>
      JSON.stringify(policy).includes('scheduler:CreateSchedule'),
    );
    expect(managing.map((policy) => JSON.stringify(policy.Properties?.Roles)).sort()).toEqual([
      expect.stringMatching(/PromotionsApiRole/),
      expect.stringMatching(/Stages.*Role/),
    ]);
    for (const policy of managing) {
      const statement = JSON.stringify(
        policy.Properties?.PolicyDocument.Statement.find((s: { Action: unknown }) =>
          JSON.stringify(s.Action).includes('scheduler:CreateSchedule'),
        ),
      );
      expect(statement).toContain(':schedule/datakit-dev/*');
    }
    for (const description of ['DataKit API: promotions-api', stagesDescription]) {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Description: description,
        Environment: {
          Variables: Match.objectLike({
            SCHEDULE_GROUP: 'datakit-dev',
            SCHEDULE_TARGET_ARN: Match.anyValue(),
          }),
        },
      });
    }
  });
});
