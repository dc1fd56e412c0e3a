import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ControlPlaneProcess, startControlPlaneProcess } from '../support/control-plane-process.js';
import { runEvent } from '../support/lineage.js';

let dataDir: string;
let plane: ControlPlaneProcess;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'datakit-e2e-lineage-'));
  plane = await startControlPlaneProcess(dataDir);
});
afterAll(async () => {
  await plane.stop('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

const ns = 'postgres://warehouse:5432';

async function post(event: unknown, gzip = false): Promise<Response> {
  const body = Buffer.from(JSON.stringify(event));
  return fetch(`${plane.url}/api/v1/lineage`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(gzip ? { 'content-encoding': 'gzip' } : {}) },
    body: gzip ? gzipSync(body) : body,
  });
}

describe('lineage against npm start', () => {
  it('ingests an OpenLineage client’s START and gzip COMPLETE, then answers Marquez and dk lineage reads', async () => {
    const runId = 'a3c2d1e0-1111-4222-8333-444455556666';
    const io = {
      runId,
      job: { namespace: ns, name: 'analytics.daily_orders' },
      inputs: [{ namespace: ns, name: 'public.orders' }],
      outputs: [{ namespace: ns, name: 'analytics.daily_orders' }],
    };
    expect(
      (await post(runEvent({ ...io, eventType: 'START', eventTime: '2024-07-01T02:00:00Z' }))).status,
    ).toBe(201);
    expect(
      (await post(runEvent({ ...io, eventType: 'COMPLETE', eventTime: '2024-07-01T02:03:00Z' }), true))
        .status,
    ).toBe(201);

    const nodeId = `dataset:${ns}:analytics.daily_orders`;
    const lineage = await fetch(`${plane.url}/api/v1/lineage?nodeId=${encodeURIComponent(nodeId)}&depth=5`);
    expect(lineage.status).toBe(200);
    const graph: unknown = await lineage.json();
    expect(graph).toMatchObject({
      graph: expect.arrayContaining([
        expect.objectContaining({
          id: `job:${ns}:analytics.daily_orders`,
          type: 'JOB',
          data: expect.objectContaining({ latestRun: expect.objectContaining({ state: 'COMPLETED' }) }),
        }),
        expect.objectContaining({ id: `dataset:${ns}:public.orders`, type: 'DATASET' }),
      ]),
    });

    const view = await fetch(
      `${plane.url}/v1/lineage/${encodeURIComponent(ns)}/analytics.daily_orders?direction=upstream`,
    );
    expect(view.status).toBe(200);
    expect(await view.json()).toMatchObject({
      upstream: { datasets: [{ namespace: ns, name: 'public.orders', distance: 1 }], jobs: [] },
      lastRun: { runId, status: 'COMPLETED', durationMs: 180_000 },
    });

    const job = await fetch(
      `${plane.url}/api/v1/namespaces/${encodeURIComponent(ns)}/jobs/analytics.daily_orders`,
    );
    expect(await job.json()).toMatchObject({
      namespace: ns,
      outputs: [{ namespace: ns, name: 'analytics.daily_orders' }],
    });
  });

  it('keeps lineage across a restart on the same data directory', async () => {
    await plane.stop('SIGTERM');
    plane = await startControlPlaneProcess(dataDir);

    const datasets = await fetch(`${plane.url}/api/v1/namespaces/${encodeURIComponent(ns)}/datasets`);
    expect(await datasets.json()).toMatchObject({ totalCount: 2 });
  });

  it('refuses a malformed event with 400 problem+json naming the field', async () => {
    const response = await post({
      eventType: 'START',
      eventTime: '2024-07-01T02:00:00Z',
      job: { namespace: ns, name: 'x' },
      run: {},
    });

    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    expect(await response.json()).toMatchObject({
      code: 'OL_MISSING_RUN_ID',
      errors: [{ path: 'run.runId' }],
    });
  });
});
