import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { ApiHandler } from '../../api/http-handler.js';
import { problemResponse } from '../../api/problem.js';
import { Router } from '../../api/router.js';
import { type ApiFunctionName, routeList } from '../../api/routes.js';
import { PayloadTooLargeError } from '../../domain/errors.js';

/** API Gateway's own payload limit, enforced the same way locally. */
const apiGatewayMaxBodyBytes = 10 * 1024 * 1024;

/** A route only the embedded mode serves (e.g. the local registry's webhook); same event shape. */
export interface LocalRoute {
  readonly method: string;
  readonly path: string;
  readonly handler: ApiHandler;
}

export interface LocalApiOptions {
  readonly host: string;
  readonly port: number;
  readonly functions: Readonly<Record<Exclude<ApiFunctionName, 'fallback'>, ApiHandler>>;
  readonly fallback: ApiHandler;
  readonly localRoutes?: readonly LocalRoute[];
  readonly logger: Logger;
}

export interface LocalApi {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves the API in this process: each HTTP request becomes the API Gateway REST proxy event the
 * Lambda handler receives in AWS, routed through the same route table, and the handler's proxy
 * result becomes the HTTP response. One structured log line per request.
 */
export async function startLocalApi(options: LocalApiOptions): Promise<LocalApi> {
  const localRoutes = options.localRoutes ?? [];
  const router = new Router<{ method: string; path: string; handler: ApiHandler }>([
    ...routeList.map((route) => ({
      method: route.method,
      path: route.path,
      handler: handlerOf(route.function),
    })),
    ...localRoutes,
  ]);
  const server = createServer((request, response) => {
    void serve(request, response);
  });

  async function serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const started = performance.now();
    const requestId = randomUUID();
    const url = new URL(request.url ?? '/', 'http://localhost');
    const method = request.method ?? 'GET';
    let result: APIGatewayProxyResult;
    try {
      const body = await readRequestBody(request, apiGatewayMaxBodyBytes);
      const match = router.match(method, url.pathname);
      const route = match.kind === 'found' ? match.route : undefined;
      const event = toProxyEvent(
        request,
        url,
        body,
        requestId,
        route?.path ?? '/{proxy+}',
        match.kind === 'found' ? match.pathParameters : { proxy: url.pathname.slice(1) },
      );
      const handler = route === undefined ? options.fallback : route.handler;
      result = await handler(event, lambdaContext(requestId));
    } catch (error) {
      if (!(error instanceof PayloadTooLargeError)) options.logger.error('request failed', { error });
      result = problemResponse(error, { instance: url.pathname, requestId });
    }
    writeResult(response, result);
    options.logger.info('request', {
      method,
      path: url.pathname,
      status: result.statusCode,
      durationMs: Math.round((performance.now() - started) * 100) / 100,
      requestId,
    });
  }

  function handlerOf(name: ApiFunctionName): ApiHandler {
    return name === 'fallback' ? options.fallback : options.functions[name];
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('local API did not bind a TCP port');
  return {
    url: `http://${options.host}:${address.port}`,
    close: () => closeServer(server),
  };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeIdleConnections();
  });
}

async function readRequestBody(request: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length'] ?? '0');
  if (declared > maxBytes) throw tooLarge(maxBytes);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > maxBytes) throw tooLarge(maxBytes);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

function tooLarge(maxBytes: number): PayloadTooLargeError {
  return new PayloadTooLargeError(
    'PAYLOAD_TOO_LARGE',
    `The request is over API Gateway's limit of ${maxBytes} bytes.`,
  );
}

const textualMediaType = /^(application\/([\w.+-]*\+)?(json|yaml|xml|x-www-form-urlencoded)|text\/)/i;

function toProxyEvent(
  request: IncomingMessage,
  url: URL,
  body: Buffer,
  requestId: string,
  resource: string,
  pathParameters: Record<string, string>,
): APIGatewayProxyEvent {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (let index = 0; index + 1 < request.rawHeaders.length; index += 2) {
    const name = request.rawHeaders[index] ?? '';
    const value = request.rawHeaders[index + 1] ?? '';
    headers[name] = value;
    multiValueHeaders[name] = [...(multiValueHeaders[name] ?? []), value];
  }
  const query: Record<string, string> = {};
  const multiValueQuery: Record<string, string[]> = {};
  for (const [name, value] of url.searchParams) {
    query[name] = value;
    multiValueQuery[name] = [...(multiValueQuery[name] ?? []), value];
  }
  const contentType = request.headers['content-type'] ?? '';
  const textual =
    request.headers['content-encoding'] === undefined &&
    (contentType === '' || textualMediaType.test(contentType));
  const method = request.method ?? 'GET';
  return {
    resource,
    path: url.pathname,
    httpMethod: method,
    headers,
    multiValueHeaders,
    queryStringParameters: url.searchParams.size === 0 ? null : query,
    multiValueQueryStringParameters: url.searchParams.size === 0 ? null : multiValueQuery,
    pathParameters: Object.keys(pathParameters).length === 0 ? null : pathParameters,
    stageVariables: null,
    body: body.length === 0 ? null : textual ? body.toString('utf8') : body.toString('base64'),
    isBase64Encoded: body.length > 0 && !textual,
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      authorizer: null,
      protocol: `HTTP/${request.httpVersion}`,
      httpMethod: method,
      path: url.pathname,
      stage: 'local',
      requestId,
      requestTimeEpoch: Date.now(),
      resourceId: 'local',
      resourcePath: resource,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
        user: 'local',
        userAgent: request.headers['user-agent'] ?? null,
        userArn: 'arn:aws:iam::000000000000:user/local',
      },
    },
  };
}

function lambdaContext(requestId: string): Context {
  const deadline = Date.now() + 30_000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'datakit-local',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:local:000000000000:function:datakit-local',
    memoryLimitInMB: '1024',
    awsRequestId: requestId,
    logGroupName: 'local',
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

function writeResult(response: ServerResponse, result: APIGatewayProxyResult): void {
  const headers: Record<string, string | number | boolean | string[]> = { ...result.headers };
  for (const [name, values] of Object.entries(result.multiValueHeaders ?? {}))
    headers[name] = values.map(String);
  const body = Buffer.from(result.body, result.isBase64Encoded === true ? 'base64' : 'utf8');
  response.writeHead(result.statusCode, { ...headers, 'content-length': body.length });
  response.end(body);
}
