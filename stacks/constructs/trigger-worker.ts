import { Duration, Stack, Validations } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { type IEventBus, Rule } from 'aws-cdk-lib/aws-events';
import { SqsQueue } from 'aws-cdk-lib/aws-events-targets';
import { type IGrantable, type IRole, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { CfnScheduleGroup } from 'aws-cdk-lib/aws-scheduler';
import { type IQueue, Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct, type IConstruct } from 'constructs';
import { triggerEventPattern } from '../../lib/contracts/events/trigger-rule.js';
import { ApiFunction } from './api-function.js';

export interface TriggerWorkerProps {
  readonly stage: string;
  readonly eventBus: IEventBus;
  /** Environment of the function (table, bus, raw events, stage, log level). */
  readonly environment: Readonly<Record<string, string>>;
  readonly logRetention: RetentionDays;
  /** @default 512 */
  readonly memorySize?: number;
}

/**
 * Reactive triggers in AWS (ADR 0013): a rule on the `datakit` bus sends `DataSet Updated` and run ends
 * to an encrypted queue the trigger function reads in batches (a failing message alone is retried, five
 * times, then dead-lettered); the stage's EventBridge Scheduler group holds the deployments' schedules,
 * whose role may only invoke the trigger function. Alarms: anything dead-lettered, and a queue backing up.
 */
export class TriggerWorker extends Construct {
  readonly function: IFunction;
  readonly queue: IQueue;
  readonly deadLetterQueue: IQueue;
  readonly scheduleDeadLetterQueue: IQueue;
  readonly scheduleGroupName: string;
  readonly schedulerRole: IRole;
  readonly alarms: readonly Alarm[];

  constructor(scope: Construct, id: string, props: TriggerWorkerProps) {
    super(scope, id);
    const timeout = Duration.seconds(60);
    const queueOptions = { encryption: QueueEncryption.SQS_MANAGED, enforceSSL: true } as const;
    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      ...queueOptions,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new Queue(this, 'Queue', {
      ...queueOptions,
      // Six times the function's timeout, as Lambda recommends for SQS event sources.
      visibilityTimeout: Duration.seconds(timeout.toSeconds() * 6),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: 5 },
    });
    new Rule(this, 'Rule', {
      eventBus: props.eventBus,
      description: 'DataKit triggers: DataSet Updated and run ends → the trigger queue',
      eventPattern: triggerEventPattern,
      targets: [new SqsQueue(this.queue, { deadLetterQueue: this.deadLetterQueue, retryAttempts: 10 })],
    });

    const worker = new ApiFunction(this, 'Worker', {
      name: 'trigger-worker',
      description: 'DataKit triggers: starts on-change consumers and scheduled runs',
      logRetention: props.logRetention,
      memorySize: props.memorySize ?? 512,
      timeout,
      environment: props.environment,
    });
    worker.function.addEventSource(
      new SqsEventSource(this.queue, { batchSize: 10, reportBatchItemFailures: true, maxConcurrency: 10 }),
    );
    this.function = worker.function;

    this.scheduleGroupName = `datakit-${props.stage}`;
    new CfnScheduleGroup(this, 'ScheduleGroup', { name: this.scheduleGroupName });
    this.scheduleDeadLetterQueue = new Queue(this, 'ScheduleDeadLetterQueue', {
      ...queueOptions,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.scheduleDeadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself a dead-letter queue: the DeadLetterConfig of every schedule of the group ' +
        '(EventBridge Scheduler names it per target, not through an SQS redrive policy).',
    });
    const schedulerRole = new Role(this, 'SchedulerRole', {
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
      description: 'EventBridge Scheduler: invokes the DataKit trigger function, nothing else',
    });
    // The function itself, not its versions (`grantInvoke` would add `<arn>:*`).
    schedulerRole.addToPolicy(
      new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [worker.function.functionArn] }),
    );
    this.scheduleDeadLetterQueue.grantSendMessages(schedulerRole);
    this.schedulerRole = schedulerRole;

    this.alarms = [
      new Alarm(this, 'DeadLettersAlarm', {
        alarmDescription:
          'Trigger deliveries were dead-lettered: consumers did not start; redrive after fixing',
        metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(5),
        }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
      new Alarm(this, 'ScheduleDeadLettersAlarm', {
        alarmDescription: 'Schedule ticks were dead-lettered: scheduled runs did not start',
        metric: this.scheduleDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(5),
        }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
      new Alarm(this, 'QueueAgeAlarm', {
        alarmDescription: 'The trigger queue is backing up: on-change runs start late',
        metric: this.queue.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(5) }),
        threshold: 300,
        evaluationPeriods: 2,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    ];
  }

  /** The environment a deploying function needs to own schedules (`SCHEDULE_*`). */
  scheduleEnvironment(): Record<string, string> {
    return {
      SCHEDULE_GROUP: this.scheduleGroupName,
      SCHEDULE_TARGET_ARN: this.function.functionArn,
      SCHEDULE_ROLE_ARN: this.schedulerRole.roleArn,
      SCHEDULE_DLQ_ARN: this.scheduleDeadLetterQueue.queueArn,
    };
  }

  /**
   * Lets a deploying function create, replace and delete the stage's schedules (and pass their role);
   * `owner` is the construct holding the function's role, where the finding is acknowledged.
   */
  grantManageSchedules(grantee: IGrantable, owner: IConstruct): void {
    const stack = Stack.of(this);
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['scheduler:CreateSchedule', 'scheduler:UpdateSchedule', 'scheduler:DeleteSchedule'],
        resources: [
          stack.formatArn({
            service: 'scheduler',
            resource: 'schedule',
            resourceName: `${this.scheduleGroupName}/*`,
          }),
        ],
      }),
    );
    this.schedulerRole.grantPassRole(grantee.grantPrincipal);
    Validations.of(owner).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/${this.scheduleGroupName}/*]`,
      reason:
        'Deployments create their schedules at run time (one per deployment, named after it); the grant ' +
        "is limited to this stage's schedule group.",
    });
  }
}
