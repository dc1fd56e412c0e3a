import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Router } from '../../../lib/api/router.js';
import { routeList } from '../../../lib/api/routes.js';

const router = new Router([
  { method: 'GET', path: '/v1/packages' },
  { method: 'GET', path: '/v1/packages/{namespace}/{name}' },
  { method: 'GET', path: '/v1/packages/{namespace}/{name}/versions/{version}' },
  { method: 'GET', path: '/v1/packages/search/{term}' },
  { method: 'POST', path: '/v1/registrations' },
  { method: 'GET', path: '/v1/registrations' },
]);

describe('Router', () => {
  it('matches a literal path', () => {
    expect(router.match('GET', '/v1/packages')).toMatchObject({
      kind: 'found',
      route: { path: '/v1/packages' },
    });
  });

  it('extracts URL-decoded path parameters', () => {
    const match = router.match('GET', '/v1/packages/data-team/dbt-reporting/versions/1.2.3%2Bbuild');
    expect(match).toEqual({
      kind: 'found',
      route: { method: 'GET', path: '/v1/packages/{namespace}/{name}/versions/{version}' },
      pathParameters: { namespace: 'data-team', name: 'dbt-reporting', version: '1.2.3+build' },
    });
  });

  it('keeps an encoded slash inside one parameter', () => {
    const match = router.match('GET', '/v1/packages/s3%3A%2F%2Fbucket/x');
    expect(match).toMatchObject({ kind: 'found', pathParameters: { namespace: 's3://bucket', name: 'x' } });
  });

  it('prefers literal segments over parameters, as API Gateway does', () => {
    expect(router.match('GET', '/v1/packages/search/abc')).toMatchObject({
      route: { path: '/v1/packages/search/{term}' },
    });
  });

  it('answers method-not-allowed with every method the path serves', () => {
    expect(router.match('DELETE', '/v1/registrations')).toEqual({
      kind: 'method-not-allowed',
      allow: ['GET', 'POST'],
    });
  });

  it('answers not-found for unknown paths and for malformed percent-encoding', () => {
    expect(router.match('GET', '/v2/packages')).toEqual({ kind: 'not-found' });
    expect(router.match('GET', '/v1/packages/%E0%A4%A/x')).toEqual({ kind: 'not-found' });
  });

  it('tolerates a trailing slash', () => {
    expect(router.match('GET', '/v1/packages/')).toMatchObject({ kind: 'found' });
  });

  it('never throws on arbitrary paths', () => {
    fc.assert(
      fc.property(fc.string(), fc.constantFrom('GET', 'POST', 'PUT', 'X'), (path, method) => {
        const match = router.match(method, path);
        expect(['found', 'not-found', 'method-not-allowed']).toContain(match.kind);
      }),
    );
  });

  it('finds every route of the real route table by its own path', () => {
    const real = new Router(routeList);
    for (const route of routeList) {
      const concrete = route.path.replaceAll(/\{[^}]+\}/g, 'x');
      expect(real.match(route.method, concrete)).toMatchObject({
        kind: 'found',
        route: { operationId: route.operationId },
      });
    }
  });
});
