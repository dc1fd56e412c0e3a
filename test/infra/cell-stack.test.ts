import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
// The function cdk-nag renders resources with: `arn:<AWS::Partition>:...`, `<LogicalId.Arn>`.
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference.js';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { cellRecordResourceType } from '../../lib/contracts/cell-resources.js';
import {
  runStateMachineAsl,
  runStateMachineDefinition,
  runStepsFunctionSubstitution,
} from '../../lib/contracts/workflows/run-state-machine.js';
import type { CellFunctions, CellStack } from '../../stacks/cell-stack.js';
import { buildCellApp, type CellApp } from './cell-stack-fixture.js';
import { logicalIdOf } from './control-plane-fixture.js';

const existingVpc = {
  vpcId: 'vpc-0abc1234def567890',
  subnetIds: ['subnet-0aaa1111bbb22222c', 'subnet-0ddd3333eee44444f'],
  securityGroupIds: ['sg-0123456789abcdef0'],
};

/** Three cells, one per kind of network, in a stage and retention that differ from the defaults. */
const context = {
  'datakit:stage': 'test',
  'datakit:logRetentionDays': 14,
  'datakit:cells': [
    { name: 'blue', description: 'Batch runs of the data team', labels: { team: 'data' } },
    { name: 'green', network: existingVpc, cpuArchitecture: 'ARM64' },
    { name: 'red', network: { natGateways: 0 } },
  ],
};

const statementSchema = z.object({
  Effect: z.string(),
  Action: z.union([z.string(), z.array(z.string())]),
  Resource: z.unknown(),
  Condition: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
});
type Statement = z.infer<typeof statementSchema>;
const policySchema = z.object({
  Properties: z.object({
    PolicyDocument: z.object({ Statement: z.array(statementSchema) }),
    Roles: z.array(z.unknown()),
  }),
});
const resourcesSchema = z.record(z.string(), z.object({ Properties: z.record(z.string(), z.unknown()) }));

let cellApp: CellApp;
let synthError: unknown;
let blue: CellStack;
let green: CellStack;
let red: CellStack;
const templates = new Map<CellStack, Template>();

beforeAll(() => {
  cellApp = buildCellApp(context, { nag: true });
  try {
    cellApp.app.synth();
  } catch (error) {
    synthError = error;
  }
  const byName = (name: string): CellStack => {
    const stack = cellApp.cells.find((cell) => cell.stackName === `test-datakit-cell-${name}`);
    if (stack === undefined) throw new Error(`no stack for cell ${name}`);
    templates.set(stack, Template.fromStack(stack));
    return stack;
  };
  blue = byName('blue');
  green = byName('green');
  red = byName('red');
});

function templateOf(stack: CellStack): Template {
  const template = templates.get(stack);
  if (template === undefined) throw new Error(`${stack.stackName} was not synthesized`);
  return template;
}

/** A resource as cdk-nag names it in findings: ARNs with `<AWS::Partition>`, references as `<Id.Attr>`. */
function render(resource: unknown): string {
  return flattenCfnReference(resource);
}

function actionsOf(statement: Statement): string[] {
  return (Array.isArray(statement.Action) ? statement.Action : [statement.Action]).slice().sort();
}

function resourcesOf(statement: Statement): string[] {
  return (Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource]).map(render).sort();
}

/** The statements of the policy whose logical id is given. */
function statementsOf(stack: CellStack, policyLogicalId: string): Statement[] {
  const policy = templateOf(stack).toJSON().Resources[policyLogicalId];
  return policySchema.parse(policy).Properties.PolicyDocument.Statement;
}

/** The statements of every policy attached to a role of this stack. */
function roleStatements(stack: CellStack, role: IConstruct): Statement[] {
  const roleId = logicalIdOf(role);
  const policies = templateOf(stack).findResources('AWS::IAM::Policy', {
    Properties: { Roles: [{ Ref: roleId }] },
  });
  return Object.keys(policies).flatMap((id) => statementsOf(stack, id));
}

/** The one statement granting `action`. */
function grantOf(statements: Statement[], action: string): Statement {
  const found = statements.filter((statement) => actionsOf(statement).includes(action));
  if (found.length !== 1) throw new Error(`${found.length} statements grant ${action}`);
  const [statement] = found;
  if (statement === undefined) throw new Error(`no statement grants ${action}`);
  return statement;
}

const arn = (service: string, resource: string) =>
  `arn:<AWS::Partition>:${service}:<AWS::Region>:<AWS::AccountId>:${resource}`;

describe('cell stacks', () => {
  it('synthesizes without a validation failure', () => {
    expect(synthError).toBeUndefined();
  });

  it('creates one stack per configured cell, named <stage>-datakit-cell-<cell>', () => {
    expect(cellApp.cells.map((stack) => stack.stackName)).toEqual([
      'test-datakit-cell-blue',
      'test-datakit-cell-green',
      'test-datakit-cell-red',
    ]);
    expect(new Set(cellApp.cells.map((stack) => stack.artifactId)).size).toBe(3);
  });

  it('depends on the stateful stack and the functions it grants to, never the reverse', () => {
    for (const stack of cellApp.cells) {
      const dependencies = stack.dependencies.map((dependency) => dependency.stackName);
      expect(dependencies).toEqual(
        expect.arrayContaining(['test-datakit-stateful', cellApp.functionsStack.stackName]),
      );
    }
    expect(cellApp.functionsStack.dependencies).toEqual([]);
    expect(cellApp.stateful.dependencies).toEqual([]);
  });

  it('gives each cell a Fargate cluster of its own with enhanced Container Insights', () => {
    templateOf(blue).hasResourceProperties('AWS::ECS::Cluster', {
      ClusterName: 'test-datakit-blue',
      ClusterSettings: [{ Name: 'containerInsights', Value: 'enhanced' }],
    });
    templateOf(green).hasResourceProperties('AWS::ECS::Cluster', { ClusterName: 'test-datakit-green' });
  });

  it("keeps the tasks' logs in a log group of the cell with the stage's retention", () => {
    templateOf(blue).hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: '/datakit/test/cells/blue/tasks',
      RetentionInDays: 14,
    });
    templateOf(blue).allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 14 });
  });
});

describe('the run state machine', () => {
  function stateMachineOf(stack: CellStack) {
    const properties = resourcesSchema.parse(
      templateOf(stack).findResources('AWS::StepFunctions::StateMachine'),
    );
    const [only, ...others] = Object.values(properties);
    if (only === undefined || others.length > 0) throw new Error('expected one state machine');
    return z
      .object({
        DefinitionString: z.string(),
        DefinitionSubstitutions: z.record(z.string(), z.unknown()),
        StateMachineName: z.string(),
        StateMachineType: z.string(),
        LoggingConfiguration: z.unknown(),
        TracingConfiguration: z.unknown(),
      })
      .parse(only.Properties);
  }

  it('deploys the document of lib/contracts as is', () => {
    const { DefinitionString } = stateMachineOf(blue);

    expect(JSON.parse(DefinitionString)).toEqual(runStateMachineDefinition);
  });

  it('substitutes exactly the run-steps function ARN, and the result is the lib document with that ARN', () => {
    const { DefinitionString, DefinitionSubstitutions } = stateMachineOf(blue);
    const placeholders = [...DefinitionString.matchAll(/\$\{([A-Za-z0-9]+)\}/g)].map(([, name]) => name);
    const functionArn = 'arn:aws:lambda:eu-west-1:123456789012:function:test-datakit-run-steps';
    const substitute = (text: string) => text.replaceAll(`\${${runStepsFunctionSubstitution}}`, functionArn);

    expect(new Set(placeholders)).toEqual(new Set([runStepsFunctionSubstitution]));
    expect(Object.keys(DefinitionSubstitutions)).toEqual([runStepsFunctionSubstitution]);
    expect(JSON.stringify(DefinitionSubstitutions[runStepsFunctionSubstitution])).toContain(
      logicalIdOf(cellApp.functionsStack.functions.runSteps),
    );
    const deployed = JSON.parse(substitute(DefinitionString));
    expect(deployed).toEqual(JSON.parse(substitute(runStateMachineAsl())));
    expect(deployed.States.Prepare.Parameters.FunctionName).toBe(functionArn);
  });

  it('logs every event without execution data, traces with X-Ray, and names itself after the cell', () => {
    const stateMachine = stateMachineOf(blue);

    expect(stateMachine.StateMachineName).toBe('test-datakit-blue-runs');
    expect(stateMachine.StateMachineType).toBe('STANDARD');
    expect(stateMachine.LoggingConfiguration).toMatchObject({ Level: 'ALL', IncludeExecutionData: false });
    expect(stateMachine.TracingConfiguration).toEqual({ Enabled: true });
    templateOf(blue).hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: '/aws/vendedlogs/states/test-datakit-blue-runs',
      RetentionInDays: 14,
    });
  });

  describe('its role', () => {
    const statements = () => {
      const role = blue.runStateMachine.stateMachine.role;
      return roleStatements(blue, role);
    };

    it("may run only the cell's task-definition families, and only on the cell's cluster", () => {
      const runTask = grantOf(statements(), 'ecs:RunTask');

      expect(actionsOf(runTask)).toEqual(['ecs:RunTask']);
      expect(resourcesOf(runTask)).toEqual([arn('ecs', 'task-definition/datakit-blue-*')]);
      expect(runTask.Condition).toEqual({
        ArnEquals: { 'ecs:cluster': { 'Fn::GetAtt': [logicalIdOf(blue.cluster), 'Arn'] } },
      });
    });

    it("may stop, describe and tag on create only the tasks of the cell's cluster", () => {
      const stopDescribe = grantOf(statements(), 'ecs:StopTask');
      const tag = grantOf(statements(), 'ecs:TagResource');

      expect(actionsOf(stopDescribe)).toEqual(['ecs:DescribeTasks', 'ecs:StopTask']);
      expect(resourcesOf(stopDescribe)).toEqual([arn('ecs', 'task/test-datakit-blue/*')]);
      expect(resourcesOf(tag)).toEqual([arn('ecs', 'task/test-datakit-blue/*')]);
      expect(tag.Condition).toEqual({ StringEquals: { 'ecs:CreateAction': 'RunTask' } });
    });

    it('may pass exactly the execution role and the task role, and only to ECS tasks', () => {
      const passRole = grantOf(statements(), 'iam:PassRole');

      expect(resourcesOf(passRole)).toEqual(
        [
          `<${logicalIdOf(blue.roles.executionRole)}.Arn>`,
          `<${logicalIdOf(blue.roles.taskRole)}.Arn>`,
        ].sort(),
      );
      expect(passRole.Condition).toEqual({
        StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' },
      });
    });

    it('may manage only the events rule Step Functions uses for .sync', () => {
      const rule = grantOf(statements(), 'events:PutRule');

      expect(actionsOf(rule)).toEqual(['events:DescribeRule', 'events:PutRule', 'events:PutTargets']);
      expect(resourcesOf(rule)).toEqual([arn('events', 'rule/StepFunctionsGetEventsForECSTaskRule')]);
    });

    it('may invoke the run-steps function and no other', () => {
      const invoke = grantOf(statements(), 'lambda:InvokeFunction');

      expect(actionsOf(invoke)).toEqual(['lambda:InvokeFunction']);
      expect(resourcesOf(invoke)).toHaveLength(1);
      expect(JSON.stringify(invoke.Resource)).toContain(
        logicalIdOf(cellApp.functionsStack.functions.runSteps),
      );
    });

    it('uses * only for log delivery and X-Ray, which have no resource-level permissions', () => {
      const wildcard = statements().filter((statement) => resourcesOf(statement).includes('*'));

      expect(
        wildcard
          .flatMap(actionsOf)
          .every((action) =>
            /^(logs:.*Log(Delivery|Deliveries|Groups)|logs:.*ResourcePolic(y|ies)|xray:)/.test(action),
          ),
      ).toBe(true);
    });
  });
});

describe('the task roles', () => {
  it('trusts ECS tasks of this account only', () => {
    for (const role of [blue.roles.executionRole, blue.roles.taskRole]) {
      const properties = resourcesSchema.parse(templateOf(blue).findResources('AWS::IAM::Role'))[
        logicalIdOf(role)
      ]?.Properties;
      expect(properties?.AssumeRolePolicyDocument).toMatchObject({
        Statement: [
          {
            Principal: { Service: 'ecs-tasks.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          },
        ],
      });
      expect(properties?.ManagedPolicyArns).toBeUndefined();
    }
  });

  it("lets ECS pull images, write the cell's log group and read the cell's secrets of this stage only", () => {
    const statements = roleStatements(blue, blue.roles.executionRole);

    expect(resourcesOf(grantOf(statements, 'secretsmanager:GetSecretValue'))).toEqual([
      arn('secretsmanager', 'secret:datakit/test/blue/*'),
    ]);
    expect(resourcesOf(grantOf(statements, 'logs:PutLogEvents'))).toEqual([
      `<${logicalIdOf(blue.taskLogGroup)}.Arn>`,
    ]);
    expect(resourcesOf(grantOf(statements, 'ecr:BatchGetImage'))).toEqual([arn('ecr', 'repository/*')]);
    expect(statements.flatMap(actionsOf).sort()).toEqual([
      'ecr:BatchCheckLayerAvailability',
      'ecr:BatchGetImage',
      'ecr:GetAuthorizationToken',
      'ecr:GetDownloadUrlForLayer',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      'secretsmanager:GetSecretValue',
    ]);
  });

  it('exports both role ARNs, so operators can extend them (docs/operations.md)', () => {
    templateOf(blue).hasOutput('TaskRoleArn', {
      Value: { 'Fn::GetAtt': [logicalIdOf(blue.roles.taskRole), 'Arn'] },
    });
    templateOf(blue).hasOutput('ExecutionRoleArn', {
      Value: { 'Fn::GetAtt': [logicalIdOf(blue.roles.executionRole), 'Arn'] },
    });
  });

  it('starts the task role with no permission at all', () => {
    expect(roleStatements(blue, blue.roles.taskRole)).toEqual([]);
  });
});

describe('the grants to the control-plane functions', () => {
  function grants(stack: CellStack, fn: keyof CellFunctions): Statement[] {
    return statementsOf(stack, logicalIdOf(stack.functionGrants.policies[fn]));
  }

  it.each(['runSteps', 'runsApi', 'cellsApi', 'deployer'] as const)(
    'attaches the %s policy to that function’s role and no other',
    (fn) => {
      const policy = policySchema.parse(
        templateOf(blue).toJSON().Resources[logicalIdOf(blue.functionGrants.policies[fn])],
      );
      const role = cellApp.functionsStack.functions[fn].role;
      if (role === undefined) throw new Error(`${fn} has no role`);

      expect(policy.Properties.Roles).toHaveLength(1);
      expect(JSON.stringify(policy.Properties.Roles[0])).toContain(logicalIdOf(role));
    },
  );

  it("lets run-steps register task definitions, pass the two roles, use the cell's secrets and stop its tasks", () => {
    const statements = grants(blue, 'runSteps');

    expect(resourcesOf(grantOf(statements, 'ecs:RegisterTaskDefinition'))).toEqual(['*']);
    expect(grantOf(statements, 'ecs:TagResource')).toMatchObject({
      Condition: { StringEquals: { 'ecs:CreateAction': 'RegisterTaskDefinition' } },
    });
    expect(resourcesOf(grantOf(statements, 'ecs:TagResource'))).toEqual([
      arn('ecs', 'task-definition/datakit-blue-*'),
    ]);
    expect(resourcesOf(grantOf(statements, 'iam:PassRole'))).toEqual(
      [`<${logicalIdOf(blue.roles.executionRole)}.Arn>`, `<${logicalIdOf(blue.roles.taskRole)}.Arn>`].sort(),
    );
    expect(grantOf(statements, 'iam:PassRole').Condition).toEqual({
      StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' },
    });
    const secrets = grantOf(statements, 'secretsmanager:PutSecretValue');
    expect(actionsOf(secrets)).toEqual(['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue']);
    expect(resourcesOf(secrets)).toEqual([arn('secretsmanager', 'secret:datakit/test/blue/*')]);
    expect(grantOf(statements, 'ecs:ListTasks').Condition).toEqual({
      ArnEquals: { 'ecs:cluster': { 'Fn::GetAtt': [logicalIdOf(blue.cluster), 'Arn'] } },
    });
    expect(resourcesOf(grantOf(statements, 'ecs:StopTask'))).toEqual([
      arn('ecs', 'task/test-datakit-blue/*'),
    ]);
  });

  it("lets the runs API start this cell's state machine, stop and describe its executions, and read its task logs", () => {
    const statements = grants(blue, 'runsApi');

    expect(resourcesOf(grantOf(statements, 'states:StartExecution'))).toEqual([
      `<${logicalIdOf(blue.runStateMachine.stateMachine)}>`,
    ]);
    const executions = grantOf(statements, 'states:StopExecution');
    expect(actionsOf(executions)).toEqual(['states:DescribeExecution', 'states:StopExecution']);
    expect(resourcesOf(executions)).toEqual([arn('states', 'execution:test-datakit-blue-runs:*')]);
    expect(resourcesOf(grantOf(statements, 'logs:GetLogEvents'))).toEqual([
      `<${logicalIdOf(blue.taskLogGroup)}.Arn>`,
    ]);
    expect(actionsOf(grantOf(statements, 'logs:GetLogEvents'))).toEqual([
      'logs:FilterLogEvents',
      'logs:GetLogEvents',
    ]);
    expect(resourcesOf(grantOf(statements, 'ecs:StopTask'))).toEqual([
      arn('ecs', 'task/test-datakit-blue/*'),
    ]);
  });

  it("lets the cells API create and describe the cell's secrets of this stage only", () => {
    const statements = grants(blue, 'cellsApi');

    expect(statements).toHaveLength(1);
    expect(actionsOf(grantOf(statements, 'secretsmanager:CreateSecret'))).toEqual([
      'secretsmanager:CreateSecret',
      'secretsmanager:DescribeSecret',
      'secretsmanager:TagResource',
    ]);
    expect(resourcesOf(grantOf(statements, 'secretsmanager:CreateSecret'))).toEqual([
      arn('secretsmanager', 'secret:datakit/test/blue/*'),
    ]);
  });

  it("lets the deployer manage services of the cell's cluster only", () => {
    const statements = grants(blue, 'deployer');
    const services = grantOf(statements, 'ecs:CreateService');

    expect(actionsOf(services)).toEqual([
      'ecs:CreateService',
      'ecs:DeleteService',
      'ecs:DescribeServices',
      'ecs:UpdateService',
    ]);
    expect(resourcesOf(services)).toEqual([arn('ecs', 'service/test-datakit-blue/*')]);
    expect(resourcesOf(grantOf(statements, 'iam:PassRole'))).toHaveLength(2);
    expect(resourcesOf(grantOf(statements, 'ecs:RegisterTaskDefinition'))).toEqual(['*']);
  });

  it('uses * only for actions ECS cannot scope to a resource (and ListTasks only with the cluster condition)', () => {
    const policies = policySchema
      .array()
      .parse(Object.values(templateOf(blue).findResources('AWS::IAM::Policy')));
    const wildcard = policies
      .flatMap((policy) => policy.Properties.PolicyDocument.Statement)
      .filter((statement) => resourcesOf(statement).includes('*'));
    const allowed =
      /^(ecs:RegisterTaskDefinition|ecs:ListTasks|ecr:GetAuthorizationToken|xray:.+|logs:.+(Delivery|Deliveries|LogGroups|ResourcePolicy|ResourcePolicies))$/;

    expect(wildcard.length).toBeGreaterThan(0);
    for (const statement of wildcard) {
      for (const action of actionsOf(statement)) expect(action).toMatch(allowed);
      if (actionsOf(statement).includes('ecs:ListTasks')) {
        expect(statement.Condition).toHaveProperty(['ArnEquals', 'ecs:cluster']);
      }
    }
  });
});

describe('the network', () => {
  it('gives a cell without a network its own VPC: 2 AZs, tasks in private subnets behind one NAT gateway', () => {
    const template = templateOf(blue);

    template.resourceCountIs('AWS::EC2::VPC', 1);
    template.resourceCountIs('AWS::EC2::NatGateway', 1);
    template.resourceCountIs('AWS::EC2::Subnet', 4);
    template.hasResourceProperties('AWS::EC2::FlowLog', { ResourceType: 'VPC', TrafficType: 'REJECT' });
    const runtime = recordRuntime(blue);
    const privateSubnets = template.findResources('AWS::EC2::Subnet', {
      Properties: { Tags: Match.arrayWith([{ Key: 'aws-cdk:subnet-type', Value: 'Private' }]) },
    });
    expect(runtime.subnets).toEqual(Object.keys(privateSubnets).map((id) => ({ Ref: id })));
    expect(runtime.assignPublicIp).toBe(false);
  });

  it('gives tasks an egress-only security group', () => {
    const groups = resourcesSchema.parse(templateOf(blue).findResources('AWS::EC2::SecurityGroup'));
    const group = groups[logicalIdOf(blue.network.securityGroup)]?.Properties;

    expect(group?.SecurityGroupIngress).toBeUndefined();
    expect(group?.SecurityGroupEgress).toEqual([
      { CidrIp: '0.0.0.0/0', Description: 'Allow all outbound traffic by default', IpProtocol: '-1' },
    ]);
    templateOf(blue).resourceCountIs('AWS::EC2::SecurityGroupIngress', 0);
  });

  it('imports an existing VPC by its ids, without a lookup, and runs tasks in the given subnets', () => {
    const template = templateOf(green);
    const runtime = recordRuntime(green);

    template.resourceCountIs('AWS::EC2::VPC', 0);
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    template.resourceCountIs('AWS::EC2::FlowLog', 0);
    template.hasResourceProperties('AWS::EC2::SecurityGroup', { VpcId: existingVpc.vpcId });
    expect(runtime.subnets).toEqual(existingVpc.subnetIds);
    expect(runtime.securityGroups).toEqual([
      { 'Fn::GetAtt': [logicalIdOf(green.network.securityGroup), 'GroupId'] },
      ...existingVpc.securityGroupIds,
    ]);
    expect(runtime.cpuArchitecture).toBe('ARM64');
    // A lookup would have recorded a context query and tied the stack to an account and region.
    expect(cellApp.app.node.tryGetContext('vpc-provider')).toBeUndefined();
    expect(JSON.stringify(cellApp.app.synth().manifest.missing ?? [])).toBe('[]');
  });

  it('runs tasks of a cell without NAT gateways in public subnets with a public IP', () => {
    const runtime = recordRuntime(red);
    const publicSubnets = templateOf(red).findResources('AWS::EC2::Subnet', {
      Properties: { Tags: Match.arrayWith([{ Key: 'aws-cdk:subnet-type', Value: 'Public' }]) },
    });

    templateOf(red).resourceCountIs('AWS::EC2::NatGateway', 0);
    expect(runtime.subnets).toEqual(Object.keys(publicSubnets).map((id) => ({ Ref: id })));
    expect(runtime.assignPublicIp).toBe(true);
  });
});

const recordSchema = z.object({
  ServiceToken: z.unknown(),
  name: z.string(),
  description: z.string().optional(),
  labels: z.record(z.string(), z.string()),
  runtime: z.object({
    kind: z.literal('ecs'),
    clusterArn: z.unknown(),
    stateMachineArn: z.unknown(),
    executionRoleArn: z.unknown(),
    taskRoleArn: z.unknown(),
    logGroupName: z.unknown(),
    subnets: z.array(z.unknown()),
    securityGroups: z.array(z.unknown()),
    assignPublicIp: z.boolean(),
    cpuArchitecture: z.enum(['X86_64', 'ARM64']),
  }),
});

function recordOf(stack: CellStack) {
  const records = resourcesSchema.parse(templateOf(stack).findResources(cellRecordResourceType));
  const [only, ...others] = Object.values(records);
  if (only === undefined || others.length > 0) throw new Error('expected one cell record');
  return recordSchema.parse(only.Properties);
}

function recordRuntime(stack: CellStack) {
  return recordOf(stack).runtime;
}

describe('the cell record', () => {
  it("declares the cell with references to the stack's own cluster, state machine, roles and log group", () => {
    const record = recordOf(blue);

    expect(record).toMatchObject({
      name: 'blue',
      description: 'Batch runs of the data team',
      labels: { team: 'data' },
      runtime: {
        kind: 'ecs',
        clusterArn: { 'Fn::GetAtt': [logicalIdOf(blue.cluster), 'Arn'] },
        stateMachineArn: { Ref: logicalIdOf(blue.runStateMachine.stateMachine) },
        executionRoleArn: { 'Fn::GetAtt': [logicalIdOf(blue.roles.executionRole), 'Arn'] },
        taskRoleArn: { 'Fn::GetAtt': [logicalIdOf(blue.roles.taskRole), 'Arn'] },
        logGroupName: { Ref: logicalIdOf(blue.taskLogGroup) },
        securityGroups: [{ 'Fn::GetAtt': [logicalIdOf(blue.network.securityGroup), 'GroupId'] }],
        cpuArchitecture: 'X86_64',
      },
    });
    expect(record.ServiceToken).toEqual({
      'Fn::GetAtt': [logicalIdOf(blue.record.writer), 'Arn'],
    });
  });

  it('lets the writer update and delete items of the table and nothing else of it', () => {
    const role = blue.record.writer.role;
    if (role === undefined) throw new Error('the writer has no role');
    const all = roleStatements(blue, role);
    // Its one Deny keeps it off the audit trail (test/infra/access.test.ts checks every writer's).
    const statements = all.filter((statement) => statement.Effect === 'Allow');
    const table = grantOf(statements, 'dynamodb:UpdateItem');

    expect(actionsOf(table)).toEqual(['dynamodb:DeleteItem', 'dynamodb:UpdateItem']);
    expect(JSON.stringify(table.Resource)).toContain(logicalIdOf(cellApp.stateful.table));
    expect(statements.flatMap(actionsOf).filter((action) => action.startsWith('dynamodb:'))).toHaveLength(2);
    expect(all.filter((statement) => statement.Effect === 'Deny')).toEqual([
      expect.objectContaining({
        Condition: { 'ForAnyValue:StringLike': { 'dynamodb:LeadingKeys': ['AUDIT#*'] } },
      }),
    ]);
    templateOf(blue).hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ TABLE_NAME: Match.anyValue() }) },
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
    });
  });

  it('bounds how long CloudFormation waits for the writer', () => {
    templateOf(blue).hasResourceProperties(cellRecordResourceType, { ServiceTimeout: '300' });
  });
});

describe('cdk-nag (AwsSolutions) on the cell stacks', () => {
  const validationReportSchema = z.object({
    pluginReports: z.array(
      z.object({
        pluginName: z.string(),
        violations: z.array(
          z.object({
            ruleName: z.string(),
            violatingConstructs: z.array(z.object({ constructPath: z.string() })).default([]),
          }),
        ),
      }),
    ),
  });

  function acknowledgements(stack: CellStack): { path: string; id: string; reason: string }[] {
    return stack.node.findAll().flatMap((construct) =>
      construct.node.metadata
        .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((entry) =>
          Object.entries(z.record(z.string(), z.string()).parse(entry.data)).map(([id, reason]) => ({
            path: construct.node.path.slice(stack.node.path.length + 1),
            id: id.replace(/^annotation::/i, ''),
            reason,
          })),
        )
        // aws-cdk-lib acknowledges findings of its own CloudFormation validation (on the VPC flow log, the
        // stack); those are the library's, not this design's.
        .filter(({ id }) => !id.startsWith('CloudFormation-Validate::')),
    );
  }

  it('reports no unacknowledged finding', () => {
    const report = validationReportSchema.parse(
      JSON.parse(readFileSync(join(cellApp.outdir, 'validation-report.json'), 'utf8')),
    );
    const findings = report.pluginReports.flatMap((plugin) =>
      plugin.violations.map(
        (violation) =>
          `${violation.ruleName} at ${violation.violatingConstructs.map((construct) => construct.constructPath).join(', ')}`,
      ),
    );

    expect(findings).toEqual([]);
  });

  it('acknowledges exactly the wildcards this design needs, each on the policy that has it', () => {
    const ids = acknowledgements(blue)
      .map(({ path, id }) => `${path} ${id}`)
      .sort();
    const iam5 = (resource: string) => `AwsSolutions-IAM5[Resource::${resource}]`;

    expect(ids).toEqual(
      [
        `FunctionGrants/CellsApi ${iam5(arn('secretsmanager', 'secret:datakit/test/blue/*'))}`,
        `FunctionGrants/Deployer ${iam5('*')}`,
        `FunctionGrants/Deployer ${iam5(arn('ecs', 'service/test-datakit-blue/*'))}`,
        `FunctionGrants/Deployer ${iam5(arn('ecs', 'task-definition/datakit-blue-*'))}`,
        `FunctionGrants/PipelineDeployer ${iam5('*')}`,
        `FunctionGrants/PipelineDeployer ${iam5(arn('ecs', 'service/test-datakit-blue/*'))}`,
        `FunctionGrants/PipelineDeployer ${iam5(arn('ecs', 'task-definition/datakit-blue-*'))}`,
        `FunctionGrants/RunSteps ${iam5('*')}`,
        `FunctionGrants/RunSteps ${iam5(arn('ecs', 'task-definition/datakit-blue-*'))}`,
        `FunctionGrants/RunSteps ${iam5(arn('ecs', 'task/test-datakit-blue/*'))}`,
        `FunctionGrants/RunSteps ${iam5(arn('secretsmanager', 'secret:datakit/test/blue/*'))}`,
        `FunctionGrants/RunsApi ${iam5('*')}`,
        `FunctionGrants/RunsApi ${iam5(arn('ecs', 'task/test-datakit-blue/*'))}`,
        `FunctionGrants/RunsApi ${iam5(arn('states', 'execution:test-datakit-blue-runs:*'))}`,
        `Record/Writer ${iam5('*')}`,
        'Record/Writer AwsSolutions-L1',
        `Runs/StateMachine ${iam5('*')}`,
        `Runs/StateMachine ${iam5(arn('ecs', 'task-definition/datakit-blue-*'))}`,
        `Runs/StateMachine ${iam5(arn('ecs', 'task/test-datakit-blue/*'))}`,
        `TaskRoles/ExecutionRole ${iam5('*')}`,
        `TaskRoles/ExecutionRole ${iam5(arn('ecr', 'repository/*'))}`,
        `TaskRoles/ExecutionRole ${iam5(arn('secretsmanager', 'secret:datakit/test/blue/*'))}`,
      ].sort(),
    );
  });

  it('gives every acknowledgement an exact rule id and a real reason', () => {
    for (const { id, reason } of cellApp.cells.flatMap(acknowledgements)) {
      expect(id).toMatch(/^AwsSolutions-[A-Z]+\d+(\[.+\])?$/);
      expect(reason.length, id).toBeGreaterThanOrEqual(60);
    }
  });
});
