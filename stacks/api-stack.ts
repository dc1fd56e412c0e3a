import { Duration, RemovalPolicy, Size, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  AuthorizationType,
  EndpointType,
  type IResource,
  type IRestApi,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  RestApi,
} from 'aws-cdk-lib/aws-apigateway';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IRepository } from 'aws-cdk-lib/aws-ecr';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import type { IFunction, Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { type ApiFunctionName, apiFunctionNames, routeList } from '../lib/api/routes.js';
import type { GroupPatterns } from '../lib/contracts/identity.js';
import { defaultEnvironments, type Environment } from '../lib/domain/promotions/environments.js';
import type { CellFunctions } from './cell-stack.js';
import { ApiFunction } from './constructs/api-function.js';
import { apiFunctionPermissions, grantApiPermissions } from './constructs/api-permissions.js';
import { LineageAlarms } from './constructs/lineage-alarms.js';
import { acknowledgeTableIndexWildcards } from './constructs/nag-acknowledgements.js';
import { ProblemGatewayResponses } from './constructs/problem-gateway-responses.js';
import { PromotionPipelines } from './constructs/promotion-pipelines.js';
import { acknowledgeRawEventObjectWildcards } from './constructs/raw-events-bucket.js';
import { RegistrationWorker } from './constructs/registration-worker.js';
import { TriggerWorker } from './constructs/trigger-worker.js';

/**
 * Content types API Gateway hands to the functions base64-encoded instead of as text. API Gateway
 * matches these against `Content-Type` only; a body sent with `Content-Encoding: gzip` is decompressed
 * by API Gateway itself before the function sees it (see docs/adr/0003-api-gateway-and-functions.md).
 */
export const binaryMediaTypes = ['application/gzip', 'application/x-gzip'] as const;

/** The fields of every access log line (JSON, one line per request). */
export const accessLogFields = {
  requestId: '$context.requestId',
  extendedRequestId: '$context.extendedRequestId',
  requestTime: '$context.requestTimeEpoch',
  sourceIp: '$context.identity.sourceIp',
  caller: '$context.identity.caller',
  userArn: '$context.identity.userArn',
  accountId: '$context.identity.accountId',
  userAgent: '$context.identity.userAgent',
  httpMethod: '$context.httpMethod',
  route: '$context.resourcePath',
  path: '$context.path',
  status: '$context.status',
  responseLength: '$context.responseLength',
  latencyMs: '$context.responseLatency',
  integrationLatencyMs: '$context.integration.latency',
  integrationStatus: '$context.integration.status',
  errorType: '$context.error.responseType',
  errorMessage: '$context.error.message',
  xrayTraceId: '$context.xrayTraceId',
} as const;

export interface ApiStackProps extends StackProps {
  /** The single table the functions read and write. */
  readonly table: ITable;
  /** The `datakit` bus the functions publish to. */
  readonly eventBus: IEventBus;
  /** Raw lineage events too large for a table item (`RAW_EVENTS_BUCKET`). */
  readonly rawEventsBucket: IBucket;
  /** The ECR repositories packages are pushed to (registration pulls from them). */
  readonly packageRepositories: readonly IRepository[];
  /** Pushes to repositories starting with this prefix are registered. @default 'dk/' */
  readonly packageRepositoryPrefix?: string;
  /** Registries `POST /v1/registrations` may read from besides this account's ECR. @default [] */
  readonly registryAllowlist?: readonly string[];
  /** Hosts registries may redirect reads to or name as token realms, besides ECR's layer buckets. @default [] */
  readonly registryBlobHosts?: readonly string[];
  /** Prefix of physical names and the API Gateway stage name. */
  readonly stage: string;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /** `LOG_LEVEL` of every function. @default 'INFO' */
  readonly logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT';
  /** `SERVICE_VERSION` of every function. @default '0.1.0' */
  readonly serviceVersion?: string;
  /** Steady-state requests per second of the stage. @default 50 */
  readonly throttleRateLimit?: number;
  /** Burst of the stage. @default 100 */
  readonly throttleBurstLimit?: number;
  /** Smallest response body API Gateway compresses. @default 1024 */
  readonly minCompressionBytes?: number;
  /** Create the account-wide API Gateway CloudWatch role. @default true */
  readonly cloudWatchRole?: boolean;
  /** @default 512 */
  readonly functionMemoryMb?: number;
  /** Each function also gets it as `FUNCTION_TIMEOUT_MS`, its registry deadline's bound. @default 10 */
  readonly functionTimeoutSeconds?: number;
  /** @default - no reservation */
  readonly functionReservedConcurrency?: number;
  /** Where Transforms send their own OpenLineage events (`OPENLINEAGE_URL`). @default this API's URL */
  readonly openLineageEndpoint?: string;
  /** The environments in promotion order; each with approvals, or governed, gets a pipeline. @default dev → int → prod */
  readonly environments?: readonly Environment[];
  /** Approver groups: group → IAM principal ARN patterns. @default {} (nobody can approve) */
  readonly approverGroups?: GroupPatterns;
  /** Days a promotion waits for its approvals. @default 7 */
  readonly approvalTimeoutDays?: number;
  /**
   * Days raw lineage events, run records, registration records and audit records are kept (0: forever).
   * @default 400 each
   */
  readonly retention?: {
    readonly lineageEventDays: number;
    readonly runDays: number;
    readonly registrationDays: number;
    readonly auditDays?: number;
  };
  /** Namespace roles (ADR 0018). @default enforced, group `platform-admins`, open reads */
  readonly access?: {
    readonly mode: 'enforced' | 'auto' | 'off';
    readonly platformAdminGroup: string;
    readonly namespaceReadAccess: 'open' | 'restricted';
  };
}

/**
 * The REST API: one resource per path of the route table, one method per route integrated with that
 * route's function, IAM (SigV4) on every method, and a catch-all that sends everything else to the
 * `fallback` function so unknown paths and methods answer 404/405 problem+json like the handlers do.
 */
export class ApiStack extends Stack {
  readonly api: RestApi;
  /** Every API function, by name. */
  readonly functions: ReadonlyMap<ApiFunctionName, IFunction>;
  /** Functions behind event rules rather than routes, by name. */
  readonly workers: ReadonlyMap<string, IFunction>;
  /** The promotion pipelines of the environments with approvals, their topics and functions. */
  readonly promotions: PromotionPipelines;
  /**
   * The functions that act in cells (run steps, runs and cells API, deployer), which each cell stack
   * grants access to its resources (see createControlPlane).
   */
  readonly cellFunctions: CellFunctions;

  constructor(scope: Construct, id: string, props: ApiStackProps) {
    super(scope, id, props);
    const logRetention = props.logRetention ?? RetentionDays.ONE_MONTH;

    // Registration reads only from this account's ECR unless more registries are configured.
    const ecrHost = `${this.account}.dkr.ecr.${this.region}.${this.urlSuffix}`;
    const environments = props.environments ?? defaultEnvironments;
    const approvalTimeoutDays = props.approvalTimeoutDays ?? 7;
    const environment = {
      TABLE_NAME: props.table.tableName,
      EVENT_BUS_NAME: props.eventBus.eventBusName,
      RAW_EVENTS_BUCKET: props.rawEventsBucket.bucketName,
      SERVICE_VERSION: props.serviceVersion ?? '0.1.0',
      LOG_LEVEL: props.logLevel ?? 'INFO',
      REGISTRY_ALLOWLIST: [ecrHost, ...(props.registryAllowlist ?? [])].join(','),
      // The layer bucket of every allowlisted ECR registry is added at run time (ConnectionPolicy.fromSettings).
      REGISTRY_BLOB_HOSTS: (props.registryBlobHosts ?? []).join(','),
      // Store secrets are `datakit/{stage}/{cell}/{store}` (lib/contracts/cell-resources.ts).
      STAGE: props.stage,
      // Promotions (datakit:environments, datakit:approverGroups, datakit:approvalTimeoutDays); every
      // function knows who is in which group, for the authorization of later releases too.
      ENVIRONMENTS: JSON.stringify(environments),
      GROUPS: JSON.stringify(props.approverGroups ?? {}),
      APPROVAL_TIMEOUT_MINUTES: String(approvalTimeoutDays * 24 * 60),
      // Every writer of these records sets their expiry (TTL attribute `expiresAt`).
      LINEAGE_EVENT_RETENTION_DAYS: String(props.retention?.lineageEventDays ?? 400),
      RUN_RETENTION_DAYS: String(props.retention?.runDays ?? 400),
      REGISTRATION_RETENTION_DAYS: String(props.retention?.registrationDays ?? 400),
      AUDIT_RETENTION_DAYS: String(props.retention?.auditDays ?? 400),
      // Namespace roles (datakit:accessControl, datakit:platformAdminGroup, datakit:namespaceReadAccess).
      ACCESS_CONTROL: props.access?.mode ?? 'enforced',
      PLATFORM_ADMIN_GROUP: props.access?.platformAdminGroup ?? 'platform-admins',
      NAMESPACE_READ_ACCESS: props.access?.namespaceReadAccess ?? 'open',
    };
    const functions = new Map<ApiFunctionName, LambdaFunction>();
    const apiFunctions = new Map<ApiFunctionName, ApiFunction>();
    for (const name of apiFunctionNames) {
      const apiFunction = new ApiFunction(this, pascalCase(name), {
        name,
        logRetention,
        memorySize: props.functionMemoryMb ?? 512,
        timeout: Duration.seconds(props.functionTimeoutSeconds ?? 10),
        ...(props.functionReservedConcurrency === undefined
          ? {}
          : { reservedConcurrentExecutions: props.functionReservedConcurrency }),
        environment,
      });
      grantApiPermissions(apiFunction.function, apiFunctionPermissions[name], props);
      functions.set(name, apiFunction.function);
      apiFunctions.set(name, apiFunction);
      if (name === 'lineage-ingest') {
        new LineageAlarms(this, 'LineageIngestAlarms', {
          function: apiFunction.function,
          logGroup: apiFunction.logGroup,
        });
      }
    }
    this.functions = functions;
    const registrationWorker = new RegistrationWorker(this, 'RegistrationWorker', {
      table: props.table,
      eventBus: props.eventBus,
      packageRepositories: props.packageRepositories,
      repositoryPrefix: props.packageRepositoryPrefix ?? 'dk/',
      environment,
      logRetention,
      memorySize: props.functionMemoryMb ?? 512,
    });
    const functionFor = (name: ApiFunctionName): LambdaFunction => {
      const fn = functions.get(name);
      if (fn === undefined) throw new Error(`no function ${name}`);
      return fn;
    };

    const accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: logRetention,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const api = new RestApi(this, 'Api', {
      restApiName: `${props.stage}-datakit`,
      description: 'DataKit control plane API (IAM-authorized)',
      endpointConfiguration: { types: [EndpointType.REGIONAL] },
      binaryMediaTypes: [...binaryMediaTypes],
      minCompressionSize: Size.bytes(props.minCompressionBytes ?? 1024),
      cloudWatchRole: props.cloudWatchRole ?? true,
      // The account-wide role is shared by every REST API in the region: deleting this stack must not
      // break the others' logging.
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      defaultMethodOptions: { authorizationType: AuthorizationType.IAM },
      deployOptions: {
        stageName: props.stage,
        throttlingRateLimit: props.throttleRateLimit ?? 50,
        throttlingBurstLimit: props.throttleBurstLimit ?? 100,
        tracingEnabled: true,
        loggingLevel: MethodLoggingLevel.ERROR,
        // Request and response bodies may hold personal data; they stay out of the execution logs.
        dataTraceEnabled: false,
        metricsEnabled: false,
        accessLogDestination: new LogGroupLogDestination(accessLogs),
        accessLogFormat: AccessLogFormat.custom(JSON.stringify(accessLogFields)),
      },
    });
    this.api = api;

    // Prepare, Complete and Fail of every cell's run state machine. Transforms report their own lineage
    // to this API (through a SigV4 signing proxy, docs/operations.md) unless another endpoint is set.
    const runSteps = new ApiFunction(this, 'RunSteps', {
      name: 'run-steps',
      description: "DataKit: Prepare, Complete and Fail of the cells' run state machines",
      logRetention,
      memorySize: props.functionMemoryMb ?? 512,
      timeout: Duration.seconds(60),
      environment: { ...environment, OPENLINEAGE_ENDPOINT: props.openLineageEndpoint ?? api.url },
    });
    grantApiPermissions(runSteps.function, ['table:read-write', 'events:put', 'raw-events:write'], props);

    // The pipelines of the environments with approvals or governed; the promotions API starts them, reads their
    // action executions and is the only principal that may hand decisions to their approval actions.
    const promotions = new PromotionPipelines(this, 'Promotions', {
      stage: props.stage,
      environments,
      approvalTimeoutDays,
      // The stage's URL from the API's id and the stage name, not from the deployment stage: the
      // pipelines must not depend on the deployment, which depends on the promotions API function.
      apiUrl: `https://${api.restApiId}.execute-api.${this.region}.${this.urlSuffix}/${props.stage}/`,
      table: props.table,
      eventBus: props.eventBus,
      environment,
      logRetention,
      memorySize: props.functionMemoryMb ?? 512,
      promotionsApi: functionFor('promotions-api'),
    });
    this.promotions = promotions;

    // Reactive triggers: the bus rule's queue and the stage's schedules feed the trigger function. Both
    // deployers (the promotions API for inline deploys, the pipelines' stages for approved ones) own the
    // schedules of what they deploy.
    const triggers = new TriggerWorker(this, 'Triggers', {
      stage: props.stage,
      eventBus: props.eventBus,
      environment,
      logRetention,
      memorySize: props.functionMemoryMb ?? 512,
    });
    grantApiPermissions(triggers.function, ['table:read-write', 'events:put', 'raw-events:write'], props);
    const deployer = apiFunctions.get('promotions-api');
    if (deployer === undefined) throw new Error('no promotions-api function');
    for (const [grantee, owner] of [
      [deployer.function, deployer],
      [promotions.stagesFunction, promotions],
    ] as const) {
      for (const [key, value] of Object.entries(triggers.scheduleEnvironment()))
        grantee.addEnvironment(key, value);
      triggers.grantManageSchedules(grantee, owner);
    }

    this.workers = new Map([
      ['registration-worker', registrationWorker.function],
      ['run-steps', runSteps.function],
      ['promotion-stages', promotions.stagesFunction],
      ['promotion-events', promotions.eventsFunction],
      ['trigger-worker', triggers.function],
    ]);
    this.cellFunctions = {
      runSteps: runSteps.function,
      runsApi: functionFor('runs-api'),
      cellsApi: functionFor('cells-api'),
      deployer: functionFor('promotions-api'),
      pipelineDeployer: promotions.stagesFunction,
      triggerWorker: triggers.function,
    };

    const integrations = new Map<ApiFunctionName, LambdaIntegration>();
    const integrationFor = (name: ApiFunctionName): LambdaIntegration => {
      let integration = integrations.get(name);
      if (integration === undefined) {
        // One API-scoped invoke permission per function instead of one per method keeps the
        // functions' resource policies far below Lambda's 20 KB limit as routes are added.
        integration = new LambdaIntegration(functionFor(name), {
          proxy: true,
          scopePermissionToMethod: false,
        });
        integrations.set(name, integration);
      }
      return integration;
    };

    const resources = new Set<IResource>();
    for (const route of routeList) {
      const resource = resourceForPath(api, route.path, resources);
      resource.addMethod(route.method, integrationFor(route.function), {
        operationName: route.operationId,
        authorizationType: AuthorizationType.IAM,
      });
    }

    const fallback = integrationFor('fallback');
    api.root.addMethod('ANY', fallback, { authorizationType: AuthorizationType.IAM });
    for (const resource of resources) {
      resource.addMethod('ANY', fallback, { authorizationType: AuthorizationType.IAM });
    }
    api.root.addProxy({
      anyMethod: true,
      defaultIntegration: fallback,
      defaultMethodOptions: { authorizationType: AuthorizationType.IAM },
    });

    // `as IRestApi`: see StatefulStack (aws-cdk-lib classes vs `exactOptionalPropertyTypes`).
    new ProblemGatewayResponses(this, 'GatewayResponses', { api: api as IRestApi });

    Validations.of(api).acknowledge(
      {
        id: 'AwsSolutions-APIG2',
        reason:
          'Every handler validates path, query and body with the zod schemas of the route table and answers ' +
          'problem+json naming the field; an API Gateway validator would duplicate them with other messages.',
      },
      {
        id: 'AwsSolutions-COG4',
        reason:
          'Every method uses IAM (SigV4) authorization: callers are AWS principals (CI roles, the CLI), ' +
          'not Cognito users.',
      },
    );
    Validations.of(api).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      reason:
        "The account-level role API Gateway writes execution and access logs with: AWS's managed policy is " +
        'the documented one for this role and only apigateway.amazonaws.com can assume it.',
    });
    acknowledgeRawEventObjectWildcards(this);
    acknowledgeTableIndexWildcards(
      this,
      'table.grantReadData/grantReadWriteData grant the same actions on every index of the table ' +
        '(<table>/index/*): the functions query the GSIs of tableDefinition, which are all part of the data model.',
    );
    Validations.of(api.deploymentStage).acknowledge({
      id: 'AwsSolutions-APIG3',
      reason:
        'Every method requires SigV4, so unauthenticated traffic is rejected before any function runs and ' +
        'the stage is throttled; a WAF web ACL is out of scope for this release and can be associated later.',
    });
  }
}

/** The resource of a path, creating missing ancestors; records every resource below the root. */
function resourceForPath(api: RestApi, path: string, seen: Set<IResource>): IResource {
  let resource: IResource = api.root;
  for (const part of path.split('/').filter((segment) => segment !== '')) {
    resource = resource.getResource(part) ?? resource.addResource(part);
    seen.add(resource);
  }
  return resource;
}

/** `packages-api` → `PackagesApi`: construct ids of the functions. */
function pascalCase(name: string): string {
  return name
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}
