import type { APIGatewayProxyEvent, Context } from 'aws-lambda';

export interface EventOptions {
  readonly method?: string;
  readonly resource: string;
  readonly path?: string;
  readonly pathParameters?: Record<string, string>;
  readonly query?: Record<string, string>;
  readonly headers?: Record<string, string>;
  readonly body?: string | Buffer;
  /** The IAM caller (`null`: none, as for an unauthenticated request). @default an IAM user `tester` */
  readonly userArn?: string | null;
}

/** An API Gateway REST proxy event as API Gateway delivers it to a Lambda handler. */
export function apiEvent(options: EventOptions): APIGatewayProxyEvent {
  const binary = Buffer.isBuffer(options.body);
  const body =
    options.body === undefined
      ? null
      : Buffer.isBuffer(options.body)
        ? options.body.toString('base64')
        : options.body;
  return {
    resource: options.resource,
    path: options.path ?? options.resource,
    httpMethod: options.method ?? 'GET',
    headers: options.headers ?? {},
    multiValueHeaders: {},
    queryStringParameters: options.query ?? null,
    multiValueQueryStringParameters: null,
    pathParameters: options.pathParameters ?? null,
    stageVariables: null,
    body,
    isBase64Encoded: binary,
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      authorizer: null,
      protocol: 'HTTP/1.1',
      httpMethod: options.method ?? 'GET',
      path: options.path ?? options.resource,
      stage: 'test',
      requestId: 'req-test',
      requestTimeEpoch: 0,
      resourceId: 'res',
      resourcePath: options.resource,
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
        sourceIp: '127.0.0.1',
        user: null,
        userAgent: 'vitest',
        // API Gateway's IAM authorization names every caller it lets through.
        userArn: options.userArn === undefined ? 'arn:aws:iam::123456789012:user/tester' : options.userArn,
      },
    },
  };
}

/** A Lambda context with `remainingMs` left from now (by default plenty). */
export function lambdaContext(remainingMs = 30_000): Context {
  const deadline = Date.now() + remainingMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'test',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:test',
    memoryLimitInMB: '512',
    awsRequestId: 'aws-req-test',
    logGroupName: 'test',
    logStreamName: 'test',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
