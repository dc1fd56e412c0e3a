import { CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Cluster, ContainerInsights } from 'aws-cdk-lib/aws-ecs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { CellRecordProperties } from '../lib/contracts/cell-resources.js';
import { CellFunctionGrants, type CellFunctions } from './constructs/cell-function-grants.js';
import { CellNetwork } from './constructs/cell-network.js';
import { CellRecord } from './constructs/cell-record.js';
import { CellTaskRoles } from './constructs/cell-task-roles.js';
import { RunStateMachine } from './constructs/run-state-machine.js';
import type { CellSettings } from './settings.js';

export type { CellFunctions } from './constructs/cell-function-grants.js';

export interface CellStackProps extends StackProps {
  /** Prefix of physical names and of the cell's secrets. */
  readonly stage: string;
  /** The cell as the settings declare it. */
  readonly cell: CellSettings;
  /** The table the cell's record is written to. */
  readonly table: ITable;
  /** The control-plane functions this stack grants access to the cell (they stay in the API stack). */
  readonly functions: CellFunctions;
  /** Retention of every log group of the cell (task logs, state machine, flow log, record writer). */
  readonly logRetention: RetentionDays;
}

/** The id (and name) of a cell's stack: `<stage>-datakit-cell-<cell>`. */
export function cellStackId(stage: string, cell: string): string {
  return `${stage}-datakit-cell-${cell}`;
}

/**
 * One cell (ADR 0006): where Transforms run on ECS/Fargate. The network (a VPC of its own or subnets of an
 * existing one) and an egress-only security group, a cluster with Container Insights, the task execution
 * and task roles, the tasks' log group, the run state machine, the grants the control-plane functions
 * need in this cell, and the cell's record in the table, so `GET /v1/cells` lists what is deployed.
 */
export class CellStack extends Stack {
  readonly cluster: Cluster;
  readonly network: CellNetwork;
  readonly roles: CellTaskRoles;
  readonly taskLogGroup: LogGroup;
  readonly runStateMachine: RunStateMachine;
  readonly functionGrants: CellFunctionGrants;
  readonly record: CellRecord;

  constructor(scope: Construct, id: string, props: CellStackProps) {
    super(scope, id, props);
    const cell = props.cell.name;
    const clusterName = `${props.stage}-datakit-${cell}`;

    this.network = new CellNetwork(this, 'Network', {
      cell,
      network: props.cell.network,
      logRetention: props.logRetention,
    });
    this.cluster = new Cluster(this, 'Cluster', {
      clusterName,
      vpc: this.network.vpc,
      containerInsightsV2: ContainerInsights.ENHANCED,
    });
    this.taskLogGroup = new LogGroup(this, 'TaskLogs', {
      logGroupName: `/datakit/${props.stage}/cells/${cell}/tasks`,
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.roles = new CellTaskRoles(this, 'TaskRoles', {
      stage: props.stage,
      cell,
      logGroup: this.taskLogGroup,
    });
    this.runStateMachine = new RunStateMachine(this, 'Runs', {
      stage: props.stage,
      cell,
      clusterArn: this.cluster.clusterArn,
      clusterName,
      executionRole: this.roles.executionRole,
      taskRole: this.roles.taskRole,
      runStepsFunction: props.functions.runSteps,
      logRetention: props.logRetention,
    });
    this.functionGrants = new CellFunctionGrants(this, 'FunctionGrants', {
      stage: props.stage,
      cell,
      functions: props.functions,
      clusterArn: this.cluster.clusterArn,
      clusterName,
      executionRole: this.roles.executionRole,
      taskRole: this.roles.taskRole,
      stateMachine: this.runStateMachine.stateMachine,
      stateMachineName: this.runStateMachine.name,
      taskLogGroup: this.taskLogGroup,
    });

    const record: CellRecordProperties = {
      name: cell,
      ...(props.cell.description === undefined ? {} : { description: props.cell.description }),
      labels: { ...props.cell.labels },
      runtime: {
        kind: 'ecs',
        clusterArn: this.cluster.clusterArn,
        stateMachineArn: this.runStateMachine.stateMachine.stateMachineArn,
        executionRoleArn: this.roles.executionRole.roleArn,
        taskRoleArn: this.roles.taskRole.roleArn,
        logGroupName: this.taskLogGroup.logGroupName,
        subnets: [...this.network.subnetIds],
        securityGroups: [...this.network.securityGroupIds],
        assignPublicIp: props.cell.assignPublicIp,
        cpuArchitecture: props.cell.cpuArchitecture,
      },
    };
    this.record = new CellRecord(this, 'Record', {
      table: props.table,
      cell: record,
      logRetention: props.logRetention,
    });

    new CfnOutput(this, 'ClusterArn', { value: this.cluster.clusterArn, description: 'The cell cluster' });
    new CfnOutput(this, 'StateMachineArn', {
      value: this.runStateMachine.stateMachine.stateMachineArn,
      description: 'The run state machine of the cell',
    });
    new CfnOutput(this, 'ExecutionRoleArn', {
      value: this.roles.executionRole.roleArn,
      description: 'The role ECS starts tasks with (image pull, logs, Store secrets)',
    });
    new CfnOutput(this, 'TaskRoleArn', {
      value: this.roles.taskRole.roleArn,
      description: "The Transforms' role: attach the policies they need here",
    });
    new CfnOutput(this, 'TaskLogGroupName', {
      value: this.taskLogGroup.logGroupName,
      description: 'Where the tasks of the cell log',
    });
  }
}
