import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { type IRole, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import {
  Architecture,
  type IFunction,
  Function as LambdaFunction,
  Runtime,
  Tracing,
} from 'aws-cdk-lib/aws-lambda';
import { type ILogGroup, LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { ApiFunctionName } from '../../lib/api/routes.js';
import { functionCode } from './bundling.js';

/** The repository root: entries and the lock file are resolved from here, whatever the cwd. */
export const projectRoot = fileURLToPath(new URL('../../', import.meta.url));

/** The handler file of a function: `lambdas/<name>/handler.ts`. */
export function functionEntry(name: string): string {
  return fileURLToPath(new URL(`../../lambdas/${name}/handler.ts`, import.meta.url));
}

export interface ApiFunctionProps {
  /** The folder under `lambdas/` whose `handler.ts` exports `handler` (an API function or a worker). */
  readonly name:
    | ApiFunctionName
    | 'registration-worker'
    | 'cell-record'
    | 'run-steps'
    | 'trigger-worker'
    | 'promotion-stages'
    | 'promotion-events';
  /** @default `DataKit API: <name>` */
  readonly description?: string;
  /** Environment of the function, on top of the variables every function gets. */
  readonly environment: Readonly<Record<string, string>>;
  /** Retention of the function's log group. */
  readonly logRetention: RetentionDays;
  /** @default 512 */
  readonly memorySize?: number;
  /** Also given to the function as `FUNCTION_TIMEOUT_MS` (lib/runtime/deadline.ts). @default Duration.seconds(10) */
  readonly timeout?: Duration;
  /** @default - no reservation: the function draws on the account's unreserved pool */
  readonly reservedConcurrentExecutions?: number;
  /**
   * Run as this role instead of one of its own: for a function that acts as part of another (the
   * promotions API's event follower). @default a role of its own
   */
  readonly role?: IRole;
}

/**
 * One API function: `lambdas/<name>/handler.ts` bundled locally by esbuild (see `bundling.ts`) for
 * nodejs22.x on arm64, with its own log group and a role that may write only to that log group
 * (instead of the AWS managed basic-execution policy, which allows every log group). Callers grant
 * the rest by intent.
 */
export class ApiFunction extends Construct {
  readonly function: LambdaFunction;
  readonly logGroup: ILogGroup;

  constructor(scope: Construct, id: string, props: ApiFunctionProps) {
    super(scope, id);
    const logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const role =
      props.role ??
      new Role(this, 'Role', {
        assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
        description: `Execution role of the DataKit ${props.name} function`,
      });
    logGroup.grantWrite(role);
    const timeout = props.timeout ?? Duration.seconds(10);

    this.function = new LambdaFunction(this, 'Function', {
      description: props.description ?? `DataKit API: ${props.name}`,
      code: functionCode(functionEntry(props.name), projectRoot),
      handler: 'index.handler',
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout,
      tracing: Tracing.ACTIVE,
      role,
      logGroup,
      environment: {
        POWERTOOLS_SERVICE_NAME: 'datakit',
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
        // The function's own timeout, so work with a deadline can stop in time to answer.
        FUNCTION_TIMEOUT_MS: String(timeout.toMilliseconds()),
      },
      ...(props.reservedConcurrentExecutions === undefined
        ? {}
        : { reservedConcurrentExecutions: props.reservedConcurrentExecutions }),
    });
    this.logGroup = logGroup;

    Validations.of(this).acknowledge(
      {
        id: 'AwsSolutions-L1',
        reason:
          'nodejs22.x is the runtime chosen for the API functions (issue 2): the bundles target node22 and ' +
          'the tests run on it; moving to nodejs24.x is a deliberate upgrade, not a drift fix.',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'Active tracing adds xray:PutTraceSegments and xray:PutTelemetryRecords, and ECR pull grants add ' +
          'ecr:GetAuthorizationToken; none of these supports resource-level permissions. Every other ' +
          'statement of this role names its resources.',
      },
    );
  }

  /** The function as the interface integrations and grants take. */
  get handler(): IFunction {
    return this.function;
  }
}
