import { Duration, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IRepository } from 'aws-cdk-lib/aws-ecr';
import { type IEventBus, Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { type IQueue, Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ecrPushPattern } from '../../lib/contracts/events/ecr.js';
import { ApiFunction } from './api-function.js';
import { grantApiPermissions } from './api-permissions.js';

export interface RegistrationWorkerProps {
  readonly table: ITable;
  readonly eventBus: IEventBus;
  readonly packageRepositories: readonly IRepository[];
  /** Pushes to repositories whose name starts with this prefix are registered. */
  readonly repositoryPrefix: string;
  /** Environment of the function (table, bus, allowlist, blob hosts, log level). */
  readonly environment: Readonly<Record<string, string>>;
  readonly logRetention: RetentionDays;
  /** @default 512 */
  readonly memorySize?: number;
}

/**
 * Registration on push: an EventBridge rule on the account's default bus matches `ECR Image Action`
 * PUSH/SUCCESS events of the package repositories (by detail-type and repository-name prefix; the
 * pattern is `ecrPushPattern`, shared with the tests) and invokes the worker. Delivery failures are
 * retried by EventBridge, function errors by Lambda's asynchronous retries; both end in one encrypted
 * dead-letter queue, from which events can be redriven.
 */
export class RegistrationWorker extends Construct {
  readonly function: IFunction;
  readonly deadLetterQueue: IQueue;
  readonly rule: Rule;

  constructor(scope: Construct, id: string, props: RegistrationWorkerProps) {
    super(scope, id);
    const deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    const worker = new ApiFunction(this, 'Worker', {
      name: 'registration-worker',
      description: 'DataKit registry: registers packages pushed to ECR',
      logRetention: props.logRetention,
      memorySize: props.memorySize ?? 512,
      // Reading an artifact can take a while on a cold registry; API Gateway's 29 s cap does not apply.
      // Registry reads stop 1.5 s before it (FUNCTION_TIMEOUT_MS), so a slow registry is a retryable
      // failure (asynchronous retries, then the DLQ), not a timeout.
      timeout: Duration.seconds(60),
      environment: props.environment,
    });
    worker.function.configureAsyncInvoke({
      retryAttempts: 2,
      maxEventAge: Duration.hours(6),
      onFailure: new SqsDestination(deadLetterQueue),
    });
    grantApiPermissions(worker.function, ['table:read-write', 'events:put', 'packages:pull'], {
      table: props.table,
      eventBus: props.eventBus,
      packageRepositories: props.packageRepositories,
    });

    const pattern = ecrPushPattern([props.repositoryPrefix]);
    this.rule = new Rule(this, 'EcrPushRule', {
      description: 'ECR pushes to DataKit package repositories → registration',
      eventPattern: { source: pattern.source, detailType: pattern['detail-type'], detail: pattern.detail },
      targets: [
        new LambdaFunction(worker.function, {
          retryAttempts: 8,
          maxEventAge: Duration.hours(6),
          deadLetterQueue,
        }),
      ],
    });

    Validations.of(deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself the dead-letter queue of the ECR push rule target and of the worker’s ' +
        'asynchronous invocations; a dead-letter queue for it would only move the same messages again.',
    });
    this.function = worker.function;
    this.deadLetterQueue = deadLetterQueue;
  }
}
