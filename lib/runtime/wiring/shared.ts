import { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import { createDynamoDbClient } from '../../adapters/dynamodb/client.js';
import { SingleTable } from '../../adapters/dynamodb/single-table.js';
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
  return {
    config,
    logger: overrides.logger ?? new Logger({ serviceName: 'datakit', logLevel: config.LOG_LEVEL }),
    tracer: overrides.tracer,
    metrics: overrides.metrics,
    clock,
    table: new SingleTable(client, config.TABLE_NAME, clock),
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
