import { Stack } from 'aws-cdk-lib';
import { type IRole, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { ILogGroup } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { cellArns } from './cell-arns.js';
import { acknowledgeWildcardResource } from './nag-acknowledgements.js';

export interface CellTaskRolesProps {
  readonly stage: string;
  readonly cell: string;
  /** Where the tasks' `awslogs` driver writes. */
  readonly logGroup: ILogGroup;
}

/** The service principal of ECS tasks, accepted only for tasks of this account (confused deputy). */
function ecsTasksPrincipal(scope: Construct): ServicePrincipal {
  const stack = Stack.of(scope);
  return new ServicePrincipal('ecs-tasks.amazonaws.com', {
    conditions: {
      StringEquals: { 'aws:SourceAccount': stack.account },
      ArnLike: { 'aws:SourceArn': `arn:${stack.partition}:ecs:${stack.region}:${stack.account}:*` },
    },
  });
}

/**
 * The two roles of every task in a cell. The execution role is ECS's, to start the task: pull the image,
 * write the log stream, read the cell's Store secrets the task definition names. The task role is the
 * Transform's own identity and starts empty: what a Transform may reach (an S3 bucket, a Glue catalog) is
 * the platform team's call, made by attaching policies to it (docs/operations.md, Cells).
 */
export class CellTaskRoles extends Construct {
  readonly executionRole: IRole;
  readonly taskRole: IRole;

  constructor(scope: Construct, id: string, props: CellTaskRolesProps) {
    super(scope, id);
    const executionRole = new Role(this, 'ExecutionRole', {
      assumedBy: ecsTasksPrincipal(this),
      description: `ECS task execution role of DataKit cell ${props.cell}: image pull, logs, Store secrets`,
    });
    const repositories = cellArns.repositories(this);
    const secrets = cellArns.secrets(this, props.stage, props.cell);
    executionRole.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['ecr:GetAuthorizationToken'], resources: ['*'] }),
    );
    executionRole.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage'],
        resources: [repositories],
      }),
    );
    executionRole.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [secrets] }),
    );
    props.logGroup.grantWrite(executionRole);
    this.executionRole = executionRole;

    this.taskRole = new Role(this, 'TaskRole', {
      assumedBy: ecsTasksPrincipal(this),
      description: `Role of the Transforms of DataKit cell ${props.cell} (no permissions until granted)`,
    });

    acknowledgeWildcardResource(
      executionRole,
      '*',
      'ecr:GetAuthorizationToken has no resource-level permissions; ECS needs it to pull any ECR image.',
    );
    acknowledgeWildcardResource(
      executionRole,
      repositories,
      "A Transform's image is whatever its package's spec.image names, in any repository of this account; " +
        'the repositories are only known when a version is registered, long after this stack is deployed.',
    );
    acknowledgeWildcardResource(
      executionRole,
      secrets,
      'Store secrets are created at run time by PUT /v1/cells/{cell}/stores (datakit/{stage}/{cell}/{store}); ' +
        "the prefix limits the role to this cell's secrets in this stage.",
    );
  }
}
