import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DistributionClient } from '../../lib/adapters/oci/distribution-client.js';
import { buildPackageArtifact, pushArtifact } from '../../lib/adapters/oci/package-builder.js';
import { type ControlPlaneProcess, startControlPlaneProcess } from '../support/control-plane-process.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';

const transform = `apiVersion: datakit.infoblox.dev/v1alpha1
kind: Transform
metadata:
  name: enrich
  namespace: analytics
  version: 0.3.0
spec:
  runtime: generic-python
  image: team/enrich:0.3.0
  inputs:
    - dataset: raw-events
  outputs:
    - dataset: enriched-events
  trigger:
    policy: on-change
`;

const dataset = `apiVersion: datakit.infoblox.dev/v1alpha1
kind: DataSet
metadata:
  name: enriched-events
  namespace: analytics
spec:
  store: lake
  prefix: enriched/
  classification: confidential
`;

let dataDir: string;
let plane: ControlPlaneProcess;
let registry: TestRegistry;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'datakit-e2e-registry-'));
  plane = await startControlPlaneProcess(dataDir);
  registry = await startRegistry({ notifications: { url: `${plane.url}/local/registry-events` } });
});
afterAll(async () => {
  await registry?.stop();
  await plane?.stop('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

async function poll<T>(read: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('not visible in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('registry push → notification webhook → npm start → API', () => {
  it('shows a pushed package with its DataSet and graph edges', async () => {
    const client = new DistributionClient({ timeoutMs: 10_000 });
    const artifact = await buildPackageArtifact({
      'dk.yaml': transform,
      'dataset/enriched-events.yaml': dataset,
    });
    const pushed = await pushArtifact(
      client,
      { registry: registry.host, repository: 'analytics/enrich' },
      '0.3.0',
      artifact,
    );

    const version = await poll(async () => {
      const response = await fetch(`${plane.url}/v1/packages/analytics/enrich/versions/0.3.0`);
      return response.status === 200 ? ((await response.json()) as Record<string, unknown>) : undefined;
    });
    const datasetView = (await (
      await fetch(`${plane.url}/v1/datasets/analytics/enriched-events`)
    ).json()) as Record<string, unknown>;
    const graph = (await (
      await fetch(`${plane.url}/v1/pipeline?destination=analytics/enriched-events`)
    ).json()) as {
      edges: unknown[];
    };
    const registrations = (await (await fetch(`${plane.url}/v1/registrations`)).json()) as {
      items: unknown[];
    };

    expect(version).toMatchObject({ digest: pushed.digest, tag: '0.3.0', kind: 'Transform' });
    expect(datasetView).toMatchObject({
      classification: 'confidential',
      producers: [{ name: 'enrich', version: '0.3.0' }],
    });
    expect(graph.edges).toEqual([
      { from: 'dataset:analytics/raw-events', to: 'transform:analytics/enrich' },
      { from: 'transform:analytics/enrich', to: 'dataset:analytics/enriched-events' },
    ]);
    expect(registrations.items).toEqual([
      expect.objectContaining({ status: 'registered', source: 'registry-webhook' }),
    ]);
  });
});
