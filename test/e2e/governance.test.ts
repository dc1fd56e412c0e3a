import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DistributionClient } from '../../lib/adapters/oci/distribution-client.js';
import { buildPackageArtifact, pushArtifact } from '../../lib/adapters/oci/package-builder.js';
import { deprecationResultSchema } from '../../lib/contracts/api/deprecations.js';
import { governanceReportSchema } from '../../lib/contracts/api/governance.js';
import { promotionSchema } from '../../lib/contracts/api/promotions.js';
import { type ControlPlaneProcess, startControlPlaneProcess } from '../support/control-plane-process.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';

/**
 * Issue 11 (report, deprecation, CLI) through `npm start`: packages pushed to a registry and registered,
 * a consumer deployed, the governance report (API and `npm run cli -- governance report`), a DataSet
 * deprecated with its deployed consumer in the answer, the deploy warning for a new consumer, and the
 * refusal of another one after the sunset.
 */

const run = promisify(execFile);
const ns = 'analytics';
let dataDir: string;
let plane: ControlPlaneProcess;
let registry: TestRegistry;

async function call(method: string, path: string, body?: unknown) {
  const response = await fetch(`${plane.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json', 'x-datakit-principal': 'dana' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  const json = response.headers.get('content-type')?.includes('json') === true ? JSON.parse(text) : undefined;
  return { status: response.status, json: json as unknown, text };
}

const cli = (...args: string[]) =>
  run(process.execPath, ['--import', 'tsx', 'bin/cli.ts', ...args], {
    env: { ...process.env, DATAKIT_URL: plane.url },
  });

const dataSet = (
  name: string,
  classification: string,
  schema: string,
) => `apiVersion: datakit.infoblox.dev/v1alpha1
kind: DataSet
metadata: { name: ${name}, namespace: ${ns}, version: 1.0.0 }
spec:
  store: lake
  prefix: data/${name}/
  classification: ${classification}
  schema: ${schema}
`;

const transform = (name: string, input: string, output: string) => `apiVersion: datakit.infoblox.dev/v1alpha1
kind: Transform
metadata: { name: ${name}, namespace: ${ns}, version: 0.1.0, labels: { team: bi } }
spec:
  runtime: generic-python
  image: team/${name}:0.1.0
  command: ["node", "-e", "console.log('${name}')"]
  inputs: [{ dataset: ${input} }]
  outputs: [{ dataset: ${output} }]
  trigger: { policy: manual }
  timeout: 1m
`;

async function publish(name: string, manifest: string, version: string): Promise<void> {
  await pushArtifact(
    new DistributionClient({ timeoutMs: 10_000 }),
    { registry: registry.host, repository: `${ns}/${name}` },
    version,
    await buildPackageArtifact({ 'dk.yaml': manifest }),
  );
  const registered = await call('POST', '/v1/registrations', {
    reference: `${registry.host}/${ns}/${name}:${version}`,
  });
  expect([200, 201], registered.text).toContain(registered.status);
}

const deploy = (name: string) =>
  call('POST', '/v1/promotions', { namespace: ns, name, version: '0.1.0', env: 'dev', cell: 'local' });

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'datakit-e2e-governance-'));
  plane = await startControlPlaneProcess(dataDir);
  registry = await startRegistry();
  const store = await call('PUT', '/v1/cells/local/stores/lake', {
    apiVersion: 'datakit.infoblox.dev/v1alpha1',
    kind: 'Store',
    metadata: { name: 'lake' },
    spec: { connector: 's3', connection: { bucket: 'lake' } },
  });
  expect(store.status).toBe(201);
  await publish(
    'users',
    dataSet(
      'users',
      'confidential',
      '[{ name: id, type: string }, { name: email, type: string, pii: true }]',
    ),
    '1.0.0',
  );
  await publish('summary', dataSet('summary', 'internal', '[{ name: total, type: integer }]'), '1.0.0');
  await publish('audit-log', dataSet('audit-log', 'restricted', '[{ name: who, type: string }]'), '1.0.0');
  await publish('aggregate', transform('aggregate', 'users', 'summary'), '0.1.0');
  await publish('audit', transform('audit', 'users', 'audit-log'), '0.1.0');
  await publish('export', transform('export', 'users', 'audit-log'), '0.1.0');
  const deployed = await deploy('aggregate');
  expect(deployed.status, deployed.text).toBe(201);
  expect(promotionSchema.parse(deployed.json).warnings).toEqual([]);
});

afterAll(async () => {
  await registry?.stop();
  await plane?.stop('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

describe('governance in npm start', () => {
  it('reports the PII flowing into an internal DataSet', async () => {
    const answer = await call('GET', '/v1/governance/report?filter=pii=true');
    expect(answer.status).toBe(200);
    const report = governanceReportSchema.parse(answer.json);
    expect(report.violations).toEqual([
      expect.objectContaining({
        code: 'PII_UNDERCLASSIFIED',
        dataset: { namespace: ns, name: 'summary' },
        classification: 'internal',
        path: ['analytics/users', 'analytics/summary'],
      }),
    ]);
    expect(report.packages.find((p) => p.name === 'aggregate')).toMatchObject({
      handlesPii: true,
      cells: ['local'],
    });
  });

  it('prints the report with npm run cli -- governance report', async () => {
    const markdown = await cli('governance', 'report', '--filter', 'pii=true', '--format', 'markdown');
    expect(markdown.stdout).toContain(
      '| PII_UNDERCLASSIFIED | analytics/summary | internal | — | analytics/users → analytics/summary |',
    );
    const text = await cli('governance', 'report', '--filter', 'pii=true');
    expect(text.stdout).toMatch(
      /PII_UNDERCLASSIFIED\s+analytics\/summary\s+-\s+analytics\/users > analytics\/summary/,
    );
    const refused = await cli('governance', 'report', '--filter', 'owner=bi').catch(
      (error: unknown) => error,
    );
    expect(refused).toMatchObject({ code: 1, stderr: expect.stringContaining('query.filter') });
  });

  it('deprecates a DataSet, naming its deployed consumer, and warns the next consumer deployed', async () => {
    const answer = await call('POST', `/v1/datasets/${ns}/users/deprecation`, {
      reason: 'use people',
      sunset: '2099-01-01',
    });
    expect(answer.status).toBe(201);
    expect(deprecationResultSchema.parse(answer.json).impact).toEqual({
      consumers: expect.arrayContaining([
        {
          namespace: ns,
          name: 'aggregate',
          version: '0.1.0',
          owners: { team: 'bi' },
          deployments: [{ env: 'dev', cell: 'local', version: '0.1.0' }],
        },
      ]),
      consumerCount: 3,
      cells: ['local'],
      owners: ['team=bi'],
    });
    const read = await call('GET', `/v1/datasets/${ns}/users`);
    expect(read.json).toMatchObject({
      deprecation: { reason: 'use people', sunset: '2099-01-01', deprecatedBy: 'dana' },
    });

    const audit = await deploy('audit');
    expect(audit.status).toBe(201);
    expect(promotionSchema.parse(audit.json).warnings).toEqual([
      'DataSet analytics/users is deprecated: use people; sunset 2099-01-01',
    ]);
  });

  it('refuses a new consumer once the sunset has passed, and still redeploys an existing one', async () => {
    const moved = await cli(
      'governance',
      'deprecate',
      'dataset',
      `${ns}/users`,
      '--reason',
      'use people',
      '--sunset',
      '2020-01-01',
    );
    expect(moved.stdout).toContain(
      'dataset analytics/users deprecated (sunset 2020-01-01); 3 consumers in local, owners team=bi',
    );

    const refused = await deploy('export');
    expect(refused.status).toBe(422);
    expect(refused.json).toMatchObject({
      code: 'DEPLOY_DATASET_SUNSET',
      errors: [{ path: 'analytics/users' }],
    });
    const again = await deploy('aggregate');
    expect(again.status).toBe(201);
    expect(promotionSchema.parse(again.json).warnings[0]).toContain('its sunset 2020-01-01 has passed');
  });
});
