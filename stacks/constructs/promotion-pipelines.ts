import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Artifact, ExecutionMode, Pipeline, PipelineType, Variable } from 'aws-cdk-lib/aws-codepipeline';
import {
  LambdaInvokeAction,
  ManualApprovalAction,
  S3SourceAction,
  S3Trigger,
} from 'aws-cdk-lib/aws-codepipeline-actions';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { type IEventBus, Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Grant } from 'aws-cdk-lib/aws-iam';
import { Alias } from 'aws-cdk-lib/aws-kms';
import type { IFunction, Function as LambdaFn } from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  type BucketProps,
  type IBucket,
  ObjectOwnership,
} from 'aws-cdk-lib/aws-s3';
import { type ITopic, Topic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { promotionPipelineEventPattern } from '../../lib/contracts/events/codepipeline.js';
import {
  approvalActionName,
  approvalStageName,
  governanceVariable,
  type PipelineStep,
  promotionIdVariable,
  promotionPipelineName,
  requestActionName,
} from '../../lib/contracts/promotion-pipeline.js';
import {
  type Environment,
  governanceApprovalGroup,
  pipelineApprovalGroups,
} from '../../lib/domain/promotions/environments.js';
import { ApiFunction } from './api-function.js';
import { grantApiPermissions } from './api-permissions.js';
import { acknowledgeWildcardResource } from './nag-acknowledgements.js';

/** Key prefix of promotion requests in the bucket: the pipelines' source objects. */
export const promotionRequestsPrefix = 'requests/';

export interface PromotionPipelineProps {
  readonly stage: string;
  readonly environment: Environment;
  /** Holds the requests (the source objects), written by the promotions API only. */
  readonly requestsBucket: IBucket;
  /** The pipeline's artifact store. */
  readonly artifactsBucket: IBucket;
  /** Runs the Validate, Guard and Deploy actions. */
  readonly stagesFunction: IFunction;
  /** How long each approval action waits. */
  readonly approvalTimeout: Duration;
  /** The API's base URL (ending in `/`): approval notifications link to the promotion there. */
  readonly apiUrl: string;
}

/**
 * The promotion pipeline of one environment with approvals, or governed (ADR "Promotion approvals", ADR "PII
 * gate at promotion"): a CodePipeline
 * V2 pipeline in PARALLEL execution mode, so promotions of different packages proceed independently,
 * whose executions the promotions API starts on the request object with the promotion id as a variable.
 * Request (S3 source) → Validate (Lambda) → one manual approval per required group, notified on the
 * environment's SNS topic with a link to the promotion → Guard (Lambda: re-checks the recorded approvals,
 * so an approval given in the console around the rules fails the execution) → Deploy (Lambda).
 */
export class PromotionPipeline extends Construct {
  readonly pipeline: Pipeline;
  /** Approval notifications of this environment (subscribe approvers' e-mail or chat to it). */
  readonly topic: ITopic;
  /** The pipeline's ARN, from its name (no reference to the pipeline resource, so grants make no cycle). */
  readonly arn: string;
  /** The approval actions' ARNs: `<pipeline ARN>/Approve/Approve-<group>`. */
  readonly approvalActionArns: readonly string[];

  constructor(scope: Construct, id: string, props: PromotionPipelineProps) {
    super(scope, id);
    const env = props.environment.name;
    const topic = new Topic(this, 'Approvals', {
      topicName: `${props.stage}-datakit-approvals-${env}`,
      displayName: `DataKit: promotions to ${env} waiting for approval`,
      // SNS's AWS-managed key: CodePipeline publishes with its role through SNS, which that key allows.
      masterKey: Alias.fromAliasName(this, 'SnsKey', 'alias/aws/sns'),
      enforceSSL: true,
    });
    const pipelineName = promotionPipelineName(props.stage, env);
    const request = new Artifact('Request');
    const step = (name: string, stepName: PipelineStep, inputs: Artifact[] = []) =>
      new LambdaInvokeAction({
        actionName: name,
        lambda: props.stagesFunction,
        inputs,
        userParameters: {
          step: stepName,
          promotionId: `#{variables.${promotionIdVariable}}`,
          // CodePipeline's own variable: the stages record which execution runs the promotion.
          pipeline: pipelineName,
          executionId: '#{codepipeline.PipelineExecutionId}',
        },
      });
    const link = `${props.apiUrl}v1/promotions/#{variables.${promotionIdVariable}}`;
    const groups = pipelineApprovalGroups(props.environment);
    const onlyForOverrides = (group: string) =>
      group === governanceApprovalGroup && !props.environment.approvals.includes(group);
    this.pipeline = new Pipeline(this, 'Pipeline', {
      pipelineName,
      pipelineType: PipelineType.V2,
      executionMode: ExecutionMode.PARALLEL,
      artifactBucket: props.artifactsBucket,
      crossAccountKeys: false,
      restartExecutionOnUpdate: false,
      usePipelineRoleForActions: true,
      variables: [
        new Variable({
          variableName: promotionIdVariable,
          defaultValue: 'none',
          description: 'The promotion this execution runs (set by the promotions API at each start)',
        }),
        new Variable({
          variableName: governanceVariable,
          defaultValue: 'none',
          description: 'What the PII gate found, for the approval notifications (set at each start)',
        }),
      ],
      stages: [
        {
          stageName: 'Request',
          actions: [
            new S3SourceAction({
              actionName: requestActionName,
              bucket: props.requestsBucket,
              // Every start names its own request object (S3_OBJECT_KEY override); never polled.
              bucketKey: `${promotionRequestsPrefix}${env}/none.json`,
              trigger: S3Trigger.NONE,
              output: request,
            }),
          ],
        },
        { stageName: 'Validate', actions: [step('Validate', 'validate', [request])] },
        {
          stageName: approvalStageName,
          actions: groups.map(
            (group) =>
              new ManualApprovalAction({
                actionName: approvalActionName(group),
                notificationTopic: topic,
                externalEntityLink: link,
                additionalInformation: `${
                  onlyForOverrides(group)
                    ? `Only a promotion to ${env} with a governance override waits for ${group}; others pass on their own.`
                    : `A promotion to ${env} waits for group ${group}.`
                } PII gate: #{variables.${governanceVariable}}. Decide: npm run cli -- approve <promotion id> --group ${group} (or reject); approvals given here are not recorded and Guard refuses them.`,
                timeout: props.approvalTimeout,
                runOrder: 1,
              }),
          ),
        },
        { stageName: 'Guard', actions: [step('Guard', 'guard')] },
        { stageName: 'Deploy', actions: [step('Deploy', 'deploy')] },
      ],
    });
    // Every execution reads its own request object, not only the placeholder key the action names.
    const requests = props.requestsBucket.arnForObjects(`${promotionRequestsPrefix}${env}/*`);
    Grant.addToPrincipal({
      grantee: this.pipeline.role,
      actions: ['s3:GetObject', 's3:GetObjectVersion'],
      resourceArns: [requests],
    });
    this.acknowledgeRoleFindings(props, requests);
    const arn = Stack.of(this).formatArn({ service: 'codepipeline', resource: pipelineName });
    this.arn = arn;
    this.approvalActionArns = groups.map(
      (group) => `${arn}/${approvalStageName}/${approvalActionName(group)}`,
    );
    this.topic = topic;
  }

  /** The wildcards of the pipeline role, each for a reason of its own (cdk-nag AwsSolutions-IAM5). */
  private acknowledgeRoleFindings(props: PromotionPipelineProps, requests: string): void {
    acknowledgeWildcardResource(
      this,
      requests,
      'Each execution reads the request object the promotions API wrote for it (requests/{env}/{id}.json); ' +
        'the pattern is the requests of this environment only, read-only.',
    );
    const artifactStore =
      "CodePipeline's artifact store grant (aws-codepipeline Pipeline): the pipeline writes and reads its " +
      'artifacts under keys it chooses, in a bucket that holds nothing but these artifacts.';
    acknowledgeWildcardResource(this, props.artifactsBucket.arnForObjects('*'), artifactStore);
    for (const action of ['s3:Abort*', 's3:DeleteObject*', 's3:GetBucket*', 's3:GetObject*', 's3:List*']) {
      Validations.of(this).acknowledge({ id: `AwsSolutions-IAM5[Action::${action}]`, reason: artifactStore });
    }
    Validations.of(this).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'lambda:ListFunctions, which CodePipeline needs to invoke a Lambda action, supports no resource-level ' +
          'permission; lambda:InvokeFunction names the stages function.',
      },
      {
        id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
        reason:
          'Publishing to the approvals topic, encrypted with the AWS-managed SNS key: the grant is limited to ' +
          'that key by the kms:ResourceAliases condition (alias/aws/sns).',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:kms:<AWS::Region>:<AWS::AccountId>:key/*]',
        reason:
          'The AWS-managed SNS key has no ARN known at synth time; the kms:ResourceAliases condition limits the ' +
          'grant to alias/aws/sns, the key of the approvals topic.',
      },
    );
    acknowledgeWildcardResource(
      this,
      `${props.stagesFunction.functionArn}:*`,
      'Invoking the stages function: the grant covers its versions and aliases, as CodePipeline’s Lambda ' +
        'invoke action grants it; the function is the only one named.',
    );
  }
}

export interface PromotionPipelinesProps {
  readonly stage: string;
  /** Every environment; those with approvals, and governed ones, get a pipeline. */
  readonly environments: readonly Environment[];
  readonly approvalTimeoutDays: number;
  readonly apiUrl: string;
  readonly table: ITable;
  readonly eventBus: IEventBus;
  /** The environment every control-plane function gets. */
  readonly environment: Readonly<Record<string, string>>;
  /**
   * The promotions API function: it starts the pipelines and hands them decisions, and the state-change
   * follower runs as its role, because it hands over decisions recorded before an execution reached its
   * approvals — so the API's role stays the only principal that may call PutApprovalResult.
   */
  readonly promotionsApi: LambdaFn;
  readonly logRetention: RetentionDays;
  /** @default 512 */
  readonly memorySize?: number;
}

/**
 * The promotion pipelines of every environment with approvals or governed, what they share — the bucket of requests
 * and artifacts, the `promotion-stages` function of their Lambda actions — and the `promotion-events`
 * function behind the rule on their state changes, which keeps the promotion records up to date.
 */
export class PromotionPipelines extends Construct {
  /** The promotion requests: each execution's source object (versioned, retained). */
  readonly requestsBucket: IBucket;
  /** The pipelines' artifacts (copies of the requests), expired after 30 days. */
  readonly artifactsBucket: IBucket;
  readonly pipelines: ReadonlyMap<string, PromotionPipeline>;
  readonly stagesFunction: LambdaFn;
  /** Runs as the promotions API's role (see `promotionsApi`). */
  readonly eventsFunction: IFunction;
  readonly rule: Rule | undefined;

  constructor(scope: Construct, id: string, props: PromotionPipelinesProps) {
    super(scope, id);
    const bucket = (id: string, props: BucketProps) => {
      const created = new Bucket(this, id, {
        encryption: BucketEncryption.S3_MANAGED,
        enforceSSL: true,
        blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
        objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
        ...props,
      });
      Validations.of(created).acknowledge({
        id: 'AwsSolutions-S1',
        reason:
          'Only the promotions API (requests) and the promotion pipelines (their source and artifacts) reach ' +
          'this bucket, through their roles; every request is recorded with its requester in the promotion and ' +
          'the audit trail, and object-level audit is CloudTrail data events, an account-wide choice.',
      });
      // aws-cdk-lib classes vs `exactOptionalPropertyTypes`: see StatefulStack.
      return created as IBucket;
    };
    this.requestsBucket = bucket('Requests', {
      // The S3 source action reads object versions; requests are kept as the record of what was asked.
      versioned: true,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        { id: 'noncurrent-versions', noncurrentVersionExpiration: Duration.days(30) },
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
    });
    this.artifactsBucket = bucket('Artifacts', {
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: false,
      lifecycleRules: [{ id: 'artifacts', expiration: Duration.days(30) }],
    });

    const stages = new ApiFunction(this, 'Stages', {
      name: 'promotion-stages',
      description: 'DataKit promotions: the Validate, Guard and Deploy actions of the promotion pipelines',
      environment: props.environment,
      logRetention: props.logRetention,
      memorySize: props.memorySize ?? 512,
      timeout: Duration.seconds(60),
    });
    grantApiPermissions(stages.function, ['table:read-write', 'events:put'], {
      ...props,
      packageRepositories: [],
    });
    // The follower runs as the promotions API's role, which already reads and writes the table.
    const apiRole = props.promotionsApi.role;
    if (apiRole === undefined) throw new Error('the promotions API function has no role');
    const events = new ApiFunction(this, 'Events', {
      name: 'promotion-events',
      description: 'DataKit promotions: follows the promotion pipelines’ state changes',
      environment: props.environment,
      logRetention: props.logRetention,
      memorySize: props.memorySize ?? 512,
      timeout: Duration.seconds(30),
      role: apiRole,
    });
    this.stagesFunction = stages.function;
    this.eventsFunction = events.function;

    const pipelines = new Map<string, PromotionPipeline>();
    for (const environment of props.environments.filter((env) => pipelineApprovalGroups(env).length > 0)) {
      pipelines.set(
        environment.name,
        new PromotionPipeline(this, `Pipeline-${environment.name}`, {
          stage: props.stage,
          environment,
          requestsBucket: this.requestsBucket,
          artifactsBucket: this.artifactsBucket,
          stagesFunction: stages.function,
          approvalTimeout: Duration.days(props.approvalTimeoutDays),
          apiUrl: props.apiUrl,
        }),
      );
    }
    this.pipelines = pipelines;

    if (pipelines.size > 0) {
      const deadLetterQueue = new Queue(this, 'EventsDeadLetterQueue', {
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
      });
      Validations.of(deadLetterQueue).acknowledge({
        id: 'AwsSolutions-SQS3',
        reason:
          'This queue is itself the dead-letter queue of the pipeline state-change rule target and of the ' +
          'function’s asynchronous invocations; a dead-letter queue for it would only move the same messages again.',
      });
      events.function.configureAsyncInvoke({
        retryAttempts: 2,
        maxEventAge: Duration.hours(6),
        onFailure: new SqsDestination(deadLetterQueue),
      });
      const pattern = promotionPipelineEventPattern(
        [...pipelines.keys()].map((env) => promotionPipelineName(props.stage, env)),
      );
      this.rule = new Rule(this, 'StateChangeRule', {
        description: 'Promotion pipeline state changes → the promotion records',
        eventPattern: { source: pattern.source, detailType: pattern['detail-type'], detail: pattern.detail },
        targets: [
          new LambdaFunction(events.function, {
            retryAttempts: 8,
            maxEventAge: Duration.hours(6),
            deadLetterQueue,
          }),
        ],
      });
    }
    this.grantPromotionsApi(props.promotionsApi, events.function, props.stage);
  }

  /**
   * What the promotions API (and its state-change follower, which runs as its role) may do: write requests,
   * start the pipelines and read their action executions, and hand decisions to their approval actions —
   * the only principal with PutApprovalResult on them. Both learn the pipelines and the bucket.
   */
  private grantPromotionsApi(api: LambdaFn, follower: LambdaFn, stage: string): void {
    const pipelines = [...this.pipelines.values()];
    for (const fn of [api, follower]) {
      fn.addEnvironment(
        'PROMOTION_PIPELINES',
        JSON.stringify(
          Object.fromEntries(
            [...this.pipelines.keys()].map((env) => [env, promotionPipelineName(stage, env)]),
          ),
        ),
      );
      fn.addEnvironment('PROMOTION_REQUESTS_BUCKET', this.requestsBucket.bucketName);
    }
    const grantee = api.role;
    if (pipelines.length === 0) return;
    if (grantee === undefined) throw new Error(`${api.node.path} has no role to grant promotions to`);
    const requests = this.requestsBucket.arnForObjects(`${promotionRequestsPrefix}*`);
    Grant.addToPrincipal({ grantee, actions: ['s3:PutObject'], resourceArns: [requests] });
    acknowledgeWildcardResource(
      grantee,
      requests,
      'The promotions API writes one request object per promotion, named by its id (requests/{env}/{id}.json); ' +
        'PutObject under the prefix is all it may do in the bucket.',
    );
    Grant.addToPrincipal({
      grantee,
      actions: ['codepipeline:StartPipelineExecution', 'codepipeline:ListActionExecutions'],
      resourceArns: pipelines.map((pipeline) => pipeline.arn),
    });
    Grant.addToPrincipal({
      grantee,
      actions: ['codepipeline:PutApprovalResult'],
      resourceArns: pipelines.flatMap((pipeline) => pipeline.approvalActionArns),
    });
  }
}
