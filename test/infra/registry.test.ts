import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { ecrPushPattern } from '../../lib/contracts/events/ecr.js';
import { answerMarginMs } from '../../lib/runtime/deadline.js';
import {
  buildControlPlane,
  logicalIdOf,
  type SynthesizedControlPlane,
  templatesOf,
} from './control-plane-fixture.js';

const context = {
  'datakit:packageRepositoryPrefix': 'pkgs/',
  'datakit:packageRepositories': ['pkgs/sales/orders-daily', 'pkgs/analytics/enrich'],
  'datakit:existingPackageRepositories': 'pkgs/legacy/ingest',
  'datakit:untaggedImageExpiryDays': 3,
  'datakit:registryAllowlist': ['registry.internal:5000'],
  'datakit:registryBlobHosts': ['blobs.internal', '*.auth.internal'],
};

type Resources = Record<string, { Properties: Record<string, unknown> }>;

let controlPlane: SynthesizedControlPlane;
let stateful: Template;
let api: Template;

beforeAll(() => {
  controlPlane = buildControlPlane(context);
  ({ stateful, api } = templatesOf(controlPlane));
});

function worker() {
  const fn = controlPlane.api.workers.get('registration-worker');
  if (fn === undefined) throw new Error('no registration worker');
  return fn;
}

/** Every statement of the policies attached to a function's role. */
function statementsOf(roleLogicalId: string): { Action: string | string[]; Resource: unknown }[] {
  const policies = api.findResources('AWS::IAM::Policy') as Resources;
  return Object.values(policies)
    .filter((policy) => JSON.stringify(policy.Properties.Roles).includes(roleLogicalId))
    .flatMap(
      (policy) =>
        (
          policy.Properties.PolicyDocument as {
            Statement: { Action: string | string[]; Resource: unknown }[];
          }
        ).Statement,
    );
}

describe('package repositories', () => {
  it('creates each configured repository immutable-tagged, scanned on push, retained, expiring untagged images', () => {
    stateful.resourceCountIs('AWS::ECR::Repository', 2);
    for (const name of context['datakit:packageRepositories']) {
      stateful.hasResource('AWS::ECR::Repository', {
        DeletionPolicy: 'Retain',
        Properties: {
          RepositoryName: name,
          ImageTagMutability: 'IMMUTABLE',
          ImageScanningConfiguration: { ScanOnPush: true },
          LifecyclePolicy: {
            LifecyclePolicyText: Match.serializedJson(
              Match.objectLike({
                rules: [
                  Match.objectLike({
                    selection: Match.objectLike({
                      tagStatus: 'untagged',
                      countType: 'sinceImagePushed',
                      countNumber: 3,
                    }),
                  }),
                ],
              }),
            ),
          },
        },
      });
    }
  });
});

describe('the registration rule', () => {
  it('listens on the default bus for ECR pushes by detail-type and repository prefix, exactly the shared pattern', () => {
    const rules = api.findResources('AWS::Events::Rule') as Resources;
    const [rule] = Object.values(rules).filter((candidate) =>
      JSON.stringify(candidate.Properties.EventPattern).includes('ECR Image Action'),
    );

    expect(rule?.Properties.EventBusName).toBeUndefined();
    expect(rule?.Properties.EventPattern).toEqual(ecrPushPattern(['pkgs/']));
    expect(JSON.stringify(rule?.Properties.EventPattern)).not.toContain('resources');
  });

  it('targets the worker with a retry policy and a dead-letter queue', () => {
    api.hasResourceProperties('AWS::Events::Rule', {
      Targets: [
        Match.objectLike({
          RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 21_600 },
          DeadLetterConfig: { Arn: Match.anyValue() },
        }),
      ],
    });
  });

  it('sends failed worker invocations to the same dead-letter queue after two retries', () => {
    api.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
    });
  });

  it('encrypts the dead-letter queue and refuses non-TLS access to it', () => {
    api.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 1_209_600,
    });
    api.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });
});

describe('registration permissions', () => {
  it.each([
    ['the worker', () => worker()],
    [
      'registrations-api',
      () => {
        const fn = controlPlane.api.functions.get('registrations-api');
        if (fn === undefined) throw new Error('no registrations-api');
        return fn;
      },
    ],
  ])('%s may pull only from the package repositories, plus GetAuthorizationToken', (_name, fn) => {
    const role = fn().role;
    if (role === undefined) throw new Error('no role');
    const statements = statementsOf(logicalIdOf(role));
    const pulls = statements.filter((statement) => [statement.Action].flat().includes('ecr:BatchGetImage'));
    const token = statements.filter((statement) =>
      [statement.Action].flat().includes('ecr:GetAuthorizationToken'),
    );
    const ecrActions = statements
      .flatMap((statement) => [statement.Action].flat())
      .filter((action) => action.startsWith('ecr:'));

    expect(JSON.stringify(pulls.map((statement) => statement.Resource))).not.toContain('"*"');
    expect(pulls.flatMap((statement) => [statement.Resource].flat())).toHaveLength(3);
    expect(token.map((statement) => statement.Resource)).toEqual(['*']);
    expect([...new Set(ecrActions)].sort()).toEqual([
      'ecr:BatchCheckLayerAvailability',
      'ecr:BatchGetImage',
      'ecr:GetAuthorizationToken',
      'ecr:GetDownloadUrlForLayer',
    ]);
  });

  it('packages-api reads only: no ECR, no writes', () => {
    const fn = controlPlane.api.functions.get('packages-api');
    const role = fn?.role;
    if (role === undefined) throw new Error('no role');
    const actions = statementsOf(logicalIdOf(role)).flatMap((statement) => [statement.Action].flat());

    expect(actions.filter((action) => action.startsWith('ecr:') || action === 'dynamodb:PutItem')).toEqual(
      [],
    );
  });

  it("allows the account's ECR and the configured registries, nothing else", () => {
    api.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'DataKit registry: registers packages pushed to ECR',
      Environment: {
        Variables: Match.objectLike({
          REGISTRY_ALLOWLIST: {
            'Fn::Join': [
              '',
              [
                Match.objectLike({ Ref: 'AWS::AccountId' }),
                '.dkr.ecr.',
                { Ref: 'AWS::Region' },
                '.',
                { Ref: 'AWS::URLSuffix' },
                ',registry.internal:5000',
              ],
            ],
          },
        }),
      },
    });
  });
});

describe('registry connections', () => {
  it('lets registries send reads and token requests only to the configured blob and token hosts', () => {
    for (const description of [
      'DataKit registry: registers packages pushed to ECR',
      'DataKit API: registrations-api',
    ]) {
      api.hasResourceProperties('AWS::Lambda::Function', {
        Description: description,
        Environment: {
          Variables: Match.objectLike({ REGISTRY_BLOB_HOSTS: 'blobs.internal,*.auth.internal' }),
        },
      });
    }
  });
});

describe('timeouts', () => {
  type LambdaFunction = {
    Properties: {
      Description?: string;
      Timeout?: number;
      Environment?: { Variables?: Record<string, unknown> };
    };
  };
  const functions = () =>
    Object.values(api.findResources('AWS::Lambda::Function') as Record<string, LambdaFunction>).filter(
      (fn) => fn.Properties.Description?.startsWith('DataKit') === true,
    );
  const timeoutOf = (description: string): number => {
    const fn = functions().find((candidate) => candidate.Properties.Description === description);
    if (fn?.Properties.Timeout === undefined) throw new Error(`no timeout for ${description}`);
    return fn.Properties.Timeout;
  };

  it('tells every function its own timeout, from which its registry deadline is derived', () => {
    expect(functions().length).toBeGreaterThan(2);
    for (const fn of functions()) {
      expect(fn.Properties.Environment?.Variables?.FUNCTION_TIMEOUT_MS, fn.Properties.Description).toBe(
        String((fn.Properties.Timeout ?? 0) * 1000),
      );
    }
  });

  it('leaves the registration functions time to read a registry and still answer', () => {
    for (const description of [
      'DataKit API: registrations-api',
      'DataKit registry: registers packages pushed to ECR',
    ]) {
      // At least as long again as the margin kept for the answer goes to the registry.
      expect(timeoutOf(description) * 1000, description).toBeGreaterThanOrEqual(2 * answerMarginMs);
    }
  });

  it('answers API calls before API Gateway gives up on the integration (29 s)', () => {
    expect(timeoutOf('DataKit API: registrations-api')).toBeLessThanOrEqual(29);
  });

  it('reads no registration queue: the worker is invoked by EventBridge, its dead-letter queue only a destination', () => {
    // The one SQS event source is the trigger function's (its queue outlasts it: test/infra/triggers.test.ts).
    api.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    expect(timeoutOf('DataKit registry: registers packages pushed to ECR')).toBeGreaterThan(
      timeoutOf('DataKit API: registrations-api'),
    );
  });
});
