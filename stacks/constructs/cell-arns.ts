import { ArnFormat, Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { cellSecretNamePrefix, taskDefinitionFamilyPrefix } from '../../lib/contracts/cell-resources.js';

/**
 * The ARN patterns a cell's permissions name: resources that do not exist at deploy time (task
 * definitions, tasks, services and secrets created at run time), scoped by the naming conventions of
 * `lib/contracts/cell-resources.ts` so a grant reaches one cell's resources and no other's.
 */
export const cellArns = {
  /** Every Store secret of the cell in this stage (Secrets Manager appends `-XXXXXX` to the name). */
  secrets: (scope: IConstruct, stage: string, cell: string): string =>
    Stack.of(scope).formatArn({
      service: 'secretsmanager',
      resource: 'secret',
      resourceName: `${cellSecretNamePrefix(stage, cell)}*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    }),
  /** Every revision of every task-definition family of the cell. */
  taskDefinitions: (scope: IConstruct, cell: string): string =>
    Stack.of(scope).formatArn({
      service: 'ecs',
      resource: 'task-definition',
      resourceName: `${taskDefinitionFamilyPrefix(cell)}*`,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    }),
  /** Every task of the cluster (the long ARN format: `task/<cluster>/<id>`). */
  tasks: (scope: IConstruct, clusterName: string): string =>
    Stack.of(scope).formatArn({
      service: 'ecs',
      resource: 'task',
      resourceName: `${clusterName}/*`,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    }),
  /** Every service of the cluster (`service/<cluster>/<name>`). */
  services: (scope: IConstruct, clusterName: string): string =>
    Stack.of(scope).formatArn({
      service: 'ecs',
      resource: 'service',
      resourceName: `${clusterName}/*`,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    }),
  /** Every execution of the named state machine. */
  executions: (scope: IConstruct, stateMachineName: string): string =>
    Stack.of(scope).formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${stateMachineName}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    }),
  /** Every container image repository of this account and region. */
  repositories: (scope: IConstruct): string =>
    Stack.of(scope).formatArn({
      service: 'ecr',
      resource: 'repository',
      resourceName: '*',
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    }),
  /**
   * The rule Step Functions manages for `ecs:runTask.sync` (it learns of the task's end from it), as
   * aws-stepfunctions-tasks' EcsRunTask grants it.
   */
  ecsSyncRule: (scope: IConstruct): string =>
    Stack.of(scope).formatArn({
      service: 'events',
      resource: 'rule',
      resourceName: 'StepFunctionsGetEventsForECSTaskRule',
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    }),
} as const;
