import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routeList } from '../../lib/api/routes.js';
import { type ControlPlaneProcess, startControlPlaneProcess } from '../support/control-plane-process.js';
import { sendRaw } from '../support/raw-http.js';

let dataDir: string;
let plane: ControlPlaneProcess;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'datakit-e2e-'));
  plane = await startControlPlaneProcess(dataDir);
});
afterAll(async () => {
  await plane.stop('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

describe('npm start', () => {
  it('answers /healthz', async () => {
    const response = await fetch(`${plane.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'ok' });
  });

  it('serves an OpenAPI 3.1 document with every route of the route table', async () => {
    const document = (await (await fetch(`${plane.url}/openapi.json`)).json()) as {
      openapi: string;
      paths: Record<string, Record<string, { operationId: string }>>;
    };
    expect(document.openapi).toBe('3.1.0');
    for (const route of routeList) {
      expect(document.paths[route.path]?.[route.method.toLowerCase()]?.operationId).toBe(route.operationId);
    }
  });

  it('lists no packages on a fresh data directory', async () => {
    const response = await fetch(`${plane.url}/v1/packages`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ items: [] });
  });

  it('answers unknown routes with 404, wrong methods with 405 and bad queries with 400, all problem+json', async () => {
    const notFound = await fetch(`${plane.url}/v1/nothing-here`);
    expect(notFound.status).toBe(404);
    expect(notFound.headers.get('content-type')).toBe('application/problem+json');
    expect(await notFound.json()).toMatchObject({ code: 'ROUTE_NOT_FOUND', status: 404 });

    const wrongMethod = await fetch(`${plane.url}/v1/packages`, { method: 'DELETE' });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('GET');

    const badQuery = await fetch(`${plane.url}/v1/packages?limit=-1`);
    expect(badQuery.status).toBe(400);
    expect(await badQuery.json()).toMatchObject({ errors: [{ path: 'query.limit' }] });
  });

  it('logs one structured line per request', async () => {
    await fetch(`${plane.url}/healthz?probe=log-line`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const lines = plane
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.message === 'request' && line.path === '/healthz');
    expect(lines.length).toBeGreaterThanOrEqual(1);
    expect(lines.at(-1)).toMatchObject({ method: 'GET', status: 200, durationMs: expect.any(Number) });
  });

  it('answers and logs a request Node’s HTTP parser refuses, and one whose target new URL rejects', async () => {
    const port = Number(new URL(plane.url).port);
    const unknownMethod = await sendRaw(port, Buffer.from('FOO / HTTP/1.1\r\nHost: x\r\n\r\n'));
    const badTarget = await sendRaw(port, Buffer.from('GET http://[ HTTP/1.1\r\nHost: x\r\n\r\n'));
    await new Promise((resolve) => setTimeout(resolve, 100));

    expect(unknownMethod?.status).toBe(400);
    expect(badTarget?.status).toBe(400);
    expect((await fetch(`${plane.url}/healthz`)).status).toBe(200);
    const refusals = plane
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.message === 'request' && line.status === 400);
    expect(refusals).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ code: 'MALFORMED_REQUEST', reason: 'HPE_INVALID_METHOD' }),
        expect.objectContaining({ method: 'GET', requestId: expect.any(String) }),
      ]),
    );
  });

  it('shuts down cleanly on SIGTERM and on Ctrl-C (SIGINT), and starts again on the same data', async () => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const stopped = plane;
      await stopped.stop(signal);
      expect(stopped.output()).toContain(`"signal":"${signal}"`);
      expect(stopped.output()).not.toContain('shutdown failed');
      plane = await startControlPlaneProcess(dataDir);
      expect((await fetch(`${plane.url}/healthz`)).status).toBe(200);
    }
  });
});
