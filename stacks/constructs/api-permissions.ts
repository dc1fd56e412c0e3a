import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IRepository } from 'aws-cdk-lib/aws-ecr';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { Effect, type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { ApiFunctionName } from '../../lib/api/routes.js';
import { auditPartitionPrefix } from '../../lib/contracts/table.js';
import { grantRawEventsRead, grantRawEventsWrite } from './raw-events-bucket.js';

/** What an API function may do, by intent; each maps to one CDK grant. */
export type ApiPermission =
  | 'raw-events:read'
  | 'raw-events:write'
  | 'table:read'
  | 'table:read-write'
  | 'events:put'
  | 'packages:pull';

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
  /** OpenLineage ingestion writes runs, jobs, datasets and raw events (large ones to S3), publishes DataSet Updated. */
  'lineage-ingest': ['table:read-write', 'events:put', 'raw-events:write'],
  /** The Marquez reads are queries and BatchGets; the events listing reads large raw events from S3. */
  'lineage-api': ['table:read', 'raw-events:read'],
  /**
   * Cells are records; Store writes also create the store's secret (granted per cell by the cell stacks).
   * Its audit records go to the bus too.
   */
  'cells-api': ['table:read-write', 'events:put'],
  /**
   * Runs are records; starting, cancelling and reading logs use each cell's state machine, cluster and log
   * group (granted per cell by the cell stacks). A cancel emits lineage ABORT and `Run Failed`.
   */
  'runs-api': ['table:read-write', 'events:put', 'raw-events:write'],
  /** Promotions deploy: deployment records and `Package Deployed`. */
  'promotions-api': ['table:read-write', 'events:put'],
  /**
   * The report reads the registry, deployments and the lineage graph (queries and BatchGets); deprecations
   * are items it writes, announced with `DataSet Deprecated` / `Package Deprecated`.
   */
  'governance-api': ['table:read-write', 'events:put'],
  /** Bindings are items; audit records are written (never updated) and copied to the bus. */
  'access-api': ['table:read-write', 'events:put'],
  /** Answers 404/405 from the route table alone. */
  fallback: [],
};

/** The resources permissions are granted on. */
export interface ApiResources {
  readonly table: ITable;
  readonly eventBus: IEventBus;
  /** Raw lineage events too large for a table item (needed by the `raw-events:*` permissions). */
  readonly rawEventsBucket?: IBucket;
  /** The ECR repositories packages are pushed to. */
  readonly packageRepositories: readonly IRepository[];
}

function rawEventsBucketOf(resources: ApiResources): IBucket {
  if (resources.rawEventsBucket === undefined) throw new Error('raw-events permissions need rawEventsBucket');
  return resources.rawEventsBucket;
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
        denyAuditRewrites(grantee, resources.table);
        break;
      case 'events:put':
        resources.eventBus.grantPutEventsTo(grantee);
        break;
      case 'raw-events:read':
        grantRawEventsRead(rawEventsBucketOf(resources), grantee);
        break;
      case 'raw-events:write':
        grantRawEventsWrite(rawEventsBucketOf(resources), grantee);
        break;
      case 'packages:pull':
        // Pull on each package repository, plus ecr:GetAuthorizationToken (which has no resource-level form).
        for (const repository of resources.packageRepositories) repository.grantPull(grantee);
        break;
    }
  }
}

/**
 * The actions that could change or remove an audit record once written: an update, a delete, and a batch
 * write (whose puts are unconditional and whose deletes are deletes). PartiQL's are not granted to any
 * function, and are denied all the same so a later grant cannot open them. A single PutItem stays allowed
 * (records are written that way), always with `attribute_not_exists(PK)` (lib/adapters/dynamodb/audit-log.ts):
 * IAM has no condition key for a condition expression.
 */
export const auditRewriteActions = [
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:PartiQLUpdate',
  'dynamodb:PartiQLDelete',
  'dynamodb:PartiQLInsert',
] as const;

/**
 * Makes the audit trail append-only for `grantee` (ADR 0018): an explicit Deny, which no Allow overrides, of
 * rewriting any item whose partition key starts with `AUDIT#`. `ForAnyValue` denies a batch if any of its
 * items is one.
 */
export function denyAuditRewrites(grantee: IGrantable, table: ITable): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({
      sid: 'AuditTrailAppendOnly',
      effect: Effect.DENY,
      actions: [...auditRewriteActions],
      resources: [table.tableArn],
      conditions: { 'ForAnyValue:StringLike': { 'dynamodb:LeadingKeys': [`${auditPartitionPrefix}*`] } },
    }),
  );
}
