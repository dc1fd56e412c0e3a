import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRegistrationWorker } from '../../../lambdas/registration-worker/handler.js';
import { DistributionClient } from '../../../lib/adapters/oci/distribution-client.js';
import type { ArtifactReference } from '../../../lib/domain/registry/reference.js';
import type { ArtifactSource } from '../../../lib/ports/artifact-source.js';
import { pushDkArtifact } from '../../support/dk-artifact.js';
import { startRegistry, type TestRegistry } from '../../support/registry.js';
import { type RegistryPlane, startRegistryPlane } from '../../support/registry-plane.js';

const account = '123456789012';
const region = 'eu-west-1';
const ecrHost = `${account}.dkr.ecr.${region}.amazonaws.com`;

const files = {
  'dk.yaml': `apiVersion: datakit.infoblox.dev/v1alpha1
kind: Transform
metadata:
  name: orders-daily
  namespace: sales
  version: 1.2.0
spec:
  runtime: cloudquery
  inputs: [{ dataset: raw-orders }]
  outputs: [{ dataset: daily-orders }]
  trigger: { policy: manual }
`,
};

/**
 * ECR has no local stand-in: this source serves references to the ECR host from the real local
 * registry, so everything after the host name is the real OCI path.
 */
function ecrServedBy(registry: TestRegistry): ArtifactSource {
  const client = new DistributionClient({ timeoutMs: 10_000 });
  const local = (reference: ArtifactReference): ArtifactReference =>
    reference.registry === ecrHost ? { ...reference, registry: registry.host } : reference;
  return {
    getManifest: (reference, limit) => client.getManifest(local(reference), limit),
    getBlob: (reference, descriptor, limit) => client.getBlob(local(reference), descriptor, limit),
  };
}

const pushEvent = (digest: string, accountId = account) => ({
  version: '0',
  id: 'c1d2e3f4-0000-4000-8000-000000000001',
  'detail-type': 'ECR Image Action',
  source: 'aws.ecr',
  account: accountId,
  time: '2026-11-21T10:00:00Z',
  region,
  resources: [],
  detail: {
    result: 'SUCCESS',
    'repository-name': 'dk/sales/orders-daily',
    'image-digest': digest,
    'action-type': 'PUSH',
    'image-tag': '1.2.0',
  },
});

let registry: TestRegistry;
let plane: RegistryPlane;
let digest: string;

beforeAll(async () => {
  registry = await startRegistry();
  plane = await startRegistryPlane({ artifacts: ecrServedBy(registry), allowlist: ecrHost });
  const client = new DistributionClient({ timeoutMs: 10_000 });
  digest = (
    await pushDkArtifact(
      client,
      { registry: registry.host, repository: 'dk/sales/orders-daily' },
      '1.2.0',
      files,
    )
  ).digest;
});
afterAll(async () => {
  await plane?.close();
  await registry?.stop();
});

describe('the registration worker (target of the ECR push rule)', () => {
  it('registers the pushed image by digest with the tag of the push', async () => {
    const worker = createRegistrationWorker(plane.deps);
    const result = await worker(pushEvent(digest));
    expect(result?.status).toBe('registered');
    expect(result?.record).toMatchObject({ reference: `${ecrHost}/dk/sales/orders-daily@${digest}`, digest });
    const version = await plane.get('/v1/packages/sales/orders-daily/versions/1.2.0');
    expect(version.status).toBe(200);
    expect(version.body).toMatchObject({ digest, version: '1.2.0' });
  });

  it('records a redelivery of the same push as a duplicate', async () => {
    const result = await createRegistrationWorker(plane.deps)(pushEvent(digest));
    expect(result?.status).toBe('duplicate');
  });

  it('drops events that are not ECR image pushes without retrying them', async () => {
    await expect(
      createRegistrationWorker(plane.deps)({ source: 'aws.ecr', detail: {} }),
    ).resolves.toBeUndefined();
  });

  it('drops pushes to registries outside the allowlist and registers nothing', async () => {
    const result = await createRegistrationWorker(plane.deps)(pushEvent(digest, '999999999999'));
    expect(result).toBeUndefined();
    const listed = await plane.get('/v1/registrations');
    const references = (listed.body as { items: { reference: string }[] }).items.map(
      (item) => item.reference,
    );
    expect(references.some((reference) => reference.startsWith('999999999999'))).toBe(false);
  });
});
