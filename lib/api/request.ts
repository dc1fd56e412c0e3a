import { gunzipSync } from 'node:zlib';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type * as z from 'zod';
import { problemsFromZod } from '../contracts/zod-problems.js';
import { PayloadTooLargeError, ValidationError } from '../domain/errors.js';
import type { Caller } from './caller.js';
import { UnsupportedMediaTypeError } from './errors.js';
import type { RouteDefinition } from './routes.js';

export const defaultMaxBodyBytes = 1024 * 1024;

/** What an operation receives: the path, query and body already parsed with the route's schemas. */
export interface HttpRequest<Path = unknown, Query = unknown, Body = unknown> {
  readonly path: Path;
  readonly query: Query;
  readonly body: Body;
  /** Header names lower-cased. */
  readonly headers: Readonly<Record<string, string>>;
  readonly requestId: string;
  readonly event: APIGatewayProxyEvent;
  /** Who is calling (lib/api/caller.ts); mutating operations never run for an anonymous caller. */
  readonly caller: Caller;
  /**
   * Checks the route's role in a namespace the operation found out itself (routes declaring
   * `namespace: 'operation'`, e.g. a registration's package): throws 403 `ROLE_REQUIRED` when missing.
   */
  readonly authorize: (namespace: string) => Promise<void>;
}

type Parsed<S> = S extends z.ZodType ? z.output<S> : undefined;

/** The typed request of a route definition. */
export type RequestOf<R extends RouteDefinition> = HttpRequest<
  Parsed<R['pathParameters']>,
  Parsed<R['query']>,
  Parsed<R['body']>
>;

/** Validates an API Gateway event against a route: every failure names the field that caused it. */
export function parseRequest(
  route: RouteDefinition,
  event: APIGatewayProxyEvent,
): Omit<HttpRequest, 'caller' | 'authorize'> {
  refuseReservedNames(event.queryStringParameters, 'query', (name) => name);
  refuseReservedNames(event.headers, 'headers', (name) => name.toLowerCase());
  const headers = lowerCaseHeaders(event.headers);
  const path = parsePart(route.pathParameters, event.pathParameters ?? {}, 'path');
  const query = parsePart(route.query, event.queryStringParameters ?? {}, 'query');
  const body = route.body === undefined ? undefined : parseJsonBody(route, event, headers);
  return { path, query, body, headers, event, requestId: event.requestContext.requestId };
}

/** The raw body bytes, base64-decoded and gunzipped as the headers say, never more than the limit. */
export function readBody(
  event: APIGatewayProxyEvent,
  headers: Readonly<Record<string, string>>,
  maxBytes: number,
): Buffer {
  const raw = Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');
  const encoding = (headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding !== 'gzip' && raw.length > maxBytes) throw tooLarge(maxBytes);
  if (encoding === 'identity' || encoding === '') return raw;
  // API Gateway (REST) decompresses gzip/deflate request bodies itself but keeps the header.
  if ((encoding === 'gzip' || encoding === 'deflate') && !hasGzipMagic(raw)) {
    if (raw.length > maxBytes) throw tooLarge(maxBytes);
    return raw;
  }
  if (encoding !== 'gzip') {
    throw new UnsupportedMediaTypeError(
      'UNSUPPORTED_CONTENT_ENCODING',
      `Content-Encoding ${encoding} is not supported; use gzip or none.`,
    );
  }
  try {
    return gunzipSync(raw, { maxOutputLength: maxBytes });
  } catch (cause) {
    if (
      cause instanceof RangeError ||
      (cause instanceof Error && 'code' in cause && cause.code === 'ERR_BUFFER_TOO_LARGE')
    ) {
      throw tooLarge(maxBytes);
    }
    throw new ValidationError('MALFORMED_BODY', 'The body is not valid gzip.', {
      problems: [{ code: 'MALFORMED_BODY', path: 'body', message: 'not valid gzip data' }],
      cause,
    });
  }
}

/** Parses a JSON body without a schema: malformed JSON is a 400 naming `body`. */
export function readJson(
  event: APIGatewayProxyEvent,
  headers: Readonly<Record<string, string>>,
  maxBytes: number,
): unknown {
  const contentType =
    (headers['content-type'] ?? 'application/json').split(';')[0]?.trim().toLowerCase() ?? '';
  if (!isJsonMediaType(contentType)) {
    throw new UnsupportedMediaTypeError(
      'UNSUPPORTED_MEDIA_TYPE',
      `Content-Type ${contentType} is not supported; send application/json.`,
    );
  }
  const text = readBody(event, headers, maxBytes).toString('utf8');
  if (text.trim() === '') {
    throw new ValidationError('BODY_REQUIRED', 'A JSON body is required.', {
      problems: [{ code: 'BODY_REQUIRED', path: 'body', message: 'the body is empty' }],
    });
  }
  try {
    return JSON.parse(text);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : 'invalid JSON';
    throw new ValidationError('MALFORMED_JSON', `The body is not valid JSON: ${reason}.`, {
      problems: [{ code: 'MALFORMED_JSON', path: 'body', message: reason }],
      cause,
    });
  }
}

function parseJsonBody(
  route: RouteDefinition,
  event: APIGatewayProxyEvent,
  headers: Readonly<Record<string, string>>,
): unknown {
  const json = readJson(event, headers, route.maxBodyBytes ?? defaultMaxBodyBytes);
  return parsePart(route.body, json, 'body');
}

function parsePart(schema: z.ZodType | undefined, value: unknown, part: 'path' | 'query' | 'body'): unknown {
  if (schema === undefined) return undefined;
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems = problemsFromZod(result.error, 'VALIDATION_FAILED', part);
  const fields = problems.map((problem) => problem.path ?? part).join(', ');
  throw new ValidationError(
    'VALIDATION_FAILED',
    `Invalid ${part === 'path' ? 'path parameter' : part}: ${fields}.`,
    {
      problems,
    },
  );
}

/**
 * Names of Object.prototype members, compared in lower case: a query parameter or header named so
 * (`__proto__`, `constructor`, `toString`, …) is never a real one, and code that indexes an object by
 * it meets the prototype instead of a value.
 */
const reservedNames: ReadonlySet<string> = new Set(
  Object.getOwnPropertyNames(Object.prototype).map((name) => name.toLowerCase()),
);

/** A 400 naming every query parameter or header whose name is reserved. */
function refuseReservedNames(
  values: Readonly<Record<string, unknown>> | null,
  part: 'query' | 'headers',
  display: (name: string) => string,
): void {
  const reserved = Object.keys(values ?? {}).filter((name) => reservedNames.has(name.toLowerCase()));
  if (reserved.length === 0) return;
  const problems = reserved.map((name) => ({
    code: 'RESERVED_NAME',
    path: `${part}.${display(name)}`,
    message: 'a name of Object.prototype, never a parameter or header of this API',
  }));
  throw new ValidationError(
    'RESERVED_NAME',
    `Reserved ${part === 'query' ? 'query parameter' : 'header'} name: ${problems.map((p) => p.path).join(', ')}.`,
    { problems },
  );
}

/**
 * The headers with lower-cased names. Built with Object.fromEntries, which defines each name as an own
 * property: an assignment `out[name] = value` would set the prototype for `__proto__`.
 */
export function lowerCaseHeaders(headers: APIGatewayProxyEvent['headers'] | null): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers ?? {}).flatMap(([name, value]) =>
      value === undefined ? [] : [[name.toLowerCase(), value]],
    ),
  );
}

function isJsonMediaType(mediaType: string): boolean {
  return mediaType === 'application/json' || mediaType.endsWith('+json') || mediaType === 'text/json';
}

function hasGzipMagic(bytes: Buffer): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

function tooLarge(maxBytes: number): PayloadTooLargeError {
  return new PayloadTooLargeError('PAYLOAD_TOO_LARGE', `The body is over the limit of ${maxBytes} bytes.`);
}
