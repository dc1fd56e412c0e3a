import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy, { type MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { namespacePattern } from '../contracts/api/access-limits.js';
import { RoleRequiredError } from '../domain/access/access.js';
import { DataKitError, DependencyUnavailableError } from '../domain/errors.js';
import type { AuditChange, AuditTrail, RequestAudit } from '../runtime/audit-trail.js';
import type { AccessControl } from './access-control.js';
import { callerOf, type IdentitySource, requirePrincipal } from './caller.js';
import { MethodNotAllowedError, RouteNotFoundError } from './errors.js';
import { problemResponse } from './problem.js';
import { type HttpRequest, lowerCaseHeaders, parseRequest } from './request.js';
import { loadRoute, type RequestOf, type RouteAccess, type RouteDefinition } from './route-definition.js';
import { Router } from './router.js';
import { type ApiFunctionName, type OperationId, routeList, type routes } from './routes.js';

/**
 * What an operation returns: JSON by default, or text with its content type. A mutating operation says in
 * `audit` what it changed (before → after, and the target or namespace when only it knows them).
 */
export type HttpResult = (
  | { readonly status: number; readonly body?: unknown; readonly headers?: Readonly<Record<string, string>> }
  | {
      readonly status: number;
      readonly text: string;
      readonly contentType: string;
      readonly headers?: Readonly<Record<string, string>>;
    }
) & { readonly audit?: AuditChange };

type Routes = typeof routes;

/**
/**
 * `MetricUnit.Count`, spelled out: importing the `MetricUnit` value evaluates all of Powertools Metrics
 * at module load, which the functions import on their first request instead (`lambdaDependencies`).
 */
const count: (typeof MetricUnit)['Count'] = 'Count';

/**
 * The operations one function serves, each typed by its route's schemas. The Lambda context is there
 * for operations that must finish within the invocation's remaining time (lib/runtime/deadline.ts).
 */
export type Operations<F extends ApiFunctionName> = {
  [K in OperationId as Routes[K]['function'] extends F ? K : never]: (
    request: RequestOf<Routes[K]>,
    context: Context,
  ) => Promise<HttpResult>;
};

export type ApiHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/**
 * The Lambda context, carrying the request once the parser has validated and authorized it, and the
 * audit record of a mutating request from its arrival on.
 */
type ApiContext = Context & {
  api?: {
    readonly operationId: OperationId;
    readonly request: HttpRequest;
    /** Restricted reads of a list across namespaces: what the caller may see of it. */
    readonly filter?: ((items: readonly unknown[]) => Promise<unknown[]>) | undefined;
  };
  record?: RequestAudit;
};

type Middleware = MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult, Error, ApiContext>;

/**
 * Where a handler reports: structured logs always; X-Ray traces (the Tracer turns itself off outside
 * Lambda) and CloudWatch metrics (EMF) when given — the embedded mode passes no metrics, so its console
 * carries only the request log.
 */
export interface Telemetry {
  readonly logger: Logger;
  readonly tracer?: Tracer | undefined;
  readonly metrics?: Metrics | undefined;
}

/**
 * What an API handler needs: telemetry, where callers' identities come from (`IDENTITY_SOURCE`), the
 * access checks of the route table and the audit trail (ADR 0018).
 */
export interface ApiHandlerDependencies extends Telemetry {
  readonly config: { readonly IDENTITY_SOURCE: IdentitySource };
  readonly access: AccessControl;
  readonly audit: AuditTrail;
  readonly clock: () => Date;
}

/** Methods that change state: they run only for a caller with a principal. */
const mutatingMethods: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * The Lambda handler of one API function: logger → (tracer, metrics) → parser → access → error handler
 * around the operations. API Gateway has already chosen the route (`event.resource` + method); the parser
 * validates the request against that route's schemas and names the caller (a mutating request without
 * a principal is refused), the route's access declaration is checked (403 `ROLE_REQUIRED`), and every
 * error leaves as problem+json. A mutating request leaves exactly one audit record, whatever its outcome.
 * Each request counts once as `Requests`, and as `Refused` (4xx) or `Failed` (5xx), by operation.
 */
export function createApiHandler<F extends ApiFunctionName>(
  functionName: F,
  operations: Operations<F>,
  deps: ApiHandlerDependencies,
): ApiHandler {
  const { logger, tracer, metrics, access, audit, clock } = deps;
  const identity = deps.config.IDENTITY_SOURCE;
  const served = new Map(
    routeList
      .filter((route) => route.function === functionName)
      .map((route) => [`${route.method} ${route.path}`, route]),
  );
  const byOperation: Partial<
    Record<OperationId, (request: HttpRequest, context: Context) => Promise<HttpResult>>
  > = operations;
  // Each operation's schemas are built on its first request, once (see `LazySchema`).
  const definitions = new Map<OperationId, Promise<RouteDefinition>>();

  const parser: Middleware = {
    before: async (request) => {
      const { event } = request;
      const { httpMethod, resource, path } = event;
      const route = served.get(`${httpMethod} ${resource}`);
      if (route === undefined) throw new RouteNotFoundError(path);
      metrics?.addDimension('operation', route.operationId);
      const declared = route.access;
      // The record exists from the request's arrival, so a refusal of any kind is recorded too.
      const record =
        declared.kind === 'write' && !('audited' in declared && declared.audited === false)
          ? audit.request({
              requestId: event.requestContext.requestId,
              at: clock().toISOString(),
              method: httpMethod,
              path,
              action: declared.action,
              target: path,
            })
          : undefined;
      if (record !== undefined) request.context.record = record;
      const caller = callerOf(event, identity, lowerCaseHeaders(event.headers));
      if (record !== undefined) record.caller = caller;
      let definition = definitions.get(route.operationId);
      if (definition === undefined) {
        definition = loadRoute(route);
        definitions.set(route.operationId, definition);
      }
      let parsed: ReturnType<typeof parseRequest>;
      try {
        parsed = parseRequest(await definition, event);
      } catch (error) {
        // Refused as invalid before its access was checked: listed under the namespace its path names.
        if (record !== undefined) record.namespace = pathNamespace(declared, event.pathParameters);
        throw error;
      }
      if (record !== undefined && declared.kind === 'write') {
        record.target = renderTarget(declared.target, parsed) ?? path;
      }
      if (mutatingMethods.has(route.method)) requirePrincipal(caller);
      const authorization = await access
        .authorize(declared, { ...parsed, caller })
        .catch((error: unknown) => {
          // A refusal concerns the namespace it names: its record is found under that namespace too.
          if (record !== undefined && error instanceof RoleRequiredError && error.requirement.kind === 'role')
            record.namespace = error.requirement.namespace;
          throw error;
        });
      if (record !== undefined && authorization.namespace !== undefined) {
        record.namespace = authorization.namespace;
      }
      const authorize = async (namespace: string): Promise<void> => {
        if (record !== undefined) record.namespace = namespace;
        await authorization.authorize(namespace);
      };
      request.context.api = {
        operationId: route.operationId,
        request: { ...parsed, caller, authorize },
        filter: authorization.filter,
      };
    },
  };

  const chain = middy<APIGatewayProxyEvent, APIGatewayProxyResult, Error, ApiContext>({
    timeoutEarlyInMillis: 0,
  }).use(injectLambdaContext(logger, { resetKeys: true }));
  if (tracer !== undefined) chain.use(captureLambdaHandler(tracer, { captureResponse: false }));
  if (metrics !== undefined) chain.use(logMetrics(metrics, { captureColdStartMetric: true }));
  return chain
    .use(parser)
    .use(problemResponses(logger, metrics))
    .handler(async (event, context) => {
      const api = context.api;
      const operation = api === undefined ? undefined : byOperation[api.operationId];
      if (api === undefined || operation === undefined)
        throw new Error('request reached the handler unparsed');
      const record = context.record;
      const run = () => operation(api.request, context);
      let result = record === undefined ? await run() : await record.run(run);
      if (api.filter !== undefined && 'body' in result) {
        const page = pageOf(result.body);
        if (page !== undefined)
          result = { ...result, body: { ...page, items: await api.filter(page.items) } };
      }
      await record?.finish(result.status, result.audit);
      metrics?.addMetric('Requests', count, 1);
      return withRequestId(toProxyResult(result), event.requestContext.requestId);
    });
}

/** The namespace a route takes from its path, when the request's path parameter is a valid one. */
function pathNamespace(
  access: RouteAccess,
  parameters: APIGatewayProxyEvent['pathParameters'],
): string | undefined {
  if (!('namespace' in access) || typeof access.namespace !== 'object' || !('path' in access.namespace))
    return undefined;
  const value = parameters?.[access.namespace.path];
  return value !== undefined && namespacePattern.test(value) ? value : undefined;
}

/** A page body (`{items, nextCursor}`), when the body is one. */
function pageOf(body: unknown): { readonly items: unknown[] } | undefined {
  if (typeof body !== 'object' || body === null || !('items' in body) || !Array.isArray(body.items))
    return undefined;
  return { ...body, items: body.items };
}

/**
 * An audit target template with the request's values (`package:{body.namespace}/{body.name}`), or
 * undefined when a value is missing.
 */
export function renderTarget(
  template: string,
  request: { readonly path: unknown; readonly query: unknown; readonly body: unknown },
): string | undefined {
  let missing = false;
  const text = template.replace(
    /\{(path|query|body)\.([A-Za-z]+)\}/gu,
    (_match, part: string, name: string) => {
      const source: unknown =
        part === 'path' ? request.path : part === 'query' ? request.query : request.body;
      const value: unknown =
        typeof source === 'object' && source !== null && Object.hasOwn(source, name)
          ? Reflect.get(source, name)
          : undefined;
      if (typeof value !== 'string' && typeof value !== 'number') {
        missing = true;
        return '';
      }
      return String(value);
    },
  );
  return missing ? undefined : text;
}

/** The request id as a response header, so a client can find the request's audit record. */
function withRequestId(result: APIGatewayProxyResult, requestId: string): APIGatewayProxyResult {
  return { ...result, headers: { ...result.headers, 'x-request-id': requestId } };
}

/** Maps an operation's result to API Gateway's proxy result. */
export function toProxyResult(result: HttpResult): APIGatewayProxyResult {
  const headers = { ...result.headers };
  if ('text' in result) {
    return {
      statusCode: result.status,
      headers: { 'content-type': result.contentType, ...headers },
      body: result.text,
    };
  }
  if (result.body === undefined) return { statusCode: result.status, headers, body: '' };
  return {
    statusCode: result.status,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(result.body),
  };
}

/**
 * Turns every error into problem+json: refusals are logged as info, failures with their cause. The audit
 * record of a mutating request gets its outcome here when the request did not succeed.
 */
function problemResponses(logger: Logger, metrics?: Metrics): Middleware {
  return {
    onError: async (request) => {
      const error = request.error;
      const refused = error instanceof DataKitError && !(error instanceof DependencyUnavailableError);
      if (refused) {
        logger.info('request refused', { code: error.code, problems: error.problems });
      } else {
        logger.error('request failed', { error });
      }
      metrics?.addMetric('Requests', count, 1);
      metrics?.addMetric(refused ? 'Refused' : 'Failed', count, 1);
      const requestId = request.event.requestContext.requestId;
      const response = problemResponse(error, { instance: request.event.path, requestId });
      await request.context.record?.finish(
        response.statusCode,
        {},
        error instanceof DataKitError ? error.code : 'INTERNAL',
      );
      request.response = withRequestId(response, requestId);
    },
  };
}

/**
 * The handler of requests no route serves (API Gateway's `{proxy+}` and per-resource `ANY` fallbacks,
 * and the embedded router): 404 for unknown paths, 405 with `Allow` for known paths.
 */
export function createFallbackHandler(logger: Logger): ApiHandler {
  const router = new Router(routeList);
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult, Error, ApiContext>({ timeoutEarlyInMillis: 0 })
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(problemResponses(logger))
    .handler(async (event) => {
      const match = router.match(event.httpMethod, event.path);
      if (match.kind === 'method-not-allowed') throw new MethodNotAllowedError(event.httpMethod, match.allow);
      throw new RouteNotFoundError(event.path);
    });
}
