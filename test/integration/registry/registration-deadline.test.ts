import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedControlPlane } from '../../../lambdas/embedded.js';
import { createRegistrationWorker } from '../../../lambdas/registration-worker/handler.js';
import { ConnectionPolicy } from '../../../lib/adapters/oci/connection-policy.js';
import { DistributionClient } from '../../../lib/adapters/oci/distribution-client.js';
import { DependencyUnavailableError } from '../../../lib/domain/errors.js';
import type { ArtifactReference } from '../../../lib/domain/registry/reference.js';
import type { ArtifactSource } from '../../../lib/ports/artifact-source.js';
import { lambdaContext } from '../../support/api-event.js';
import { startSilentServer } from '../../support/registry.js';
import { startRegistryPlane } from '../../support/registry-plane.js';

const digest = `sha256:${'a'.repeat(64)}`;
const ecrHost = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';

let silent: { host: string; stop(): Promise<void> };

beforeAll(async () => {
  silent = await startSilentServer();
});

afterAll(async () => {
  await silent?.stop();
});

/** The production client (30 s per request) for the stalled registry. */
function stalledRegistryClient(): DistributionClient {
  return new DistributionClient({ policy: new ConnectionPolicy({ registries: [silent.host] }) });
}

describe('a registry that never answers', () => {
  it('ends POST /v1/registrations in a 503 with Retry-After before the function would time out', async () => {
    const plane = await startRegistryPlane({ allowlist: silent.host, artifacts: stalledRegistryClient() });
    try {
      const context = lambdaContext(4_000);
      const timesOutAt = Date.now() + context.getRemainingTimeInMillis();

      const answer = await plane.register(`${silent.host}/team/slow@${digest}`, context);

      expect(Date.now()).toBeLessThan(timesOutAt);
      expect(answer.status).toBe(503);
      expect(answer.contentType).toBe('application/problem+json');
      expect(answer.headers['retry-after']).toBe('1');
      expect(answer.body).toMatchObject({ code: 'DK_REGISTRY_UNAVAILABLE' });
      expect((await plane.get('/v1/registrations')).body).toMatchObject({ items: [] });
    } finally {
      await plane.close();
    }
  });

  it('makes the registration worker fail as retryable before the function would time out', async () => {
    const client = stalledRegistryClient();
    // ECR has no local stand-in: references to the ECR host are read from the stalled server.
    const local = (reference: ArtifactReference): ArtifactReference => ({
      ...reference,
      registry: silent.host,
    });
    const ecr: ArtifactSource = {
      getManifest: (reference, limit) => client.getManifest(local(reference), limit),
      getBlob: (reference, descriptor, limit) => client.getBlob(local(reference), descriptor, limit),
    };
    const plane = await startRegistryPlane({ allowlist: ecrHost, artifacts: ecr });
    try {
      const context = lambdaContext(4_000);
      const timesOutAt = Date.now() + context.getRemainingTimeInMillis();
      const push = {
        version: '0',
        id: 'c1d2e3f4-0000-4000-8000-000000000002',
        'detail-type': 'ECR Image Action',
        source: 'aws.ecr',
        account: '123456789012',
        time: '2026-11-21T10:00:00Z',
        region: 'eu-west-1',
        resources: [],
        detail: {
          result: 'SUCCESS',
          'repository-name': 'dk/sales/slow',
          'image-digest': digest,
          'action-type': 'PUSH',
          'image-tag': '1.0.0',
        },
      };

      const outcome = createRegistrationWorker(plane.deps)(push, context);

      await expect(outcome).rejects.toBeInstanceOf(DependencyUnavailableError);
      await expect(outcome).rejects.toMatchObject({ code: 'DK_REGISTRY_UNAVAILABLE' });
      expect(Date.now()).toBeLessThan(timesOutAt);
    } finally {
      await plane.close();
    }
  });

  it('ends a request of the embedded mode in a 503 within its configured function timeout', async () => {
    const plane = await startEmbeddedControlPlane({
      port: 0,
      logLevel: 'SILENT',
      registryAllowlist: silent.host,
      functionTimeoutMs: 3_000,
    });
    try {
      const timesOutAt = Date.now() + 3_000;

      const response = await fetch(`${plane.url}/v1/registrations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ reference: `${silent.host}/team/slow@${digest}` }),
      });

      expect(Date.now()).toBeLessThan(timesOutAt);
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('1');
      expect(await response.json()).toMatchObject({ code: 'DK_REGISTRY_UNAVAILABLE' });
    } finally {
      await plane.close();
    }
  });
});
