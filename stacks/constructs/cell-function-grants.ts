import { Validations } from 'aws-cdk-lib';
import { type IRole, Policy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ILogGroup } from 'aws-cdk-lib/aws-logs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { cellArns } from './cell-arns.js';
import { acknowledgeWildcardResource } from './nag-acknowledgements.js';

/** The control-plane functions that act on a cell's resources (they live in the API stack). */
export interface CellFunctions {
  /** Serves Prepare, Complete and Fail of every cell's run state machine. */
  readonly runSteps: IFunction;
  /** The runs API: starts, cancels and describes runs, tails their logs. */
  readonly runsApi: IFunction;
  /** The cells API: creates the (empty) secret of a Store. */
  readonly cellsApi: IFunction;
  /** Deploys streaming Transforms as ECS services of the cell's cluster (dev promotions, rollbacks there). */
  readonly deployer: IFunction;
  /** Starts triggered and scheduled runs (ADR 0013). */
  readonly triggerWorker: IFunction;
  /** The Deploy stage of the promotion pipelines: deploys as the deployer does, after approvals. */
  readonly pipelineDeployer: IFunction;
}

export interface CellFunctionGrantsProps {
  readonly stage: string;
  readonly cell: string;
  readonly functions: CellFunctions;
  /** The cell's cluster. */
  readonly clusterArn: string;
  /** The cluster's name as a literal, so ARN patterns read `task/<name>/*`. */
  readonly clusterName: string;
  readonly executionRole: IRole;
  readonly taskRole: IRole;
  readonly stateMachine: IStateMachine;
  /** The state machine's name as a literal, for its executions' ARN pattern. */
  readonly stateMachineName: string;
  /** Where the cell's tasks log. */
  readonly taskLogGroup: ILogGroup;
}

/**
 * What the control-plane functions may do in this cell, as one `iam:Policy` per function in the cell
 * stack, attached to the function's role. Granting from here (instead of `grant*` calls, which would add
 * statements to the roles' default policies in the API stack) keeps the dependency one way: a cell stack
 * depends on the API stack, the API stack never on a cell, and adding a cell never touches the API stack.
 */
export class CellFunctionGrants extends Construct {
  /** The policy each function gets in this cell. */
  readonly policies: Readonly<Record<keyof CellFunctions, Policy>>;

  constructor(scope: Construct, id: string, props: CellFunctionGrantsProps) {
    super(scope, id);
    const secrets = cellArns.secrets(this, props.stage, props.cell);
    const taskDefinitions = cellArns.taskDefinitions(this, props.cell);
    const tasks = cellArns.tasks(this, props.clusterName);
    const services = cellArns.services(this, props.clusterName);
    const executions = cellArns.executions(this, props.stateMachineName);
    const onThisCluster = { ArnEquals: { 'ecs:cluster': props.clusterArn } };

    const registerTaskDefinitions = [
      new PolicyStatement({ actions: ['ecs:RegisterTaskDefinition'], resources: ['*'] }),
      new PolicyStatement({
        actions: ['ecs:TagResource'],
        resources: [taskDefinitions],
        conditions: { StringEquals: { 'ecs:CreateAction': 'RegisterTaskDefinition' } },
      }),
      new PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [props.executionRole.roleArn, props.taskRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
      }),
    ];
    const stopRunTasks = [
      new PolicyStatement({ actions: ['ecs:ListTasks'], resources: ['*'], conditions: onThisCluster }),
      // A run's tasks are found by their datakit:run-id tag: listed on the cluster, described with tags.
      new PolicyStatement({ actions: ['ecs:StopTask', 'ecs:DescribeTasks'], resources: [tasks] }),
    ];

    const runSteps = this.policy('RunSteps', props.functions.runSteps, [
      ...registerTaskDefinitions,
      new PolicyStatement({
        actions: ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue'],
        resources: [secrets],
      }),
      ...stopRunTasks,
    ]);
    const runsApi = this.policy('RunsApi', props.functions.runsApi, [
      new PolicyStatement({
        actions: ['states:StartExecution'],
        resources: [props.stateMachine.stateMachineArn],
      }),
      new PolicyStatement({
        actions: ['states:StopExecution', 'states:DescribeExecution'],
        resources: [executions],
      }),
      ...stopRunTasks,
      new PolicyStatement({
        actions: ['logs:GetLogEvents', 'logs:FilterLogEvents'],
        resources: [props.taskLogGroup.logGroupArn],
      }),
    ]);
    const cellsApi = this.policy('CellsApi', props.functions.cellsApi, [
      new PolicyStatement({
        actions: [
          'secretsmanager:CreateSecret',
          'secretsmanager:DescribeSecret',
          'secretsmanager:TagResource',
        ],
        resources: [secrets],
      }),
    ]);
    const deploys = () => [
      new PolicyStatement({
        actions: ['ecs:CreateService', 'ecs:UpdateService', 'ecs:DeleteService', 'ecs:DescribeServices'],
        resources: [services],
      }),
      new PolicyStatement({
        actions: ['ecs:TagResource'],
        resources: [services],
        conditions: { StringEquals: { 'ecs:CreateAction': 'CreateService' } },
      }),
      ...registerTaskDefinitions,
    ];
    const deployer = this.policy('Deployer', props.functions.deployer, deploys());
    const pipelineDeployer = this.policy('PipelineDeployer', props.functions.pipelineDeployer, deploys());

    const triggerWorker = this.policy('TriggerWorker', props.functions.triggerWorker, [
      new PolicyStatement({
        actions: ['states:StartExecution'],
        resources: [props.stateMachine.stateMachineArn],
      }),
    ]);

    this.policies = { runSteps, runsApi, cellsApi, deployer, pipelineDeployer, triggerWorker };

    const noResourceLevel = (actions: string) =>
      `${actions} support(s) no resource-level permissions (ECS authorizes it on *); ListTasks is limited to ` +
      "this cell's cluster by the ecs:cluster condition. Every other statement names this cell's resources.";
    Validations.of(runSteps).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: noResourceLevel('ecs:RegisterTaskDefinition and ecs:ListTasks'),
    });
    Validations.of(runsApi).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: noResourceLevel('ecs:ListTasks'),
    });
    for (const policy of [deployer, pipelineDeployer]) {
      Validations.of(policy).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: noResourceLevel('ecs:RegisterTaskDefinition'),
      });
    }
    const secretsReason =
      'Store secrets are created at run time, one per Store (datakit/{stage}/{cell}/{store}); the prefix ' +
      "limits the grant to this cell's secrets in this stage.";
    acknowledgeWildcardResource(runSteps, secrets, secretsReason);
    acknowledgeWildcardResource(cellsApi, secrets, secretsReason);
    const familiesReason =
      'Task-definition families are registered at run time, one per Transform (datakit-{cell}-{ns}-{name}); ' +
      "the pattern allows tagging on create of this cell's families only.";
    acknowledgeWildcardResource(runSteps, taskDefinitions, familiesReason);
    acknowledgeWildcardResource(deployer, taskDefinitions, familiesReason);
    acknowledgeWildcardResource(pipelineDeployer, taskDefinitions, familiesReason);
    const tasksReason =
      "Run tasks exist only at run time; StopTask is limited to the tasks of this cell's cluster (a cancelled " +
      'or failed run stops what it started).';
    acknowledgeWildcardResource(runSteps, tasks, tasksReason);
    acknowledgeWildcardResource(runsApi, tasks, tasksReason);
    acknowledgeWildcardResource(
      runsApi,
      executions,
      "Executions are named by run id at run time; the pattern is the executions of this cell's run state machine only.",
    );
    for (const policy of [deployer, pipelineDeployer]) {
      acknowledgeWildcardResource(
        policy,
        services,
        "Streaming Transforms become ECS services named at deploy time; the pattern is this cell's cluster's services only.",
      );
    }
  }

  /** One policy in this stack, attached to the function's role in the API stack. */
  private policy(id: string, fn: IFunction, statements: PolicyStatement[]): Policy {
    const role = fn.role;
    if (role === undefined) throw new Error(`${fn.node.path} has no role to grant cell permissions to`);
    return new Policy(this, id, { statements, roles: [role] });
  }
}
