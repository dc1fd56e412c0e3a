import type { APIGatewayProxyResult } from 'aws-lambda';
import type { ProblemDetails } from '../contracts/api/common.js';
import {
  ConcurrentModificationError,
  ConflictError,
  DataKitError,
  DependencyUnavailableError,
  ForbiddenError,
  NotFoundError,
  PayloadTooLargeError,
  UnprocessableError,
  ValidationError,
} from '../domain/errors.js';
import {
  ExpectationFailedError,
  HeadersTooLargeError,
  MethodNotAllowedError,
  RequestTimeoutError,
  RouteNotFoundError,
  UnsupportedMediaTypeError,
} from './errors.js';

const statusByError: ReadonlyArray<
  readonly [abstract new (...args: never[]) => DataKitError, number, string]
> = [
  [ValidationError, 400, 'Bad Request'],
  [ForbiddenError, 403, 'Forbidden'],
  [NotFoundError, 404, 'Not Found'],
  [RouteNotFoundError, 404, 'Not Found'],
  [MethodNotAllowedError, 405, 'Method Not Allowed'],
  [RequestTimeoutError, 408, 'Request Timeout'],
  [ConflictError, 409, 'Conflict'],
  [ConcurrentModificationError, 409, 'Conflict'],
  [PayloadTooLargeError, 413, 'Content Too Large'],
  [UnsupportedMediaTypeError, 415, 'Unsupported Media Type'],
  [ExpectationFailedError, 417, 'Expectation Failed'],
  [UnprocessableError, 422, 'Unprocessable Content'],
  [HeadersTooLargeError, 431, 'Request Header Fields Too Large'],
  [DependencyUnavailableError, 503, 'Service Unavailable'],
];

export interface ProblemContext {
  readonly instance?: string | undefined;
  readonly requestId?: string | undefined;
}

/** The problem+json body and status of an error: known errors say what went wrong, others stay generic. */
export function problemFor(
  error: unknown,
  context: ProblemContext = {},
): { status: number; body: ProblemDetails } {
  const known =
    error instanceof DataKitError ? statusByError.find(([type]) => error instanceof type) : undefined;
  const base = {
    ...(context.instance === undefined ? {} : { instance: context.instance }),
    ...(context.requestId === undefined ? {} : { requestId: context.requestId }),
  };
  if (known === undefined || !(error instanceof DataKitError)) {
    return {
      status: 500,
      body: {
        type: problemType('INTERNAL'),
        title: 'Internal Server Error',
        status: 500,
        detail: 'The request failed on our side; it has been logged with its request id.',
        code: 'INTERNAL',
        ...base,
      },
    };
  }
  const [, status, title] = known;
  return {
    status,
    body: {
      type: problemType(error.code),
      title,
      status,
      detail: error.message,
      code: error.code,
      ...base,
      ...(error.problems.length === 0 ? {} : { errors: [...error.problems] }),
    },
  };
}

/** The API Gateway proxy result of an error, with `Allow` on 405 and `Retry-After` on 503. */
export function problemResponse(error: unknown, context: ProblemContext = {}): APIGatewayProxyResult {
  const { status, body } = problemFor(error, context);
  const headers: Record<string, string> = { 'content-type': 'application/problem+json' };
  if (error instanceof MethodNotAllowedError) headers.allow = error.allow.join(', ');
  if (error instanceof DependencyUnavailableError) headers['retry-after'] = '1';
  return { statusCode: status, headers, body: JSON.stringify(body) };
}

function problemType(code: string): string {
  return `urn:datakit:problem:${code.toLowerCase()}`;
}
