import { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import { DynamoAuditStore } from '../../adapters/dynamodb/audit-log.js';
import { DynamoBindingsStore, DynamoNamespaceLookup } from '../../adapters/dynamodb/bindings-store.js';
import { createDynamoDbClient } from '../../adapters/dynamodb/client.js';
import { SingleTable } from '../../adapters/dynamodb/single-table.js';
import { AccessControl } from '../../api/access-control.js';
import { GroupDirectory } from '../../domain/identity/groups.js';
import { AuditTrail } from '../audit-trail.js';
import type { Config } from '../config.js';

/** What every function uses: configuration, telemetry, the clock and the table. */
export interface SharedDependencies {
  readonly config: Config;
  readonly logger: Logger;
  /** X-Ray, in Lambda only: a subsegment for every AWS SDK call. */
  readonly tracer?: Tracer | undefined;
  /** CloudWatch metrics (EMF) in Lambda; absent in embedded mode. */
  readonly metrics?: Metrics | undefined;
  readonly clock: () => Date;
  readonly table: SingleTable;
  /** Who is in which group (`GROUPS`): approvals, bindings to groups, platform admins. */
  readonly groups: GroupDirectory;
  /** Namespace roles (ADR 0018): the bindings in the table, read through a short per-instance cache. */
  readonly access: AccessControl;
  /** The audit trail; copied to the bus once the function has one (`withEvents`). */
  readonly audit: AuditTrail;
}

/** Telemetry the embedded mode (or a test) supplies instead of the defaults. */
export interface SharedOverrides {
  readonly logger?: Logger;
  readonly metrics?: Metrics;
  readonly tracer?: Tracer;
}

/** The configuration, telemetry and table every function shares. */
export function createSharedDependencies(
  config: Config,
  overrides: SharedOverrides = {},
): SharedDependencies {
  const clock = () => new Date();
  const client = traced(
    overrides,
    createDynamoDbClient({
      ...(config.DYNAMODB_ENDPOINT === undefined ? {} : { endpoint: config.DYNAMODB_ENDPOINT }),
      ...regionOf(config),
    }),
  );
  const logger = overrides.logger ?? new Logger({ serviceName: 'datakit', logLevel: config.LOG_LEVEL });
  const table = new SingleTable(client, config.TABLE_NAME, clock);
  const groups = new GroupDirectory(config.GROUPS);
  return {
    config,
    logger,
    tracer: overrides.tracer,
    metrics: overrides.metrics,
    clock,
    table,
    groups,
    access: new AccessControl({
      mode: config.ACCESS_CONTROL,
      readAccess: config.NAMESPACE_READ_ACCESS,
      platformAdminGroup: config.PLATFORM_ADMIN_GROUP,
      groups,
      bindings: new DynamoBindingsStore(table),
      lookup: new DynamoNamespaceLookup(table),
      clock,
      cacheSeconds: config.BINDINGS_CACHE_SECONDS,
    }),
    audit: new AuditTrail({
      store: new DynamoAuditStore(table, { retentionDays: config.AUDIT_RETENTION_DAYS, clock }),
      logger,
      metrics: overrides.metrics,
    }),
  };
}

/** An AWS SDK client traced by X-Ray when there is a tracer (in Lambda). */
export function traced<Client>(deps: { readonly tracer?: Tracer | undefined }, client: Client): Client {
  return deps.tracer === undefined ? client : deps.tracer.captureAWSv3Client(client);
}

/** The region option of an SDK client: the configured one, else the SDK's default chain. */
export function regionOf(config: Config): { region?: string } {
  return config.AWS_REGION === undefined ? {} : { region: config.AWS_REGION };
}
