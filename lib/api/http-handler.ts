import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy, { type MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { DataKitError, DependencyUnavailableError } from '../domain/errors.js';
import { callerOf, type IdentitySource, requirePrincipal } from './caller.js';
import { MethodNotAllowedError, RouteNotFoundError } from './errors.js';
import { problemResponse } from './problem.js';
import { type HttpRequest, parseRequest } from './request.js';
import { loadRoute, type RequestOf, type RouteDefinition } from './route-definition.js';
import { Router } from './router.js';
import { type ApiFunctionName, type OperationId, routeList, type routes } from './routes.js';

/** What an operation returns: JSON by default, or text with its content type. */
export type HttpResult =
  | { readonly status: number; readonly body?: unknown; readonly headers?: Readonly<Record<string, string>> }
  | {
      readonly status: number;
      readonly text: string;
      readonly contentType: string;
      readonly headers?: Readonly<Record<string, string>>;
    };

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

/** The Lambda context, carrying the request once the parser has validated it. */
type ApiContext = Context & { api?: { readonly operationId: OperationId; readonly request: HttpRequest } };

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

/** What an API handler needs: telemetry, and where callers' identities come from (`IDENTITY_SOURCE`). */
export interface ApiHandlerDependencies extends Telemetry {
  readonly config: { readonly IDENTITY_SOURCE: IdentitySource };
}

/** Methods that change state: they run only for a caller with a principal. */
const mutatingMethods: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * The Lambda handler of one API function: logger → (tracer, metrics) → parser → error handler around
 * the operations. API Gateway has already chosen the route (`event.resource` + method); the parser
 * validates the request against that route's schemas and names the caller (a mutating request without
 * a principal is refused), and every error leaves as problem+json. Each
 * request counts once as `Requests`, and as `Refused` (4xx) or `Failed` (5xx), by operation.
 */
export function createApiHandler<F extends ApiFunctionName>(
  functionName: F,
  operations: Operations<F>,
  deps: ApiHandlerDependencies,
): ApiHandler {
  const { logger, tracer, metrics } = deps;
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
      const { httpMethod, resource, path } = request.event;
      const route = served.get(`${httpMethod} ${resource}`);
      if (route === undefined) throw new RouteNotFoundError(path);
      metrics?.addDimension('operation', route.operationId);
      let definition = definitions.get(route.operationId);
      if (definition === undefined) {
        definition = loadRoute(route);
        definitions.set(route.operationId, definition);
      }
      const parsed = parseRequest(await definition, request.event);
      const caller = callerOf(request.event, identity, parsed.headers);
      if (mutatingMethods.has(route.method)) requirePrincipal(caller);
      request.context.api = { operationId: route.operationId, request: { ...parsed, caller } };
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
    .handler(async (_event, context) => {
      const api = context.api;
      const operation = api === undefined ? undefined : byOperation[api.operationId];
      if (api === undefined || operation === undefined)
        throw new Error('request reached the handler unparsed');
      const result = toProxyResult(await operation(api.request, context));
      metrics?.addMetric('Requests', count, 1);
      return result;
    });
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

/** Turns every error into problem+json: refusals are logged as info, failures with their cause. */
function problemResponses(logger: Logger, metrics?: Metrics): Middleware {
  return {
    onError: (request) => {
      const error = request.error;
      const refused = error instanceof DataKitError && !(error instanceof DependencyUnavailableError);
      if (refused) {
        logger.info('request refused', { code: error.code, problems: error.problems });
      } else {
        logger.error('request failed', { error });
      }
      metrics?.addMetric('Requests', count, 1);
      metrics?.addMetric(refused ? 'Refused' : 'Failed', count, 1);
      request.response = problemResponse(error, {
        instance: request.event.path,
        requestId: request.event.requestContext.requestId,
      });
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
