import { type Stack, Tags } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';
import { ApiStack } from './api-stack.js';
import { type CellFunctions, CellStack, cellStackId } from './cell-stack.js';
import type { Settings } from './settings.js';
import { StatefulStack } from './stateful-stack.js';

/** The stacks of one deployment. */
export interface ControlPlane {
  readonly stateful: StatefulStack;
  readonly api: ApiStack;
  /** One per `datakit:cells` entry, in that order. */
  readonly cells: readonly CellStack[];
}

/** What every cell stack of a deployment shares. */
export interface CellStackDependencies {
  readonly table: ITable;
  readonly functions: CellFunctions;
}

/** One `<stage>-datakit-cell-<cell>` stack per configured cell. */
export function createCellStacks(
  scope: Construct,
  settings: Settings,
  dependencies: CellStackDependencies,
): CellStack[] {
  return settings.cells.map(
    (cell) =>
      new CellStack(scope, cellStackId(settings.stage, cell.name), {
        description: `DataKit cell ${cell.name}: ECS cluster, network, roles and run state machine`,
        stage: settings.stage,
        cell,
        table: dependencies.table,
        functions: dependencies.functions,
        logRetention: settings.logRetention,
      }),
  );
}

/** The tags of every stack of the deployment. */
function tagStack(stack: Stack, settings: Settings): void {
  Tags.of(stack).add('datakit:project', 'datakit-control-plane');
  Tags.of(stack).add('datakit:stage', settings.stage);
  Tags.of(stack).add('datakit:managed-by', 'cdk');
}

/**
 * Composes the control plane's stacks for one stage. Stacks stay environment-agnostic (no account or
 * region lookups): `cdk deploy` targets whatever the caller's credentials and region say.
 */
export function createControlPlane(scope: Construct, settings: Settings): ControlPlane {
  const prefix = `${settings.stage}-datakit`;
  const stateful = new StatefulStack(scope, `${prefix}-stateful`, {
    description: 'DataKit control plane: the table and the event bus (retained)',
    stage: settings.stage,
    eventArchiveRetentionDays: settings.eventArchiveRetentionDays,
    tableEncryption: settings.tableEncryption,
    tableContributorInsights: settings.tableContributorInsights,
    packageRepositories: settings.packageRepositories,
    existingPackageRepositories: settings.existingPackageRepositories,
    untaggedImageExpiryDays: settings.untaggedImageExpiryDays,
    rawEventRetentionDays: settings.retention.lineageEventDays,
  });
  const api = new ApiStack(scope, `${prefix}-api`, {
    description: 'DataKit control plane: the IAM-authorized REST API and its functions',
    table: stateful.table,
    eventBus: stateful.eventBus,
    rawEventsBucket: stateful.rawEventsBucket,
    packageRepositories: stateful.packageRepositories,
    packageRepositoryPrefix: settings.packageRepositoryPrefix,
    registryAllowlist: settings.registryAllowlist,
    registryBlobHosts: settings.registryBlobHosts,
    stage: settings.stage,
    logRetention: settings.logRetention,
    logLevel: settings.logLevel,
    serviceVersion: settings.serviceVersion,
    throttleRateLimit: settings.apiThrottleRateLimit,
    throttleBurstLimit: settings.apiThrottleBurstLimit,
    minCompressionBytes: settings.apiMinCompressionBytes,
    cloudWatchRole: settings.apiGatewayCloudWatchRole,
    functionMemoryMb: settings.functionMemoryMb,
    functionTimeoutSeconds: settings.functionTimeoutSeconds,
    environments: settings.environments,
    approverGroups: settings.approverGroups,
    approvalTimeoutDays: settings.approvalTimeoutDays,
    retention: settings.retention,
    access: settings.access,
    ...(settings.functionReservedConcurrency === undefined
      ? {}
      : { functionReservedConcurrency: settings.functionReservedConcurrency }),
  });
  const cells = createCellStacks(scope, settings, { table: stateful.table, functions: api.cellFunctions });
  for (const stack of [stateful, api, ...cells]) tagStack(stack, settings);
  return { stateful, api, cells };
}
