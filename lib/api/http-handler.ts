import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy, { type MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { DataKitError, DependencyUnavailableError } from '../domain/errors.js';
import { MethodNotAllowedError, RouteNotFoundError } from './errors.js';
import { problemResponse } from './problem.js';
import { type HttpRequest, parseRequest, type RequestOf } from './request.js';
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

/** The operations one function serves, each typed by its route's schemas. */
export type Operations<F extends ApiFunctionName> = {
  [K in OperationId as Routes[K]['function'] extends F ? K : never]: (
    request: RequestOf<Routes[K]>,
  ) => Promise<HttpResult>;
};

export type ApiHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/** The Lambda context, carrying the request once the parser has validated it. */
type ApiContext = Context & { api?: { readonly operationId: OperationId; readonly request: HttpRequest } };

type Middleware = MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult, Error, ApiContext>;

/**
 * The Lambda handler of one API function: logger → parser → error handler around the operations.
 * API Gateway has already chosen the route (`event.resource` + method); the parser validates the
 * request against that route's schemas, and every error leaves as problem+json.
 */
export function createApiHandler<F extends ApiFunctionName>(
  functionName: F,
  operations: Operations<F>,
  logger: Logger,
): ApiHandler {
  const served = new Map(
    routeList
      .filter((route) => route.function === functionName)
      .map((route) => [`${route.method} ${route.path}`, route]),
  );
  const byOperation: Partial<Record<OperationId, (request: HttpRequest) => Promise<HttpResult>>> = operations;

  const parser: Middleware = {
    before: (request) => {
      const { httpMethod, resource, path } = request.event;
      const route = served.get(`${httpMethod} ${resource}`);
      if (route === undefined) throw new RouteNotFoundError(path);
      request.context.api = { operationId: route.operationId, request: parseRequest(route, request.event) };
    },
  };

  return middy<APIGatewayProxyEvent, APIGatewayProxyResult, Error, ApiContext>({ timeoutEarlyInMillis: 0 })
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(parser)
    .use(problemResponses(logger))
    .handler(async (_event, context) => {
      const api = context.api;
      const operation = api === undefined ? undefined : byOperation[api.operationId];
      if (api === undefined || operation === undefined)
        throw new Error('request reached the handler unparsed');
      return toProxyResult(await operation(api.request));
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
function problemResponses(logger: Logger): Middleware {
  return {
    onError: (request) => {
      const error = request.error;
      if (error instanceof DataKitError && !(error instanceof DependencyUnavailableError)) {
        logger.info('request refused', { code: error.code, problems: error.problems });
      } else {
        logger.error('request failed', { error });
      }
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
