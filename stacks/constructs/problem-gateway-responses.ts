import { GatewayResponse, type IRestApi, ResponseType } from 'aws-cdk-lib/aws-apigateway';
import { Construct } from 'constructs';

/** One response API Gateway produces itself, rendered as problem+json. */
export interface GatewayProblem {
  readonly type: ResponseType;
  /** The stable `code` of the body; equal to the handlers' code for the same condition where one exists. */
  readonly code: string;
  readonly status: number;
  readonly title: string;
  /** A fixed detail; without one, API Gateway's own message (`$context.error.messageString`) is used. */
  readonly detail?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * The responses API Gateway answers without calling a function. Every response type AWS documents is
 * listed with its own status, so the two defaults only catch types AWS adds later. 5xx details are
 * fixed, so nothing about the integration leaks; 4xx details are API Gateway's own message.
 */
export const gatewayProblems: readonly GatewayProblem[] = [
  {
    type: ResponseType.DEFAULT_4XX,
    code: 'BAD_REQUEST',
    status: 400,
    title: 'Bad Request',
  },
  {
    type: ResponseType.DEFAULT_5XX,
    code: 'INTERNAL',
    status: 500,
    title: 'Internal Server Error',
    detail: 'The request failed on our side; it has been logged with its request id.',
  },
  { type: ResponseType.ACCESS_DENIED, code: 'ACCESS_DENIED', status: 403, title: 'Forbidden' },
  {
    type: ResponseType.MISSING_AUTHENTICATION_TOKEN,
    code: 'MISSING_AUTHENTICATION',
    status: 403,
    title: 'Forbidden',
    detail: 'The request is not signed; sign it with AWS Signature Version 4 for the execute-api service.',
  },
  { type: ResponseType.INVALID_SIGNATURE, code: 'INVALID_SIGNATURE', status: 403, title: 'Forbidden' },
  { type: ResponseType.EXPIRED_TOKEN, code: 'EXPIRED_TOKEN', status: 403, title: 'Forbidden' },
  { type: ResponseType.UNAUTHORIZED, code: 'UNAUTHORIZED', status: 401, title: 'Unauthorized' },
  { type: ResponseType.INVALID_API_KEY, code: 'INVALID_API_KEY', status: 403, title: 'Forbidden' },
  { type: ResponseType.WAF_FILTERED, code: 'WAF_FILTERED', status: 403, title: 'Forbidden' },
  {
    type: ResponseType.RESOURCE_NOT_FOUND,
    code: 'ROUTE_NOT_FOUND',
    status: 404,
    title: 'Not Found',
    detail: 'No resource is served at this path.',
  },
  { type: ResponseType.BAD_REQUEST_BODY, code: 'BAD_REQUEST_BODY', status: 400, title: 'Bad Request' },
  {
    type: ResponseType.BAD_REQUEST_PARAMETERS,
    code: 'BAD_REQUEST_PARAMETERS',
    status: 400,
    title: 'Bad Request',
  },
  {
    type: ResponseType.REQUEST_TOO_LARGE,
    code: 'PAYLOAD_TOO_LARGE',
    status: 413,
    title: 'Content Too Large',
    detail: 'The body is over the API Gateway limit of 10 MB.',
  },
  {
    type: ResponseType.UNSUPPORTED_MEDIA_TYPE,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    status: 415,
    title: 'Unsupported Media Type',
  },
  {
    type: ResponseType.THROTTLED,
    code: 'THROTTLED',
    status: 429,
    title: 'Too Many Requests',
    detail: 'The request rate is over the limit of this API; retry with backoff.',
    headers: { 'Retry-After': '1' },
  },
  {
    type: ResponseType.QUOTA_EXCEEDED,
    code: 'QUOTA_EXCEEDED',
    status: 429,
    title: 'Too Many Requests',
  },
  {
    type: ResponseType.INTEGRATION_FAILURE,
    code: 'UPSTREAM_FAILURE',
    status: 502,
    title: 'Bad Gateway',
    detail: 'The request failed on our side; it has been logged with its request id.',
  },
  {
    type: ResponseType.INTEGRATION_TIMEOUT,
    code: 'UPSTREAM_TIMEOUT',
    status: 504,
    title: 'Gateway Timeout',
    detail: 'The request took too long; it has been logged with its request id.',
  },
  {
    type: ResponseType.API_CONFIGURATION_ERROR,
    code: 'INTERNAL',
    status: 500,
    title: 'Internal Server Error',
    detail: 'The request failed on our side; it has been logged with its request id.',
  },
];

/** The problem+json body template of a gateway response (simple `$context` substitution, not VTL). */
export function problemTemplate(problem: GatewayProblem): string {
  const quoted = (value: string) => JSON.stringify(value);
  // messageString is API Gateway's own message already rendered as a quoted JSON string.
  const detail = problem.detail === undefined ? '$context.error.messageString' : quoted(problem.detail);
  return [
    '{',
    `"type":${quoted(`urn:datakit:problem:${problem.code.toLowerCase()}`)},`,
    `"title":${quoted(problem.title)},`,
    `"status":${problem.status},`,
    `"detail":${detail},`,
    `"code":${quoted(problem.code)},`,
    '"requestId":"$context.requestId"',
    '}',
  ].join('');
}

export interface ProblemGatewayResponsesProps {
  readonly api: IRestApi;
  /** @default gatewayProblems */
  readonly problems?: readonly GatewayProblem[];
}

/**
 * Makes API Gateway's own errors look like the handlers' errors: `application/problem+json` with a
 * stable `code` and the request id.
 */
export class ProblemGatewayResponses extends Construct {
  constructor(scope: Construct, id: string, props: ProblemGatewayResponsesProps) {
    super(scope, id);
    for (const problem of props.problems ?? gatewayProblems) {
      const headers: Record<string, string> = {
        'Content-Type': "'application/problem+json'",
        'Cache-Control': "'no-store'",
      };
      for (const [name, value] of Object.entries(problem.headers ?? {})) headers[name] = `'${value}'`;
      new GatewayResponse(this, problem.type.responseType, {
        restApi: props.api,
        type: problem.type,
        statusCode: String(problem.status),
        responseHeaders: headers,
        templates: { 'application/json': problemTemplate(problem) },
      });
    }
  }
}
