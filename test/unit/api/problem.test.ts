import { describe, expect, it } from 'vitest';
import {
  ExpectationFailedError,
  HeadersTooLargeError,
  MethodNotAllowedError,
  RequestTimeoutError,
  RouteNotFoundError,
} from '../../../lib/api/errors.js';
import { problemFor, problemResponse } from '../../../lib/api/problem.js';
import {
  ConcurrentModificationError,
  ConflictError,
  DependencyUnavailableError,
  ForbiddenError,
  NotFoundError,
  PayloadTooLargeError,
  UnprocessableError,
  ValidationError,
} from '../../../lib/domain/errors.js';

describe('problem+json mapping', () => {
  it.each([
    [new ValidationError('VALIDATION_FAILED', 'bad'), 400],
    [new ForbiddenError('REGISTRY_NOT_ALLOWED', 'no'), 403],
    [new NotFoundError('PACKAGE_NOT_FOUND', 'none'), 404],
    [new RouteNotFoundError('/x'), 404],
    [new MethodNotAllowedError('PUT', ['GET']), 405],
    [new RequestTimeoutError('REQUEST_TIMEOUT', 'slow'), 408],
    [new ConflictError('E021', 'exists'), 409],
    [new ConcurrentModificationError('CONCURRENT_MODIFICATION', 'retry'), 409],
    [new PayloadTooLargeError('PAYLOAD_TOO_LARGE', 'big'), 413],
    [new ExpectationFailedError('EXPECTATION_FAILED', 'expect'), 417],
    [new UnprocessableError('PACKAGE_REJECTED', 'invalid'), 422],
    [new HeadersTooLargeError('HEADERS_TOO_LARGE', 'long'), 431],
    [new DependencyUnavailableError('STORAGE_UNAVAILABLE', 'down'), 503],
  ])('maps %s to HTTP %i with its code', (error, status) => {
    const { body } = problemFor(error);
    expect(body).toMatchObject({ status, code: error.code, detail: error.message });
  });

  it('carries field problems as errors', () => {
    const error = new ValidationError('VALIDATION_FAILED', 'bad', {
      problems: [{ code: 'VALIDATION_FAILED', path: 'query.limit', message: 'too small' }],
    });
    expect(problemFor(error).body.errors).toEqual([
      { code: 'VALIDATION_FAILED', path: 'query.limit', message: 'too small' },
    ]);
  });

  it('keeps the internals of unexpected errors out of the body', () => {
    const { status, body } = problemFor(new Error('connect ECONNREFUSED 10.0.0.1:8000 secret-table'), {
      requestId: 'r-1',
    });
    expect(status).toBe(500);
    expect(JSON.stringify(body)).not.toContain('ECONNREFUSED');
    expect(body).toMatchObject({ code: 'INTERNAL', requestId: 'r-1' });
  });

  it('sets Allow on 405 and Retry-After on 503 and the problem+json content type', () => {
    const notAllowed = problemResponse(new MethodNotAllowedError('PUT', ['GET', 'POST']));
    expect(notAllowed.headers).toMatchObject({
      'content-type': 'application/problem+json',
      allow: 'GET, POST',
    });
    const unavailable = problemResponse(new DependencyUnavailableError('STORAGE_UNAVAILABLE', 'down'));
    expect(unavailable.headers).toMatchObject({ 'retry-after': '1' });
  });
});
