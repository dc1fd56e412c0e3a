import { Tags } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { ApiStack } from './api-stack.js';
import type { Settings } from './settings.js';
import { StatefulStack } from './stateful-stack.js';

/** The stacks of one deployment. */
export interface ControlPlane {
  readonly stateful: StatefulStack;
  readonly api: ApiStack;
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
    ...(settings.functionReservedConcurrency === undefined
      ? {}
      : { functionReservedConcurrency: settings.functionReservedConcurrency }),
  });
  for (const stack of [stateful, api]) {
    Tags.of(stack).add('datakit:project', 'datakit-control-plane');
    Tags.of(stack).add('datakit:stage', settings.stage);
    Tags.of(stack).add('datakit:managed-by', 'cdk');
  }
  return { stateful, api };
}
