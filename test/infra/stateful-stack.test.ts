import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { keyAttributeNames, tableDefinition } from '../../lib/contracts/table.js';
import { StatefulStack } from '../../stacks/stateful-stack.js';
import { cdkJson, logicalIdOf } from './control-plane-fixture.js';

function statefulTemplate(props: Partial<ConstructorParameters<typeof StatefulStack>[2]> = {}): {
  stack: StatefulStack;
  template: Template;
} {
  const app = new App({ context: cdkJson.context });
  const stack = new StatefulStack(app, 'stateful', { stage: 'test', ...props });
  return { stack, template: Template.fromStack(stack) };
}

describe('StatefulStack (defaults)', () => {
  let stack: StatefulStack;
  let template: Template;
  beforeAll(() => {
    ({ stack, template } = statefulTemplate());
  });

  it('creates exactly one table and one bus', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.resourceCountIs('AWS::Events::EventBus', 1);
  });

  it('keys the table as tableDefinition says, every key attribute a string', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: tableDefinition.partitionKey, KeyType: 'HASH' },
        { AttributeName: tableDefinition.sortKey, KeyType: 'RANGE' },
      ],
      AttributeDefinitions: Match.arrayEquals(
        keyAttributeNames.map((name) => ({ AttributeName: name, AttributeType: 'S' })),
      ),
    });
  });

  it('creates every GSI of tableDefinition, projecting all attributes, and no other', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      GlobalSecondaryIndexes: tableDefinition.globalSecondaryIndexes.map((index) => ({
        IndexName: index.indexName,
        KeySchema: [
          { AttributeName: index.partitionKey, KeyType: 'HASH' },
          { AttributeName: index.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      })),
    });
  });

  it('bills on demand, with point-in-time recovery, deletion protection, TTL and encryption at rest', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      DeletionProtectionEnabled: true,
      TimeToLiveSpecification: { AttributeName: tableDefinition.timeToLiveAttribute, Enabled: true },
      SSESpecification: { SSEEnabled: true },
    });
  });

  it('retains the table when the stack is deleted or the table replaced', () => {
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });

  it('names the bus after the stage', () => {
    template.hasResourceProperties('AWS::Events::EventBus', { Name: 'test-datakit' });
  });

  it('archives every event of the bus for 90 days', () => {
    template.hasResourceProperties('AWS::Events::Archive', {
      SourceArn: { 'Fn::GetAtt': [logicalIdOf(stack.eventBus), 'Arn'] },
      EventPattern: { account: [{ Ref: 'AWS::AccountId' }] },
      RetentionDays: 90,
    });
  });

  it('stays environment-agnostic', () => {
    expect(stack.account).toMatch(/^\$\{Token/);
    expect(stack.region).toMatch(/^\$\{Token/);
  });
});

describe('StatefulStack (options)', () => {
  it('encrypts with a rotated customer-managed key when asked', () => {
    const { template } = statefulTemplate({ tableEncryption: 'customer-managed' });

    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: Match.anyValue() },
    });
  });

  it('keeps archived events indefinitely when the retention is 0', () => {
    const { template } = statefulTemplate({ eventArchiveRetentionDays: 0 });

    // AWS::Events::Archive reads RetentionDays 0 as "keep indefinitely".
    template.hasResourceProperties('AWS::Events::Archive', { RetentionDays: 0 });
  });

  it('turns on contributor insights for the table and every index when asked', () => {
    const { template } = statefulTemplate({ tableContributorInsights: true });

    template.hasResourceProperties('AWS::DynamoDB::Table', {
      ContributorInsightsSpecification: { Enabled: true },
      GlobalSecondaryIndexes: Match.arrayWith([
        Match.objectLike({ ContributorInsightsSpecification: { Enabled: true } }),
      ]),
    });
  });
});
