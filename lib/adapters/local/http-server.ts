import { randomUUID } from 'node:crypto';
import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
  STATUS_CODES,
} from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import {
  ExpectationFailedError,
  HeadersTooLargeError,
  MethodNotAllowedError,
  RequestTimeoutError,
  RouteNotFoundError,
} from '../../api/errors.js';
import type { ApiHandler } from '../../api/http-handler.js';
import { problemResponse } from '../../api/problem.js';
import { Router } from '../../api/router.js';
import { type ApiFunctionName, routeList } from '../../api/routes.js';
import { type DataKitError, PayloadTooLargeError, ValidationError } from '../../domain/errors.js';

/** API Gateway's own payload limit, enforced the same way locally. */
const apiGatewayMaxBodyBytes = 10 * 1024 * 1024;

/** How long a connection refused mid-request stays open to let the client read the answer. */
const lingerMs = 1000;

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

/** The request a connection is serving, so a parser error that follows knows whom to answer. */
interface InFlight {
  readonly request: IncomingMessage;
  readonly response: ServerResponse;
  /** Fails the body read of `request` with this refusal (the parser gave up on the rest of it). */
  readonly refuse: AbortController;
}

/**
 * Serves the API in this process: each HTTP request becomes the API Gateway REST proxy event the
 * Lambda handler receives in AWS, routed through the same route table, and the handler's proxy
 * result becomes the HTTP response. One structured log line per request.
 *
 * Every request gets an answer, whatever arrives: what Node's HTTP parser refuses (unknown methods,
 * oversized headers, broken framing), CONNECT and unmet `Expect`s are answered with problem+json too,
 * and nothing a request carries can reject the request's promise and take the process down.
 */
export async function startLocalApi(options: LocalApiOptions): Promise<LocalApi> {
  const { logger } = options;
  const localRoutes = options.localRoutes ?? [];
  const router = new Router<{ method: string; path: string; handler: ApiHandler }>([
    ...routeList.map((route) => ({
      method: route.method,
      path: route.path,
      handler: handlerOf(route.function),
    })),
    ...localRoutes,
  ]);
  const inFlight = new WeakMap<Duplex, InFlight>();
  const refusedConnections = new WeakSet<Duplex>();
  // Node answers a missing Host with an empty 400 of its own; serve() answers it as problem+json.
  const server = createServer({ requireHostHeader: false }, (request, response) => {
    const current: InFlight = { request, response, refuse: new AbortController() };
    inFlight.set(request.socket, current);
    response.once('close', () => {
      if (inFlight.get(request.socket) === current) inFlight.delete(request.socket);
    });
    response.on('error', (error) => logger.debug('response not delivered', { error }));
    serve(request, response, current.refuse.signal).catch((error: unknown) => {
      // Only a bug in serve() itself lands here; the connection is all that is left to close.
      logger.error('request failed', { error });
      request.socket.destroy();
    });
  });

  async function serve(
    request: IncomingMessage,
    response: ServerResponse,
    refused: AbortSignal,
  ): Promise<void> {
    const started = performance.now();
    const requestId = randomUUID();
    const method = request.method ?? 'GET';
    let path: string | undefined;
    let result: APIGatewayProxyResult;
    try {
      const url = requestTarget(request.url ?? '/');
      path = url.pathname;
      requireHost(request);
      const body = await readRequestBody(request, apiGatewayMaxBodyBytes, refused);
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
      if (!(error instanceof ValidationError || error instanceof PayloadTooLargeError)) {
        logger.error('request failed', { error });
      }
      result = problemResponse(error, { instance: path, requestId });
    }
    // A request the parser gave up on cannot be followed by another on this connection.
    if (refused.aborted) response.shouldKeepAlive = false;
    writeResult(response, result, requestId);
    logger.info('request', {
      method,
      path,
      status: response.statusCode,
      durationMs: Math.round((performance.now() - started) * 100) / 100,
      requestId,
    });
  }

  function writeResult(response: ServerResponse, result: APIGatewayProxyResult, requestId: string): void {
    try {
      writeProxyResult(response, result);
    } catch (error) {
      // A handler produced a header Node refuses to send: our bug, answered as one.
      logger.error('response not writable', { error });
      writeProxyResult(response, problemResponse(error, { requestId }));
    }
  }

  /** Answers a request Node's parser refused, after the answers already owed on this connection. */
  function refuseConnection(socket: Duplex, refusal: DataKitError, reason: string | undefined): void {
    if (refusedConnections.has(socket)) return;
    refusedConnections.add(socket);
    const current = inFlight.get(socket);
    if (current !== undefined && !current.request.complete) {
      // The refused bytes belong to the request being served: its body read fails, serve() answers.
      current.refuse.abort(refusal);
      return;
    }
    const answer = (): void => {
      const requestId = randomUUID();
      const result = problemResponse(refusal, { requestId });
      writeRaw(socket, result);
      logger.info('request', { status: result.statusCode, code: refusal.code, reason, requestId });
    };
    if (current === undefined) answer();
    else current.response.once('close', answer);
  }

  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    refuseConnection(socket, parserRefusal(error), error.code);
  });

  // CONNECT (a proxy tunnel) is no method of this API: 405 where a route serves the path, else 404.
  server.on('connect', (request: IncomingMessage, socket: Duplex) => {
    const target = request.url ?? '';
    const match = router.match(request.method ?? 'CONNECT', target);
    const refusal =
      match.kind === 'method-not-allowed'
        ? new MethodNotAllowedError(request.method ?? 'CONNECT', match.allow)
        : new RouteNotFoundError(target);
    refuseConnection(socket, refusal, 'CONNECT');
  });

  // Without this listener Node answers an `Expect` other than 100-continue with an empty 417.
  server.on('checkExpectation', (request: IncomingMessage, response: ServerResponse) => {
    const expectation = request.headers.expect ?? '';
    const refusal = new ExpectationFailedError(
      'EXPECTATION_FAILED',
      `Expect: ${expectation} cannot be met; only 100-continue is understood.`,
      { problems: [{ code: 'EXPECTATION_FAILED', path: 'headers.expect', message: 'only 100-continue' }] },
    );
    const requestId = randomUUID();
    response.shouldKeepAlive = false;
    writeResult(response, problemResponse(refusal, { requestId }), requestId);
    logger.info('request', { method: request.method, status: 417, code: refusal.code, requestId });
  });

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

/** A 400 MALFORMED_REQUEST naming the part of the request that is not HTTP this server reads. */
function malformed(path: string, message: string, detail: string, cause?: unknown): ValidationError {
  return new ValidationError('MALFORMED_REQUEST', detail, {
    problems: [{ code: 'MALFORMED_REQUEST', path, message }],
    cause,
  });
}

/**
 * The URL of a request target: origin-form (`/path?query`) or absolute-form (`http://host/path`). An
 * origin-form target is appended to a base rather than resolved against it, so `//x/y` stays a path.
 */
function requestTarget(target: string): URL {
  let url: URL | undefined;
  try {
    url = target.startsWith('/') ? new URL(`http://localhost${target}`) : new URL(target);
  } catch (cause) {
    throw malformed(
      'target',
      'not a path or an absolute http URL',
      'The request target is not a valid URL.',
      cause,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw malformed('target', 'not a path or an absolute http URL', 'The request target is not an http URL.');
  }
  return url;
}

/** HTTP/1.1 requires Host (RFC 9112, 3.2); HTTP/1.0 clients may leave it out. */
function requireHost(request: IncomingMessage): void {
  if (request.httpVersion === '1.1' && request.headers.host === undefined) {
    throw malformed('headers.host', 'required in HTTP/1.1', 'An HTTP/1.1 request needs a Host header.');
  }
}

/** What a parser error of Node's HTTP server (llhttp's `HPE_*` codes) says about the request. */
function parserRefusal(error: NodeJS.ErrnoException): DataKitError {
  const code = error.code ?? '';
  const reason = 'reason' in error && typeof error.reason === 'string' ? error.reason : 'not valid HTTP/1.1';
  if (code === 'HPE_HEADER_OVERFLOW') {
    return new HeadersTooLargeError(
      'HEADERS_TOO_LARGE',
      'The request line and headers are over the limit of 16 KiB.',
      {
        problems: [
          { code: 'HEADERS_TOO_LARGE', path: 'headers', message: 'over 16 KiB with the request line' },
        ],
      },
    );
  }
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return new RequestTimeoutError('REQUEST_TIMEOUT', 'The request did not arrive in full in time.');
  }
  return malformed(parserErrorPath(code), reason, `The request is not valid HTTP/1.1: ${reason}.`, error);
}

function parserErrorPath(code: string): string {
  switch (code) {
    case 'HPE_INVALID_METHOD':
      return 'method';
    case 'HPE_INVALID_URL':
      return 'target';
    case 'HPE_INVALID_VERSION':
      return 'version';
    case 'HPE_INVALID_CONTENT_LENGTH':
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
      return 'headers.content-length';
    case 'HPE_INVALID_TRANSFER_ENCODING':
      return 'headers.transfer-encoding';
    case 'HPE_INVALID_CHUNK_SIZE':
    case 'HPE_INVALID_EOF_STATE':
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return 'body';
    case 'HPE_INVALID_HEADER_TOKEN':
    case 'HPE_UNEXPECTED_SPACE':
      return 'headers';
    default:
      return 'request';
  }
}

/**
 * Writes a problem straight to the connection (Node's parser has given up on it, so there is no
 * ServerResponse) and closes it, keeping the connection readable a moment so a client still sending
 * is not reset before it reads the answer.
 */
function writeRaw(socket: Duplex, result: APIGatewayProxyResult): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = Buffer.from(result.body, 'utf8');
  const head = [
    `HTTP/1.1 ${result.statusCode} ${STATUS_CODES[result.statusCode] ?? ''}`,
    ...Object.entries(result.headers ?? {}).map(([name, value]) => `${name}: ${String(value)}`),
    `content-length: ${body.length}`,
    `date: ${new Date().toUTCString()}`,
    'connection: close',
  ];
  socket.end(Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'latin1'), body]));
  socket.resume();
  setTimeout(() => socket.destroy(), lingerMs).unref();
}

/**
 * The body, at most `maxBytes`. Fails with the refusal when `refused` aborts (the parser gave up on
 * the rest), and with a 400 when the client goes away before the body is complete. Past the limit it
 * stops collecting and leaves the rest to Node, which discards it once the 413 is sent.
 */
function readRequestBody(request: IncomingMessage, maxBytes: number, refused: AbortSignal): Promise<Buffer> {
  const declared = Number(request.headers['content-length'] ?? '0');
  if (declared > maxBytes) return Promise.reject(tooLarge(maxBytes));
  if (refused.aborted) return Promise.reject(refused.reason);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = (): void => {
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('error', onError);
      request.off('aborted', onAborted);
      refused.removeEventListener('abort', onRefused);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > maxBytes) {
        stop();
        reject(tooLarge(maxBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      stop();
      resolve(Buffer.concat(chunks));
    };
    const onError = (cause: unknown): void => {
      stop();
      reject(
        malformed(
          'body',
          'the connection ended before the body did',
          'The request body is incomplete.',
          cause,
        ),
      );
    };
    const onAborted = (): void => onError(undefined);
    const onRefused = (): void => {
      stop();
      reject(refused.reason);
    };
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('error', onError);
    request.on('aborted', onAborted);
    refused.addEventListener('abort', onRefused);
  });
}

function tooLarge(maxBytes: number): PayloadTooLargeError {
  return new PayloadTooLargeError(
    'PAYLOAD_TOO_LARGE',
    `The request is over API Gateway's limit of ${maxBytes} bytes.`,
  );
}

const textualMediaType = /^(application\/([\w.+-]*\+)?(json|yaml|xml|x-www-form-urlencoded)|text\/)/i;

/**
 * The values of each name, in order. A Map, because the names are the caller's: as keys of a plain
 * object, `__proto__` would set its prototype and `constructor` would read one.
 */
function collect(pairs: Iterable<readonly [string, string]>): Map<string, string[]> {
  const values = new Map<string, string[]>();
  for (const [name, value] of pairs) values.set(name, [...(values.get(name) ?? []), value]);
  return values;
}

function headerPairs(rawHeaders: readonly string[]): [string, string][] {
  const pairs: [string, string][] = [];
  for (let index = 0; index + 1 < rawHeaders.length; index += 2) {
    pairs.push([rawHeaders[index] ?? '', rawHeaders[index + 1] ?? '']);
  }
  return pairs;
}

function toProxyEvent(
  request: IncomingMessage,
  url: URL,
  body: Buffer,
  requestId: string,
  resource: string,
  pathParameters: Record<string, string>,
): APIGatewayProxyEvent {
  const headerValues = collect(headerPairs(request.rawHeaders));
  const queryValues = collect(url.searchParams);
  // Object.fromEntries defines own properties, so every name, `__proto__` included, stays a key.
  const last = (values: Map<string, string[]>) =>
    Object.fromEntries([...values].map(([name, all]) => [name, all.at(-1) ?? '']));
  const contentType = request.headers['content-type'] ?? '';
  const textual =
    request.headers['content-encoding'] === undefined &&
    (contentType === '' || textualMediaType.test(contentType));
  const method = request.method ?? 'GET';
  return {
    resource,
    path: url.pathname,
    httpMethod: method,
    headers: last(headerValues),
    multiValueHeaders: Object.fromEntries(headerValues),
    queryStringParameters: queryValues.size === 0 ? null : last(queryValues),
    multiValueQueryStringParameters: queryValues.size === 0 ? null : Object.fromEntries(queryValues),
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

function writeProxyResult(response: ServerResponse, result: APIGatewayProxyResult): void {
  const headers: Record<string, string | number | boolean | string[]> = { ...result.headers };
  for (const [name, values] of Object.entries(result.multiValueHeaders ?? {}))
    headers[name] = values.map(String);
  const body = Buffer.from(result.body, result.isBase64Encoded === true ? 'base64' : 'utf8');
  response.writeHead(result.statusCode, { ...headers, 'content-length': body.length });
  response.end(body);
}
