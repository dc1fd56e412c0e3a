import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Capture, Match, Template } from 'aws-cdk-lib/assertions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { type ApiFunctionName, apiFunctionNames, routeList } from '../../lib/api/routes.js';
import { problemDetailsSchema } from '../../lib/contracts/api/common.js';
import { accessLogFields, binaryMediaTypes } from '../../stacks/api-stack.js';
import { gatewayProblems } from '../../stacks/constructs/problem-gateway-responses.js';
import {
  buildControlPlane,
  logicalIdOf,
  type SynthesizedControlPlane,
  templatesOf,
} from './control-plane-fixture.js';

/** Settings that differ from the defaults, so the assertions prove the context reaches the resources. */
const context = {
  'datakit:stage': 'test',
  'datakit:logRetentionDays': 14,
  'datakit:apiThrottleRateLimit': 7,
  'datakit:apiThrottleBurstLimit': 13,
  'datakit:logLevel': 'DEBUG',
  'datakit:cells': [{ name: 'blue' }],
  'datakit:runRetentionDays': 30,
};

type Resources = Record<string, { Properties: Record<string, unknown> }>;

let controlPlane: SynthesizedControlPlane;
let template: Template;
/** Every API Gateway resource's path, by logical id; the root is `/`. */
let pathByResourceId: Map<string, string>;
let methods: Resources;

beforeAll(() => {
  controlPlane = buildControlPlane(context);
  template = templatesOf(controlPlane).api;
  methods = template.findResources('AWS::ApiGateway::Method') as Resources;
  pathByResourceId = resourcePaths(template.findResources('AWS::ApiGateway::Resource') as Resources);
});

function fn(name: ApiFunctionName): IFunction {
  const found = controlPlane.api.functions.get(name);
  if (found === undefined) throw new Error(`no function ${name}`);
  return found;
}

function resourcePaths(resources: Resources): Map<string, string> {
  const paths = new Map<string, string>();
  const pathOf = (id: string): string => {
    const known = paths.get(id);
    if (known !== undefined) return known;
    const properties = resources[id]?.Properties;
    const parent = properties?.ParentId;
    const parentPath =
      typeof parent === 'object' && parent !== null && 'Ref' in parent && typeof parent.Ref === 'string'
        ? pathOf(parent.Ref)
        : '';
    const path = `${parentPath}/${String(properties?.PathPart)}`;
    paths.set(id, path);
    return path;
  };
  for (const id of Object.keys(resources)) pathOf(id);
  return paths;
}

/** The path of a method's resource: its `ResourceId` is a Ref to a resource or the API's root. */
function methodPath(method: { Properties: Record<string, unknown> }): string {
  const resourceId = method.Properties.ResourceId;
  if (typeof resourceId === 'object' && resourceId !== null && 'Ref' in resourceId) {
    return pathByResourceId.get(String(resourceId.Ref)) ?? '?';
  }
  return '/';
}

/** The methods at a path with an HTTP method, as `[logicalId, method]`. */
function methodsAt(path: string, httpMethod: string) {
  return Object.entries(methods).filter(
    ([, method]) => methodPath(method) === path && method.Properties.HttpMethod === httpMethod,
  );
}

function integratesWith(method: { Properties: Record<string, unknown> }, name: ApiFunctionName): boolean {
  const integration = JSON.stringify(method.Properties.Integration);
  return integration.includes(JSON.stringify({ 'Fn::GetAtt': [logicalIdOf(fn(name)), 'Arn'] }));
}

describe('ApiStack routes', () => {
  it.each(routeList.map((route) => [route.operationId, route] as const))(
    '%s is a method on its path, IAM-authorized, proxied to its function',
    (_operationId, route) => {
      const found = methodsAt(route.path, route.method);

      expect(found).toHaveLength(1);
      const [, method] = found[0] ?? [];
      expect(method?.Properties).toMatchObject({
        AuthorizationType: 'AWS_IAM',
        OperationName: route.operationId,
        Integration: { Type: 'AWS_PROXY', IntegrationHttpMethod: 'POST' },
      });
      expect(method !== undefined && integratesWith(method, route.function)).toBe(true);
      expect(method !== undefined && integratesWith(method, 'fallback')).toBe(route.function === 'fallback');
    },
  );

  it('has no method without IAM authorization', () => {
    const unauthorized = Object.entries(methods).filter(
      ([, method]) => method.Properties.AuthorizationType !== 'AWS_IAM',
    );

    expect(Object.keys(methods).length).toBeGreaterThan(routeList.length);
    expect(unauthorized).toEqual([]);
  });

  it('sends ANY on the root and on every resource to the fallback function', () => {
    const paths = ['/', ...pathByResourceId.values()];

    for (const path of paths) {
      const found = methodsAt(path, 'ANY');
      expect(found, `ANY ${path}`).toHaveLength(1);
      const [, method] = found[0] ?? [];
      expect(method !== undefined && integratesWith(method, 'fallback'), `ANY ${path}`).toBe(true);
    }
  });

  it('catches every other path with ANY /{proxy+} on the fallback function', () => {
    expect([...pathByResourceId.values()]).toContain('/{proxy+}');
    const [, method] = methodsAt('/{proxy+}', 'ANY')[0] ?? [];

    expect(method !== undefined && integratesWith(method, 'fallback')).toBe(true);
  });

  it('lets API Gateway invoke each function with one API-scoped permission', () => {
    for (const name of apiFunctionNames) {
      template.resourcePropertiesCountIs(
        'AWS::Lambda::Permission',
        {
          Action: 'lambda:InvokeFunction',
          Principal: 'apigateway.amazonaws.com',
          FunctionName: { 'Fn::GetAtt': [logicalIdOf(fn(name)), 'Arn'] },
        },
        1,
      );
    }
  });
});

describe('ApiStack API and stage', () => {
  it('is a regional REST API that passes gzip bodies base64-encoded and compresses responses', () => {
    template.hasResourceProperties('AWS::ApiGateway::RestApi', {
      Name: 'test-datakit',
      EndpointConfiguration: { Types: ['REGIONAL'] },
      BinaryMediaTypes: [...binaryMediaTypes],
      MinimumCompressionSize: 1024,
    });
    expect(binaryMediaTypes).toEqual(expect.arrayContaining(['application/gzip', 'application/x-gzip']));
  });

  it('throttles the stage with the configured rate and burst, traces with X-Ray, keeps bodies out of logs', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'test',
      TracingEnabled: true,
      MethodSettings: Match.arrayWith([
        Match.objectLike({
          HttpMethod: '*',
          ResourcePath: '/*',
          ThrottlingRateLimit: 7,
          ThrottlingBurstLimit: 13,
          LoggingLevel: 'ERROR',
          DataTraceEnabled: false,
        }),
      ]),
    });
  });

  it('writes one JSON access log line per request with request id, caller, route, status and latency', () => {
    const format = new Capture();
    const destination = new Capture();
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      AccessLogSetting: { DestinationArn: destination, Format: format },
    });

    const fields: unknown = JSON.parse(format.asString());
    expect(fields).toEqual(accessLogFields);
    expect(fields).toMatchObject({
      requestId: '$context.requestId',
      caller: '$context.identity.caller',
      route: '$context.resourcePath',
      status: '$context.status',
      latencyMs: '$context.responseLatency',
    });
    expect(JSON.stringify(destination.asObject())).toContain('AccessLogs');
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 14 });
  });

  it.each(gatewayProblems.map((problem) => [problem.type.responseType, problem] as const))(
    'answers %s as problem+json with a stable code',
    (type, problem) => {
      const body = new Capture();
      template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
        ResponseType: type,
        StatusCode: String(problem.status),
        ResponseParameters: Match.objectLike({
          'gatewayresponse.header.Content-Type': "'application/problem+json'",
        }),
        ResponseTemplates: { 'application/json': body },
      });

      // Substitute what API Gateway fills in, then read the body as the clients would.
      const rendered = body
        .asString()
        .replace('$context.error.messageString', '"Missing Authentication Token"')
        .replace('$context.requestId', 'c0ffee-1');
      const problemBody = problemDetailsSchema.parse(JSON.parse(rendered));
      expect(problemBody).toMatchObject({
        code: problem.code,
        status: problem.status,
        requestId: 'c0ffee-1',
      });
    },
  );

  it('customizes the default 4XX and 5XX and the common refusals', () => {
    const types = gatewayProblems.map((problem) => problem.type.responseType);

    expect(types).toEqual(
      expect.arrayContaining([
        'DEFAULT_4XX',
        'DEFAULT_5XX',
        'ACCESS_DENIED',
        'MISSING_AUTHENTICATION_TOKEN',
        'BAD_REQUEST_BODY',
        'REQUEST_TOO_LARGE',
        'THROTTLED',
      ]),
    );
    template.resourceCountIs('AWS::ApiGateway::GatewayResponse', gatewayProblems.length);
  });
});

describe('ApiStack functions', () => {
  it.each(apiFunctionNames.map((name) => [name]))(
    '%s runs nodejs22.x on arm64 with tracing, its own log group and the shared environment',
    (name) => {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Description: `DataKit API: ${name}`,
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: { LogGroup: Match.anyValue() },
        Environment: {
          Variables: Match.objectLike({
            TABLE_NAME: Match.anyValue(),
            EVENT_BUS_NAME: Match.anyValue(),
            SERVICE_VERSION: Match.stringLikeRegexp('^\\d+\\.\\d+\\.\\d+'),
            LOG_LEVEL: 'DEBUG',
            LINEAGE_EVENT_RETENTION_DAYS: '400',
            RUN_RETENTION_DAYS: '30',
            REGISTRATION_RETENTION_DAYS: '400',
            POWERTOOLS_SERVICE_NAME: 'datakit',
            NODE_OPTIONS: '--enable-source-maps',
          }),
        },
      });
    },
  );

  it('gives every function log group the configured retention', () => {
    const logGroups = template.findResources('AWS::Logs::LogGroup');

    // One per API function and per worker, plus the access logs.
    expect(Object.keys(logGroups)).toHaveLength(apiFunctionNames.length + controlPlane.api.workers.size + 1);
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 14 });
  });

  it('uses no AWS managed policy for the functions: each role is assumable by Lambda only', () => {
    const roles = template.findResources('AWS::IAM::Role') as Resources;

    for (const name of apiFunctionNames) {
      const role = fn(name).role;
      if (role === undefined) throw new Error(`${name} has no role`);
      const properties = roles[logicalIdOf(role)]?.Properties;
      expect(properties?.ManagedPolicyArns, name).toBeUndefined();
      expect(JSON.stringify(properties?.AssumeRolePolicyDocument)).toContain('lambda.amazonaws.com');
    }
  });

  it('bundles ESM with the require banner and leaves the AWS SDK to the runtime', () => {
    const bundles = readdirSync(controlPlane.outdir)
      .filter(
        (entry) => entry.startsWith('asset.') && existsSync(join(controlPlane.outdir, entry, 'index.mjs')),
      )
      .map((entry) => readFileSync(join(controlPlane.outdir, entry, 'index.mjs'), 'utf8'));

    // The API functions, the workers, and each cell stack's record writer.
    expect(bundles).toHaveLength(
      apiFunctionNames.length + controlPlane.api.workers.size + controlPlane.cells.length,
    );
    for (const bundle of bundles) {
      expect(bundle.startsWith("import { createRequire } from 'module';")).toBe(true);
      // The SDK's own classes would be in the bundle if it were bundled (names are kept).
      expect(bundle).not.toContain('DynamoDBServiceException');
    }
  });

  it('deploys a function as its split bundle: the entry loads its chunks from the asset and answers', async () => {
    const resource = template.findResources('AWS::Lambda::Function')[logicalIdOf(fn('fallback'))];
    const key = resource?.Properties?.Code?.S3Key;
    expect(typeof key).toBe('string');
    const asset = join(controlPlane.outdir, `asset.${String(key).replace(/\.zip$/, '')}`);
    expect(readdirSync(join(asset, 'chunks')).length).toBeGreaterThan(0);

    // The fallback calls no AWS service, so its bundle runs here as Lambda would run it.
    const { handler } = await import(pathToFileURL(join(asset, 'index.mjs')).href);
    const response = await handler(
      {
        resource: '/{proxy+}',
        path: '/nowhere',
        httpMethod: 'GET',
        headers: {},
        queryStringParameters: null,
        pathParameters: { proxy: 'nowhere' },
        body: null,
        isBase64Encoded: false,
        requestContext: { requestId: 'bundle-test', path: '/nowhere' },
      },
      { awsRequestId: 'bundle-test', functionName: 'fallback', getRemainingTimeInMillis: () => 10_000 },
    );
    expect(response.statusCode).toBe(404);
    expect(problemDetailsSchema.parse(JSON.parse(response.body)).status).toBe(404);
  });
});

describe('ApiStack least privilege', () => {
  /** Every action the function's role may perform. */
  function actionsOf(name: ApiFunctionName): string[] {
    const role = fn(name).role;
    if (role === undefined) throw new Error(`${name} has no role`);
    const policies = template.findResources('AWS::IAM::Policy', {
      Properties: { Roles: [{ Ref: logicalIdOf(role) }] },
    }) as Resources;
    return Object.values(policies).flatMap((policy) => {
      const document = policy.Properties.PolicyDocument as { Statement: { Action: string | string[] }[] };
      return document.Statement.flatMap((statement) =>
        Array.isArray(statement.Action) ? statement.Action : [statement.Action],
      );
    });
  }

  const writes = [
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
    'dynamodb:BatchWriteItem',
  ];

  it.each([['system-api'], ['packages-api']] as const)(
    '%s can query and read the table, never write it',
    (name) => {
      const actions = actionsOf(name);

      expect(actions).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:Query']));
      for (const write of writes) expect(actions).not.toContain(write);
      expect(actions.some((action) => action.startsWith('events:'))).toBe(false);
    },
  );

  it('governance-api reads and writes the table (deprecations) and publishes, but never reads raw events', () => {
    const actions = actionsOf('governance-api');

    expect(actions).toEqual(
      expect.arrayContaining([
        'dynamodb:Query',
        'dynamodb:BatchGetItem',
        'dynamodb:PutItem',
        'events:PutEvents',
      ]),
    );
    expect(actions.some((action) => action.startsWith('s3:'))).toBe(false);
  });

  it('fallback can touch neither the table nor the bus', () => {
    const actions = actionsOf('fallback');

    expect(
      actions.filter((action) => action.startsWith('dynamodb:') || action.startsWith('events:')),
    ).toEqual([]);
  });

  it('no function may do everything on a service', () => {
    for (const name of apiFunctionNames) {
      expect(actionsOf(name).filter((action) => action.endsWith(':*') || action === '*')).toEqual([]);
    }
  });
});

describe('cells', () => {
  it('synthesizes one cell stack per datakit:cells entry, granting the run functions of this stack', () => {
    expect(controlPlane.cells.map((cell) => cell.stackName)).toEqual(['test-datakit-cell-blue']);
    const cell = Template.fromStack(controlPlane.cells[0] ?? controlPlane.api);
    // The run-steps function of this API stack may register task definitions in the cell (its grant
    // lives in the cell stack, attached to the function's role by a cross-stack reference).
    const policies = Object.values(cell.findResources('AWS::IAM::Policy'));
    const registering = policies.filter((policy) =>
      JSON.stringify(policy).includes('ecs:RegisterTaskDefinition'),
    );
    const roles = registering.map((policy) => JSON.stringify(policy.Properties?.Roles));
    // Run steps register task definitions for runs, the deployer for streaming services.
    expect(roles.filter((role) => /RunStepsRole/.test(role))).toHaveLength(1);
    expect(roles.filter((role) => /PromotionsApiRole/.test(role))).toHaveLength(1);
  });
});
