import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { DistributionClient } from '../../lib/adapters/oci/distribution-client.js';
import { buildPackageArtifact, pushArtifact } from '../../lib/adapters/oci/package-builder.js';
import { type Run, runPageSchema, runSchema } from '../../lib/contracts/api/runs.js';
import { type ControlPlaneProcess, startControlPlaneProcess } from '../support/control-plane-process.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';

/**
 * Issue 9's acceptance through `npm start`: the reactive-pipeline example's shape (ingest → enrich on
 * change, aggregate on a schedule; our own fixtures) deployed in cell `local`. One manual run of ingest
 * makes enrich run exactly once; an external OpenLineage COMPLETE for ingest's output makes it run again,
 * once, however often it is delivered; a Transform closing an on-change cycle is refused.
 */

const ns = 'analytics';
let dataDir: string;
let plane: ControlPlaneProcess;
let registry: TestRegistry;

async function call(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: unknown; text: string }> {
  const response = await fetch(`${plane.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  const json =
    response.headers.get('content-type')?.includes('json') === true && text !== ''
      ? JSON.parse(text)
      : undefined;
  return { status: response.status, json, text };
}

async function until<T>(read: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

const dataSet = (name: string, store: string, location: string) => `apiVersion: datakit.infoblox.dev/v1alpha1
kind: DataSet
metadata: { name: ${name}, namespace: ${ns}, version: 1.0.0 }
spec:
  store: ${store}
  ${location}
  classification: internal
`;

const transform = (
  name: string,
  input: string,
  output: string,
  trigger: string,
) => `apiVersion: datakit.infoblox.dev/v1alpha1
kind: Transform
metadata: { name: ${name}, namespace: ${ns}, version: 0.1.0 }
spec:
  runtime: generic-python
  image: team/${name}:0.1.0
  command: ["node", "-e", "console.log('${name} ran for', process.env.DK_RUN_ID)"]
  inputs: [{ dataset: ${input} }]
  outputs: [{ dataset: ${output} }]
  trigger: ${trigger}
  timeout: 1m
`;

async function publish(name: string, files: Record<string, string>, version = '0.1.0'): Promise<void> {
  await pushArtifact(
    new DistributionClient({ timeoutMs: 10_000 }),
    { registry: registry.host, repository: `${ns}/${name}` },
    version,
    await buildPackageArtifact(files),
  );
  const registered = await call('POST', '/v1/registrations', {
    reference: `${registry.host}/${ns}/${name}:${version}`,
  });
  expect([200, 201], registered.text).toContain(registered.status);
}

async function deploy(name: string, version = '0.1.0'): Promise<{ status: number; json: unknown }> {
  return call('POST', '/v1/promotions', { namespace: ns, name, version, env: 'dev', cell: 'local' });
}

async function runsOf(name: string, trigger?: string): Promise<Run[]> {
  const query = new URLSearchParams({ namespace: ns, name, ...(trigger === undefined ? {} : { trigger }) });
  return runPageSchema.parse((await call('GET', `/v1/runs?${query}`)).json).items;
}

const settled = (runs: readonly Run[]) => runs.every((run) => !['PENDING', 'RUNNING'].includes(run.status));

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'datakit-e2e-reactive-'));
  plane = await startControlPlaneProcess(dataDir);
  registry = await startRegistry();
  for (const [name, connector, connection] of [
    ['events-kafka', 'kafka', { bootstrapServers: 'kafka.internal:9092' }],
    ['data-lake', 's3', { bucket: 'lake', region: 'eu-west-1' }],
    ['warehouse', 'postgres', { host: 'warehouse.internal', dbname: 'dw' }],
  ] as const) {
    const store = await call('PUT', `/v1/cells/local/stores/${name}`, {
      apiVersion: 'datakit.infoblox.dev/v1alpha1',
      kind: 'Store',
      metadata: { name },
      spec: { connector, connection },
    });
    expect(store.status).toBe(201);
  }
  await publish(
    'raw-events',
    { 'dk.yaml': dataSet('raw-events', 'events-kafka', 'topic: raw.events.v1') },
    '1.0.0',
  );
  await publish(
    'raw-events-parquet',
    {
      'dk.yaml': dataSet('raw-events-parquet', 'data-lake', 'prefix: data/raw-events/'),
    },
    '1.0.0',
  );
  await publish(
    'enriched-events',
    {
      'dk.yaml': dataSet('enriched-events', 'data-lake', 'prefix: data/enriched-events/'),
    },
    '1.0.0',
  );
  await publish(
    'event-summary',
    {
      'dk.yaml': dataSet('event-summary', 'warehouse', 'table: analytics.event_summary'),
    },
    '1.0.0',
  );
  await publish('ingest', {
    'dk.yaml': transform('ingest', 'raw-events', 'raw-events-parquet', '{ policy: on-change }'),
  });
  await publish('enrich', {
    'dk.yaml': transform('enrich', 'raw-events-parquet', 'enriched-events', '{ policy: on-change }'),
  });
  await publish('aggregate', {
    'dk.yaml': transform(
      'aggregate',
      'enriched-events',
      'event-summary',
      '{ policy: schedule, schedule: { cron: "0 */6 * * *", timezone: Europe/Berlin } }',
    ),
  });
  for (const name of ['ingest', 'enrich', 'aggregate']) expect((await deploy(name)).status).toBe(201);
});

afterAll(async () => {
  await registry?.stop();
  await plane?.stop('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the reactive pipeline in npm start', () => {
  it("runs enrich exactly once after one manual run of ingest, naming ingest's run as its upstream", async () => {
    const started = runSchema.parse(
      (await call('POST', '/v1/runs', { namespace: ns, name: 'ingest', cell: 'local' })).json,
    );
    const enrich = await until(async () => {
      const runs = await runsOf('enrich');
      return runs.length > 0 && settled(runs) ? runs : undefined;
    });
    // Give a duplicate a chance to appear before counting.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await runsOf('enrich')).toHaveLength(1);
    expect(enrich[0]).toMatchObject({
      status: 'SUCCEEDED',
      trigger: {
        type: 'on-change',
        upstream: [{ dataset: { namespace: ns, name: 'raw-events-parquet' }, runId: started.runId }],
      },
    });
    // aggregate is scheduled, not on-change: enriched-events' update starts nothing.
    expect(await runsOf('aggregate')).toEqual([]);
    // The triggered run names its upstream run as its OpenLineage parent.
    const lineageRun = z
      .looseObject({
        facets: z.looseObject({ parent: z.looseObject({ run: z.object({ runId: z.string() }) }).optional() }),
      })
      .parse((await call('GET', `/api/v1/jobs/runs/${enrich[0]?.runId}`)).json);
    expect(lineageRun.facets.parent?.run.runId).toBe(started.runId);
  });

  it("runs enrich again for an external producer's COMPLETE of the same data — once, however often it is delivered", async () => {
    const external = {
      eventType: 'COMPLETE',
      eventTime: new Date().toISOString(),
      producer: 'https://github.com/OpenLineage/OpenLineage/tree/1.20.0/integration/spark',
      schemaURL: 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent',
      run: { runId: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d' },
      job: { namespace: 'spark', name: 'backfill_raw_events' },
      outputs: [{ namespace: 's3://lake', name: 'data/raw-events' }],
    };
    for (let delivery = 0; delivery < 3; delivery++) {
      expect([200, 201]).toContain((await call('POST', '/api/v1/lineage', external)).status);
    }
    const runs = await until(async () => {
      const found = await runsOf('enrich');
      return found.length >= 2 && settled(found) ? found : undefined;
    });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await runsOf('enrich')).toHaveLength(2);
    expect(runs[0]?.trigger.upstream).toEqual([
      { dataset: { namespace: ns, name: 'raw-events-parquet' }, runId: external.run.runId },
    ]);
  });

  it("draws the deployed graph of the cell with each edge's trigger", async () => {
    const graph = await call('GET', '/v1/pipeline?cell=local&format=json');
    expect(graph.json).toMatchObject({
      edges: expect.arrayContaining([
        { from: `dataset:${ns}/raw-events-parquet`, to: `transform:${ns}/enrich`, trigger: 'on-change' },
        {
          from: `dataset:${ns}/enriched-events`,
          to: `transform:${ns}/aggregate`,
          trigger: 'schedule 0 */6 * * * (Europe/Berlin)',
        },
      ]),
    });
  });

  it('refuses to deploy an on-change Transform that closes a cycle, naming it', async () => {
    await publish('backfill', {
      'dk.yaml': transform('backfill', 'enriched-events', 'raw-events-parquet', '{ policy: on-change }'),
    });
    const refused = await deploy('backfill');
    expect(refused).toMatchObject({ status: 409, json: { code: 'TRIGGER_CYCLE' } });
    expect(JSON.stringify(refused.json)).toContain(`package:${ns}/enrich`);
  });
});
