import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { DistributionClient } from '../../lib/adapters/oci/distribution-client.js';
import { buildPackageArtifact, pushArtifact } from '../../lib/adapters/oci/package-builder.js';
import { packageStatusSchema } from '../../lib/contracts/api/deployments.js';
import { type Run, runLogsSchema, runSchema } from '../../lib/contracts/api/runs.js';
import { type ControlPlaneProcess, startControlPlaneProcess } from '../support/control-plane-process.js';
import { fileDataSetManifest } from '../support/manifests.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';

/**
 * Issue 8's acceptance, through `npm start` and a real registry: a package pushed, deployed to dev in
 * cell `local`, runs for real and writes its output; failing, timing-out, cancelled and orphaned runs
 * end in the right state with FAIL/ABORT lineage and no process left behind.
 */

const namespace = 'e2e';
const name = 'writer';

/** The Transform's program: writes a file into its output Store (a `file` connector: `file:?path=…`). */
const program = `
const { writeFileSync, mkdirSync } = require('node:fs');
const dsn = process.env.DK_STORE_DSN_FILES;
const dir = new URLSearchParams(dsn.slice(dsn.indexOf('?') + 1)).get('path');
mkdirSync(dir, { recursive: true });
const mode = process.argv[2];
console.log('writer starting', process.env.DK_RUN_ID, mode);
if (mode === 'fail') { console.error('something broke'); process.exit(3); }
if (mode === 'hang') { setInterval(() => {}, 1000); return; }
writeFileSync(dir + '/report-' + process.env.DK_RUN_ID + '.txt', JSON.stringify({
  run: process.env.DK_RUN_ID, package: process.env.DK_PACKAGE, version: process.env.DK_VERSION,
  env: process.env.DK_ENV, cell: process.env.DK_CELL, type: process.env.DK_STORE_TYPE_FILES,
  lineage: process.env.OPENLINEAGE_URL, parent: process.env.OPENLINEAGE_PARENT_ID,
  leaked: process.env.E2E_CONTROL_PLANE_ONLY ?? null,
}));
console.log('writer done');
`;

const transform = (
  version: string,
  mode: string,
  timeout = '1m',
) => `apiVersion: datakit.infoblox.dev/v1alpha1
kind: Transform
metadata:
  name: ${name}
  namespace: ${namespace}
  version: ${version}
spec:
  runtime: generic-python
  image: team/writer:${version}
  command: ["node", "main.js", "${mode}", "dk-e2e-${version}"]
  inputs:
    - dataset: seed
  outputs:
    - dataset: report
  trigger:
    policy: manual
  timeout: ${timeout}
`;

let dataDir: string;
let outDir: string;
let plane: ControlPlaneProcess;
let registry: TestRegistry;

async function call(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`${plane.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, json: text === '' ? undefined : JSON.parse(text) };
}

async function until<T>(read: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      const said = plane
        .output()
        .split('\n')
        .filter((line) => !line.includes('"message":"request"'))
        .join('\n');
      throw new Error(`condition not met in time; the control plane said:\n${said.slice(-4000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function publish(version: string, mode: string, timeout?: string): Promise<void> {
  const artifact = await buildPackageArtifact({
    'dk.yaml': transform(version, mode, timeout),
    'dataset/seed.yaml': fileDataSetManifest(namespace, 'seed'),
    'dataset/report.yaml': fileDataSetManifest(namespace, 'report', 'reports/'),
    'main.js': program,
  });
  await pushArtifact(
    new DistributionClient({ timeoutMs: 10_000 }),
    { registry: registry.host, repository: `${namespace}/${name}` },
    version,
    artifact,
  );
  const registered = await call('POST', '/v1/registrations', {
    reference: `${registry.host}/${namespace}/${name}:${version}`,
  });
  expect([200, 201]).toContain(registered.status);
  const promoted = await call('POST', '/v1/promotions', {
    namespace,
    name,
    version,
    env: 'dev',
    cell: 'local',
  });
  expect(promoted).toMatchObject({
    status: 201,
    json: { status: 'DEPLOYED', version, env: 'dev', cell: 'local' },
  });
}

async function startRun(): Promise<Run> {
  const started = await call('POST', '/v1/runs', { namespace, name, cell: 'local' });
  expect(started).toMatchObject({ status: 202, json: { status: 'PENDING' } });
  return runSchema.parse(started.json);
}

async function getRun(runId: string): Promise<Run> {
  return runSchema.parse((await call('GET', `/v1/runs/${runId}`)).json);
}

async function runToEnd(): Promise<Run> {
  const { runId } = await startRun();
  return until(async () => {
    const run = await getRun(runId);
    return ['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'CANCELLED'].includes(run.status) ? run : undefined;
  });
}

const lineageEventsSchema = z.object({
  events: z.array(
    z.looseObject({ eventType: z.string().optional(), run: z.looseObject({ runId: z.string() }).optional() }),
  ),
});

/** The lineage of a run once it has `count` events: effects follow the status change by moments. */
async function lineageEventTypes(runId: string, count = 2): Promise<string[]> {
  return until(async () => {
    const types = await lineageEventTypesNow(runId);
    return types.length >= count ? types : undefined;
  });
}

async function lineageEventTypesNow(runId: string): Promise<string[]> {
  const { events } = lineageEventsSchema.parse(
    (await call('GET', '/api/v1/events/lineage?limit=100&sortDirection=asc')).json,
  );
  return events.filter((event) => event.run?.runId === runId).map((event) => event.eventType ?? '');
}

/** Processes whose command line carries the marker: what a run of that version left behind. */
function processesWith(marker: string): string[] {
  const out = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
  return out.split('\n').filter((line) => line.includes(marker) && !line.includes('ps -eo'));
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'datakit-e2e-runs-'));
  outDir = join(dataDir, 'store-files');
  plane = await startControlPlaneProcess(dataDir, { E2E_CONTROL_PLANE_ONLY: 'must-not-leak' });
  registry = await startRegistry();
  const store = await call('PUT', '/v1/cells/local/stores/files', {
    apiVersion: 'datakit.infoblox.dev/v1alpha1',
    kind: 'Store',
    metadata: { name: 'files' },
    spec: { connector: 'file', connection: { path: outDir } },
  });
  expect(store.status).toBe(201);
});

afterAll(async () => {
  await registry?.stop();
  await plane?.stop('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

describe('runs in npm start', () => {
  it('runs a deployed Transform for real: its output appears, the run SUCCEEDED with START/COMPLETE lineage', async () => {
    await publish('0.1.0', 'write');
    const run = await runToEnd();

    expect(run).toMatchObject({
      status: 'SUCCEEDED',
      exitCode: 0,
      version: '0.1.0',
      env: 'dev',
      cell: 'local',
      trigger: { type: 'manual' },
    });
    expect(run.lineage).toEqual({ namespace, name, runId: run.runId });
    const report = JSON.parse(readFileSync(join(outDir, `report-${run.runId}.txt`), 'utf8'));
    expect(report).toEqual({
      run: run.runId,
      package: `${namespace}/${name}`,
      version: '0.1.0',
      env: 'dev',
      cell: 'local',
      type: 'file',
      lineage: plane.url,
      parent: `${namespace}/${name}/${run.runId}`,
      leaked: null,
    });
    expect(await lineageEventTypes(run.runId)).toEqual(['START', 'COMPLETE']);
    const logs = runLogsSchema.parse((await call('GET', `/v1/runs/${run.runId}/logs`)).json);
    expect(logs.lines.map((line) => line.message)).toEqual(
      expect.arrayContaining([expect.stringContaining('writer done')]),
    );
    const status = packageStatusSchema.parse(
      (await call('GET', `/v1/packages/${namespace}/${name}/status`)).json,
    );
    expect(status.deployments).toEqual([
      expect.objectContaining({
        env: 'dev',
        cell: 'local',
        version: '0.1.0',
        status: 'Deployed',
        lastRun: expect.objectContaining({ runId: run.runId, status: 'SUCCEEDED' }),
      }),
    ]);
  });

  it('ends a failing run FAILED with its exit code and FAIL lineage', async () => {
    await publish('0.2.0', 'fail');
    const run = await runToEnd();
    expect(run).toMatchObject({ status: 'FAILED', exitCode: 3, error: { code: 'RUN_EXIT_NONZERO' } });
    expect(await lineageEventTypes(run.runId)).toEqual(['START', 'FAIL']);
    expect(processesWith('dk-e2e-0.2.0')).toEqual([]);
  });

  it('stops a run past its timeout: TIMED_OUT, FAIL lineage, no process left', async () => {
    await publish('0.3.0', 'hang', '2s');
    const run = await runToEnd();
    expect(run).toMatchObject({ status: 'TIMED_OUT', error: { code: 'RUN_TIMED_OUT' } });
    expect(await lineageEventTypes(run.runId)).toEqual(['START', 'FAIL']);
    expect(processesWith('dk-e2e-0.3.0')).toEqual([]);
  });

  it('cancels a running run: CANCELLED, ABORT lineage, its process group gone', async () => {
    await publish('0.4.0', 'hang');
    const started = await startRun();
    await until(async () => (processesWith('dk-e2e-0.4.0').length > 0 ? true : undefined));
    const cancelled = await call('POST', `/v1/runs/${started.runId}/cancel`);
    expect(cancelled).toMatchObject({
      status: 202,
      json: { status: 'CANCELLED', error: { code: 'RUN_CANCELLED' } },
    });
    await until(async () => (processesWith('dk-e2e-0.4.0').length === 0 ? true : undefined), 10_000);
    expect(await lineageEventTypes(started.runId)).toEqual(['START', 'ABORT']);
    expect((await call('POST', `/v1/runs/${started.runId}/cancel`)).status).toBe(409);
  });

  it('marks a run the process lost in a kill -9 as FAILED RUN_ORPHANED after a restart, and stops its process', async () => {
    const started = await startRun();
    await until(async () => (processesWith('dk-e2e-0.4.0').length > 0 ? true : undefined));
    await plane.stop('SIGKILL');
    plane = await startControlPlaneProcess(dataDir, { E2E_CONTROL_PLANE_ONLY: 'must-not-leak' });
    expect(await getRun(started.runId)).toMatchObject({ status: 'FAILED', error: { code: 'RUN_ORPHANED' } });
    await until(async () => (processesWith('dk-e2e-0.4.0').length === 0 ? true : undefined), 10_000);
    expect(existsSync(join(outDir, `report-${started.runId}.txt`))).toBe(false);
  });

  it('runs a streaming Transform as supervised replicas: status shows them running, a run request is refused', async () => {
    const streaming = transform('0.5.0', 'hang').replace(
      '  trigger:\n    policy: manual\n',
      '  mode: streaming\n  replicas: 2\n',
    );
    const artifact = await buildPackageArtifact({
      'dk.yaml': streaming,
      'dataset/seed.yaml': fileDataSetManifest(namespace, 'seed'),
      'dataset/report.yaml': fileDataSetManifest(namespace, 'report', 'reports/'),
      'main.js': program,
    });
    await pushArtifact(
      new DistributionClient({ timeoutMs: 10_000 }),
      { registry: registry.host, repository: `${namespace}/${name}` },
      '0.5.0',
      artifact,
    );
    await call('POST', '/v1/registrations', { reference: `${registry.host}/${namespace}/${name}:0.5.0` });
    const promoted = await call('POST', '/v1/promotions', {
      namespace,
      name,
      version: '0.5.0',
      env: 'dev',
      cell: 'local',
    });
    expect(promoted).toMatchObject({ status: 201, json: { status: 'DEPLOYED' } });
    const row = await until(async () => {
      const status = packageStatusSchema.parse(
        (await call('GET', `/v1/packages/${namespace}/${name}/status`)).json,
      );
      const found = status.deployments.find((deployment) => deployment.version === '0.5.0');
      return found?.replicas?.running === 2 ? found : undefined;
    });
    expect(row.replicas).toEqual({ desired: 2, running: 2 });
    expect(processesWith('dk-e2e-0.5.0')).toHaveLength(2);
    expect(await call('POST', '/v1/runs', { namespace, name, cell: 'local' })).toMatchObject({
      status: 422,
      json: { code: 'RUN_STREAMING_TRANSFORM' },
    });
    // Deploying a batch version again stops the replicas.
    expect(
      (await call('POST', '/v1/promotions', { namespace, name, version: '0.1.0', env: 'dev', cell: 'local' }))
        .status,
    ).toBe(201);
    await until(async () => (processesWith('dk-e2e-0.5.0').length === 0 ? true : undefined), 15_000);
  });

  it('refuses to deploy into a cell without the Stores the DataSets need, naming them', async () => {
    expect((await call('PUT', '/v1/cells/bare', {})).status).toBe(201);
    const refused = await call('POST', '/v1/promotions', {
      namespace,
      name,
      version: '0.1.0',
      env: 'dev',
      cell: 'bare',
    });
    expect(refused).toMatchObject({
      status: 422,
      json: { code: 'DEPLOY_STORE_MISSING', errors: [{ path: 'files' }] },
    });
  });
});
