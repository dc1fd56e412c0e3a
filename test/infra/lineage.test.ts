import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { RawEventsBucket } from '../../stacks/constructs/raw-events-bucket.js';
import { buildControlPlane, templatesOf } from './control-plane-fixture.js';

let stateful: Template;
let api: Template;

beforeAll(() => {
  ({ stateful, api } = templatesOf(buildControlPlane()));
});

/** Every statement of the policies attached to the role of one function (`LineageIngest`, ...). */
function statementsOf(functionId: string): { Action: unknown; Resource: unknown; Effect: string }[] {
  const policies = api.findResources('AWS::IAM::Policy');
  return Object.entries(policies)
    .filter(([logicalId]) => logicalId.startsWith(`${functionId}Role`))
    .flatMap(([, policy]) => {
      const document: unknown = policy.Properties.PolicyDocument;
      if (typeof document !== 'object' || document === null || !('Statement' in document)) return [];
      return Array.isArray(document.Statement) ? document.Statement : [];
    });
}

function actionsOf(functionId: string): string[] {
  return statementsOf(functionId).flatMap((statement) =>
    Array.isArray(statement.Action) ? statement.Action.map(String) : [String(statement.Action)],
  );
}

describe('raw lineage events bucket', () => {
  it('is private, encrypted, TLS-only and retained', () => {
    stateful.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
      }),
    });
    stateful.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('moves raw events to infrequent access after 30 days and expires them a day after their items', () => {
    const buckets = stateful.findResources('AWS::S3::Bucket');
    const rules = Object.values(buckets).flatMap((bucket) => {
      const lifecycle: unknown = bucket.Properties.LifecycleConfiguration;
      return typeof lifecycle === 'object' &&
        lifecycle !== null &&
        'Rules' in lifecycle &&
        Array.isArray(lifecycle.Rules)
        ? lifecycle.Rules
        : [];
    });

    // datakit:lineageEventRetentionDays defaults to 400: items expire then, their objects a day later.
    expect(rules).toContainEqual(
      expect.objectContaining({
        Prefix: 'raw-events/',
        Transitions: [{ StorageClass: 'STANDARD_IA', TransitionInDays: 30 }],
        ExpirationInDays: 401,
      }),
    );
  });

  it('keeps raw events forever with a retention of 0', () => {
    const stack = new Stack(new App(), 'Bucket');
    new RawEventsBucket(stack, 'RawEvents', { retentionDays: 0 });
    const [bucket] = Object.values(Template.fromStack(stack).findResources('AWS::S3::Bucket'));

    expect(JSON.stringify(bucket?.Properties.LifecycleConfiguration)).not.toContain('Expiration');
  });
});

describe('lineage functions', () => {
  it('tell every function where raw events live', () => {
    for (const id of ['LineageIngest', 'LineageApi']) {
      const functions = api.findResources('AWS::Lambda::Function', {
        Properties: {
          Description: `DataKit API: ${id === 'LineageIngest' ? 'lineage-ingest' : 'lineage-api'}`,
        },
      });
      const [fn] = Object.values(functions);
      expect(JSON.stringify(fn?.Properties.Environment)).toContain('RAW_EVENTS_BUCKET');
    }
  });

  it('let ingestion put raw events, write the table and publish, and nothing more on the bucket', () => {
    const actions = actionsOf('LineageIngest');

    expect(actions).toEqual(
      expect.arrayContaining(['s3:PutObject', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'events:PutEvents']),
    );
    expect(actions.filter((action) => action.startsWith('s3:'))).toEqual(['s3:PutObject']);
    const s3 = statementsOf('LineageIngest').find((statement) => statement.Action === 's3:PutObject');
    expect(JSON.stringify(s3?.Resource)).toContain('/raw-events/*');
  });

  it('let the read API get raw events and read the table, and write nothing', () => {
    const actions = actionsOf('LineageApi');

    expect(actions.filter((action) => action.startsWith('s3:'))).toEqual(['s3:GetObject']);
    expect(actions).not.toContain('dynamodb:PutItem');
    expect(actions).not.toContain('dynamodb:UpdateItem');
    expect(actions).not.toContain('events:PutEvents');
  });
});

describe('ingestion alarms', () => {
  it('alarm on Lambda errors of the ingestion function', () => {
    api.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors',
      Namespace: 'AWS/Lambda',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Dimensions: [{ Name: 'FunctionName', Value: Match.anyValue() }],
    });
  });

  it('count failed and refused events from the handler logs and alarm on them', () => {
    api.hasResourceProperties('AWS::Logs::MetricFilter', {
      FilterPattern: '{ $.message = "request failed" }',
      MetricTransformations: [
        Match.objectLike({ MetricNamespace: 'DataKit/Lineage', MetricName: 'IngestionFailures' }),
      ],
    });
    api.hasResourceProperties('AWS::Logs::MetricFilter', {
      FilterPattern: '{ $.message = "request refused" }',
      MetricTransformations: [
        Match.objectLike({ MetricNamespace: 'DataKit/Lineage', MetricName: 'RefusedEvents' }),
      ],
    });
    api.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'IngestionFailures', Threshold: 1 });
    api.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'RefusedEvents', Threshold: 50 });
  });
});
