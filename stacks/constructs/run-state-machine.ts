import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import { type IRole, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { DefinitionBody, LogLevel, StateMachine, StateMachineType } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import {
  runStateMachineAsl,
  runStepsFunctionSubstitution,
} from '../../lib/contracts/workflows/run-state-machine.js';
import { cellArns } from './cell-arns.js';
import { acknowledgeWildcardResource } from './nag-acknowledgements.js';

export interface RunStateMachineProps {
  /** Prefix of the state machine's and its log group's names. */
  readonly stage: string;
  readonly cell: string;
  /** The cell's cluster: tasks run here and only here. */
  readonly clusterArn: string;
  /** The cluster's name as a literal, so task ARN patterns read `task/<name>/*`. */
  readonly clusterName: string;
  /** The two roles every task definition of the cell names. */
  readonly executionRole: IRole;
  readonly taskRole: IRole;
  /** Serves Prepare, Complete and Fail (`${RunStepsFunctionArn}` in the document). */
  readonly runStepsFunction: IFunction;
  readonly logRetention: RetentionDays;
}

/** The name of a cell's run state machine (also what LocalStack's mock configuration is keyed by). */
export function runStateMachineName(stage: string, cell: string): string {
  return `${stage}-datakit-${cell}-runs`;
}

/**
 * The cell's run state machine: the document of `lib/contracts/workflows/run-state-machine.ts` as is
 * (one substitution: the run-steps function), with the permissions that document needs and no more.
 *
 * The CDK `EcsRunTask` task binds one task definition, while every Transform of a cell has its own
 * family, so the grants it would make are written out here with the same intent (aws-stepfunctions-tasks
 * `EcsRunTask.makePolicyStatements`), narrower where ECS allows: RunTask on the cell's families and only
 * on its cluster, StopTask/DescribeTasks on the cluster's tasks rather than `*`, PassRole on the two roles
 * and only to ECS tasks, the managed rule `.sync` waits with.
 *
 * Logging: every event (ALL, which AwsSolutions-SF1 asks for) without execution data, so inputs and
 * outputs (task overrides, Prepare's results, error causes) never reach the log group; the execution
 * history keeps them, behind `states:GetExecutionHistory` (docs/adr/0011-cell-stacks.md).
 */
export class RunStateMachine extends Construct {
  readonly stateMachine: StateMachine;
  /** The state machine's name, a literal (`<stage>-datakit-<cell>-runs`). */
  readonly name: string;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: RunStateMachineProps) {
    super(scope, id);
    const name = runStateMachineName(props.stage, props.cell);
    this.name = name;
    // Under /aws/vendedlogs/ CloudWatch Logs needs no resource-policy entry per log group, whose 5 KB
    // limit a few dozen state machines in one account would otherwise exhaust.
    this.logGroup = new LogGroup(this, 'Logs', {
      logGroupName: `/aws/vendedlogs/states/${name}`,
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stateMachine = new StateMachine(this, 'StateMachine', {
      stateMachineName: name,
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromString(runStateMachineAsl()),
      definitionSubstitutions: { [runStepsFunctionSubstitution]: props.runStepsFunction.functionArn },
      logs: { destination: this.logGroup, level: LogLevel.ALL, includeExecutionData: false },
      tracingEnabled: true,
    });

    const taskDefinitions = cellArns.taskDefinitions(this, props.cell);
    const tasks = cellArns.tasks(this, props.clusterName);
    for (const statement of [
      new PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        resources: [props.runStepsFunction.functionArn],
      }),
      new PolicyStatement({
        actions: ['ecs:RunTask'],
        resources: [taskDefinitions],
        conditions: { ArnEquals: { 'ecs:cluster': props.clusterArn } },
      }),
      new PolicyStatement({ actions: ['ecs:StopTask', 'ecs:DescribeTasks'], resources: [tasks] }),
      // RunTask propagates the task definition's tags (PropagateTags): ECS authorizes that as tagging
      // on create, and only on create.
      new PolicyStatement({
        actions: ['ecs:TagResource'],
        resources: [tasks],
        conditions: { StringEquals: { 'ecs:CreateAction': 'RunTask' } },
      }),
      new PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [props.executionRole.roleArn, props.taskRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
      }),
      new PolicyStatement({
        actions: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
        resources: [cellArns.ecsSyncRule(this)],
      }),
    ]) {
      this.stateMachine.addToRolePolicy(statement);
    }

    acknowledgeWildcardResource(
      this.stateMachine,
      taskDefinitions,
      "Prepare registers one task-definition family per Transform (datakit-{cell}-{ns}-{name}) at run time; the pattern is this cell's families, and RunTask is further limited to this cell's cluster.",
    );
    acknowledgeWildcardResource(
      this.stateMachine,
      tasks,
      "Task ids exist only once RunTask returns; StopTask and DescribeTasks (the .sync polling) are limited to this cell's cluster's tasks.",
    );
    Validations.of(this.stateMachine).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Logging to CloudWatch Logs (logs:CreateLogDelivery and the other log-delivery actions) and X-Ray ' +
        '(xray:PutTraceSegments, PutTelemetryRecords, GetSampling*) support no resource-level permissions; ' +
        'every statement this construct writes names its resources.',
    });
  }
}
