import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IRepository } from 'aws-cdk-lib/aws-ecr';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import type { IGrantable } from 'aws-cdk-lib/aws-iam';
import type { ApiFunctionName } from '../../lib/api/routes.js';

/** What an API function may do, by intent; each maps to one CDK grant. */
export type ApiPermission = 'table:read' | 'table:read-write' | 'events:put' | 'packages:pull';

/**
 * The permissions of every API function. Typed by `ApiFunctionName`, so a function added to
 * `apiFunctionNames` fails the type check until its permissions are stated here. Read-only unless the
 * function writes.
 */
export const apiFunctionPermissions: Readonly<Record<ApiFunctionName, readonly ApiPermission[]>> = {
  /** `/healthz` reads one item; `/openapi.json` touches nothing. */
  'system-api': ['table:read'],
  /** Package listings and details are queries. */
  'packages-api': ['table:read'],
  /** Registration pulls artifacts from the package repositories, writes the registry and publishes. */
  'registrations-api': ['table:read-write', 'events:put', 'packages:pull'],
  /** Answers 404/405 from the route table alone. */
  fallback: [],
};

/** The resources permissions are granted on. */
export interface ApiResources {
  readonly table: ITable;
  readonly eventBus: IEventBus;
  /** The ECR repositories packages are pushed to. */
  readonly packageRepositories: readonly IRepository[];
}

/** Grants `grantee` each permission through the resource's own grant method. */
export function grantApiPermissions(
  grantee: IGrantable,
  permissions: readonly ApiPermission[],
  resources: ApiResources,
): void {
  for (const permission of permissions) {
    switch (permission) {
      case 'table:read':
        resources.table.grantReadData(grantee);
        break;
      case 'table:read-write':
        resources.table.grantReadWriteData(grantee);
        break;
      case 'events:put':
        resources.eventBus.grantPutEventsTo(grantee);
        break;
      case 'packages:pull':
        // Pull on each package repository, plus ecr:GetAuthorizationToken (which has no resource-level form).
        for (const repository of resources.packageRepositories) repository.grantPull(grantee);
        break;
    }
  }
}
