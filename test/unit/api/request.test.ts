import { gzipSync } from 'node:zlib';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { UnsupportedMediaTypeError } from '../../../lib/api/errors.js';
import { parseRequest, readBody, readJson } from '../../../lib/api/request.js';
import type { RouteDefinition } from '../../../lib/api/routes.js';
import { PayloadTooLargeError, ValidationError } from '../../../lib/domain/errors.js';
import { apiEvent } from '../../support/api-event.js';

const route: RouteDefinition = {
  method: 'POST',
  path: '/v1/things/{name}',
  function: 'packages-api',
  summary: 'test route',
  tag: 'test',
  access: { kind: 'read', of: 'caller' },
  pathParameters: z.object({ name: z.string().regex(/^[a-z]+$/) }),
  query: z.object({ limit: z.coerce.number().int().min(1).default(10) }),
  body: z.object({ reference: z.string().min(1), tags: z.array(z.string()).optional() }),
  maxBodyBytes: 64,
  responses: { 200: { description: 'ok' } },
};

const event = (overrides: Partial<Parameters<typeof apiEvent>[0]> = {}) =>
  apiEvent({
    method: 'POST',
    resource: route.path,
    pathParameters: { name: 'abc' },
    body: '{"reference":"r"}',
    headers: { 'Content-Type': 'application/json' },
    ...overrides,
  });

describe('parseRequest', () => {
  it('returns the parsed path, query (with defaults) and body', () => {
    const request = parseRequest(route, event());
    expect(request).toMatchObject({ path: { name: 'abc' }, query: { limit: 10 }, body: { reference: 'r' } });
  });

  it('names the body field that fails the schema', () => {
    expect(() => parseRequest(route, event({ body: '{"reference":"","tags":[1]}' }))).toThrowError(
      expect.objectContaining({
        code: 'VALIDATION_FAILED',
        problems: [
          expect.objectContaining({ path: 'body.reference' }),
          expect.objectContaining({ path: 'body.tags[0]' }),
        ],
      }),
    );
  });

  it('names the query parameter and the path parameter that fail', () => {
    expect(() => parseRequest(route, event({ query: { limit: 'zero' } }))).toThrowError(
      expect.objectContaining({ problems: [expect.objectContaining({ path: 'query.limit' })] }),
    );
    expect(() => parseRequest(route, event({ pathParameters: { name: 'A1' } }))).toThrowError(
      expect.objectContaining({ problems: [expect.objectContaining({ path: 'path.name' })] }),
    );
  });

  it('refuses malformed JSON with MALFORMED_JSON on the body', () => {
    expect(() => parseRequest(route, event({ body: '{"reference":' }))).toThrowError(
      expect.objectContaining({
        code: 'MALFORMED_JSON',
        problems: [expect.objectContaining({ path: 'body' })],
      }),
    );
  });

  it('refuses an empty body where one is required', () => {
    expect(() => parseRequest(route, event({ body: '' }))).toThrowError(
      expect.objectContaining({ code: 'BODY_REQUIRED' }),
    );
  });

  it('refuses a body that is not JSON by media type', () => {
    expect(() => parseRequest(route, event({ headers: { 'content-type': 'text/csv' } }))).toThrowError(
      UnsupportedMediaTypeError,
    );
  });

  // API Gateway hands the names in as JSON, where `__proto__` is an ordinary key.
  const fromJson = (part: 'queryStringParameters' | 'headers', members: string): APIGatewayProxyEvent => ({
    ...event(),
    [part]: JSON.parse(`{"Content-Type":"application/json",${members}}`),
  });

  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty'])(
    'refuses a query parameter named %s with 400 RESERVED_NAME naming it',
    (name) => {
      expect(() => parseRequest(route, fromJson('queryStringParameters', `"${name}":"1"`))).toThrowError(
        expect.objectContaining({
          code: 'RESERVED_NAME',
          problems: [expect.objectContaining({ code: 'RESERVED_NAME', path: `query.${name}` })],
        }),
      );
    },
  );

  it.each(['__proto__', '__PROTO__', 'constructor', 'ToString'])(
    'refuses a header named %s with 400 RESERVED_NAME naming it in lower case',
    (name) => {
      expect(() => parseRequest(route, fromJson('headers', `"${name}":"x"`))).toThrowError(
        expect.objectContaining({
          code: 'RESERVED_NAME',
          problems: [expect.objectContaining({ path: `headers.${name.toLowerCase()}` })],
        }),
      );
    },
  );

  it('refuses a reserved name whatever its value (a ValidationError, so 400)', () => {
    expect(() =>
      parseRequest(route, fromJson('queryStringParameters', '"__proto__":{"limit":"5"}')),
    ).toThrowError(ValidationError);
  });
});

describe('readBody', () => {
  it('gunzips a gzip-encoded base64 body', () => {
    const body = readBody(
      apiEvent({ resource: '/', body: gzipSync('{"a":1}') }),
      { 'content-encoding': 'gzip' },
      1024,
    );
    expect(body.toString()).toBe('{"a":1}');
  });

  it('passes through a body API Gateway already decompressed while keeping Content-Encoding', () => {
    const body = readBody(apiEvent({ resource: '/', body: '{"a":1}' }), { 'content-encoding': 'gzip' }, 1024);
    expect(body.toString()).toBe('{"a":1}');
  });

  it('stops inflating at the limit instead of expanding a gzip bomb', () => {
    const bomb = gzipSync(Buffer.alloc(5 * 1024 * 1024));
    expect(() =>
      readBody(apiEvent({ resource: '/', body: bomb }), { 'content-encoding': 'gzip' }, 1024),
    ).toThrowError(PayloadTooLargeError);
  });

  it('refuses plain bodies over the limit and corrupt gzip', () => {
    expect(() => readBody(apiEvent({ resource: '/', body: 'x'.repeat(65) }), {}, 64)).toThrowError(
      PayloadTooLargeError,
    );
    expect(() =>
      readBody(
        apiEvent({ resource: '/', body: Buffer.from([0x1f, 0x8b, 0x08, 0xff, 0x00]) }),
        { 'content-encoding': 'gzip' },
        64,
      ),
    ).toThrowError(ValidationError);
  });

  it('refuses content encodings other than gzip', () => {
    expect(() =>
      readJson(apiEvent({ resource: '/', body: 'x' }), { 'content-encoding': 'br' }, 64),
    ).toThrowError(UnsupportedMediaTypeError);
  });
});
